//! The streaming inventory reader against the whole-buffer parser (see `host_checks::inventory_stream`).
#![no_main]

#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_checks::inventory_stream(data));
