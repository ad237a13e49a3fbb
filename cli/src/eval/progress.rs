//! A progress bar on standard error, drawn only when standard error is a terminal (a
//! CI log or a pipe gets none).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Counts finished jobs and redraws one line.
pub struct Progress {
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    draw: bool,
    line: Mutex<()>,
}

impl Progress {
    /// A bar for `total` jobs; drawn when standard error is a terminal and there is more
    /// than one job.
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            draw: total > 1 && std::io::stderr().is_terminal(),
            line: Mutex::new(()),
        }
    }

    /// One more job finished.
    pub fn tick(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let bad = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        if !self.draw {
            return;
        }
        let _guard = self.line.lock();
        const WIDTH: usize = 30;
        let filled = WIDTH * done / self.total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled));
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{bar}] {done}/{} case(s), {bad} not passed",
            self.total
        );
        let _ = err.flush();
    }

    /// Clears the bar's line.
    pub fn finish(&self) {
        if self.draw {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
