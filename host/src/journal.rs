//! The crash-safe journal of verified parts, `OUTFILE.part.journal`.
//!
//! Text, one record a line, appended and fsynced after the part's bytes are
//! fsynced into `OUTFILE.part` — so every part the journal names is on disk:
//!
//! ```text
//! glacier-verify journal 1
//! job <vault> <job-id> length <output bytes> part-size <bytes>
//! part <index> <tree hash hex> <header|noheader|missing>
//! ```
//!
//! A single stream (`--range`, small outputs, servers that ignore `Range`)
//! keeps the same file with another second line and its own records: the
//! bytes of `OUTFILE.part` that are on disk (a multiple of 1 MiB, written
//! after an fsync; the last such line wins), and the first response's
//! `x-amz-sha256-tree-hash`, which a resumed stream is compared with:
//!
//! ```text
//! glacier-verify journal 1
//! stream <vault> <job-id> length <output bytes|-> range <bytes=…|->
//! first-header <tree hash hex>
//! upto <bytes>
//! ```
//!
//! A rerun re-hashes those bytes from disk and asks only for the rest; the
//! whole-output hash at the end covers the re-hashed prefix.
//!
//! Vault and job id are percent-encoded (SigV4 `UriEncode`) so they hold no
//! spaces. A rerun with the same job, length and part size re-hashes the
//! parts named here from disk and downloads only the rest; anything else
//! (another job, another part size, a damaged first two lines) starts over.
//! A torn last line from a crash mid-append is ignored. To start over by
//! hand, delete `OUTFILE.part` and `OUTFILE.part.journal`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use glacier_verify_core::{Digest, HeaderHash};

use crate::error::HostError;
use crate::sigv4::uri_encode;

const MAGIC: &str = "glacier-verify journal 1";

/// What a journal belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalHeader {
    /// Vault name.
    pub vault: String,
    /// Job id.
    pub job_id: String,
    /// Length of the whole output.
    pub output_len: u64,
    /// Part size.
    pub part_size: u64,
}

impl JournalHeader {
    fn line(&self) -> String {
        format!(
            "job {} {} length {} part-size {}",
            uri_encode(&self.vault),
            uri_encode(&self.job_id),
            self.output_len,
            self.part_size
        )
    }
}

/// An open journal, appending.
pub struct Journal {
    file: File,
    path: PathBuf,
}

/// A recorded part: index, tree hash, and what its response's
/// `x-amz-sha256-tree-hash` said (`header`: matched; `noheader`: not sent,
/// none due; `missing`: not sent although due).
pub type Recorded = (u64, Digest, HeaderHash);

impl Journal {
    /// Opens the journal at `path` for `header`: the parts already recorded
    /// for this very job and layout, or a fresh journal.
    pub fn open(
        path: &Path,
        header: &JournalHeader,
    ) -> Result<(Journal, Vec<Recorded>), HostError> {
        let (journal, lines) = Journal::open_lines(path, &header.line())?;
        let recorded = lines.iter().filter_map(|l| parse_part(l)).collect();
        Ok((journal, recorded))
    }

    /// Opens the journal at `path` whose second line must be `head`: the
    /// complete record lines it already holds, or none in a fresh journal.
    /// A torn last line (a crash mid-append) is dropped.
    pub fn open_lines(path: &Path, head: &str) -> Result<(Journal, Vec<String>), HostError> {
        let text = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(HostError::io(path, e)),
        };
        let records = text.as_deref().and_then(|t| complete_records(t, head));
        if let Some(records) = records {
            let mut file = OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| HostError::io(path, e))?;
            if text.as_deref().is_some_and(|t| !t.ends_with(b"\n")) {
                // Cut the torn line off from the next record.
                file.write_all(b"\n").map_err(|e| HostError::io(path, e))?;
            }
            return Ok((
                Journal {
                    file,
                    path: path.to_owned(),
                },
                records,
            ));
        }
        let mut file = File::create(path).map_err(|e| HostError::io(path, e))?;
        writeln!(file, "{MAGIC}\n{head}").map_err(|e| HostError::io(path, e))?;
        file.sync_all().map_err(|e| HostError::io(path, e))?;
        sync_parent(path);
        Ok((
            Journal {
                file,
                path: path.to_owned(),
            },
            Vec::new(),
        ))
    }

    /// Appends a record line durably.
    pub fn record_line(&mut self, line: &str) -> Result<(), HostError> {
        writeln!(self.file, "{line}").map_err(|e| HostError::io(&self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| HostError::io(&self.path, e))
    }

    /// Appends a verified part durably.
    pub fn record(
        &mut self,
        index: u64,
        hash: &Digest,
        header: HeaderHash,
    ) -> Result<(), HostError> {
        let tag = match header {
            HeaderHash::Matched(_) => "header",
            HeaderHash::MissingButExpected => "missing",
            _ => "noheader",
        };
        self.record_line(&format!("part {index} {hash} {tag}"))
    }

    /// Flushes to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

/// The record lines of a journal whose first two lines are the magic and
/// `head`; `None` for any other file. Only lines ending in a newline count.
fn complete_records(text: &[u8], head: &str) -> Option<Vec<String>> {
    let mut lines = text.split_inclusive(|&b| b == b'\n');
    let magic = lines.next()?;
    let second = lines.next()?;
    if magic != format!("{MAGIC}\n").as_bytes() || second != format!("{head}\n").as_bytes() {
        return None;
    }
    Some(
        lines
            .filter_map(|l| l.strip_suffix(b"\n"))
            .filter_map(|l| std::str::from_utf8(l).ok())
            .map(str::to_owned)
            .collect(),
    )
}

fn parse_part(text: &str) -> Option<Recorded> {
    let mut it = text.split(' ');
    let (Some("part"), Some(i), Some(h), Some(tag), None) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return None;
    };
    let digest = Digest::from_hex(h.as_bytes()).ok()?;
    let header = match tag {
        "header" => HeaderHash::Matched(digest),
        "noheader" => HeaderHash::NotSent,
        "missing" => HeaderHash::MissingButExpected,
        _ => return None,
    };
    Some((i.parse().ok()?, digest, header))
}

/// Where a single stream stood when its journal was last written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    /// Bytes of `OUTFILE.part` known to be on disk.
    pub upto: u64,
    /// The first response's `x-amz-sha256-tree-hash`.
    pub first_header: Option<Digest>,
}

/// The second line of a single stream's journal.
pub fn stream_head(
    vault: &str,
    job_id: &str,
    output_len: Option<u64>,
    range: Option<&str>,
) -> String {
    format!(
        "stream {} {} length {} range {}",
        uri_encode(vault),
        uri_encode(job_id),
        output_len.map_or_else(|| "-".to_string(), |n| n.to_string()),
        range.unwrap_or("-")
    )
}

/// A single stream's state from its record lines (last one wins).
pub fn stream_state(lines: &[String]) -> StreamState {
    let mut state = StreamState::default();
    for l in lines {
        if let Some(n) = l.strip_prefix("upto ").and_then(|n| n.parse().ok()) {
            state.upto = n;
        } else if let Some(h) = l
            .strip_prefix("first-header ")
            .and_then(|h| Digest::from_hex(h.as_bytes()).ok())
        {
            state.first_header = Some(h);
        }
    }
    state
}

/// Makes a created or renamed file's directory entry durable.
pub fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> JournalHeader {
        JournalHeader {
            vault: "my vault".into(),
            job_id: "job-1".into(),
            output_len: 100 << 20,
            part_size: 16 << 20,
        }
    }

    #[test]
    fn records_survive_reopen_and_torn_lines_are_ignored() {
        let dir = std::env::temp_dir().join(format!("gv-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.part.journal");
        let _ = std::fs::remove_file(&path);
        let h = Digest([7; 32]);
        {
            let (mut j, rec) = Journal::open(&path, &header()).unwrap();
            assert!(rec.is_empty());
            j.record(3, &h, HeaderHash::Matched(h)).unwrap();
            j.record(0, &h, HeaderHash::NotSent).unwrap();
            j.record(1, &h, HeaderHash::MissingButExpected).unwrap();
        }
        // A crash mid-append leaves a torn line.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"part 5 abc")
            .unwrap();
        let (_, rec) = Journal::open(&path, &header()).unwrap();
        assert_eq!(
            rec,
            vec![
                (3, h, HeaderHash::Matched(h)),
                (0, h, HeaderHash::NotSent),
                (1, h, HeaderHash::MissingButExpected)
            ]
        );
        // Another layout starts over.
        let mut other = header();
        other.part_size = 32 << 20;
        let (_, rec) = Journal::open(&path, &other).unwrap();
        assert!(rec.is_empty());
        let (_, rec) = Journal::open(&path, &header()).unwrap();
        assert!(
            rec.is_empty(),
            "the journal was rewritten for the other layout"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
