//! Hex digests: exact 64-digit parsing and the lowercase round trip (see `checks::digest`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::digest(data));
