//! Locking a mutex whose holder panicked: every mutex here guards data
//! that stays consistent between statements (queues, counters, logs), so
//! the data is used as it is rather than the panic spread to every thread.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// `m` locked, poisoned or not.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
