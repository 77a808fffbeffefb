//! Stage 6's file work on a thread of its own: verified archives, already
//! recorded `verified` in the state, renamed under their names, their
//! directories synced, their receipt lines appended. The engine's thread
//! goes on initiating, polling and handing out downloads meanwhile, and
//! records each batch's receipt marks when the batch comes back.
//!
//! The order for each archive is the one a crash relies on (see
//! [`super::engine`]): `verified` in the state, then the rename made
//! durable, then the receipt lines, then the receipt mark. Batches that
//! queue up while the thread waits for the disk are committed together:
//! one sync per directory and one receipt append for all of them.

use std::path::PathBuf;
use std::sync::mpsc;

use super::destination::Destination;
use super::receipts::Receipt;
use crate::error::HostError;

/// A verified archive to put under its name.
#[derive(Debug)]
pub struct Work {
    /// Its id.
    pub archive_id: String,
    /// Its staged file.
    pub staged: PathBuf,
    /// Its download journal, removed once committed.
    pub journal: Option<PathBuf>,
    /// Its name under the destination.
    pub name: String,
    /// Its receipt, appended once the file is under its name.
    pub receipt: Receipt,
}

/// What became of a batch.
#[derive(Debug, Default)]
pub struct Committed {
    /// Archives under their names with their receipt lines written.
    pub recorded: Vec<String>,
    /// Archives that could not be put under their names, and why.
    pub failed: Vec<(String, HostError)>,
}

/// The committing thread's end of the channels: runs until the engine
/// drops its sender. A failure to write receipts ends the thread with
/// that error (after reporting what it committed before).
pub fn run(
    dest: &dyn Destination,
    work: &mpsc::Receiver<Vec<Work>>,
    done: &mpsc::Sender<Result<Committed, HostError>>,
) {
    while let Ok(first) = work.recv() {
        // Whatever queued up while the last batch waited for the disk.
        let mut batch = first;
        batch.extend(work.try_iter().flatten());
        let r = commit(dest, batch);
        let stop = r.is_err();
        if done.send(r).is_err() || stop {
            return;
        }
    }
}

/// Renames, syncs and records one batch.
fn commit(dest: &dyn Destination, batch: Vec<Work>) -> Result<Committed, HostError> {
    let files: Vec<(&std::path::Path, &str)> = batch
        .iter()
        .map(|w| (w.staged.as_path(), w.name.as_str()))
        .collect();
    let results = dest.commit_many(&files);
    let mut out = Committed::default();
    let mut receipts = Vec::new();
    for (w, r) in batch.into_iter().zip(results) {
        if let Some(journal) = &w.journal {
            // Kept until `verified` for a crash before it; of no use since.
            let _ = std::fs::remove_file(journal);
        }
        match r {
            Ok(_) => {
                receipts.push(w.receipt);
                out.recorded.push(w.archive_id);
            }
            Err(e) => out.failed.push((w.archive_id, e)),
        }
    }
    dest.record_many(&receipts)?;
    Ok(out)
}
