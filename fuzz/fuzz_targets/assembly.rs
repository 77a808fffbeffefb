//! Verified pieces of one output, pushed and recorded, composed by `Assembly` into one verdict checked against the rules (see `checks::assembly`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::assembly(data));
