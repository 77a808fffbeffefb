//! The raw response-head parser, whole and fed in random splits through the incremental interface (see `checks::head`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::head(data));
