//! KQLW014 `unused-suppression`: a `// kql: allow(...)` comment that silences nothing.

use crate::registry::{Check, Lint};

/// The lint (checked by [`crate::suppress`]).
pub const LINT: Lint = Lint {
    code: "KQLW014",
    name: "unused-suppression",
    summary: "a `// kql: allow(CODE)` comment that silences nothing (no such finding there, or not a lint code)",
    cost: 0,
    why: "A suppression left behind after the query changed hides the next real finding of that \
code on its line. It is reported so it can be removed; so is one that names a code that is \
not a lint (errors cannot be silenced).",
    example: "SigninLogs\n| where TimeGenerated > ago(1d)\n// kql: allow(KQLW007) because UPNs are whole terms\n| where UserPrincipalName has \"admin\"",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| where UserPrincipalName has \"admin\"",
    check: Check::Comments,
};
