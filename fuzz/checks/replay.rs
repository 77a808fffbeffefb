//! Seed replay for the stable `cargo test` runs (core/tests/fuzz_corpus.rs,
//! host/tests/fuzz_corpus.rs): one copy, included by both with `#[path]`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Runs `check` on every seed of `target`; fails naming each seed that fails.
pub fn replay(target: &str, check: fn(&[u8])) {
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
