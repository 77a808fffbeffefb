//! JSON vault inventories: never panic, write back to the same inventory (see `host_checks::inventory_json`).
#![no_main]

#[path = "../checks/host_checks.rs"]
mod host_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| host_checks::inventory_json(data));
