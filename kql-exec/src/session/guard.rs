//! Panics become errors: a bug in binding, planning or running one query fails that query with
//! KQL998, and the session (a REPL held open for hours, a CI run over hundreds of rules) goes on.
//!
//! [`catch`] runs a closure and turns a panic into a [`KqlError`]. [`install_hook`] puts a
//! panic hook in front of the process's one: a panic inside [`catch`] or on a query worker
//! thread is recorded (message and source location, for the KQL998 message) instead of printed
//! with a backtrace; every other panic goes to the previous hook as before.

use crate::error::KqlError;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once};

thread_local! {
    /// How many [`catch`] scopes this thread is inside; a query worker thread counts as one.
    static GUARDED: Cell<usize> = const { Cell::new(0) };
    /// This thread's last caught panic's `file:line:col`.
    static LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The last caught panic's `file:line:col` on a query worker thread (read by the thread that
/// waited for the query).
static WORKER_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Put the quiet hook in front of the current panic hook (once per process).
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) > 0 {
                let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                if let Ok(mut last) = WORKER_LOCATION.lock() {
                    last.clone_from(&at);
                }
                LOCATION.with(|l| *l.borrow_mut() = at);
                // with RUST_BACKTRACE set, a developer wants the whole story
                if std::env::var_os("RUST_BACKTRACE").is_some() {
                    previous(info);
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// Mark the current thread as a query worker: its panics are caught by the task that runs the
/// query, so the hook records them instead of printing them.
pub fn mark_worker_thread() {
    GUARDED.with(|g| g.set(g.get() + 1));
}

/// Run `f`; a panic inside it becomes a KQL998 error that names `what` was being done.
pub fn catch<R>(what: &str, f: impl FnOnce() -> crate::Result<R>) -> crate::Result<R> {
    install_hook();
    GUARDED.with(|g| g.set(g.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    outcome.unwrap_or_else(|payload| Err(panic_error(what, payload.as_ref())))
}

/// The KQL998 error for a caught panic's payload.
pub fn panic_error(what: &str, payload: &(dyn std::any::Any + Send)) -> KqlError {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    let at =
        LOCATION.with(|l| l.borrow_mut().take()).or_else(|| WORKER_LOCATION.lock().ok().and_then(|mut l| l.take()));
    let at = at.map(|a| format!(" (at {a})")).unwrap_or_default();
    KqlError::general("KQL998", format!("internal error while {what}: {message}{at}"))
        .with_help("this is a bug in kql: please report it with the query (set KQL_EXPLAIN=1 to see the plans)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_kql998_with_its_message() {
        let r: crate::Result<()> = catch("testing", || panic!("boom {}", 7));
        let e = r.unwrap_err();
        assert_eq!(e.code, "KQL998");
        assert!(e.message.contains("internal error while testing: boom 7"), "{}", e.message);
        assert!(e.message.contains("guard.rs"), "the location is named: {}", e.message);
        // the scope is left: the thread is no longer guarded
        assert_eq!(GUARDED.with(Cell::get), 0);
    }

    #[test]
    fn errors_and_values_pass_through() {
        assert_eq!(catch("x", || Ok(3)).unwrap(), 3);
        let e = catch::<()>("x", || Err(KqlError::general("KQL001", "no"))).unwrap_err();
        assert_eq!(e.code, "KQL001");
    }
}
