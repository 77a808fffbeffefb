//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`: SPEC examples,
//! test data, and every crash the fuzzers found, kept as a regression input)
//! through the same checks the libFuzzer targets run
//! (`fuzz/checks/host_checks.rs`), so each `cargo test` exercises them on
//! stable Rust, without libFuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/host_checks.rs"]
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
