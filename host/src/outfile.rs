//! OUTFILE and the files beside it: where they are, the checks made before
//! the first byte is downloaded, the lock one run holds on them, and the
//! move of the verified bytes into place.
//!
//! ```text
//! OUTFILE              the verified output, only ever renamed into place
//! OUTFILE.part         the bytes while they are downloaded and verified
//! OUTFILE.part.journal what is verified and on disk (journal.rs)
//! OUTFILE.part.lock    held (flock) by the one run working on OUTFILE
//! ```

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::HostError;

/// Where a download's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPaths {
    /// Where the verified output ends up.
    pub target: PathBuf,
    /// The bytes while they are downloaded and verified.
    pub part: PathBuf,
    /// The journal of progress beside them.
    pub journal: PathBuf,
    /// The lock file.
    pub lock: PathBuf,
}

impl OutputPaths {
    /// The paths for an output at `target`.
    pub fn for_target(target: &Path) -> Self {
        OutputPaths {
            target: target.to_owned(),
            part: with_suffix(target, ".part"),
            journal: with_suffix(target, ".part.journal"),
            lock: with_suffix(target, ".part.lock"),
        }
    }
}

/// Appends `suffix` to a path's file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Checks, before any request, that OUTFILE can be written: its directory
/// exists and OUTFILE is not a directory.
pub fn check_target(target: &Path) -> Result<(), HostError> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(HostError::Usage(format!(
            "output directory {} does not exist",
            dir.display()
        )));
    }
    if target.is_dir() {
        return Err(HostError::Usage(format!(
            "{} is a directory: give the path of the file to write",
            target.display()
        )));
    }
    Ok(())
}

/// Checks that the output's directory can hold `needed` more bytes, where
/// the file system says how much it has free.
pub fn check_space(paths: &OutputPaths, len: u64) -> Result<(), HostError> {
    let dir = paths
        .part
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let held = std::fs::symlink_metadata(&paths.part).map_or(0, |m| m.len().min(len));
    let needed = len - held;
    let Ok(st) = rustix::fs::statvfs(dir) else {
        return Ok(()); // the file system does not say
    };
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    if needed > free {
        return Err(HostError::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!("not enough space for the output: {needed} more bytes needed, {free} free"),
            ),
        ));
    }
    Ok(())
}

/// The lock one run holds on an OUTFILE, from before it reads the journal
/// until after the rename. A kernel lock (`flock`): it dies with the
/// process, so a killed run never blocks the next one.
#[derive(Debug)]
pub struct OutputLock {
    file: File,
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock, or fails at once with [`HostError::Busy`] when
    /// another run holds it.
    pub fn acquire(path: &Path) -> Result<Self, HostError> {
        loop {
            let file = crate::disk::open_rw(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(HostError::Busy {
                        path: path.to_owned(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(HostError::io(path, e)),
            }
            // A run that finished may have removed the file we opened: the
            // lock counts only if the path still names it.
            if still_names(path, &file)? {
                return Ok(OutputLock {
                    file,
                    path: path.to_owned(),
                });
            }
        }
    }

    /// Releases the lock, removing the lock file first (while still held,
    /// so no run can take a lock on a file about to vanish unnoticed).
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

fn still_names(path: &Path, file: &File) -> Result<bool, HostError> {
    let held = file.metadata().map_err(|e| HostError::io(path, e))?;
    Ok(std::fs::symlink_metadata(path)
        .is_ok_and(|now| now.dev() == held.dev() && now.ino() == held.ino()))
}

/// Renames the verified `.part` (durable already: see
/// [`crate::download::download`]) to the output path, fsyncs the
/// directory, drops the journal.
pub fn finish(paths: &OutputPaths) -> Result<(), HostError> {
    let (part, target) = (&paths.part, &paths.target);
    std::fs::rename(part, target).map_err(|e| HostError::io(target, e))?;
    crate::journal::sync_parent(target);
    let _ = std::fs::remove_file(&paths.journal);
    Ok(())
}

#[cfg(test)]
mod tests;
