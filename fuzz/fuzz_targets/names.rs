//! Archive descriptions into names: never panic, always a safe path (see `host_checks::names`).
#![no_main]

#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_checks::names(data));
