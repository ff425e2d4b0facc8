//! Progress on the terminal: a bar for table loads and a spinner for queries, each drawn only
//! after a second (quick work stays silent) and only when stderr is a terminal (the callers
//! check), so pipes and CI logs never see them.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A one-line progress bar on stderr for a table's load, drawn only once the load has taken
/// more than a second (and only on a terminal: the caller checks).
#[derive(Clone)]
pub struct ProgressLine {
    name: String,
    start: Instant,
    drawn: Arc<Mutex<bool>>,
}

impl ProgressLine {
    /// A bar for the load of table `name`, starting now.
    pub fn new(name: &str) -> Self {
        ProgressLine { name: name.to_string(), start: Instant::now(), drawn: Arc::new(Mutex::new(false)) }
    }

    /// Draw `done` of `total` bytes.
    pub fn draw(&self, done: u64, total: u64) {
        let secs = self.start.elapsed().as_secs_f64();
        if secs < 1.0 || total == 0 {
            return;
        }
        let frac = (done as f64 / total as f64).min(1.0);
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let mb = |b: u64| b as f64 / (1 << 20) as f64;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2Kloading {} [{}{}] {:>3.0}% {:.0}/{:.0} MB {:.0} MB/s",
            self.name,
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            mb(done),
            mb(total),
            mb(done) / secs
        );
        let _ = err.flush();
        *self.drawn.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    /// Erase the bar, if it was drawn.
    pub fn clear(&self) {
        if *self.drawn.lock().unwrap_or_else(|e| e.into_inner()) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// A spinner with the elapsed time on stderr while a query runs; stops (and erases itself) when
/// dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    /// Start a spinner labelled `what` (shown once a second has passed), with `detail` called at
    /// each frame for text shown after the time (e.g. how much of the files a streamed query
    /// has read).
    pub fn start_with(what: &str, detail: Option<Box<dyn Fn() -> String + Send>>) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let what = what.to_string();
        let thread = std::thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let started = Instant::now();
            let mut drawn = false;
            while !flag.load(Ordering::SeqCst) {
                let el = started.elapsed();
                if el > Duration::from_secs(1) {
                    let frame = frames[(el.as_millis() / 100) as usize % frames.len()];
                    let mut err = std::io::stderr().lock();
                    let more = detail.as_ref().map(|d| d()).unwrap_or_default();
                    let _ = write!(err, "\r\x1b[2K{frame} {what}… {:.1} s{more}", el.as_secs_f64());
                    let _ = err.flush();
                    drawn = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if drawn {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        });
        Spinner { stop, thread: Some(thread) }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
