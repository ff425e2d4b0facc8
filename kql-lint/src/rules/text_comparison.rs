//! KQLW001 `text-comparison`: a string compared with a number, bool or datetime.

use crate::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW001",
    name: "text-comparison",
    summary: "a string compared with a value of another type: compared as text",
    cost: 0,
    why: "Kusto compares a `string` with a number, `bool` or `datetime` as text: `ResultType != 0` \
on a string `ResultType` is true for `\"0\"`'s neighbours such as `\"00\"`, and a numeric `<` \
orders `\"10\"` before `\"9\"`. The query runs, but not as it reads.",
    example: "SigninLogs\n| where ResultType != 0",
    fixed: "SigninLogs\n| where ResultType != \"0\"",
    check: Check::Analysis,
};
