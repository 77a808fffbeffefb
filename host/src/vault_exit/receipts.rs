//! The receipts at the top of DIR, one line per archive in each:
//!
//! ```text
//! SHA256SUMS      <sha256>  <name>       `cd DIR && sha256sum -c SHA256SUMS`
//! TREEHASHSUMS    <tree hash>  <name>    `cd DIR && glacier-verify tree-hash --check TREEHASHSUMS`
//! NAMES.tsv       <archive id>\t<name>
//! RECEIPTS.jsonl  one JSON object: ids, hashes, the checks made and against what
//! ```
//!
//! Shards running at once append to the same files: each archive's lines
//! are written under an exclusive `flock` of `.glacier-verify/receipts.lock`,
//! each line in one `write` (the lines of archives verified together, one
//! `write` per file), `RECEIPTS.jsonl` last. A crash can leave a
//! torn last line (cut before its newline, removed before the next append)
//! or some of an archive's lines without the others: before appending, the
//! files are searched for the archive's lines, and only the missing ones
//! are written — never a line twice.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Serialize;

use crate::error::HostError;

/// The receipt files, in the order they are written.
pub const FILES: [&str; 4] = ["SHA256SUMS", "TREEHASHSUMS", "NAMES.tsv", "RECEIPTS.jsonl"];

/// One archive's receipt.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Its id.
    pub archive_id: String,
    /// Its file, relative to DIR.
    pub name: String,
    /// How the name was found from the description.
    pub name_format: String,
    /// Its description in the inventory.
    pub description: String,
    /// Bytes.
    pub size: u64,
    /// Its SHA-256 tree hash, as verified.
    pub tree_hash: String,
    /// Its plain SHA-256 (of the file as written).
    pub sha256: String,
    /// The job it was downloaded from.
    pub job_id: String,
    /// That job's tier.
    pub tier: String,
    /// The core's verification level.
    pub level: String,
    /// Each check and the values compared.
    pub checks: Vec<Check>,
    /// The shard that wrote it, `I/N`.
    pub shard: String,
    /// When its job was initiated and when it was verified (Unix seconds).
    pub initiated_at: Option<i64>,
    /// When it was verified.
    pub verified_at: i64,
}

/// One comparison that passed.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was compared (`tree-hash`, `size`, `response-headers`).
    pub check: String,
    /// Against which source (`DescribeJob SHA256TreeHash`, `inventory`, …).
    pub source: String,
    /// The value expected there.
    pub expected: String,
}

/// The line of each receipt file for `r`, in [`FILES`] order.
pub fn lines(r: &Receipt) -> [String; 4] {
    [
        sha256sum_line(&r.sha256, &r.name),
        format!("{}  {}\n", r.tree_hash, r.name),
        format!("{}\t{}\n", r.archive_id, r.name),
        format!("{}\n", serde_json::to_string(r).unwrap_or_default()),
    ]
}

/// A `sha256sum` line; names with a backslash are escaped as GNU
/// coreutils does (the line starts with `\`). Names never hold a newline.
fn sha256sum_line(hex: &str, name: &str) -> String {
    if name.contains('\\') {
        format!("\\{hex}  {}\n", name.replace('\\', "\\\\"))
    } else {
        format!("{hex}  {name}\n")
    }
}

/// Appends `r`'s lines. With `search` (an archive verified before a
/// crash whose receipt was not recorded), only the lines not already in
/// the files are written; otherwise every line is, with no search (a
/// rerun never gets here for an archive whose receipt is recorded).
pub fn append(root: &Path, state_dir: &Path, r: &Receipt, search: bool) -> Result<(), HostError> {
    let lock_path = state_dir.join("receipts.lock");
    let lock = crate::disk::open_rw(&lock_path)?;
    lock.lock().map_err(|e| HostError::io(&lock_path, e))?;
    for (i, (name, line)) in FILES.iter().zip(lines(r)).enumerate() {
        let path = root.join(name);
        let mut f = open_append(&path)?;
        drop_torn_tail(&mut f, &path)?;
        if search && contains(&path, i, &line, &r.archive_id)? {
            continue;
        }
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| HostError::io(&path, e))?;
    }
    drop(lock);
    Ok(())
}

/// Appends the lines of several archives verified in this run (none of
/// them recorded before: no search), under one lock: each file gets every
/// archive's line in one `write` and one fsync, instead of one of each per
/// archive. A crash in the middle leaves whole lines and at most one torn
/// last line; the state marks none of these receipts written until this
/// returns, so a rerun searches and writes only the missing lines.
pub fn append_many(root: &Path, state_dir: &Path, rs: &[Receipt]) -> Result<(), HostError> {
    if rs.is_empty() {
        return Ok(());
    }
    let lock_path = state_dir.join("receipts.lock");
    let lock = crate::disk::open_rw(&lock_path)?;
    lock.lock().map_err(|e| HostError::io(&lock_path, e))?;
    let all: Vec<[String; 4]> = rs.iter().map(lines).collect();
    for (i, name) in FILES.iter().enumerate() {
        let path = root.join(name);
        let mut f = open_append(&path)?;
        drop_torn_tail(&mut f, &path)?;
        let text: String = all.iter().map(|l| l[i].as_str()).collect();
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| HostError::io(&path, e))?;
    }
    drop(lock);
    Ok(())
}

fn open_append(path: &Path) -> Result<File, HostError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| HostError::io(path, e))
}

/// A last line without its newline is what a crashed writer left: cut
/// off (only ever under the lock, so no writer is in the middle of it).
fn drop_torn_tail(f: &mut File, path: &Path) -> Result<(), HostError> {
    let io = |e| HostError::io(path, e);
    let len = f.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1)).map_err(io)?;
    std::io::Read::read_exact(f, &mut last).map_err(io)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Find the last newline by reading backwards in blocks.
    let mut end = len;
    let mut keep = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(0);
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        std::io::Read::read_exact(f, &mut buf[..n]).map_err(io)?;
        if let Some(p) = buf[..n].iter().rposition(|&b| b == b'\n') {
            keep = start + p as u64 + 1;
            break;
        }
        end = start;
    }
    f.set_len(keep).map_err(io)?;
    f.sync_data().map_err(io)
}

/// Whether `path` has `line` (the receipt's JSON: a line of the same
/// `archiveId`, its times may differ).
fn contains(path: &Path, file: usize, line: &str, archive_id: &str) -> Result<bool, HostError> {
    let f = File::open(path).map_err(|e| HostError::io(path, e))?;
    let want = line.trim_end_matches('\n').as_bytes();
    for l in BufReader::new(f).split(b'\n') {
        let l = l.map_err(|e| HostError::io(path, e))?;
        let found = if file == 3 {
            serde_json::from_slice::<serde_json::Value>(&l)
                .ok()
                .and_then(|v| {
                    v.get("archiveId")
                        .and_then(|a| a.as_str().map(|a| a == archive_id))
                })
                .unwrap_or(false)
        } else {
            l == want
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests;
