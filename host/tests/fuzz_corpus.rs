//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`: the documented examples,
//! test data, and every crash the fuzzers found, kept as a regression input)
//! through the same checks the libFuzzer targets run
//! (`fuzz/checks/host_checks.rs`), so each `cargo test` exercises them on
//! stable Rust, without libFuzzer.

#[path = "../../fuzz/checks/host_checks.rs"]
mod checks;

#[path = "../../fuzz/checks/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn inventory_json_seeds() {
    replay("inventory_json", checks::inventory_json);
}

#[test]
fn inventory_csv_seeds() {
    replay("inventory_csv", checks::inventory_csv);
}

#[test]
fn credentials_seeds() {
    replay("credentials", checks::credentials);
}

/// The error-body seeds' differential half (the core replay runs the rest).
#[test]
fn service_error_seeds_against_serde_json() {
    replay("service_error", checks::service_error_differential);
}

#[test]
fn inventory_stream_seeds() {
    replay("inventory_stream", checks::inventory_stream);
}

#[test]
fn names_seeds() {
    replay("names", checks::names);
}
