//! The thread that owns the session and runs queries, so that the prompt stays responsive and
//! Ctrl-C can give up on a query.
//!
//! A `Session` is not `Send` (stored functions are `Rc`), so it never moves between threads
//! after the worker starts: every use of it is a job sent to the worker. Cancelling a query
//! goes through the session's `CancelHandle` (the running plan is dropped); should the worker
//! not come back promptly, it is abandoned and a new one starts on a fresh session over the
//! same tables (`Arc`s: nothing is reloaded), built from the master catalog that the prompt
//! thread keeps.

use kql_exec::session::{CancelHandle, Catalog, Session, SessionOptions, StoredFunction};
use std::rc::Rc;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A session that is owned by exactly one thread at a time.
struct Owned(Session);

// SAFETY: the only non-`Send` parts of a `Session` are the `Rc`s of its stored functions. A
// session given to a worker is built from `exclusive_copy` (or is the session built at start,
// whose master copy was made with `exclusive_copy`), so no `Rc` in it is shared with anything
// outside it; after the move only the worker thread touches it.
unsafe impl Send for Owned {}

/// The worker thread.
pub struct Worker {
    tx: mpsc::Sender<Job>,
    /// Cancels the query the worker's session is running.
    pub cancel: CancelHandle,
}

impl Worker {
    /// Start a worker that owns `session`. The caller must have made the session's stored
    /// functions exclusive to it (see [`exclusive_copy`]).
    pub fn spawn(session: Session) -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let cancel = session.cancel_handle();
        let owned = Owned(session);
        std::thread::Builder::new()
            .name("kql-session".into())
            .spawn(move || {
                let mut owned = owned;
                while let Ok(job) = rx.recv() {
                    job(&mut owned.0);
                }
            })
            .expect("cannot start the session thread");
        Worker { tx, cancel }
    }

    /// Run `f` on the session; the answer arrives on the returned channel (which disconnects
    /// if `f` panics).
    pub fn call<R: Send + 'static>(&self, f: impl FnOnce(&mut Session) -> R + Send + 'static) -> mpsc::Receiver<R> {
        let (rtx, rrx) = mpsc::channel();
        let _ = self.tx.send(Box::new(move |s: &mut Session| {
            let _ = rtx.send(f(s));
        }));
        rrx
    }
}

/// A copy of a catalog that shares no `Rc` with it (tables are `Arc`s and are shared).
pub fn exclusive_copy(c: &Catalog) -> Catalog {
    let mut d = c.clone();
    let names: Vec<String> = c.function_names().cloned().collect();
    for n in names {
        if let Some(f) = c.function(&n) {
            let def = Rc::new((*f.def).clone());
            d.add_function(&n, StoredFunction { def, is_tabular: f.is_tabular, source: f.source.clone() });
        }
    }
    d
}

/// A new session over a copy of the master catalog.
pub fn fresh_session(master: &Catalog, options: &SessionOptions) -> Result<Session, String> {
    Session::new(exclusive_copy(master), options.clone()).map_err(|e| e.to_string())
}
