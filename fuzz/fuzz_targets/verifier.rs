//! The verifier with arbitrary heads and chunkings: correct responses verify, any one-byte change does not (see `checks::verifier`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::verifier(data));
