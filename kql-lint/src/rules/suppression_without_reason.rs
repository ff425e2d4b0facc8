//! KQLW013 `suppression-without-reason`: a `// kql: allow(...)` comment that gives no reason.

use crate::registry::{Check, Lint};

/// The lint (checked by [`crate::suppress`]).
pub const LINT: Lint = Lint {
    code: "KQLW013",
    name: "suppression-without-reason",
    summary: "a `// kql: allow(CODE)` comment without a reason: it silences nothing",
    cost: 0,
    why: "A silenced finding is a decision someone reviewing the rule later needs to understand. \
A suppression must say why (`// kql: allow(KQLW008) because each user has one row`); one \
without a reason does not silence anything until it has one.",
    example: "// kql: allow(KQLW008)\nSigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId",
    fixed: "// kql: allow(KQLW008) because the audit side has one row per CorrelationId\nSigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs | where TimeGenerated > ago(1d)) on CorrelationId",
    check: Check::Comments,
};
