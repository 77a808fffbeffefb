//! A progress line on stderr — bytes, parts, rate, ETA — only when stderr
//! is a terminal and `--quiet` was not given.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Counters shared by the download workers.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes received and written so far (this run).
    pub bytes: AtomicU64,
    /// Bytes expected in all (0 = unknown).
    pub total: AtomicU64,
    /// Bytes already verified before this run (resumed).
    pub resumed: AtomicU64,
    /// Parts verified.
    pub parts_done: AtomicU64,
    /// Parts being fetched now.
    pub parts_in_flight: AtomicU64,
    /// Parts in all (0 = single stream).
    pub parts_total: AtomicU64,
}

/// The progress display; stops when dropped.
pub struct Progress {
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display if `enabled` and stderr is a terminal.
    pub fn start(enabled: bool) -> Self {
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (enabled && std::io::stderr().is_terminal()).then(|| {
            let counters = Arc::clone(&counters);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    let line = render(&counters, started.elapsed());
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{line}");
                    let _ = err.flush();
                }
                let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            })
        });
        Progress {
            counters,
            stop,
            thread,
        }
    }

    /// The shared counters.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One progress line.
pub fn render(c: &Counters, elapsed: Duration) -> String {
    let bytes = c.bytes.load(Ordering::Relaxed);
    let resumed = c.resumed.load(Ordering::Relaxed);
    let total = c.total.load(Ordering::Relaxed);
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = bytes as f64 / secs;
    let done = bytes.saturating_add(resumed);
    let mut line = String::new();
    if total > 0 {
        let pct = done as f64 * 100.0 / total as f64;
        line.push_str(&format!("{} / {} ({pct:.1}%)", human(done), human(total)));
    } else {
        line.push_str(&human(done));
    }
    line.push_str(&format!("  {}/s", human(rate as u64)));
    if total > done && rate > 0.0 {
        let eta = (total - done) as f64 / rate;
        line.push_str(&format!("  ETA {}", clock(eta as u64)));
    }
    let parts = c.parts_total.load(Ordering::Relaxed);
    if parts > 0 {
        line.push_str(&format!(
            "  parts {}/{parts} done, {} in flight",
            c.parts_done.load(Ordering::Relaxed),
            c.parts_in_flight.load(Ordering::Relaxed)
        ));
    }
    line
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn clock(secs: u64) -> String {
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_bytes_rate_eta_and_parts() {
        let c = Counters::default();
        c.total.store(4 << 20, Ordering::Relaxed);
        c.bytes.store(1 << 20, Ordering::Relaxed);
        c.parts_total.store(4, Ordering::Relaxed);
        c.parts_done.store(1, Ordering::Relaxed);
        c.parts_in_flight.store(2, Ordering::Relaxed);
        let line = render(&c, Duration::from_secs(1));
        assert!(line.starts_with("1.0 MiB / 4.0 MiB (25.0%)"), "{line}");
        assert!(line.contains("1.0 MiB/s"), "{line}");
        assert!(line.contains("ETA 0:00:03"), "{line}");
        assert!(line.contains("parts 1/4 done, 2 in flight"), "{line}");
    }
}
