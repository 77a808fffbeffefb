//! How often and how patiently a request is repeated (docs/protocol.md
//! §3, §9.5), and the log of what was repeated and why.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use glacier_verify_core::RetryClass;

use crate::client::{RequestFailure, backoff};
use crate::error::HostError;
use crate::locks::lock;

/// Requests made and why some were repeated: kept outside the result so
/// that a failed download's report can say what was tried too.
#[derive(Debug, Default)]
pub struct Log {
    requests: AtomicU32,
    retries: Mutex<Vec<String>>,
}

impl Log {
    /// Counts one request.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes why a request is repeated.
    pub fn retry(&self, why: String) {
        lock(&self.retries).push(why);
    }

    /// GetJobOutput requests made so far.
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Why requests were repeated, in order.
    pub fn retries(&self) -> Vec<String> {
        lock(&self.retries).clone()
    }
}

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts per request (1 = no retry).
    pub max_attempts: u32,
    /// First backoff ceiling.
    pub base: Duration,
    /// Largest backoff.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The policy of the AWS SDKs' standard mode: 5 attempts, backoff from
    /// 1 s capped at 20 s.
    pub fn standard() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(20),
        }
    }

    /// Waits out the backoff after attempt number `attempt` (cut short by
    /// a signal that asks the run to stop).
    pub fn pause(&self, attempt: u32) {
        crate::interrupt::sleep(backoff(attempt, self.base, self.cap));
    }

    /// Whether another attempt follows attempt number `attempt`.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// After failed attempt number `attempt`: retry — note why in `log`
    /// under `label` (`""`, `"part 3 "`, …) and wait out the backoff — or
    /// give up with the failure's error (fatal class, or attempts spent).
    pub fn after_failure(
        &self,
        failure: RequestFailure,
        attempt: u32,
        label: &str,
        log: &Log,
    ) -> Result<(), HostError> {
        if failure.class != RetryClass::Fatal && self.allows_another(attempt) {
            log.retry(format!("{label}attempt {attempt}: {}", failure.error));
            self.pause(attempt);
            Ok(())
        } else {
            Err(failure.error)
        }
    }

    /// [`after_failure`](Self::after_failure) for a failure worth
    /// retrying: a cut body, a body that failed its own hash.
    pub fn after_transient(
        &self,
        error: HostError,
        attempt: u32,
        label: &str,
        log: &Log,
    ) -> Result<(), HostError> {
        let failure = RequestFailure {
            error,
            class: RetryClass::Transient,
        };
        self.after_failure(failure, attempt, label, log)
    }
}
