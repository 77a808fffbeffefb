//! The crash-safe journal of verified parts, `OUTFILE.part.journal`.
//!
//! Text, one record a line, appended and fsynced after the part's bytes are
//! fsynced into `OUTFILE.part` — so every part the journal names is on disk:
//!
//! ```text
//! glacier-verify journal 1
//! job <vault> <job-id> length <output bytes> part-size <bytes>
//! part <index> <tree hash hex> <header|noheader>
//! ```
//!
//! Vault and job id are percent-encoded (SigV4 `UriEncode`) so they hold no
//! spaces. A rerun with the same job, length and part size re-hashes the
//! parts named here from disk and downloads only the rest; anything else
//! (another job, another part size, a damaged first two lines) starts over.
//! A torn last line from a crash mid-append is ignored. To start over by
//! hand, delete `OUTFILE.part` and `OUTFILE.part.journal`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use glacier_verify_core::Digest;

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

/// A recorded part: index, tree hash, whether its header hash matched.
pub type Recorded = (u64, Digest, bool);

impl Journal {
    /// Opens the journal at `path` for `header`: the parts already recorded
    /// for this very job and layout, or a fresh journal.
    pub fn open(
        path: &Path,
        header: &JournalHeader,
    ) -> Result<(Journal, Vec<Recorded>), HostError> {
        let recorded = match File::open(path) {
            Ok(f) => read_matching(f, header),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(HostError::io(path, e)),
        };
        if let Some(recorded) = recorded {
            let file = OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| HostError::io(path, e))?;
            return Ok((
                Journal {
                    file,
                    path: path.to_owned(),
                },
                recorded,
            ));
        }
        let mut file = File::create(path).map_err(|e| HostError::io(path, e))?;
        writeln!(file, "{MAGIC}\n{}", header.line()).map_err(|e| HostError::io(path, e))?;
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

    /// Appends a verified part durably.
    pub fn record(
        &mut self,
        index: u64,
        hash: &Digest,
        header_matched: bool,
    ) -> Result<(), HostError> {
        let tag = if header_matched { "header" } else { "noheader" };
        writeln!(self.file, "part {index} {hash} {tag}")
            .map_err(|e| HostError::io(&self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| HostError::io(&self.path, e))
    }

    /// Flushes to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

fn read_matching(f: File, header: &JournalHeader) -> Option<Vec<Recorded>> {
    let mut lines = BufReader::new(f).split(b'\n');
    let magic = lines.next()?.ok()?;
    let head = lines.next()?.ok()?;
    if magic != MAGIC.as_bytes() || head != header.line().as_bytes() {
        return None;
    }
    let mut out = Vec::new();
    for line in lines {
        let Ok(line) = line else { break };
        // `split` drops the '\n'; a torn last line fails to parse and is skipped.
        let Ok(text) = std::str::from_utf8(&line) else {
            continue;
        };
        let mut it = text.split(' ');
        let (Some("part"), Some(i), Some(h), Some(tag), None) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            continue;
        };
        let (Ok(i), Ok(h)) = (i.parse::<u64>(), Digest::from_hex(h.as_bytes())) else {
            continue;
        };
        let matched = match tag {
            "header" => true,
            "noheader" => false,
            _ => continue,
        };
        out.push((i, h, matched));
    }
    Some(out)
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
            j.record(3, &h, true).unwrap();
            j.record(0, &h, false).unwrap();
        }
        // A crash mid-append leaves a torn line.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"part 5 abc")
            .unwrap();
        let (_, rec) = Journal::open(&path, &header()).unwrap();
        assert_eq!(rec, vec![(3, h, true), (0, h, false)]);
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
