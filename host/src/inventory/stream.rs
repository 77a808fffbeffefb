//! [`for_each_archive`]: an inventory read from an `io::Read` one archive at
//! a time, in memory that does not depend on the number of archives.
//!
//! JSON goes through serde_json's streaming deserializer with a visitor that
//! hands each `ArchiveList` element to the callback as soon as it is read;
//! `VaultARN` and `InventoryDate` may come before or after the list. CSV is
//! read line by line. The field rules (types, sizes, tree hashes, Glacier's
//! CSV quoting) are the whole-buffer parser's own functions, so the two
//! readers cannot drift apart; `fuzz/checks/host_checks.rs` checks that they
//! agree.
//!
//! Memory is bounded by [`MAX_RECORD_BYTES`]: serde_json buffers one string
//! at a time and this module keeps one archive (or one CSV line), so a reader
//! that counts the bytes of each record and fails past the limit bounds both.
//! Nesting is bounded by serde_json's recursion limit (128).

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::ops::ControlFlow;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

use super::{
    ErrorKind, Field, Format, InventoryArchive, InventoryError, Location, ObjectOnly, RawArchive,
    UTF8_BOM, csv_record, detect_format, header_columns, json_archive, json_optional_string,
    strip_bom,
};

/// The most bytes one record may take: a CSV line, one JSON `ArchiveList`
/// element (with the separator before it), or the JSON text before and after
/// `ArchiveList`. A Glacier archive record is about 400 bytes.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// What [`for_each_archive`] read, up to the end or up to where the callback
/// stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventorySummary {
    /// The format found in the first bytes.
    pub format: Format,
    /// `VaultARN` (JSON only; `None` when stopped before it was read).
    pub vault_arn: Option<String>,
    /// `InventoryDate` (JSON only; `None` when stopped before it was read).
    pub inventory_date: Option<String>,
    /// Archives handed to the callback.
    pub archives: u64,
    /// The sum of their sizes, in bytes (saturating).
    pub total_size: u64,
    /// Bytes of the input the parser consumed.
    pub bytes_read: u64,
}

/// Reads an inventory (format detected from the first bytes, as
/// [`detect_format`] does) from `reader` in bounded memory (independent of
/// the number of archives; one archive's fields bounded too) and calls
/// `each` with every archive in order. `each` returning
/// `ControlFlow::Break(())` stops early: `Ok(summary so far)`.
///
/// Errors are those of [`parse`](super::parse), located the same way, plus
/// [`ErrorKind::RecordTooLong`] and [`ErrorKind::Read`]. Archives before an
/// error have already been handed to `each`.
///
/// ```
/// use std::ops::ControlFlow;
/// use glacier_verify::inventory::{for_each_archive, Format};
/// let json = br#"{"ArchiveList": [{"ArchiveId": "abc", "ArchiveDescription": "a.txt",
///     "CreationDate": "2012-05-15T17:19:46.700Z", "Size": 3,
///     "SHA256TreeHash": "6b9d4cf8697bd3af6aa1b590a0b27b337da5b18988dbcc619a3e608a554a1e62"}],
///   "VaultARN": "arn:aws:glacier:us-east-1:012345678901:vaults/v"}"#;
/// let mut ids = Vec::new();
/// let summary = for_each_archive(&json[..], |archive| {
///     ids.push(archive.archive_id);
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!(ids, ["abc"]);
/// assert_eq!((summary.format, summary.archives, summary.total_size), (Format::Json, 1, 3));
/// assert!(summary.vault_arn.is_some());
/// ```
pub fn for_each_archive<R: Read>(
    reader: R,
    mut each: impl FnMut(InventoryArchive) -> ControlFlow<()>,
) -> Result<InventorySummary, InventoryError> {
    let mut reader = BufReader::new(reader);
    let prefix = sniff(&mut reader)?;
    let format = detect_format(&prefix);
    let bom = if prefix.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let body = Cursor::new(strip_bom(&prefix).to_vec()).chain(reader);
    let mut tally = Tally {
        summary: InventorySummary {
            format,
            vault_arn: None,
            inventory_date: None,
            archives: 0,
            total_size: 0,
            bytes_read: u64::try_from(bom).unwrap_or(u64::MAX),
        },
        each: &mut each,
    };
    match format {
        Format::Json => json_stream(body, &mut tally)?,
        Format::Csv => csv_stream(body, &mut tally)?,
    }
    Ok(tally.summary)
}

/// The counts so far and the callback.
struct Tally<'a, F> {
    summary: InventorySummary,
    each: &'a mut F,
}

impl<F: FnMut(InventoryArchive) -> ControlFlow<()>> Tally<'_, F> {
    /// Hands one archive over; `Break` when the callback stops.
    fn deliver(&mut self, archive: InventoryArchive) -> ControlFlow<()> {
        self.summary.archives = self.summary.archives.saturating_add(1);
        self.summary.total_size = self.summary.total_size.saturating_add(archive.size);
        (self.each)(archive)
    }

    fn add_read(&mut self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.summary.bytes_read = self.summary.bytes_read.saturating_add(bytes);
    }
}

fn read_error(location: Location, error: &io::Error) -> InventoryError {
    InventoryError::new(location, ErrorKind::Read(error.to_string()))
}

/// Reads the optional byte-order mark and the whitespace before the first
/// other byte (that byte included): enough for [`detect_format`]. At most
/// [`MAX_RECORD_BYTES`] are read; past that the input is not JSON.
fn sniff(reader: &mut impl BufRead) -> Result<Vec<u8>, InventoryError> {
    let mut prefix = Vec::new();
    while prefix.len() <= MAX_RECORD_BYTES {
        let byte = match reader.fill_buf() {
            Ok(buf) => buf.first().copied(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(read_error(Location::Document, &error)),
        };
        let Some(byte) = byte else { break };
        reader.consume(1);
        prefix.push(byte);
        let may_be_bom = prefix.len() <= UTF8_BOM.len() && UTF8_BOM.starts_with(&prefix);
        if !may_be_bom && !byte.is_ascii_whitespace() {
            break;
        }
    }
    Ok(prefix)
}

// ---------------------------------------------------------------------------
// CSV

fn csv_stream<F: FnMut(InventoryArchive) -> ControlFlow<()>>(
    mut reader: impl BufRead,
    tally: &mut Tally<'_, F>,
) -> Result<(), InventoryError> {
    let limit = u64::try_from(MAX_RECORD_BYTES).unwrap_or(u64::MAX);
    let mut columns = None;
    // The first of the empty lines since the last record: an error if a
    // record follows, ignored at the end.
    let mut first_empty: Option<usize> = None;
    let mut line = Vec::new();
    let mut line_no: usize = 0;
    loop {
        line.clear();
        let next_line = line_no.saturating_add(1);
        let read = reader
            .by_ref()
            .take(limit.saturating_add(1))
            .read_until(b'\n', &mut line)
            .map_err(|error| read_error(csv_line(next_line), &error))?;
        if read == 0 {
            break;
        }
        line_no = next_line;
        tally.add_read(read);
        let text = match line.strip_suffix(b"\n") {
            Some(text) => text,
            None if line.len() > MAX_RECORD_BYTES => {
                return Err(InventoryError::new(
                    csv_line(line_no),
                    ErrorKind::RecordTooLong {
                        limit: MAX_RECORD_BYTES,
                    },
                ));
            }
            None => &line[..],
        };
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() {
            first_empty.get_or_insert(line_no);
            continue;
        }
        if let Some(empty) = first_empty {
            return Err(InventoryError::new(csv_line(empty), ErrorKind::EmptyLine));
        }
        match &columns {
            None => columns = Some(header_columns(text, line_no)?),
            Some(columns) => {
                let archive = csv_record(text, line_no, columns)?;
                if tally.deliver(archive).is_break() {
                    return Ok(());
                }
            }
        }
    }
    if columns.is_none() {
        return Err(InventoryError::new(Location::Document, ErrorKind::NoHeader));
    }
    Ok(())
}

fn csv_line(line: usize) -> Location {
    Location::Line { line, column: None }
}

// ---------------------------------------------------------------------------
// JSON

/// The bytes of the current record, shared by the reader that counts them
/// and the visitor that starts each record.
#[derive(Default)]
struct Budget {
    used: Cell<usize>,
    total: Cell<u64>,
    exceeded: Cell<bool>,
}

impl Budget {
    fn next_record(&self) {
        self.used.set(0);
    }
}

/// A reader that fails once the current record passes [`MAX_RECORD_BYTES`].
/// serde_json reads one byte at a time, so the count is exact.
struct BudgetReader<'a, R> {
    inner: R,
    budget: &'a Budget,
}

impl<R: Read> Read for BudgetReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let used = self.budget.used.get();
        let room = MAX_RECORD_BYTES.saturating_sub(used);
        if room == 0 {
            self.budget.exceeded.set(true);
            return Err(io::Error::other("record too long"));
        }
        let len = buf.len().min(room);
        let read = self.inner.read(buf.get_mut(..len).unwrap_or_default())?;
        self.budget.used.set(used.saturating_add(read));
        let total = self.budget.total.get();
        self.budget
            .total
            .set(total.saturating_add(u64::try_from(read).unwrap_or(u64::MAX)));
        Ok(read)
    }
}

/// Why the visitor stopped serde_json, when it was not a syntax error.
enum Stop {
    /// The callback asked to stop.
    Break,
    /// An archive or top-level field broke a rule.
    Invalid(InventoryError),
}

/// The visitor's state: the tally, the budget, which archive is being read,
/// and why it stopped.
struct JsonState<'a, 'b, F> {
    tally: &'a mut Tally<'b, F>,
    budget: &'a Budget,
    index: Option<usize>,
    stop: Option<Stop>,
    list_seen: bool,
}

fn json_stream<F: FnMut(InventoryArchive) -> ControlFlow<()>>(
    reader: impl Read,
    tally: &mut Tally<'_, F>,
) -> Result<(), InventoryError> {
    let budget = Budget::default();
    let reader = BudgetReader {
        inner: reader,
        budget: &budget,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut state = JsonState {
        tally,
        budget: &budget,
        index: None,
        stop: None,
        list_seen: false,
    };
    let result = TopSeed(&mut state)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    let JsonState {
        tally,
        index,
        stop,
        list_seen,
        ..
    } = state;
    tally.summary.bytes_read = tally.summary.bytes_read.saturating_add(budget.total.get());
    match (stop, result) {
        (Some(Stop::Break), _) => Ok(()),
        (Some(Stop::Invalid(error)), _) => Err(error),
        (None, Err(_)) if budget.exceeded.get() => Err(InventoryError::new(
            index.map_or(Location::Document, |index| Location::Archive { index }),
            ErrorKind::RecordTooLong {
                limit: MAX_RECORD_BYTES,
            },
        )),
        (None, Err(error)) if error.is_io() => Err(InventoryError::new(
            Location::Document,
            ErrorKind::Read(error.to_string()),
        )),
        (None, Err(error)) => Err(InventoryError::new(
            Location::Line {
                line: error.line(),
                column: Some(error.column()),
            },
            ErrorKind::Json(error.to_string()),
        )),
        (None, Ok(())) if !list_seen => Err(InventoryError::new(
            Location::Document,
            ErrorKind::MissingField("ArchiveList"),
        )),
        (None, Ok(())) => Ok(()),
    }
}

/// The top-level object.
struct TopSeed<'s, 'a, 'b, F>(&'s mut JsonState<'a, 'b, F>);

impl<'de, F: FnMut(InventoryArchive) -> ControlFlow<()>> DeserializeSeed<'de>
    for TopSeed<'_, '_, '_, F>
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(InventoryArchive) -> ControlFlow<()>> Visitor<'de> for TopSeed<'_, '_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let (mut arn_seen, mut date_seen, mut list_key_seen) = (false, false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "VaultARN" => {
                    once(&mut arn_seen, "VaultARN")?;
                    let value = map.next_value::<Field<serde_json::Value>>()?;
                    state.tally.summary.vault_arn =
                        state.check(json_optional_string(Location::Document, "VaultARN", value))?;
                }
                "InventoryDate" => {
                    once(&mut date_seen, "InventoryDate")?;
                    let value = map.next_value::<Field<serde_json::Value>>()?;
                    state.tally.summary.inventory_date = state.check(json_optional_string(
                        Location::Document,
                        "InventoryDate",
                        value,
                    ))?;
                }
                "ArchiveList" => {
                    once(&mut list_key_seen, "ArchiveList")?;
                    // A null list reads as a missing one.
                    state.list_seen = map.next_value_seed(ListSeed(&mut *state))?;
                    state.budget.next_record();
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn once<E: serde::de::Error>(seen: &mut bool, field: &'static str) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        return Err(E::duplicate_field(field));
    }
    Ok(())
}

impl<F> JsonState<'_, '_, F> {
    /// Keeps a rule's error and stops serde_json with a placeholder.
    fn check<T, E: serde::de::Error>(&mut self, result: Result<T, InventoryError>) -> Result<T, E> {
        result.map_err(|error| {
            self.stop = Some(Stop::Invalid(error));
            E::custom("invalid inventory field")
        })
    }
}

/// `ArchiveList`: `Ok(true)` for an array, `Ok(false)` for null.
struct ListSeed<'s, 'a, 'b, F>(&'s mut JsonState<'a, 'b, F>);

impl<'de, F: FnMut(InventoryArchive) -> ControlFlow<()>> DeserializeSeed<'de>
    for ListSeed<'_, '_, '_, F>
{
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, F: FnMut(InventoryArchive) -> ControlFlow<()>> Visitor<'de> for ListSeed<'_, '_, '_, F> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let state = self.0;
        let mut index: usize = 0;
        loop {
            state.budget.next_record();
            state.index = Some(index);
            let Some(ObjectOnly(raw)) = seq.next_element::<ObjectOnly<RawArchive>>()? else {
                break;
            };
            let archive = state.check(json_archive(index, raw))?;
            if state.tally.deliver(archive).is_break() {
                state.stop = Some(Stop::Break);
                return Err(A::Error::custom("stopped by the caller"));
            }
            index = index.saturating_add(1);
        }
        state.index = None;
        Ok(true)
    }
}
