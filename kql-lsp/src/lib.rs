//! `kql-lsp`: the KQL language server (`kql lsp`), over stdio with rust-analyzer's
//! `lsp-server` and `lsp-types`, for `.kql` files and the `query:` blocks of Sentinel rule YAML.
//!
//! One concern per module:
//! - [`documents`]: open documents, their changes, the query inside a file and positions
//!   (UTF-16, as LSP counts them) mapped into it;
//! - [`tokens`]: a lexer that never fails, for text being typed;
//! - [`workspace`]: the analysis of each document and the checking session of each project
//!   (`kql.toml`);
//! - [`scopes`]: `let` names and parameters, and their uses;
//! - [`context`]: where the cursor is, and the columns in scope there;
//! - [`catalog`]: Kusto's function catalog as the editor shows it;
//! - [`keys`]: keys of dynamic columns in a sample of the project's data;
//! - [`diagnostics`], [`completion`], [`hover`], [`signature`], [`navigation`] (definition,
//!   references, rename), [`symbols`], [`semantic_tokens`], [`actions`] (quick fixes),
//!   [`formatting`] (the hook for a formatter);
//! - [`server`]: the loop that answers the client.

pub mod actions;
pub mod catalog;
pub mod completion;
pub mod context;
pub mod diagnostics;
pub mod documents;
pub mod formatting;
pub mod hover;
pub mod keys;
pub mod navigation;
pub mod scopes;
pub mod semantic_tokens;
pub mod server;
pub mod signature;
pub mod symbols;
pub mod tokens;
pub mod workspace;

pub use server::{run, run_stdio};
