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
//! whole-output hash at the end covers the re-hashed prefix. A stream's
//! journal is created by its first `upto` record (with the head lines and
//! `first-header` in the same durable write): a stream verified before
//! its first checkpoint never creates one.
//!
//! Vault and job id are percent-encoded (SigV4 `UriEncode`) so they hold no
//! spaces. A rerun with the same job, length and part size re-hashes the
//! parts named here from disk and downloads only the rest; anything else
//! (another job, another part size, a damaged first two lines) starts over.
//! A torn last line from a crash mid-append is ignored. To start over by
//! hand, delete `OUTFILE.part` and `OUTFILE.part.journal`.
//!
//! A journal is input like any other: it is read line by line in bounded
//! memory ([`scan`]), a journal larger than its job could need is
//! discarded with a note, a repeated line counts once, a part whose lines
//! contradict each other is downloaded again, and a journal that is a
//! symbolic link or not a regular file is refused, never followed.

mod scan;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use glacier_verify_core::{Digest, HeaderHash, LEAF_SIZE, MAX_ARCHIVE_SIZE};

use crate::disk::{create_new_or_truncate, open_append};
use crate::error::HostError;
use crate::sigv4::uri_encode;
pub use scan::{Scan, scan};

const MAGIC: &str = "glacier-verify journal 1";

/// The longest record line written (`part`, a 20-digit index, 64 hex
/// digits, a tag): anything longer is not a record of ours.
const MAX_LINE: usize = 128;

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

    fn parts(&self) -> u64 {
        self.output_len.div_ceil(self.part_size.max(1))
    }
}

/// A recorded part: index, tree hash, and what its response's
/// `x-amz-sha256-tree-hash` said (`header`: matched; `noheader`: not sent,
/// none due; `missing`: not sent although due).
pub type Recorded = (u64, Digest, HeaderHash);

/// An open journal, appending.
///
/// A single stream's journal is created only when its first record is
/// made durable: an output verified before its first checkpoint never
/// has one (no file created, synced or removed for it). Until then
/// nothing on disk claims any byte, exactly as a journal with only its
/// head lines would not.
pub struct Journal {
    file: Backing,
    path: PathBuf,
    /// Lines written with the next durable record (see
    /// [`Journal::record_line_later`]).
    pending: String,
}

/// Where a journal's records go.
enum Backing {
    /// The file, appending.
    Open(File),
    /// Not created yet: made, with this second line, by the first record.
    Lazy { head: String },
}

/// A journal opened for a run, with what an earlier run recorded in it.
pub struct Opened<T> {
    /// The journal, appending.
    pub journal: Journal,
    /// The earlier records.
    pub records: T,
    /// Why some or all of the earlier records were not taken.
    pub notes: Vec<String>,
}

impl Journal {
    /// Opens the parts journal for `header`: the parts an earlier run of
    /// this very job and layout recorded (each at most once), or a fresh
    /// journal.
    pub fn open_parts(
        path: &Path,
        header: &JournalHeader,
    ) -> Result<Opened<Vec<Recorded>>, HostError> {
        let parts = header.parts();
        // A line per part at most, each at most MAX_LINE bytes, plus the head.
        let cap = (parts.saturating_add(2)).saturating_mul(MAX_LINE as u64 + 1);
        let mut records = PartRecords::new(parts);
        let found = scan(path, &header.line(), cap, MAX_LINE, |line| {
            records.add(line)
        })?;
        Self::opened(path, &header.line(), found, records.finish())
    }

    /// Opens a single stream's journal whose second line is `head`: where
    /// an earlier run of this very request stood, or a fresh journal.
    pub fn open_stream(
        path: &Path,
        head: &str,
        output_len: Option<u64>,
    ) -> Result<Opened<StreamState>, HostError> {
        let len = output_len.unwrap_or(MAX_ARCHIVE_SIZE);
        // An `upto` every 16 MiB and a few restarts' worth of lines.
        let lines = (len / (16 * LEAF_SIZE)).saturating_add(64);
        let cap = lines.saturating_mul(MAX_LINE as u64 + 1);
        let mut state = StreamState::default();
        let found = scan(path, head, cap, MAX_LINE, |line| {
            state.add(line, output_len)
        })?;
        if matches!(found, Scan::Missing) {
            // No journal and nothing to record yet: created with the
            // first durable record, if the stream reaches one.
            return Ok(Opened {
                journal: Journal {
                    file: Backing::Lazy {
                        head: head.to_owned(),
                    },
                    path: path.to_owned(),
                    pending: String::new(),
                },
                records: StreamState::default(),
                notes: Vec::new(),
            });
        }
        Self::opened(path, head, found, (state, Vec::new()))
    }

    /// The journal to append to after a scan: the same file when it was
    /// this run's, else a fresh one (with a note when one was discarded).
    fn opened<T: Default>(
        path: &Path,
        head: &str,
        found: Scan,
        (records, mut notes): (T, Vec<String>),
    ) -> Result<Opened<T>, HostError> {
        match found {
            Scan::Kept { torn } => {
                let mut file = open_append(path)?;
                if torn {
                    // Cut the torn line off from the next record.
                    file.write_all(b"\n").map_err(|e| HostError::io(path, e))?;
                }
                let journal = Journal {
                    file: Backing::Open(file),
                    path: path.to_owned(),
                    pending: String::new(),
                };
                Ok(Opened {
                    journal,
                    records,
                    notes,
                })
            }
            other => {
                if let Some(why) = other.discard_note() {
                    notes.push(why);
                }
                Ok(Opened {
                    journal: Self::fresh(path, head)?,
                    records: T::default(),
                    notes,
                })
            }
        }
    }

    /// A new journal for `head`, replacing whatever regular file was there.
    fn fresh(path: &Path, head: &str) -> Result<Journal, HostError> {
        Ok(Journal {
            file: Backing::Open(Self::create(path, head, "")?),
            path: path.to_owned(),
            pending: String::new(),
        })
    }

    /// Creates the file with its head lines and `lines`, durably (the
    /// file's data and its directory entry).
    fn create(path: &Path, head: &str, lines: &str) -> Result<File, HostError> {
        let mut file = create_new_or_truncate(path)?;
        write!(file, "{MAGIC}\n{head}\n{lines}").map_err(|e| HostError::io(path, e))?;
        file.sync_all().map_err(|e| HostError::io(path, e))?;
        sync_parent(path);
        Ok(file)
    }

    /// Whether the journal exists on disk (a lazily created one only once
    /// a record was made durable).
    pub fn exists(&self) -> bool {
        matches!(self.file, Backing::Open(_))
    }

    /// Appends a record line durably.
    pub fn record_line(&mut self, line: &str) -> Result<(), HostError> {
        self.append(&format!("{line}\n"))
    }

    /// A record line that claims nothing on its own (the first response's
    /// header, of use only beside a later `upto`): written with the next
    /// durable record, or never if there is none.
    pub fn record_line_later(&mut self, line: &str) {
        self.pending.push_str(line);
        self.pending.push('\n');
    }

    /// Writes whole lines (after any pending ones) and makes them durable;
    /// creates a lazily made journal first.
    fn append(&mut self, lines: &str) -> Result<(), HostError> {
        let mut all = std::mem::take(&mut self.pending);
        all.push_str(lines);
        let file = match &mut self.file {
            Backing::Open(file) => file,
            Backing::Lazy { head } => {
                let created = Self::create(&self.path, head, &all)?;
                self.file = Backing::Open(created);
                return Ok(());
            }
        };
        file.write_all(all.as_bytes())
            .map_err(|e| HostError::io(&self.path, e))?;
        file.sync_data().map_err(|e| HostError::io(&self.path, e))
    }

    /// Appends a verified part durably.
    pub fn record(
        &mut self,
        index: u64,
        hash: &Digest,
        header: HeaderHash,
    ) -> Result<(), HostError> {
        self.record_parts([(index, hash, header)])
    }

    /// Appends verified parts durably, with one flush for all of them.
    pub fn record_parts<'h>(
        &mut self,
        parts: impl IntoIterator<Item = (u64, &'h Digest, HeaderHash)>,
    ) -> Result<(), HostError> {
        let mut lines = String::new();
        for (index, hash, header) in parts {
            let tag = match header {
                HeaderHash::Matched(_) => "header",
                HeaderHash::MissingButExpected => "missing",
                _ => "noheader",
            };
            lines.push_str(&format!("part {index} {hash} {tag}\n"));
        }
        self.append(&lines)
    }

    /// Flushes to disk (nothing to do for a journal not yet created).
    pub fn sync(&self) -> std::io::Result<()> {
        match &self.file {
            Backing::Open(file) => file.sync_all(),
            Backing::Lazy { .. } => Ok(()),
        }
    }
}

/// The parts of a journal: each index at most once; an index whose lines
/// disagree is dropped (downloaded again).
struct PartRecords {
    parts: u64,
    by_index: std::collections::BTreeMap<u64, Option<Recorded>>,
    ignored: u64,
}

impl PartRecords {
    fn new(parts: u64) -> Self {
        PartRecords {
            parts,
            by_index: std::collections::BTreeMap::new(),
            ignored: 0,
        }
    }

    fn add(&mut self, line: &str) {
        let Some(r) = parse_part(line).filter(|r| r.0 < self.parts) else {
            self.ignored += 1;
            return;
        };
        match self.by_index.get(&r.0) {
            None => {
                self.by_index.insert(r.0, Some(r));
            }
            Some(Some(earlier)) if *earlier == r => {}
            // A contradiction: neither line is trusted.
            Some(_) => {
                self.by_index.insert(r.0, None);
            }
        }
    }

    fn finish(self) -> (Vec<Recorded>, Vec<String>) {
        let mut notes = Vec::new();
        let contradicted: Vec<u64> = self
            .by_index
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(i, _)| *i)
            .collect();
        if !contradicted.is_empty() {
            notes.push(format!(
                "the journal contradicts itself about {} part(s) (first: part {}); they are downloaded again",
                contradicted.len(),
                contradicted[0]
            ));
        }
        if self.ignored > 0 {
            notes.push(format!(
                "{} journal line(s) that are no record of this job were ignored",
                self.ignored
            ));
        }
        (self.by_index.into_values().flatten().collect(), notes)
    }
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

impl StreamState {
    /// Takes one record line (the last of each kind wins); an `upto` that
    /// is not a whole MiB inside the output is no record of ours.
    fn add(&mut self, line: &str, output_len: Option<u64>) {
        if let Some(n) = line
            .strip_prefix("upto ")
            .and_then(|n| n.parse::<u64>().ok())
        {
            if n.is_multiple_of(LEAF_SIZE) && output_len.is_none_or(|len| n <= len) {
                self.upto = n;
            }
        } else if let Some(h) = line
            .strip_prefix("first-header ")
            .and_then(|h| Digest::from_hex(h.as_bytes()).ok())
        {
            self.first_header = Some(h);
        }
    }
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

/// Makes a created or renamed file's directory entry durable.
pub fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
}

/// Best-effort fsync of a directory (`""` is the current one).
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests;
