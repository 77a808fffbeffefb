//! `Range`, `Content-Range` and `RetrievalByteRange` parsing against reference parsers, with the Display round trip, and the alignment rules (see `checks::range`).
#![no_main]

#[path = "../checks/core_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::range(data));
