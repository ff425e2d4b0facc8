//! Kusto's output-naming rules: derived names of unnamed expressions, `ColumnN` / `print_N`
//! defaults, and numeric suffixes on clashes (`x1`, `count_1`, `TimeGenerated1`).

/// Make `name` unique among `taken` by appending the smallest number that makes it unique
/// (`x`, `x1`, `x2`...), as Kusto does.
pub fn unique(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_string();
    }
    (1..).map(|n| format!("{name}{n}")).find(|c| !taken.iter().any(|t| t == c)).expect("unbounded")
}

/// The next free `ColumnN` name.
pub fn next_column_name(taken: &[String]) -> String {
    (1..).map(|n| format!("Column{n}")).find(|c| !taken.iter().any(|t| t == c)).expect("unbounded")
}

/// The name Kusto derives from a path such as `LogMessage.source_ip` or `d['a'][0]`:
/// the parts joined with `_`.
pub fn path_name(parts: &[String]) -> String {
    parts.join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashes_get_numeric_suffixes() {
        let taken = vec!["a".to_string(), "a1".to_string(), "count_".to_string()];
        assert_eq!(unique("a", &taken), "a2");
        assert_eq!(unique("count_", &taken), "count_1");
        assert_eq!(unique("b", &taken), "b");
    }

    #[test]
    fn column_names_skip_taken_ones() {
        assert_eq!(next_column_name(&["Column1".to_string()]), "Column2");
        assert_eq!(path_name(&["LogMessage".into(), "source_ip".into()]), "LogMessage_source_ip");
    }
}
