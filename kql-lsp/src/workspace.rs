//! The server's state: open documents, the analysis of each (its query parsed, checked and its
//! names resolved, redone when the text changes), and one checking session per project (the
//! `kql.toml` nearest a document: its schemas and stored functions, as `kql check` reads them).

use crate::documents::{Document, QueryText};
use crate::scopes::Scopes;
use crate::tokens::{tokenize, Token};
use kql_exec::session::{Catalog, Session, SessionOptions};
use kql_exec::KqlError;
use lsp_types::Url;
use rule_pack::project::Project;
use std::collections::HashMap;
use std::path::PathBuf;

/// A checking session for one project (or for documents outside any project).
pub struct ProjectSession {
    /// The project file, if any.
    pub project: Option<Project>,
    /// Why the project file could not be used (the session then has only the built-in schemas).
    pub error: Option<String>,
    /// Function files that could not be loaded.
    pub function_errors: Vec<String>,
    /// The session.
    pub session: Session,
    /// Keys of dynamic columns in a sample of the project's data (for completion).
    pub keys: crate::keys::KeySampler,
}

impl ProjectSession {
    /// A session with the built-in schemas and `project`'s schemas and functions.
    pub fn new(project: Option<Project>, error: Option<String>) -> Result<ProjectSession, String> {
        let mut catalog = Catalog::with_builtin_schemas();
        let mut function_errors = Vec::new();
        let mut error = error;
        if let Some(p) = &project {
            for s in &p.schemas {
                match kql_exec::schema::SchemaCatalog::load_path(s) {
                    Ok(mut c) => {
                        c.add_standard_columns();
                        catalog.add_schemas(c);
                    }
                    Err(e) => error = Some(format!("{}: schemas: {e}", p.file.display())),
                }
            }
        }
        let options = SessionOptions { threads: Some(1), ..Default::default() };
        let mut session = Session::new(catalog, options).map_err(|e| e.to_string())?;
        if let Some(p) = &project {
            for f in &p.functions {
                match rule_pack::parsers::load_function_files(&mut session, f) {
                    Ok((_, errors)) => function_errors.extend(errors),
                    Err(e) => function_errors.push(e),
                }
            }
        }
        let keys = crate::keys::KeySampler::new(
            project.as_ref().map(|p| p.data.clone()).unwrap_or_default(),
            project.as_ref().map(|p| p.functions.clone()).unwrap_or_default(),
        );
        Ok(ProjectSession { project, error, function_errors, session, keys })
    }
}

/// What the server knows of one document's query.
pub struct Analysis {
    /// The query and its place in the file (`Err`: why there is none: a YAML error's line,
    /// column and message).
    pub query: Result<QueryText, (u32, u32, String)>,
    /// Its tokens.
    pub tokens: Vec<Token>,
    /// The syntax tree, when the query parses (up to the errors the parser recovers from).
    pub script: Option<kql_parser::Script>,
    /// Errors (syntax, then semantic), in source order.
    pub errors: Vec<KqlError>,
    /// Warnings.
    pub warnings: Vec<KqlError>,
    /// Names defined and used.
    pub scopes: Scopes,
    /// The project the document belongs to (a key of [`Workspace::sessions`]).
    pub project: Option<PathBuf>,
    /// The document version analysed.
    pub version: i32,
}

impl Analysis {
    /// The query text ("" when there is none).
    pub fn text(&self) -> &str {
        self.query.as_ref().map(|q| q.text.as_str()).unwrap_or("")
    }
}

/// Every open document with its analysis, and the sessions of their projects.
#[derive(Default)]
pub struct Workspace {
    /// Open documents by URI.
    pub docs: HashMap<Url, Document>,
    /// Analyses by URI (of the version in `docs` once [`Workspace::analyse`] ran).
    pub analyses: HashMap<Url, Analysis>,
    /// Sessions by project file (`None`: documents outside any project).
    pub sessions: HashMap<Option<PathBuf>, ProjectSession>,
}

impl Workspace {
    /// The session for the project of `doc` (created on first use).
    pub fn session_for(&mut self, doc: &Document) -> Result<(Option<PathBuf>, &ProjectSession), String> {
        let found = match doc.path() {
            Some(p) => match rule_pack::project::find_file(&p) {
                Some(f) => match Project::load(&f) {
                    Ok(p) => (Some(f), Some(p), None),
                    Err(e) => (Some(f), None, Some(e)),
                },
                None => (None, None, None),
            },
            None => (None, None, None),
        };
        let (key, project, error) = found;
        if !self.sessions.contains_key(&key) {
            let s = ProjectSession::new(project, error)?;
            self.sessions.insert(key.clone(), s);
        }
        let s = self.sessions.get(&key).ok_or("no session")?;
        Ok((key, s))
    }

    /// Forget every session (a project file or function file changed): they are made again
    /// when next needed.
    pub fn reload_projects(&mut self) {
        self.sessions.clear();
        self.analyses.clear();
    }

    /// Analyse `uri` if its analysis is missing or older than its text.
    pub fn analyse(&mut self, uri: &Url) -> Result<(), String> {
        let Some(doc) = self.docs.get(uri).cloned() else { return Err(format!("{uri} is not open")) };
        if self.analyses.get(uri).is_some_and(|a| a.version == doc.version) {
            return Ok(());
        }
        let (key, ps) = self.session_for(&doc)?;
        let a = analyse(&ps.session, &doc, key);
        self.analyses.insert(uri.clone(), a);
        Ok(())
    }

    /// The analysis of `uri` (made when needed).
    pub fn analysis(&mut self, uri: &Url) -> Result<&Analysis, String> {
        self.analyse(uri)?;
        self.analyses.get(uri).ok_or_else(|| format!("{uri} is not open"))
    }

    /// The session `uri` is checked with.
    pub fn session_of(&mut self, uri: &Url) -> Result<&ProjectSession, String> {
        let Some(doc) = self.docs.get(uri).cloned() else { return Err(format!("{uri} is not open")) };
        Ok(self.session_for(&doc)?.1)
    }
}

/// Parse, check and resolve the names of `doc`'s query with `session`.
pub fn analyse(session: &Session, doc: &Document, project: Option<PathBuf>) -> Analysis {
    let query = doc.query();
    let (tokens, script, errors, warnings, scopes) = match &query {
        Ok(q) => {
            let tokens = tokenize(&q.text);
            let (script, syntax) = kql_parser::parse_recovering(&q.text);
            let mut errors: Vec<KqlError> = syntax.into_iter().map(Into::into).collect();
            let mut warnings = Vec::new();
            if let Some(s) = &script {
                let outcome = session.check_script(s);
                errors.extend(outcome.errors);
                warnings = outcome.warnings;
                warnings.extend(kql_lint::lint(s).into_iter().map(KqlError::from));
            }
            errors.sort_by_key(|e| e.span.map(|s| s.start).unwrap_or(usize::MAX));
            let scopes = script.as_ref().map(|s| Scopes::of(s, &q.text)).unwrap_or_default();
            (tokens, script, errors, warnings, scopes)
        }
        Err(_) => (vec![], None, vec![], vec![], Scopes::default()),
    };
    Analysis { query, tokens, script, errors, warnings, scopes, project, version: doc.version }
}
