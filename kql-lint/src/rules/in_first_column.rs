//! KQLW002 `in-first-column`: `in` over a table of several columns uses only the first.

use crate::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW002",
    name: "in-first-column",
    summary: "`in (T | ...)` over a table of several columns reads only its first column",
    cost: 1,
    why: "`x in (subquery)` tests `x` against the subquery's first column; the other columns are \
computed and dropped, and when they come first by accident (`project A, B` where `B` was meant) \
the test is against the wrong values.",
    example: "SigninLogs\n| where UserPrincipalName in (AuditLogs | project OperationName, Result)",
    fixed: "SigninLogs\n| where UserPrincipalName in (AuditLogs | project OperationName)",
    check: Check::Analysis,
};
