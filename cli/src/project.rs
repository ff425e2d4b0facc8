//! `kql.toml` for the subcommands: the project file found from the working directory upward
//! (see [`rule_pack::project`]) is merged into each subcommand's options before it runs.
//! Command-line flags extend its lists (given after the file's, so a flag's schema or function
//! of the same name wins) and override its single values and same-named watchlists and
//! `externaldata` URLs.

use crate::data::DataArgs;
use rule_pack::project::Project;
use std::path::PathBuf;

/// The project of the working directory, if any.
pub fn current() -> Result<Option<Project>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    Project::find(&cwd)
}

/// `project`'s lists first, then the flags'.
fn merged(project: &[PathBuf], flags: &[PathBuf]) -> Vec<PathBuf> {
    project.iter().chain(flags).cloned().collect()
}

/// The data options with the project's settings under the flags'.
pub fn apply_data(d: &mut DataArgs, p: &Project) {
    d.schemas = merged(&p.schemas, &d.schemas);
    d.functions = merged(&p.functions, &d.functions);
    d.data = merged(&p.data, &d.data);
    if d.geoip.is_none() {
        d.geoip = p.geoip.clone();
    }
    let given = |list: &[String], key: &str| list.iter().any(|w| w.split_once('=').is_some_and(|(k, _)| k == key));
    let mut watchlists: Vec<String> = p
        .watchlists
        .iter()
        .filter(|(alias, _)| !given(&d.watchlists, alias))
        .map(|(alias, f)| format!("{alias}={}", f.display()))
        .collect();
    watchlists.append(&mut d.watchlists);
    d.watchlists = watchlists;
    let mut externaldata: Vec<String> = p
        .externaldata
        .iter()
        .filter(|(url, _)| !given(&d.externaldata, url))
        .map(|(url, f)| format!("{url}={}", f.display()))
        .collect();
    externaldata.append(&mut d.externaldata);
    d.externaldata = externaldata;
}

/// `kql check`'s schemas and functions with the project's under the flags'.
pub fn apply_check(schemas: &mut Vec<PathBuf>, functions: &mut Vec<PathBuf>, p: &Project) {
    *schemas = merged(&p.schemas, schemas);
    *functions = merged(&p.functions, functions);
}
