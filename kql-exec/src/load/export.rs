//! Export layouts and time pruning.
//!
//! **Containers.** Log Analytics workspace data export writes one storage container per table,
//! `am-<table>` (lower case, `_` written `-`), holding
//! `WorkspaceResourceId=/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.operationalinsights/workspaces/<ws>/y=YYYY/m=MM/d=DD/h=HH/m=mm/PT05M.json`
//! (JSON lines; `m=` is the month, then the minute; `PT05M_1.json` continues a blob that grew too
//! large; records retried by the export may appear twice and are kept, as Kusto keeps them).
//! Defender XDR's streaming export writes `insights-logs-advancedhunting-<table>/tenantId=<t>/y=/m=/d=/h=/m=00/PT1H.json`,
//! and diagnostic settings `insights-logs-<category>/resourceId=/SUBSCRIPTIONS/.../y=/m=/d=/h=/m=00/PT1H.json`.
//! A container's table: `am-<table>` and `insights-logs-advancedhunting-<table>` are `<table>`
//! matched to the schema catalog; `insights-logs-<category>` is the table of that name when the
//! catalog knows one (Entra ID's `SignInLogs`, `AuditLogs`, ... export resource-specific rows) and
//! `AzureDiagnostics` otherwise (see [`super::diagnostics`]).
//!
//! **Pruning.** The `y=/m=/d=/h=/m=` folders (and the `PT05M` / `PT1H` blob names) give the
//! window in which the records were exported, not their `TimeGenerated`: a record's
//! `TimeGenerated` precedes its export, by the ingestion delay. Log Analytics replaces a
//! `TimeGenerated` more than two days before ingestion or more than a day after it by the
//! ingestion time, so a blob exported in `[start, end)` holds `TimeGenerated` in
//! `[start - 2 days, end + 1 day]`; [`prune`] keeps the files whose widened window meets the query's
//! time range ([`prune_with`] takes other allowances). Files outside any partition folder are kept.

use crate::schema::SchemaCatalog;
use crate::value::datetime as dt;
use std::path::{Component, Path, PathBuf};

const TICKS_PER_MINUTE: i64 = 60 * 10_000_000;
const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

/// Log Analytics' data export container prefix.
pub const WORKSPACE_PREFIX: &str = "am-";
/// Defender XDR streaming export container prefix.
pub const XDR_PREFIX: &str = "insights-logs-advancedhunting-";
/// Diagnostic-settings container prefix.
pub const DIAGNOSTICS_PREFIX: &str = "insights-logs-";

fn has_prefix(name: &str, prefix: &str) -> bool {
    name.len() > prefix.len() && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// True for an export container name.
pub fn is_container(name: &str) -> bool {
    has_prefix(name, WORKSPACE_PREFIX) || has_prefix(name, DIAGNOSTICS_PREFIX)
}

/// The table an export container holds, or `None` when `name` is not a container name.
pub fn container_table(name: &str, schemas: &SchemaCatalog) -> Option<String> {
    if has_prefix(name, XDR_PREFIX) || has_prefix(name, WORKSPACE_PREFIX) {
        let stripped = if has_prefix(name, XDR_PREFIX) { &name[XDR_PREFIX.len()..] } else { &name[3..] };
        return Some(
            schemas.resolve_table_name(name).map(str::to_string).unwrap_or_else(|| stripped.replace('-', "_")),
        );
    }
    if has_prefix(name, DIAGNOSTICS_PREFIX) {
        let category = &name[DIAGNOSTICS_PREFIX.len()..];
        // only an exact (case-insensitive) table name: categories are not table names in general
        return Some(
            schemas
                .table(category)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| super::diagnostics::AZURE_DIAGNOSTICS.to_string()),
        );
    }
    None
}

/// True for a blob name of the exports: `PT05M`, `PT05M_1`, `PT1H`.
pub fn is_blob_name(stem: &str) -> bool {
    blob_duration(stem).is_some()
}

/// The window an export blob covers, from its name (`PT05M` is 5 minutes, `PT1H` an hour).
fn blob_duration(stem: &str) -> Option<i64> {
    let s = stem.strip_prefix("PT").or_else(|| stem.strip_prefix("pt"))?;
    let s = s.split('_').next()?;
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - 1].parse().ok()?;
    match unit.to_ascii_uppercase() {
        'M' => Some(n * TICKS_PER_MINUTE),
        'H' => Some(n * TICKS_PER_HOUR),
        'S' => Some(n * 10_000_000),
        _ => None,
    }
}

fn is_partition(name: &str) -> bool {
    name.split_once('=').is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// True when `p` is inside (or is) a `key=value` partition folder.
pub fn in_partition(p: &Path) -> bool {
    p.components().any(|c| matches!(c, Component::Normal(n) if n.to_str().is_some_and(is_partition)))
}

fn names(p: &Path) -> Vec<String> {
    let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    abs.components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str().map(str::to_string),
            _ => None,
        })
        .collect()
}

/// The table of a path inside an export tree: its nearest container's table; or, for a
/// partition folder outside any container, the folder above the partitions. `None` when `p`
/// is neither in a container nor a partition.
pub fn table_of_export_dir(p: &Path, schemas: &SchemaCatalog) -> Option<String> {
    let names = names(p);
    if let Some(c) = names.iter().rev().find(|n| is_container(n)) {
        return container_table(c, schemas);
    }
    let dirs = if p.is_file() { &names[..names.len().saturating_sub(1)] } else { &names[..] };
    let last = dirs.last()?;
    if !is_partition(last) {
        return None;
    }
    let above = dirs.iter().rev().find(|n| !is_partition(n))?;
    Some(schemas.resolve_table_name(above).map(str::to_string).unwrap_or_else(|| above.clone()))
}

/// True when `p` is inside an `insights-logs-<category>` container that is not Defender XDR's.
pub fn in_diagnostics_container(p: &Path) -> bool {
    names(p).iter().any(|n| has_prefix(n, DIAGNOSTICS_PREFIX) && !has_prefix(n, XDR_PREFIX))
}

/// The export window `[start, end)` of a file in an export tree, from its `y=/m=/d=/h=/m=`
/// folders and its blob name; `None` outside partition folders.
pub fn export_window(p: &Path) -> Option<(i64, i64)> {
    let (mut y, mut mo, mut d, mut h, mut mi) = (None, None, None, None, None);
    let mut blob = None;
    for c in p.components() {
        let Component::Normal(n) = c else { continue };
        let Some(n) = n.to_str() else { continue };
        if let Some((k, v)) = n.split_once('=') {
            let v: Option<u32> = v.parse().ok();
            match k.to_ascii_lowercase().as_str() {
                "y" => y = v,
                "m" if h.is_some() => mi = v,
                "m" => mo = v,
                "d" => d = v,
                "h" => h = v,
                _ => {}
            }
        } else if let Some(dur) = blob_duration(n.split('.').next().unwrap_or("")) {
            blob = Some(dur);
        }
    }
    let year = i64::from(y?);
    let start = dt::from_parts(year, mo.unwrap_or(1), d.unwrap_or(1), h.unwrap_or(0), mi.unwrap_or(0), 0, 0)?;
    let span = match (mo, d, h, mi) {
        (None, ..) => {
            return Some((start, dt::from_parts(year + 1, 1, 1, 0, 0, 0, 0)?));
        }
        (Some(m), None, ..) => {
            let (ny, nm) = if m == 12 { (year + 1, 1) } else { (year, m + 1) };
            return Some((start, dt::from_parts(ny, nm, 1, 0, 0, 0, 0)?));
        }
        (_, _, None, _) => TICKS_PER_DAY,
        (_, _, _, None) => TICKS_PER_HOUR,
        // a minute folder: the blob's own window, else the rest of the hour
        (_, _, _, Some(m)) => blob.unwrap_or((60 - i64::from(m)) * TICKS_PER_MINUTE),
    };
    Some((start, start + span))
}

/// How far `TimeGenerated` may lie from the export window of its blob.
#[derive(Debug, Clone, Copy)]
pub struct Slack {
    /// How long before the window's start (ingestion delay), in ticks.
    pub before: i64,
    /// How long after the window's end (clock skew), in ticks.
    pub after: i64,
}

impl Default for Slack {
    /// Log Analytics' limits: two days before ingestion, one day after.
    fn default() -> Self {
        Slack { before: 2 * TICKS_PER_DAY, after: TICKS_PER_DAY }
    }
}

/// The files of an export tree that can hold records with `from <= TimeGenerated <= to`
/// (ticks; `i64::MIN` / `i64::MAX` for an open end), with the default [`Slack`].
pub fn prune(paths: &[PathBuf], from: i64, to: i64) -> Vec<PathBuf> {
    prune_with(paths, from, to, Slack::default())
}

/// [`prune`] with explicit allowances.
pub fn prune_with(paths: &[PathBuf], from: i64, to: i64, slack: Slack) -> Vec<PathBuf> {
    paths
        .iter()
        .filter(|p| match export_window(p) {
            Some((start, end)) => start.saturating_sub(slack.before) <= to && end.saturating_add(slack.after) >= from,
            None => true,
        })
        .cloned()
        .collect()
}

/// The files of `table` that a query with `bounds` (see [`crate::binder::time_bounds`]) can
/// read: those whose export window meets the table's time window; all of them when the table
/// is unbounded, unknown to the query, or the query scans tables by wildcard.
pub fn prune_for_bounds(
    table: &str,
    files: &[PathBuf],
    bounds: &crate::binder::time_bounds::TimeBounds,
) -> Vec<PathBuf> {
    if bounds.contains_key("*") {
        return files.to_vec();
    }
    match bounds.get(table) {
        Some(Some((from, to))) => prune(files, *from, *to),
        _ => files.to_vec(),
    }
}
