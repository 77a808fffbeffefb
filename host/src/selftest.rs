//! `glacier-verify selftest` (being built).

use crate::error::HostError;

/// Runs the self-test.
pub fn run(_size: u64, _quiet: bool) -> Result<i32, HostError> {
    Err(HostError::Usage("selftest is not built yet".into()))
}
