//! Differential: the streaming and composed tree hash against the plain level-by-level reference (see `checks::tree_hash_differential`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tree_hash_differential(data));
