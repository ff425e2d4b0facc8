//! Tables opened on first use.
//!
//! A data folder can hold many tables, some of them large, and a query reads few of them. A
//! [`Catalog`](super::Catalog) therefore holds the tables found in a folder as *pending*: a
//! name, its files and the [`TableLoader`] that opens it; nothing is read. The binder opens a
//! pending table the first time a query scans it, whichever way the query names it (by name,
//! `table('T')`, through a stored function or a `let`-bound view, a `union` or `search`
//! wildcard that matches it), so every table a query reads is opened and no other. Once open, a
//! table stays open: the slot holding it is shared by every copy of the catalog (the REPL's
//! sessions, a rule's time-windowed catalog), so later queries reuse it.
//!
//! Binding only to learn something about a query does not read data: [`Open::Never`] (time
//! bounds, the tabular-ness of stored functions) binds a pending table by its known schema,
//! [`Open::WhenSchemaUnknown`] (`kql check`, REPL completion) opens it only when no schema is
//! known (its columns can be learned no other way).

use super::TableEntry;
use crate::error::{KqlError, Result};
use crate::load::{self, LoadOptions};
use crate::schema::TableSchema;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// Opens a pending table: reads (or prepares to stream) its files into a [`TableEntry`].
pub trait TableLoader: Send + Sync {
    /// Open table `name` from `files`; `schema` is its known schema, if any.
    fn load(&self, name: &str, files: &[PathBuf], schema: Option<&TableSchema>) -> Result<TableEntry>;
}

/// The plain loader: the whole table into memory with [`load::load_table`], load report
/// discarded (what `kql test` and library users need; the CLI has its own, which prints reports
/// and streams JSON lines).
pub struct MemoryLoader {
    /// How files are read.
    pub options: LoadOptions,
}

impl TableLoader for MemoryLoader {
    fn load(&self, name: &str, files: &[PathBuf], schema: Option<&TableSchema>) -> Result<TableEntry> {
        let t = load::load_table(name, files, schema, &self.options)?;
        super::memory_entry(t.cols, t.batches)
    }
}

/// Whether binding may open a pending table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Open {
    /// Open it (a query about to run).
    #[default]
    Always,
    /// Open it only when the catalog knows no schema for it; else bind it by its schema, empty.
    WhenSchemaUnknown,
    /// Never open it: bind it by its schema when known, else it is not a table.
    Never,
}

/// One pending table: its files, its loader, and the entry once opened.
struct Slot {
    files: Vec<PathBuf>,
    loader: Arc<dyn TableLoader>,
    entry: Mutex<Option<TableEntry>>,
}

/// The pending tables of a catalog and its copies.
#[derive(Default)]
pub(super) struct LazyTables {
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
}

impl LazyTables {
    /// Register `name` (replacing a pending table of that name).
    pub(super) fn add(&self, name: &str, files: Vec<PathBuf>, loader: Arc<dyn TableLoader>) {
        let slot = Arc::new(Slot { files, loader, entry: Mutex::new(None) });
        self.slots.write().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), slot);
    }

    fn slot(&self, name: &str) -> Option<Arc<Slot>> {
        self.slots.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    /// Whether `name` is one of these tables (open or not).
    pub(super) fn contains(&self, name: &str) -> bool {
        self.slots.read().unwrap_or_else(|e| e.into_inner()).contains_key(name)
    }

    /// The names of these tables, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        self.slots.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    /// The files of table `name`.
    pub(super) fn files(&self, name: &str) -> Option<Vec<PathBuf>> {
        self.slot(name).map(|s| s.files.clone())
    }

    /// The entry of `name` if it is open already (a table another thread is opening right now
    /// is not: this never waits).
    pub(super) fn opened(&self, name: &str) -> Option<TableEntry> {
        let slot = self.slot(name)?;
        let entry = match slot.entry.try_lock() {
            Ok(e) => e,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        entry.clone()
    }

    /// The entry of `name`, opening it now if needed (`Ok(None)`: not a pending table). Two
    /// threads asking for the same table wait for one load; a failed load leaves the table
    /// pending (the next query tries again).
    pub(super) fn open(&self, name: &str, schema: Option<&TableSchema>) -> Result<Option<TableEntry>> {
        let Some(slot) = self.slot(name) else { return Ok(None) };
        let mut entry = slot.entry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entry.as_ref() {
            return Ok(Some(e.clone()));
        }
        let opened = slot
            .loader
            .load(name, &slot.files, schema)
            .map_err(|e| KqlError { message: format!("cannot open table `{name}`: {}", e.message), ..e })?;
        *entry = Some(opened.clone());
        Ok(Some(opened))
    }
}
