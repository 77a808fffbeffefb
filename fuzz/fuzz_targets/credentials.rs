//! The AWS credentials/config file parser and the resolution on top of it (see `host_checks::credentials`).
#![no_main]

#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_checks::credentials(data));
