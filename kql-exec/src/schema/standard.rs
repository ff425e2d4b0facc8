//! The standard columns Log Analytics gives every table, whatever its published schema lists
//! (Azure Monitor's "Standard columns in Azure Monitor Logs"): `Type`, `_ItemId`, `_BilledSize`,
//! `_IsBillable`; and `MG` (the management group of the legacy Log Analytics agent), which
//! agent-collected tables (those with a `SourceSystem` column) and classic custom logs (`*_CL`)
//! carry: ASIM parsers read and `project-away` it on `Syslog`, `CommonSecurityLog`, `W3CIISLog`
//! and custom tables, and the `getschema` exports Azure-Sentinel ships as `<Table>_Schema.csv`
//! list it.
//!
//! The published table reference omits `_ItemId` for every table, so a parser that reads it
//! (ASIM parsers map it to `EventUid`) would otherwise fail with KS142 on a table that has it in
//! every workspace. A table's own columns keep their order and types; absent standard columns
//! are appended.
//!
//! Not added:
//! - `TenantId`, `_ResourceId` and `_SubscriptionId`, which the reference lists for the tables
//!   that have them (`_ResourceId` for 622 of its 898 tables): where it does not, the table has
//!   its own (`SecurityIoTRawEvent`'s `AssociatedResourceId`, which Microsoft's MD4IoT parsers
//!   `project-rename` to `_ResourceId`, an error if the column existed);
//! - `_TimeReceived` and `_Internal_WorkspaceResourceId`, which Log Analytics hides from `*`,
//!   `take` and `getschema` (no export or schema file in Azure-Sentinel's samples shows them).
//!
//! A `<Table>_Schema.csv` gets them too: some are `getschema` exports that list them, others
//! (`CrowdStrike_Registry_Events_CL_Schema.csv`) are written by hand without them.

use super::types::KqlType;

/// The standard columns of every Log Analytics table, with their types.
pub const STANDARD_COLUMNS: &[(&str, KqlType)] = &[
    ("Type", KqlType::String),
    ("_ItemId", KqlType::String),
    ("_BilledSize", KqlType::Real),
    ("_IsBillable", KqlType::String),
];

/// The legacy agent's management-group column.
pub const MANAGEMENT_GROUP: (&str, KqlType) = ("MG", KqlType::String);

/// True when a table of this name and these columns carries the legacy agent's `MG` column.
fn has_management_group(name: &str, columns: &[(String, KqlType)]) -> bool {
    name.ends_with("_CL") || columns.iter().any(|(c, _)| c == "SourceSystem")
}

/// Appends the standard columns that `columns` lacks (see the module docs).
pub fn add_standard_columns(name: &str, columns: &mut Vec<(String, KqlType)>) {
    let mg = has_management_group(name, columns);
    let extra = STANDARD_COLUMNS.iter().chain(mg.then_some(&MANAGEMENT_GROUP));
    for (c, ty) in extra {
        if !columns.iter().any(|(n, _)| n == c) {
            columns.push(((*c).to_string(), *ty));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(cols: &[(String, KqlType)]) -> Vec<&str> {
        cols.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn appends_only_the_absent_ones_in_order() {
        let mut cols = vec![("TimeGenerated".to_string(), KqlType::DateTime), ("Type".to_string(), KqlType::String)];
        add_standard_columns("MyTable", &mut cols);
        // TenantId, _ResourceId and _SubscriptionId are not added (see the module docs)
        assert_eq!(names(&cols), ["TimeGenerated", "Type", "_ItemId", "_BilledSize", "_IsBillable"]);
        assert_eq!(cols[3].1, KqlType::Real);
    }

    #[test]
    fn management_group_for_agent_tables_and_custom_logs() {
        let mut agent = vec![("SourceSystem".to_string(), KqlType::String)];
        add_standard_columns("Syslog", &mut agent);
        assert!(names(&agent).contains(&"MG"));
        let mut custom = vec![];
        add_standard_columns("meraki_CL", &mut custom);
        assert!(names(&custom).contains(&"MG"));
        let mut other = vec![("OperationName".to_string(), KqlType::String)];
        add_standard_columns("AzureActivity", &mut other);
        assert!(!names(&other).contains(&"MG"));
    }
}
