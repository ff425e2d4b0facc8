//! KQLW003 `missing-key`: a key that a function's result never has.

use crate::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: "KQLW003",
    name: "missing-key",
    summary: "a member read from a function's result that never has that key: always null",
    cost: 0,
    why: "Functions such as `geo_info_from_ip_address()` and `parse_url()` return a bag with known \
keys. Reading another key (a typo: `g.counrty`) gives null on every row, so a filter on it \
never matches and a detection never fires.",
    example: "SigninLogs\n| extend g = geo_info_from_ip_address(IPAddress)\n| extend c = g.counrty",
    fixed: "SigninLogs\n| extend g = geo_info_from_ip_address(IPAddress)\n| extend c = g.country",
    check: Check::Analysis,
};
