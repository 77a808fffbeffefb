//! Files on disk: opening `OUTFILE.part`, and hashing a span of a file (a
//! resumed stream's prefix, a part an earlier run kept, a leaf range for
//! `tree-hash`), through one buffer size.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use glacier_verify_core::TreeHasher;

use crate::error::HostError;

/// The one buffer size for reading bodies and files: large enough that
/// system calls cost nothing next to hashing, small enough to stay in cache.
pub const BUF_LEN: usize = 256 * 1024;

/// Opens (creating if needed) a file for reading and writing, keeping
/// what it holds.
pub fn open_rw(path: &Path) -> Result<File, HostError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| HostError::io(path, e))
}

/// A tree hasher fed `len` bytes of `file` from offset `first`, read
/// through `buf` (any non-empty size; [`BUF_LEN`] is the one to use).
pub fn hash_span(file: &File, first: u64, len: u64, buf: &mut [u8]) -> std::io::Result<TreeHasher> {
    let mut h = TreeHasher::new();
    let step = buf.len().max(1) as u64;
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(step) as usize;
        file.read_exact_at(&mut buf[..want], first + done)?;
        h.update(&buf[..want]);
        done += want as u64;
    }
    Ok(h)
}
