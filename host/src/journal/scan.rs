//! Reading a journal as untrusted input: line by line through a bounded
//! buffer, never more than a cap the job implies, never through a link.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::MAGIC;
use crate::disk::open_read;
use crate::error::HostError;

/// What reading a journal found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// No journal.
    Missing,
    /// This run's journal; its records were handed over. `torn`: the last
    /// line had no newline (a crash mid-append) and was ignored.
    Kept {
        /// The last line was cut short.
        torn: bool,
    },
    /// A journal of another job, layout or format: started over.
    OtherJob,
    /// Larger than the job could ever need.
    TooLarge {
        /// Its size.
        len: u64,
        /// The most the job could need.
        cap: u64,
    },
    /// A line longer than any record: not a journal of ours.
    LineTooLong,
}

impl Scan {
    /// Why the journal was not used, for the report.
    pub fn discard_note(&self) -> Option<String> {
        match self {
            Scan::Missing | Scan::Kept { .. } | Scan::OtherJob => None,
            Scan::TooLarge { len, cap } => Some(format!(
                "the journal ({len} bytes) was larger than this job could need ({cap} bytes): discarded, started over"
            )),
            Scan::LineTooLong => Some(
                "the journal held a line longer than any record: discarded, started over".into(),
            ),
        }
    }
}

/// Reads the journal at `path` whose second line must be `head`, handing
/// each complete record line to `on_line`. At most `cap` bytes are read,
/// one line of at most `max_line` bytes at a time.
pub fn scan(
    path: &Path,
    head: &str,
    cap: u64,
    max_line: usize,
    mut on_line: impl FnMut(&str),
) -> Result<Scan, HostError> {
    let Some(file) = open_read(path)? else {
        return Ok(Scan::Missing);
    };
    let len = file.metadata().map_err(|e| HostError::io(path, e))?.len();
    if len > cap {
        return Ok(Scan::TooLarge { len, cap });
    }
    let mut reader = BufReader::new(file.take(cap));
    let mut line = Vec::with_capacity(max_line + 1);
    let first = read_line(&mut reader, &mut line, MAGIC.len() + 1, path)?;
    if first != Line::Complete || line != MAGIC.as_bytes() {
        return Ok(Scan::OtherJob);
    }
    let second = read_line(&mut reader, &mut line, head.len() + 1, path)?;
    if second != Line::Complete || line != head.as_bytes() {
        return Ok(Scan::OtherJob);
    }
    loop {
        match read_line(&mut reader, &mut line, max_line, path)? {
            Line::End => return Ok(Scan::Kept { torn: false }),
            Line::Torn => return Ok(Scan::Kept { torn: true }),
            Line::TooLong => return Ok(Scan::LineTooLong),
            Line::Complete => {
                if let Ok(text) = std::str::from_utf8(&line) {
                    on_line(text);
                }
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line ended by a newline (without it in the buffer).
    Complete,
    /// Bytes without a newline at the end of the file.
    Torn,
    /// No more bytes.
    End,
    /// More than the limit without a newline.
    TooLong,
}

/// Reads one line of at most `max` bytes into `buf`.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    path: &Path,
) -> Result<Line, HostError> {
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', buf)
        .map_err(|e| HostError::io(path, e))?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Line::Complete);
    }
    if n as u64 >= limit {
        return Ok(Line::TooLong);
    }
    Ok(Line::Torn)
}
