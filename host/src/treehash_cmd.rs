//! `glacier-verify tree-hash`: `sha256sum` for Glacier tree hashes.
//!
//! Output lines are `<hex>  <name>`; `--check SUMS` reads such lines back
//! and prints `<name>: OK` or `<name>: FAILED`, as `sha256sum -c` does.
//! Files are hashed leaf by leaf on several threads; the core composes the
//! leaf digests in order ([`TreeHasher::push_subtree`]), so the result is
//! the same for any thread count.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, Ordering};

use glacier_verify_core::{Digest, LEAF_SIZE, TreeHasher};

use crate::disk::Buffer;
use crate::error::{HostError, exit};

/// Leaves hashed per round across the threads (64 MiB): bounds memory to a
/// leaf buffer per thread plus this many digests.
const WINDOW_LEAVES: u64 = 64;

/// Runs the command; returns the exit code.
pub fn run(
    files: &[PathBuf],
    check: Option<&Path>,
    threads: Option<usize>,
) -> Result<i32, HostError> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    if let Some(sums) = check {
        if !files.is_empty() {
            return Err(HostError::Usage(
                "--check takes the list of sums, not files".into(),
            ));
        }
        return check_sums(sums, threads);
    }
    let stdin = PathBuf::from("-");
    let files: Vec<&Path> = if files.is_empty() {
        vec![&stdin]
    } else {
        files.iter().map(PathBuf::as_path).collect()
    };
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for f in files {
        match hash_path(f, threads) {
            Ok(d) => {
                writeln!(out, "{d}  {}", f.display()).map_err(|e| HostError::io("<stdout>", e))?
            }
            Err(e) => {
                eprintln!("glacier-verify: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed { exit::IO } else { exit::OK })
}

/// Tree hash of a file (`-` = stdin).
pub fn hash_path(path: &Path, threads: usize) -> Result<Digest, HostError> {
    if path.as_os_str() == "-" {
        return hash_reader(std::io::stdin().lock()).map_err(|e| HostError::io("<stdin>", e));
    }
    let file = File::open(path).map_err(|e| HostError::io(path, e))?;
    let meta = file.metadata().map_err(|e| HostError::io(path, e))?;
    if !meta.is_file() {
        // Pipes and devices: one stream.
        return hash_reader(file).map_err(|e| HostError::io(path, e));
    }
    hash_file(&file, meta.len(), threads).map_err(|e| HostError::io(path, e))
}

/// Streams a reader through one hasher.
pub fn hash_reader(mut r: impl Read) -> std::io::Result<Digest> {
    let mut h = TreeHasher::new();
    let mut buf = Buffer::new();
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(h.finalize()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Hashes a regular file of `len` bytes. Each round, `threads` workers take
/// the leaves of a window one at a time (a busy core slows only the leaves
/// it holds, not a fixed share of them), and the digests are pushed in order.
pub fn hash_file(file: &File, len: u64, threads: usize) -> std::io::Result<Digest> {
    if threads <= 1 || len <= LEAF_SIZE {
        let mut buf = Buffer::new();
        return hash_span(file, 0, len, &mut buf);
    }
    let leaves = len.div_ceil(LEAF_SIZE);
    let mut composer = TreeHasher::new();
    let mut digests = vec![Digest([0; 32]); WINDOW_LEAVES as usize];
    let mut buffers: Vec<Buffer> = (0..threads).map(|_| Buffer::new()).collect();
    let mut start = 0u64;
    while start < leaves {
        let count = (leaves - start).min(WINDOW_LEAVES);
        let window = &mut digests[..count as usize];
        let next = AtomicU64::new(0);
        let hashed = std::thread::scope(|s| -> std::io::Result<Vec<(usize, Digest)>> {
            let handles: Vec<_> = buffers
                .iter_mut()
                .map(|buf| {
                    let next = &next;
                    s.spawn(move || -> std::io::Result<Vec<(usize, Digest)>> {
                        let mut out = Vec::new();
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            if k >= count {
                                return Ok(out);
                            }
                            let off = (start + k) * LEAF_SIZE;
                            let n = (len - off).min(LEAF_SIZE);
                            out.push((k as usize, hash_span(file, off, n, buf)?));
                        }
                    })
                })
                .collect();
            let mut all = Vec::new();
            for h in handles {
                all.extend(
                    h.join()
                        .map_err(|_| std::io::Error::other("hashing thread panicked"))??,
                );
            }
            Ok(all)
        })?;
        for (k, d) in hashed {
            window[k] = d;
        }
        for (k, d) in window.iter().enumerate() {
            let leaf = start + k as u64;
            let leaf_len = (len - leaf * LEAF_SIZE).min(LEAF_SIZE);
            if leaf + 1 == leaves {
                return composer
                    .finish_with(*d, leaf_len)
                    .map_err(|e| std::io::Error::other(e.to_string()));
            }
            composer
                .push_subtree(*d, leaf_len)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        start += count;
    }
    Ok(composer.finalize())
}

/// Tree hash of `n` bytes of `file` at `off`, read through `buf`.
fn hash_span(file: &File, off: u64, n: u64, buf: &mut [u8]) -> std::io::Result<Digest> {
    Ok(crate::disk::hash_span(file, off, n, buf)?.finalize())
}

/// `--check`: every line `HASH  NAME` (or `HASH *NAME`).
fn check_sums(sums: &Path, threads: usize) -> Result<i32, HostError> {
    let reader: Box<dyn Read> = if sums.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(sums).map_err(|e| HostError::io(sums, e))?)
    };
    let mut out = std::io::stdout().lock();
    let (mut bad_format, mut mismatched, mut unreadable, mut checked) = (0u64, 0u64, 0u64, 0u64);
    for line in BufReader::new(reader).lines() {
        let line = line.map_err(|e| HostError::io(sums, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line.split_once("  ").or_else(|| line.split_once(" *"));
        let Some((hex, name)) = parsed else {
            bad_format += 1;
            continue;
        };
        let Ok(expected) = Digest::from_hex(hex.as_bytes()) else {
            bad_format += 1;
            continue;
        };
        checked += 1;
        let status = match hash_path(Path::new(name), threads) {
            Ok(d) if d == expected => "OK",
            Ok(_) => {
                mismatched += 1;
                "FAILED"
            }
            Err(e) => {
                eprintln!("glacier-verify: {e}");
                unreadable += 1;
                "FAILED open or read"
            }
        };
        writeln!(out, "{name}: {status}").map_err(|e| HostError::io("<stdout>", e))?;
    }
    if bad_format > 0 {
        eprintln!("glacier-verify: WARNING: {bad_format} line(s) are improperly formatted");
    }
    if unreadable > 0 {
        eprintln!("glacier-verify: WARNING: {unreadable} listed file(s) could not be read");
    }
    if mismatched > 0 {
        eprintln!("glacier-verify: WARNING: {mismatched} computed checksum(s) did NOT match");
    }
    if checked == 0 {
        return Err(HostError::Usage(format!(
            "{}: no properly formatted checksum lines found",
            sums.display()
        )));
    }
    Ok(if mismatched > 0 || unreadable > 0 || bad_format > 0 {
        exit::VERIFICATION_FAILED
    } else {
        exit::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glacier_verify_core::tree_hash;

    #[test]
    fn threaded_file_hash_equals_streaming_for_awkward_sizes() {
        let dir = std::env::temp_dir().join(format!("gv-th-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for len in [
            0u64,
            1,
            LEAF_SIZE - 1,
            LEAF_SIZE,
            LEAF_SIZE + 1,
            5 * LEAF_SIZE + 3,
            70 * LEAF_SIZE + 9,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let p = dir.join(format!("f{len}"));
            std::fs::write(&p, &data).unwrap();
            let f = File::open(&p).unwrap();
            let want = tree_hash(&data);
            for threads in [1, 2, 3, 8] {
                assert_eq!(
                    hash_file(&f, len, threads).unwrap(),
                    want,
                    "len {len} threads {threads}"
                );
            }
            assert_eq!(hash_reader(&data[..]).unwrap(), want);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
