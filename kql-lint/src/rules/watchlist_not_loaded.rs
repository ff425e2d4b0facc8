//! KQLW005 `watchlist-not-loaded`: a watchlist the query reads is not loaded.

use crate::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW005",
    name: "watchlist-not-loaded",
    summary: "a stored function reads `_GetWatchlist('name')` of a watchlist that is not loaded: it reads as empty",
    cost: 0,
    why: "A rule that joins or filters on a watchlist behaves differently with an empty one (an \
`in` never matches, a `!in` always does). Locally, load it with `--watchlist NAME=FILE` or the \
project file's `watchlists`, so tests see what the workspace sees.",
    example: "// a stored function (parser) of the project reads the watchlist:\n// let VIPs = () { _GetWatchlist('VIPs') | project SearchKey };\nSigninLogs\n| where UserPrincipalName in (VIPs)",
    fixed: "// kql.toml: [watchlists] VIPs = \"watchlists/vips.csv\"\nSigninLogs\n| where UserPrincipalName in (VIPs)",
    check: Check::Analysis,
};
