//! KQLW004 `no-time-filter`: a table with a time column read without a time filter.

use crate::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW004",
    name: "no-time-filter",
    summary: "a table is read without a time filter: the query scans the whole retention",
    cost: 5,
    why: "Log Analytics keeps months of data; without `where TimeGenerated > ago(...)` (or \
`between`) a query reads all of it. Kusto's best practices put the time filter first: it is \
the cheapest way to reduce the data a query processes. Scheduled analytic rules are exempt: \
their `queryPeriod` bounds what the query sees.",
    example: "SigninLogs\n| summarize count() by UserPrincipalName",
    fixed: "SigninLogs\n| where TimeGenerated > ago(1d)\n| summarize count() by UserPrincipalName",
    check: Check::Analysis,
};
