//! Glacier JSON error bodies: the core parser's invariants and a differential against serde_json (see `checks::service_error`, `host_checks::service_error_differential`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;
#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::service_error(data);
    host_checks::service_error_differential(data);
});
