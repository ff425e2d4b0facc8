//! ASIM's source filters over the `ASimSourceType` watchlist, with Microsoft's own helper
//! functions (`tests/data/real-samples/asim-lib`). Parsers such as
//! `vimUserManagementLinuxAuthpriv` and `vimNetworkSessionCiscoMeraki` keep only
//! `Computer in (_ASIM_GetSourceBySourceType('LinuxAuthpriv'))`; the helper reads the watchlist
//! with `ASIM_GetWatchlistsRaw(watchlists, keys:dynamic)` called with a string key, filtering
//! `SearchKey in (keys)`: a dynamic scalar in `in (...)` stands for itself. (It stood for no
//! value, so a workspace with the watchlist got no rows from these parsers: found running
//! Azure-Sentinel's Linux authpriv and Cisco Meraki samples, which were not in the sample set.)

use kql_exec::session::{Catalog, FunctionSource, Session, SessionOptions};
use std::sync::Arc;

fn session_with_asim_lib() -> Session {
    let mut session =
        Session::new(Catalog::default(), SessionOptions { threads: Some(1), ..Default::default() }).unwrap();
    let lib = crate::common::data_dir().join("real-samples/asim-lib");
    for name in ["ASIM_GetWatchlistsRaw.yaml", "ASIM_GetSourceBySourceType.yaml"] {
        let path = lib.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let kql = rule_pack::parsers::function_from_yaml(&path, &text).unwrap().unwrap();
        let source = FunctionSource::embedded(path.display().to_string(), &kql, &text);
        session.add_functions_from(&kql, Some(Arc::new(source))).unwrap_or_else(|e| panic!("{}", e.render("", "")));
    }
    session
}

/// The watchlist as a stored view (a function without parameters, called by its bare name).
const WATCHLIST: &str = r#"let Watchlist = () { datatable(TimeGenerated:datetime, _DTItemType:string, WatchlistAlias:string,
    SearchKey:string, _DTItemId:string, _DTTimestamp:datetime, _DTItemStatus:string,
    LastUpdatedTimeUTC:datetime, WatchlistItem:dynamic) [
    datetime(2023-01-01), 'watchlist-item', 'ASimSourceType', 'LinuxAuthpriv', 'i1', datetime(2023-01-01), 'Create',
        datetime(2023-01-01), dynamic({"SourceType":"LinuxAuthpriv","Source":"zabbix"}),
    datetime(2023-01-01), 'watchlist-item', 'ASimSourceType', 'CiscoMeraki', 'i2', datetime(2023-01-01), 'Create',
        datetime(2023-01-01), dynamic({"SourceType":"CiscoMeraki","Source":"meraki-gw"})
] };"#;

#[test]
fn source_by_source_type_reads_the_watchlist() {
    let mut session = session_with_asim_lib();
    session.add_functions_text(WATCHLIST).unwrap();
    let r = session.query("print s = _ASIM_GetSourceBySourceType('LinuxAuthpriv')").unwrap();
    assert_eq!(kql_exec::output::rows_json(&r), [[serde_json::json!(["zabbix"])]]);
    let r = session
        .query(
            "datatable(Computer:string)['zabbix', 'meraki-gw', 'other'] \
             | where Computer in (_ASIM_GetSourceBySourceType('CiscoMeraki'))",
        )
        .unwrap();
    assert_eq!(kql_exec::output::rows_json(&r), [[serde_json::json!("meraki-gw")]]);
}

/// A watchlist given as its CSV (`kql --watchlist ASimSourceType=PATH`) is also in the
/// `Watchlist` table, which the ASIM helpers read directly (not through `_GetWatchlist`).
#[test]
fn a_loaded_watchlist_is_in_the_watchlist_table() {
    let mut session = session_with_asim_lib();
    let dir = std::env::temp_dir().join(format!("kql-asim-watchlist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sources.csv");
    std::fs::write(&path, "SourceType,Source\nLinuxAuthpriv,zabbix\nLinuxAuthpriv,Zabbix\nCiscoMeraki,meraki-gw\n")
        .unwrap();
    let t = kql_exec::load::watchlist::load_watchlist("ASimSourceType", &path, None, 0).unwrap();
    session.add_batches(&t.name, t.cols, t.batches).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let r = session.query("print s = array_sort_asc(_ASIM_GetSourceBySourceType('LinuxAuthpriv'))").unwrap();
    assert_eq!(kql_exec::output::rows_json(&r), [[serde_json::json!(["Zabbix", "zabbix"])]]);
    let r = session.query("Watchlist | summarize count() by WatchlistAlias, _DTItemType, _DTItemStatus").unwrap();
    assert_eq!(
        kql_exec::output::rows_json(&r),
        [[
            serde_json::json!("ASimSourceType"),
            serde_json::json!("watchlist-item"),
            serde_json::json!("Create"),
            serde_json::json!(3)
        ]]
    );
}
