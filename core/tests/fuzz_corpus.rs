//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`: the documented examples,
//! and every crash the fuzzers found, kept as a regression input) through the
//! same checks the libFuzzer targets run (`fuzz/checks/core_checks.rs`), so
//! each `cargo test` exercises them on stable Rust, without libFuzzer.

#[path = "../../fuzz/checks/core_checks.rs"]
mod checks;

#[path = "../../fuzz/checks/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn head_seeds() {
    replay("head", checks::head);
}

#[test]
fn range_seeds() {
    replay("range", checks::range);
}

#[test]
fn service_error_seeds() {
    replay("service_error", checks::service_error);
}

#[test]
fn digest_seeds() {
    replay("digest", checks::digest);
}

#[test]
fn tree_hash_seeds() {
    replay("tree_hash", checks::tree_hash_differential);
}

#[test]
fn verifier_seeds() {
    replay("verifier", checks::verifier);
}

#[test]
fn assembly_seeds() {
    replay("assembly", checks::assembly);
}
