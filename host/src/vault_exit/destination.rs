//! Where a vault's archives go. The stages see only [`Destination`]: a
//! staging file for a download in progress, the commit of a verified one
//! under its name, and its receipt. [`LocalDir`] is a directory; another
//! destination (an S3 bucket and prefix) implements the same trait.

use std::path::{Path, PathBuf};

use super::receipts::{self, Receipt};
use super::state::ShardKey;
use crate::error::HostError;

/// Where verified archives and their receipts go.
pub trait Destination: Send + Sync {
    /// What to call the destination in messages.
    fn describe(&self) -> String;
    /// A local file to download `archive_id` into (the download path's
    /// `.part`, where the verified bytes stay until the commit, and its
    /// journal live beside it); the same for every run of this shard, so a
    /// rerun resumes, and another for every other shard layout, so no
    /// other run writes it while this shard's lock is held.
    fn staging(&self, archive_id: &str) -> Result<PathBuf, HostError>;
    /// The staged file of an archive the state records verified, if it
    /// was not committed yet (a crash came between the two).
    fn staged_verified(&self, archive_id: &str) -> Result<Option<PathBuf>, HostError>;
    /// Puts the verified staged file under `name` (a safe relative path);
    /// returns where it now is, for the receipt.
    fn commit(&self, staged: &Path, name: &str) -> Result<String, HostError>;
    /// Records the receipt of one archive: each of its lines once and
    /// whole, whatever ran or crashed before.
    fn record(&self, receipt: &Receipt, search: bool) -> Result<(), HostError>;
    /// [`commit`](Self::commit) of several verified staged files, each
    /// `(staged, name)`; one result each, in order. Every rename is durable
    /// when this returns.
    fn commit_many(&self, files: &[(&Path, &str)]) -> Vec<Result<String, HostError>> {
        files.iter().map(|(s, n)| self.commit(s, n)).collect()
    }
    /// [`record`](Self::record) of archives verified in this run (no
    /// search: none of them has a line yet), together.
    fn record_many(&self, receipts: &[Receipt]) -> Result<(), HostError> {
        receipts.iter().try_for_each(|r| self.record(r, false))
    }
}

/// A local directory: archives under their names, the state and staging
/// files under `.glacier-verify/`, the receipts at the top.
#[derive(Clone, Debug)]
pub struct LocalDir {
    root: PathBuf,
    /// `I-of-N`, of the shard whose lock this run holds.
    shard: String,
}

/// The directory of state, locks and staging files inside DIR.
pub const STATE_DIR: &str = ".glacier-verify";

impl LocalDir {
    /// `root`, which must exist and be a directory (not a link), for the
    /// run of shard `key`.
    pub fn open(root: &Path, key: &ShardKey) -> Result<LocalDir, HostError> {
        match std::fs::symlink_metadata(root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(HostError::Usage(format!(
                    "--dest {}: not a directory (a link is not followed)",
                    root.display()
                )));
            }
            Err(e) => return Err(HostError::io(root, e)),
        }
        let dir = LocalDir {
            root: root.to_owned(),
            shard: format!("{}-of-{}", key.index, key.count),
        };
        for d in [dir.state_dir(), dir.staging_dir()] {
            match std::fs::create_dir(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(HostError::io(&d, e)),
            }
            if !std::fs::symlink_metadata(&d).is_ok_and(|m| m.is_dir()) {
                return Err(HostError::Usage(format!(
                    "{}: not a directory (a link is not followed)",
                    d.display()
                )));
            }
        }
        Ok(dir)
    }

    /// `DIR/.glacier-verify`
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    fn staging_dir(&self) -> PathBuf {
        self.state_dir().join("staging")
    }

    /// DIR itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The first 32 hex digits of the archive id's tree hash.
fn staging_key(archive_id: &str) -> String {
    let mut key = glacier_verify_core::tree_hash(archive_id.as_bytes()).to_string();
    key.truncate(32);
    key
}

impl LocalDir {
    /// Renames the verified `staged` file to `name` under DIR (its parent
    /// directories made without following links); not synced yet.
    fn rename_in(&self, staged: &Path, name: &str) -> Result<PathBuf, HostError> {
        let target = super::names::prepare_under(&self.root, name)
            .map_err(|e| HostError::io(self.root.join(name), e))?;
        if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_file()) {
            return Err(HostError::Usage(format!(
                "{}: exists and is not a regular file; not replaced",
                target.display()
            )));
        }
        std::fs::rename(staged, &target).map_err(|e| HostError::io(&target, e))?;
        Ok(target)
    }
}

impl Destination for LocalDir {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn staging(&self, archive_id: &str) -> Result<PathBuf, HostError> {
        // The id's hash (fixed length, no character a file name cannot
        // hold) and the shard layout: runs of one layout exclude each
        // other by the shard's lock, and a run of another layout (the same
        // archive can be in shards of both) has files of its own.
        Ok(self
            .staging_dir()
            .join(format!("{}.{}", staging_key(archive_id), self.shard)))
    }

    fn staged_verified(&self, archive_id: &str) -> Result<Option<PathBuf>, HostError> {
        let part = crate::outfile::OutputPaths::for_target(&self.staging(archive_id)?).part;
        // Also the name an earlier version renamed a verified file to
        // before the commit (never a file in progress under that name).
        let earlier = self.staging_dir().join(staging_key(archive_id));
        Ok([part, earlier]
            .into_iter()
            .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())))
    }

    fn commit(&self, staged: &Path, name: &str) -> Result<String, HostError> {
        let target = self.rename_in(staged, name)?;
        crate::journal::sync_parent(&target);
        Ok(name.to_owned())
    }

    fn record(&self, receipt: &Receipt, search: bool) -> Result<(), HostError> {
        receipts::append(&self.root, &self.state_dir(), receipt, search)
    }

    fn commit_many(&self, files: &[(&Path, &str)]) -> Vec<Result<String, HostError>> {
        // Every rename first, then each directory they went into synced
        // once (archives of one batch often share a directory).
        let mut dirs = std::collections::BTreeSet::new();
        let out = files
            .iter()
            .map(|(staged, name)| {
                let target = self.rename_in(staged, name)?;
                dirs.insert(target);
                Ok((*name).to_owned())
            })
            .collect();
        let parents: std::collections::BTreeSet<&Path> =
            dirs.iter().filter_map(|t| t.parent()).collect();
        sync_dirs(parents.into_iter().collect());
        out
    }

    fn record_many(&self, rs: &[Receipt]) -> Result<(), HostError> {
        receipts::append_many(&self.root, &self.state_dir(), rs)
    }
}

/// Directories synced at once, at most: a directory's fsync waits for
/// the disk, and the disk serves several at once (a batch of archives
/// spread over many directories waits for the slowest, not for the sum).
const DIR_SYNCS_AT_ONCE: usize = 8;

/// Syncs each of `dirs` (so that the renames into them are durable), on up
/// to [`DIR_SYNCS_AT_ONCE`] threads.
fn sync_dirs(dirs: Vec<&Path>) {
    let threads = dirs.len().min(DIR_SYNCS_AT_ONCE);
    if threads <= 1 {
        dirs.iter().for_each(|d| crate::journal::sync_dir(d));
        return;
    }
    let next = std::sync::Mutex::new(dirs.into_iter());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(d) = crate::locks::lock(&next).next() {
                    crate::journal::sync_dir(d);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u64, count: u64) -> ShardKey {
        ShardKey {
            vault: "v".into(),
            index,
            count,
        }
    }

    /// Two runs of different shard layouts on one DIR hold different shard
    /// locks and can both have an archive: their staging files differ, so
    /// neither writes the other's (no lock file of their own guards them).
    #[test]
    fn staging_files_are_the_shards_own() {
        let root = std::env::temp_dir().join(format!("gv-dest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let id = "archive-1";
        let one = LocalDir::open(&root, &key(0, 1)).unwrap();
        let two = LocalDir::open(&root, &key(0, 2)).unwrap();
        let other = LocalDir::open(&root, &key(1, 2)).unwrap();
        let names = [&one, &two, &other].map(|d| d.staging(id).unwrap());
        assert_ne!(names[0], names[1]);
        assert_ne!(names[1], names[2]);
        assert_ne!(names[0], names[2]);
        // The same shard finds its own file again (a rerun resumes).
        assert_eq!(
            LocalDir::open(&root, &key(0, 2))
                .unwrap()
                .staging(id)
                .unwrap(),
            names[1]
        );
        // A verified file is found at the download's `.part` only for its
        // own shard.
        assert_eq!(one.staged_verified(id).unwrap(), None);
        let part = crate::outfile::OutputPaths::for_target(&names[1]).part;
        std::fs::write(&part, b"x").unwrap();
        assert_eq!(two.staged_verified(id).unwrap(), Some(part));
        assert_eq!(one.staged_verified(id).unwrap(), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
