//! Files on disk: opening `OUTFILE.part`, and hashing a span of a file (a
//! resumed stream's prefix, a part an earlier run kept, a leaf range for
//! `tree-hash`), through one buffer size.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use glacier_verify_core::TreeHasher;

use crate::error::HostError;

/// The one buffer size for reading bodies and files: large enough that
/// system calls cost nothing next to hashing, small enough to stay in the
/// core's cache between the kernel's copy into it and the hash over it.
pub const BUF_LEN: usize = 128 * 1024;

/// Alignment of every [`Buffer`]: a page.
const BUF_ALIGN: usize = 4096;

/// A [`BUF_LEN`]-byte buffer that starts on a page boundary. Its bytes
/// are whatever an earlier user left (zeros when new): read into it before
/// looking at them.
///
/// The kernel copies between the page cache or a socket and this buffer;
/// those copies run several times slower into a destination that is not
/// cache-line aligned (measured on 1 GiB in the page cache: 0.6–0.7 s of
/// system time per GiB at 16 bytes past a page boundary, where glibc puts
/// large allocations, against 0.16–0.22 s page-aligned). A `Vec<u8>` has
/// no alignment of its own, so the buffer is a window into a slightly
/// larger one.
pub struct Buffer {
    bytes: Vec<u8>,
    start: usize,
}

/// Buffers a thread keeps for reuse once dropped, at most: a download
/// worker (`vault-exit` runs thousands of downloads on each) takes its
/// next download's buffers from here instead of mapping, faulting in and
/// unmapping fresh ones every time.
const KEPT_PER_THREAD: usize = 8;

std::thread_local! {
    static KEPT: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Buffer {
    /// A buffer of [`BUF_LEN`] bytes: one this thread dropped earlier, or a
    /// new one.
    pub fn new() -> Self {
        let kept = KEPT.try_with(|k| k.borrow_mut().pop()).ok().flatten();
        let bytes = kept.unwrap_or_else(|| vec![0u8; BUF_LEN + BUF_ALIGN]);
        let start = bytes.as_ptr().align_offset(BUF_ALIGN).min(BUF_ALIGN);
        Buffer { bytes, start }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        // A thread being torn down frees it instead.
        let _ = KEPT.try_with(|k| {
            if let Ok(mut k) = k.try_borrow_mut()
                && k.len() < KEPT_PER_THREAD
            {
                k.push(bytes);
            }
        });
    }
}

impl Default for Buffer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[self.start..self.start + BUF_LEN]
    }
}

impl std::ops::DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..self.start + BUF_LEN]
    }
}

/// Opens (creating if needed) a regular file for reading and writing,
/// keeping what it holds; never through a symbolic link.
pub fn open_rw(path: &Path) -> Result<File, HostError> {
    let mut o = no_follow();
    o.read(true).write(true).create(true).truncate(false);
    open_regular(path, &o)
}

/// A tree hasher fed `len` bytes of `file` from offset `first`, read
/// through `buf` (any non-empty size; a [`Buffer`] is the one to use).
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

/// Options that never follow a symbolic link at the last path component.
fn no_follow() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    // Non-blocking open: a FIFO planted at the path must not hang the run
    // (it is then refused as not a regular file); no effect on regular files.
    o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    o
}

/// The error for a path that is a symbolic link or not a regular file:
/// this program writes only into regular files it created or owns.
fn refuse(path: &Path, what: &str) -> HostError {
    HostError::io(
        path,
        std::io::Error::other(format!(
            "{what}: refusing to read or write through it (remove it, or choose another OUTFILE)"
        )),
    )
}

/// Opens `path` with `options`, refusing links and anything but a regular file.
fn open_regular(path: &Path, options: &std::fs::OpenOptions) -> Result<File, HostError> {
    let file = options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            refuse(path, "is a symbolic link")
        } else {
            HostError::io(path, e)
        }
    })?;
    let meta = file.metadata().map_err(|e| HostError::io(path, e))?;
    if !meta.is_file() {
        return Err(refuse(path, "is not a regular file"));
    }
    Ok(file)
}

/// Opens a file for reading; `None` when there is none.
pub fn open_read(path: &Path) -> Result<Option<File>, HostError> {
    let mut o = no_follow();
    o.read(true);
    match open_regular(path, &o) {
        Err(HostError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        other => other.map(Some),
    }
}

/// Opens an existing file for appending.
pub fn open_append(path: &Path) -> Result<File, HostError> {
    let mut o = no_follow();
    o.append(true);
    open_regular(path, &o)
}

/// Creates a file, or empties the regular file that is there.
pub fn create_new_or_truncate(path: &Path) -> Result<File, HostError> {
    let mut o = no_follow();
    o.write(true).create(true).truncate(true);
    open_regular(path, &o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_page_aligned_and_of_the_one_size() {
        for _ in 0..8 {
            let mut b = Buffer::new();
            assert_eq!(b.len(), BUF_LEN);
            assert_eq!(b.as_ptr() as usize % BUF_ALIGN, 0);
            b[BUF_LEN - 1] = 1;
            assert!(b[..BUF_LEN - 1].iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn a_dropped_buffer_is_reused_by_its_thread_up_to_a_bound() {
        std::thread::spawn(|| {
            let first = Buffer::new();
            let at = first.as_ptr();
            drop(first);
            let again = Buffer::new();
            assert_eq!(again.as_ptr(), at, "not reused");
            assert_eq!(again.as_ptr() as usize % BUF_ALIGN, 0);
            drop(again);
            let many: Vec<Buffer> = (0..2 * KEPT_PER_THREAD).map(|_| Buffer::new()).collect();
            drop(many);
            KEPT.with(|k| assert_eq!(k.borrow().len(), KEPT_PER_THREAD));
        })
        .join()
        .unwrap();
    }
}
