//! CSV vault inventories with Glacier's backslash quoting: never panic, write back to the same archives (see `host_checks::inventory_csv`).
#![no_main]

#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_checks::inventory_csv(data));
