//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`: SPEC examples,
//! and every crash the fuzzers found, kept as a regression input) through the
//! same checks the libFuzzer targets run (`fuzz/checks/core_checks.rs`), so
//! each `cargo test` exercises them on stable Rust, without libFuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/core_checks.rs"]
mod checks;

/// Runs `check` on every seed of `target`; fails naming each seed that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    let failed: Vec<String> = seeds
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).expect("readable seed");
            let name = path.file_name()?.to_string_lossy().into_owned();
            catch_unwind(AssertUnwindSafe(|| check(&data)))
                .is_err()
                .then_some(name)
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} seeds fail: {failed:?}",
        failed.len(),
        seeds.len()
    );
}

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
