//! The server loop: capabilities, notifications that change documents, requests answered from
//! the workspace. Diagnostics are published once the messages already queued are handled (a
//! burst of keystrokes is checked once, at its last version). Every handler runs under
//! `catch_unwind`: a bug answers one request with an error and the server goes on.

use crate::workspace::Workspace;
use crate::{actions, completion, diagnostics, formatting, hover, navigation, semantic_tokens, signature, symbols};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What the server can do.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["|".into(), "=".into(), "(".into(), ",".into()]),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            ..Default::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: semantic_tokens::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                ..Default::default()
            },
        )),
        // `kql fmt`'s formatter (`formatting::FORMATTER`)
        document_formatting_provider: formatting::FORMATTER.map(|_| OneOf::Left(true)),
        ..Default::default()
    }
}

/// Run the server over stdin and stdout until the client shuts it down.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    run(&connection)?;
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
}

/// Run the server over `connection` (initialization included) until shutdown.
pub fn run(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    connection.initialize(caps).map_err(|e| e.to_string())?;
    let mut server = Server { ws: Workspace::default(), dirty: BTreeSet::new() };
    loop {
        let Ok(msg) = connection.receiver.recv() else { return Ok(()) };
        let mut queue = vec![msg];
        // handle what is already queued before checking (typing sends bursts of changes)
        while let Ok(m) = connection.receiver.try_recv() {
            queue.push(m);
        }
        for msg in queue {
            match msg {
                Message::Request(req) => {
                    if connection.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    let resp = server.request(req);
                    connection.sender.send(Message::Response(resp)).map_err(|e| e.to_string())?;
                }
                Message::Notification(n) => {
                    if n.method == notification::Exit::METHOD {
                        return Ok(());
                    }
                    let outcome = catch_unwind(AssertUnwindSafe(|| server.notification(n)));
                    if outcome.is_err() {
                        eprintln!("kql lsp: a notification handler failed; going on");
                    }
                }
                Message::Response(_) => {}
            }
        }
        for n in server.publish() {
            connection.sender.send(Message::Notification(n)).map_err(|e| e.to_string())?;
        }
    }
}

/// The server's state.
struct Server {
    ws: Workspace,
    /// Documents whose diagnostics are to be published.
    dirty: BTreeSet<Url>,
}

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters: {e}")))
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, (ErrorCode, String)> {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server {
    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    let kind = crate::documents::DocKind::of(&d.uri, &d.language_id);
                    let doc = crate::documents::Document::new(d.uri.clone(), kind, d.version, d.text);
                    self.ws.docs.insert(d.uri.clone(), doc);
                    self.dirty.insert(d.uri);
                }
            }
            notification::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    if let Some(doc) = self.ws.docs.get_mut(&p.text_document.uri) {
                        doc.apply_changes(p.text_document.version, p.content_changes);
                        self.dirty.insert(p.text_document.uri);
                    }
                }
            }
            notification::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    self.ws.docs.remove(&p.text_document.uri);
                    self.ws.analyses.remove(&p.text_document.uri);
                    self.dirty.remove(&p.text_document.uri);
                }
            }
            notification::DidSaveTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) {
                    // a function file or the project file changes what every document sees
                    let is_project = p.text_document.uri.path().ends_with(rule_pack::project::PROJECT_FILE);
                    let is_function = self.ws.analyses.get(&p.text_document.uri).is_some_and(|a| {
                        a.script.as_ref().is_some_and(|s| s.query().is_none()) && !a.scopes.defs.is_empty()
                    });
                    if is_project || is_function {
                        self.reload();
                    }
                }
            }
            notification::DidChangeWatchedFiles::METHOD => self.reload(),
            _ => {}
        }
    }

    /// Forget the sessions and re-check every open document.
    fn reload(&mut self) {
        self.ws.reload_projects();
        self.dirty.extend(self.ws.docs.keys().cloned());
    }

    /// The diagnostics of the documents changed since the last call.
    fn publish(&mut self) -> Vec<Notification> {
        let mut out = Vec::new();
        for uri in std::mem::take(&mut self.dirty) {
            let built = catch_unwind(AssertUnwindSafe(|| -> Option<PublishDiagnosticsParams> {
                self.ws.analyse(&uri).ok()?;
                let a = self.ws.analyses.get(&uri)?;
                let ps = self.ws.sessions.get(&a.project);
                let diags = diagnostics::diagnostics(a, ps);
                Some(PublishDiagnosticsParams { uri: uri.clone(), diagnostics: diags, version: Some(a.version) })
            }));
            if let Ok(Some(p)) = built {
                if let Ok(v) = serde_json::to_value(p) {
                    out.push(Notification::new(notification::PublishDiagnostics::METHOD.into(), v));
                }
            }
        }
        out
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let method = req.method.clone();
        match catch_unwind(AssertUnwindSafe(|| self.dispatch(req))) {
            Ok(Ok(v)) => Response::new_ok(id, v),
            Ok(Err((code, msg))) => Response::new_err(id, code as i32, msg),
            Err(_) => internal_error(id, &method),
        }
    }

    fn dispatch(&mut self, req: Request) -> Result<Value, (ErrorCode, String)> {
        let not_open = |u: &Url| (ErrorCode::InvalidParams, format!("{u} is not open"));
        match req.method.as_str() {
            request::Completion::METHOD => {
                let p: CompletionParams = params(req.params)?;
                let (uri, pos) = (p.text_document_position.text_document.uri, p.text_document_position.position);
                self.ws.analyse(&uri).map_err(|_| not_open(&uri))?;
                let Some((q, tokens, project)) = self.ws.analyses.get(&uri).and_then(|a| {
                    let q = a.query.as_ref().ok()?.clone();
                    Some((q, a.tokens.clone(), a.project.clone()))
                }) else {
                    return to_value(CompletionResponse::Array(vec![]));
                };
                let Some(offset) = q.offset(pos) else { return to_value(CompletionResponse::Array(vec![])) };
                let ps = self.ws.sessions.get(&project).ok_or_else(|| not_open(&uri))?;
                let list = completion::complete(&q.text, &tokens, offset, ps, &|a, b| q.range(a, b));
                to_value(CompletionResponse::List(list))
            }
            request::HoverRequest::METHOD => {
                let p: HoverParams = params(req.params)?;
                let (uri, pos) =
                    (p.text_document_position_params.text_document.uri, p.text_document_position_params.position);
                self.ws.analyse(&uri).map_err(|_| not_open(&uri))?;
                let a = self.ws.analyses.get(&uri).ok_or_else(|| not_open(&uri))?;
                let ps = self.ws.sessions.get(&a.project).ok_or_else(|| not_open(&uri))?;
                let Ok(q) = &a.query else { return Ok(Value::Null) };
                let Some(offset) = q.offset(pos) else { return Ok(Value::Null) };
                match hover::hover(a, ps, offset) {
                    Some((md, (s, e))) => to_value(Hover {
                        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
                        range: Some(q.range(s, e)),
                    }),
                    None => Ok(Value::Null),
                }
            }
            request::SignatureHelpRequest::METHOD => {
                let p: SignatureHelpParams = params(req.params)?;
                let (uri, pos) =
                    (p.text_document_position_params.text_document.uri, p.text_document_position_params.position);
                self.ws.analyse(&uri).map_err(|_| not_open(&uri))?;
                let a = self.ws.analyses.get(&uri).ok_or_else(|| not_open(&uri))?;
                let ps = self.ws.sessions.get(&a.project).ok_or_else(|| not_open(&uri))?;
                let Some(offset) = a.query.as_ref().ok().and_then(|q| q.offset(pos)) else { return Ok(Value::Null) };
                to_value(signature::signature_help(a, ps, offset))
            }
            request::GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = params(req.params)?;
                let (uri, pos) =
                    (p.text_document_position_params.text_document.uri, p.text_document_position_params.position);
                to_value(navigation::definition(&mut self.ws, &uri, pos).map(GotoDefinitionResponse::Scalar))
            }
            request::References::METHOD => {
                let p: ReferenceParams = params(req.params)?;
                let (uri, pos) = (p.text_document_position.text_document.uri, p.text_document_position.position);
                to_value(navigation::references(&mut self.ws, &uri, pos, p.context.include_declaration))
            }
            request::Rename::METHOD => {
                let p: RenameParams = params(req.params)?;
                let (uri, pos) = (p.text_document_position.text_document.uri, p.text_document_position.position);
                navigation::rename(&mut self.ws, &uri, pos, &p.new_name)
                    .map_err(|e| (ErrorCode::InvalidRequest, e))
                    .and_then(to_value)
            }
            request::DocumentSymbolRequest::METHOD => {
                let p: DocumentSymbolParams = params(req.params)?;
                let a = self.ws.analysis(&p.text_document.uri).map_err(|_| not_open(&p.text_document.uri))?;
                to_value(DocumentSymbolResponse::Nested(symbols::symbols(a)))
            }
            request::SemanticTokensFullRequest::METHOD => {
                let p: SemanticTokensParams = params(req.params)?;
                let a = self.ws.analysis(&p.text_document.uri).map_err(|_| not_open(&p.text_document.uri))?;
                to_value(SemanticTokensResult::Tokens(SemanticTokens {
                    result_id: None,
                    data: semantic_tokens::tokens(a),
                }))
            }
            request::CodeActionRequest::METHOD => {
                let p: CodeActionParams = params(req.params)?;
                let uri = p.text_document.uri;
                self.ws.analyse(&uri).map_err(|_| not_open(&uri))?;
                let a = self.ws.analyses.get(&uri).ok_or_else(|| not_open(&uri))?;
                let doc = self.ws.docs.get(&uri).ok_or_else(|| not_open(&uri))?;
                // the server's own diagnostics on the range (clients may not send back `data`)
                let overlaps = |r: &Range| r.start <= p.range.end && p.range.start <= r.end;
                let diags: Vec<Diagnostic> = diagnostics::diagnostics(a, self.ws.sessions.get(&a.project))
                    .into_iter()
                    .filter(|d| overlaps(&d.range))
                    .collect();
                let lines = crate::documents::Lines::new(&doc.text);
                let range_text = |r: &Range| {
                    let s = lines.offset(&doc.text, r.start.line, r.start.character);
                    let e = lines.offset(&doc.text, r.end.line, r.end.character);
                    doc.text.get(s..e).map(str::to_string)
                };
                let actions: Vec<CodeActionOrCommand> = actions::quick_fixes(&uri, &diags, &range_text)
                    .into_iter()
                    .map(CodeActionOrCommand::CodeAction)
                    .collect();
                to_value(actions)
            }
            request::Formatting::METHOD => {
                let p: DocumentFormattingParams = params(req.params)?;
                let Some(format) = formatting::FORMATTER else {
                    return Err((ErrorCode::MethodNotFound, "no formatter yet: formatting is not available".into()));
                };
                let doc = self.ws.docs.get(&p.text_document.uri).ok_or_else(|| not_open(&p.text_document.uri))?;
                formatting::format_document(doc, format).map_err(|e| (ErrorCode::RequestFailed, e)).and_then(to_value)
            }
            _ => Err((ErrorCode::MethodNotFound, format!("unsupported request {}", req.method))),
        }
    }
}

fn internal_error(id: RequestId, method: &str) -> Response {
    Response::new_err(id, ErrorCode::InternalError as i32, format!("kql lsp: {method} failed (an internal error)"))
}
