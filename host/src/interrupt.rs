//! SIGINT and SIGTERM: the first asks the download to stop at the next
//! buffer, keep what is verified and on disk, journal it and report; the
//! second ends the process at once (exit 128 + the signal number).

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

struct Flags {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers (once); without it nothing is ever requested.
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag the first signal set: the
        // second signal of either kind exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&stop))?;
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let _ = FLAGS.set(Flags { stop, signal });
    Ok(())
}

/// Whether a signal asked the run to stop.
pub fn requested() -> bool {
    FLAGS.get().is_some_and(|f| f.stop.load(Ordering::Relaxed))
}

/// The signal that asked, if one did.
pub fn signal() -> Option<i32> {
    let f = FLAGS.get()?;
    if !f.stop.load(Ordering::Relaxed) {
        return None;
    }
    i32::try_from(f.signal.load(Ordering::Relaxed)).ok()
}

/// Sleeps `d`, waking early when a stop is requested.
pub fn sleep(d: Duration) {
    let end = Instant::now() + d;
    while !requested() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}
