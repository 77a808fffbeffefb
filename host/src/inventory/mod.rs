//! Vault inventories: the output of an `inventory-retrieval` job (docs/protocol.md §5.3).
//!
//! Glacier returns an inventory as JSON (the default) or as CSV. [`parse`]
//! tells the two apart by the first non-whitespace byte (`{` means JSON);
//! [`parse_json`] and [`parse_csv`] take one format only. Either way the result
//! is an [`Inventory`]: the vault ARN and inventory date (JSON only) and one
//! [`InventoryArchive`] per archive, with its tree hash parsed into a
//! [`Digest`] so it compares with what the verifier computes.
//!
//! Parsing never panics, whatever the bytes: errors are [`InventoryError`]s
//! that say where (line and column for CSV and JSON syntax, the index in
//! `ArchiveList` for JSON fields) and what was wrong.
//!
//! # JSON
//! `{"VaultARN": …, "InventoryDate": …, "ArchiveList": [{"ArchiveId": …,
//! "ArchiveDescription": …, "CreationDate": …, "Size": …, "SHA256TreeHash": …}]}`.
//! Unknown fields are ignored. `VaultARN` and `InventoryDate` may be absent or
//! null. Every archive field is required, with its JSON type: strings, except
//! `Size`, a non-negative integer (a float or a string of digits is an
//! error). The one leniency: a null `ArchiveDescription` reads as the empty
//! description. Tree hashes are 64 hex digits in either case.
//!
//! # CSV
//! The first line is a header naming the columns; the five Glacier columns
//! `ArchiveId`, `ArchiveDescription`, `CreationDate`, `Size` and
//! `SHA256TreeHash` are found by name, in any order (as mt-aws-glacier maps
//! them), and further columns are ignored. Every record must have as many
//! fields as the header. AWS documents neither the header row nor the line
//! endings; both are inferred from mt-aws-glacier (docs/protocol.md §10.13). Lines end in LF or CRLF; empty lines at the end are ignored,
//! anywhere else they are an error. A leading UTF-8 byte-order mark is
//! skipped (in JSON too).
//!
//! Glacier's quoting is not RFC 4180 (docs/protocol.md §5.3): a field that contains a
//! comma or a double quote is enclosed in double quotes, a `"` inside it is
//! written `\"`, and a backslash is *not* escaped. So
//! `my archive description,1"2` is written `"my archive description,1\"2"`
//! and `my archive description,1\"2` is written `"my archive description,1\\"2"`.
//! See [`parse_csv`] for how this parser reads that back.
//!
//! # Streaming
//! [`for_each_archive`] reads either format from an `io::Read` in bounded
//! memory (one record at a time, each at most [`MAX_RECORD_BYTES`]) and hands
//! each archive to a callback: a million-archive inventory is never held
//! whole. Both readers share the field rules above; one archive's fields are
//! bounded for both ([`MAX_ARCHIVE_ID_BYTES`], [`MAX_DESCRIPTION_BYTES`]).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::marker::PhantomData;

use glacier_verify_core::{Digest, HexDigest};
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

mod stream;
pub use stream::{InventorySummary, MAX_RECORD_BYTES, for_each_archive};

/// One archive listed in an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryArchive {
    /// The archive id (`ArchiveId`), as Glacier gave it.
    pub archive_id: String,
    /// The archive description (`ArchiveDescription`); empty when none was given.
    pub description: String,
    /// When the archive was uploaded (`CreationDate`), ISO-8601 text as given.
    pub creation_date: String,
    /// The archive size in bytes (`Size`).
    pub size: u64,
    /// The tree hash of the whole archive (`SHA256TreeHash`).
    pub tree_hash: Digest,
}

/// A parsed vault inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// `VaultARN` (JSON only; CSV inventories do not carry it).
    pub vault_arn: Option<String>,
    /// `InventoryDate` (JSON only).
    pub inventory_date: Option<String>,
    /// The archives, in the order the inventory lists them.
    pub archives: Vec<InventoryArchive>,
}

/// The two inventory formats Glacier produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`, the default.
    Json,
    /// `text/csv`, when the job asked for `Format: CSV`.
    Csv,
}

/// Where in the input an [`InventoryError`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The input as a whole (no header row, a missing CSV column, a missing
    /// JSON top-level field).
    Document,
    /// A 1-based line, and for syntax errors the 1-based column (in bytes
    /// for CSV, as serde_json counts for JSON).
    Line {
        /// 1-based line number.
        line: usize,
        /// 1-based column, when the error is at one place in the line.
        column: Option<usize>,
    },
    /// JSON: the archive at this 0-based index of `ArchiveList`.
    Archive {
        /// 0-based index in `ArchiveList`.
        index: usize,
    },
}

/// What was wrong with an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// JSON that is not well formed, or whose top level or `ArchiveList` has
    /// the wrong shape; serde_json's message.
    Json(String),
    /// A required JSON field is absent or null.
    MissingField(&'static str),
    /// A JSON field has the wrong type.
    WrongType {
        /// The field name.
        field: &'static str,
        /// What it should be, e.g. `"a string"`.
        expected: &'static str,
        /// The JSON type found, e.g. `"a number"`.
        found: &'static str,
    },
    /// CSV input without a header row (empty, or only empty lines).
    NoHeader,
    /// The CSV header lacks one of the five Glacier columns.
    MissingColumn(&'static str),
    /// The CSV header names a column twice.
    DuplicateColumn(String),
    /// An empty line before the last record.
    EmptyLine,
    /// A quoted CSV field with no closing quote on its line; the location's
    /// column is the opening quote.
    UnterminatedQuote,
    /// A `"` inside a CSV field that does not start with one.
    QuoteInUnquotedField,
    /// Something other than `,` or the end of the line after a closing quote.
    TextAfterClosingQuote,
    /// A CSV record with a different number of fields than the header.
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// A CSV field that is not UTF-8.
    InvalidUtf8,
    /// An empty `ArchiveId`.
    EmptyArchiveId,
    /// A `Size` that is not a decimal integer in `0..=u64::MAX`; the text
    /// found (shortened if long).
    BadSize(String),
    /// A `SHA256TreeHash` that is not 64 hex digits; the text found
    /// (shortened if long).
    BadTreeHash(String),
    /// An archive field longer than this parser accepts (see
    /// [`MAX_ARCHIVE_ID_BYTES`], [`MAX_DESCRIPTION_BYTES`],
    /// [`MAX_CREATION_DATE_BYTES`]).
    FieldTooLong {
        /// The field name.
        field: &'static str,
        /// The most bytes accepted.
        limit: usize,
    },
    /// [`for_each_archive`]: one record (a CSV line, a JSON `ArchiveList`
    /// element, or the JSON text outside `ArchiveList`) longer than
    /// [`MAX_RECORD_BYTES`]; reading stopped there.
    RecordTooLong {
        /// The most bytes accepted.
        limit: usize,
    },
    /// [`for_each_archive`]: the reader failed; its message.
    Read(String),
}

/// An inventory that could not be parsed: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    pub kind: ErrorKind,
}

impl InventoryError {
    fn new(location: Location, kind: ErrorKind) -> Self {
        InventoryError { location, kind }
    }

    /// The 1-based line of the problem, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self.location {
            Location::Line { line, .. } => Some(line),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Document => f.write_str("inventory"),
            Location::Line { line, column: None } => write!(f, "line {line}"),
            Location::Line {
                line,
                column: Some(column),
            } => write!(f, "line {line}, column {column}"),
            Location::Archive { index } => write!(f, "ArchiveList[{index}]"),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Json(message) => write!(f, "invalid JSON inventory: {message}"),
            ErrorKind::MissingField(field) => write!(f, "missing field {field}"),
            ErrorKind::WrongType {
                field,
                expected,
                found,
            } => write!(f, "{field} should be {expected}, found {found}"),
            ErrorKind::NoHeader => f.write_str("empty CSV inventory: no header row"),
            ErrorKind::MissingColumn(column) => {
                write!(f, "CSV header has no {column} column")
            }
            ErrorKind::DuplicateColumn(column) => {
                write!(f, "CSV header names column {column:?} twice")
            }
            ErrorKind::EmptyLine => f.write_str("empty line"),
            ErrorKind::UnterminatedQuote => f.write_str("quoted field is not closed on its line"),
            ErrorKind::QuoteInUnquotedField => {
                f.write_str("double quote inside a field that is not quoted")
            }
            ErrorKind::TextAfterClosingQuote => {
                f.write_str("expected ',' or end of line after closing quote")
            }
            ErrorKind::FieldCount { expected, found } => {
                write!(f, "{found} fields, but the header has {expected}")
            }
            ErrorKind::InvalidUtf8 => f.write_str("field is not valid UTF-8"),
            ErrorKind::EmptyArchiveId => f.write_str("empty ArchiveId"),
            ErrorKind::BadSize(text) => {
                write!(f, "Size is not a byte count (decimal u64): {text:?}")
            }
            ErrorKind::BadTreeHash(text) => {
                write!(f, "SHA256TreeHash is not 64 hex digits: {text:?}")
            }
            ErrorKind::FieldTooLong { field, limit } => {
                write!(f, "{field} is longer than {limit} bytes")
            }
            ErrorKind::RecordTooLong { limit } => {
                write!(f, "record is longer than {limit} bytes")
            }
            ErrorKind::Read(message) => write!(f, "reading the inventory failed: {message}"),
        }
    }
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

impl std::error::Error for InventoryError {}

/// The longest `ArchiveId` accepted, in bytes. Glacier's ids are 138
/// characters; the slack is for other tools' inventories.
pub const MAX_ARCHIVE_ID_BYTES: usize = 1024;
/// The longest `ArchiveDescription` accepted, in bytes: Glacier's limit is
/// 1,024 printable ASCII characters (docs/protocol.md §5.2); four times that
/// leaves room for other tools' non-ASCII text.
pub const MAX_DESCRIPTION_BYTES: usize = 4 * glacier_verify_core::MAX_DESCRIPTION_LEN;
/// The longest `CreationDate` accepted, in bytes (ISO 8601 needs about 30).
pub const MAX_CREATION_DATE_BYTES: usize = 256;

/// Refuses a field longer than `limit` bytes, so one hostile archive cannot
/// make memory grow.
fn bounded(
    location: Location,
    field: &'static str,
    text: String,
    limit: usize,
) -> Result<String, InventoryError> {
    if text.len() > limit {
        return Err(InventoryError::new(
            location,
            ErrorKind::FieldTooLong { field, limit },
        ));
    }
    Ok(text)
}

/// Longest offending text kept in an error, in characters.
const MAX_ERROR_TEXT: usize = 80;

fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(MAX_ERROR_TEXT).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The format of an inventory: JSON when the first byte that is not
/// whitespace (after an optional UTF-8 byte-order mark) is `{`, else CSV.
///
/// ```
/// use glacier_verify::inventory::{detect_format, Format};
/// assert_eq!(detect_format(b"  {\"ArchiveList\": []}"), Format::Json);
/// assert_eq!(detect_format(b"ArchiveId,ArchiveDescription\r\n"), Format::Csv);
/// ```
pub fn detect_format(bytes: &[u8]) -> Format {
    match strip_bom(bytes).iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::Json,
        _ => Format::Csv,
    }
}

/// Parses an inventory in either format, chosen by [`detect_format`].
///
/// ```
/// use glacier_verify::inventory::parse;
/// let csv = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\r\n\
///            abc,\"photos, 2012\",2012-05-15T17:19:46.700Z,1024,\
///            2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a\r\n";
/// let inventory = parse(csv.as_bytes()).unwrap();
/// assert_eq!(inventory.archives[0].description, "photos, 2012");
/// assert_eq!(inventory.archives[0].size, 1024);
/// ```
pub fn parse(bytes: &[u8]) -> Result<Inventory, InventoryError> {
    match detect_format(bytes) {
        Format::Json => parse_json(bytes),
        Format::Csv => parse_csv(bytes),
    }
}

// ---------------------------------------------------------------------------
// JSON

/// A field that may be absent, null or present: so "missing" and "wrong
/// type" can be told apart without building a `Value` tree of the whole list.
#[derive(Default)]
enum Field<T> {
    #[default]
    Absent,
    Null,
    Present(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Field::Null,
            Some(value) => Field::Present(value),
        })
    }
}

/// A struct that serde may read only from a JSON object: derived
/// `Deserialize` impls also accept an array of the fields in order, which an
/// inventory never is.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

#[derive(Deserialize)]
struct RawInventory {
    #[serde(rename = "VaultARN", default)]
    vault_arn: Field<Value>,
    #[serde(rename = "InventoryDate", default)]
    inventory_date: Field<Value>,
    #[serde(rename = "ArchiveList", default)]
    archive_list: Field<Vec<ObjectOnly<RawArchive>>>,
}

#[derive(Deserialize)]
struct RawArchive {
    #[serde(rename = "ArchiveId", default)]
    archive_id: Field<Value>,
    #[serde(rename = "ArchiveDescription", default)]
    description: Field<Value>,
    #[serde(rename = "CreationDate", default)]
    creation_date: Field<Value>,
    #[serde(rename = "Size", default)]
    size: Field<Value>,
    #[serde(rename = "SHA256TreeHash", default)]
    tree_hash: Field<Value>,
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required string field.
fn json_string(
    location: Location,
    field: &'static str,
    value: Field<Value>,
) -> Result<String, InventoryError> {
    match value {
        Field::Present(Value::String(text)) => Ok(text),
        Field::Present(other) => Err(InventoryError::new(
            location,
            ErrorKind::WrongType {
                field,
                expected: "a string",
                found: json_type(&other),
            },
        )),
        Field::Absent | Field::Null => Err(InventoryError::new(
            location,
            ErrorKind::MissingField(field),
        )),
    }
}

/// An optional string field: absent and null are `None`.
fn json_optional_string(
    location: Location,
    field: &'static str,
    value: Field<Value>,
) -> Result<Option<String>, InventoryError> {
    match value {
        Field::Absent | Field::Null => Ok(None),
        present => json_string(location, field, present).map(Some),
    }
}

fn json_archive(index: usize, raw: RawArchive) -> Result<InventoryArchive, InventoryError> {
    let location = Location::Archive { index };
    let archive_id = json_string(location, "ArchiveId", raw.archive_id)?;
    let archive_id = bounded(location, "ArchiveId", archive_id, MAX_ARCHIVE_ID_BYTES)?;
    if archive_id.is_empty() {
        return Err(InventoryError::new(location, ErrorKind::EmptyArchiveId));
    }
    let description = match raw.description {
        // A null description reads as none given.
        Field::Null => String::new(),
        other => json_string(location, "ArchiveDescription", other)?,
    };
    let description = bounded(
        location,
        "ArchiveDescription",
        description,
        MAX_DESCRIPTION_BYTES,
    )?;
    let creation_date = json_string(location, "CreationDate", raw.creation_date)?;
    let creation_date = bounded(
        location,
        "CreationDate",
        creation_date,
        MAX_CREATION_DATE_BYTES,
    )?;
    let size = match raw.size {
        Field::Present(Value::Number(number)) => number.as_u64().ok_or_else(|| {
            InventoryError::new(location, ErrorKind::BadSize(excerpt(&number.to_string())))
        })?,
        Field::Present(other) => {
            return Err(InventoryError::new(
                location,
                ErrorKind::WrongType {
                    field: "Size",
                    expected: "a non-negative integer",
                    found: json_type(&other),
                },
            ));
        }
        Field::Absent | Field::Null => {
            return Err(InventoryError::new(
                location,
                ErrorKind::MissingField("Size"),
            ));
        }
    };
    let hash_text = json_string(location, "SHA256TreeHash", raw.tree_hash)?;
    let tree_hash = Digest::from_hex(hash_text.as_bytes())
        .map_err(|_| InventoryError::new(location, ErrorKind::BadTreeHash(excerpt(&hash_text))))?;
    Ok(InventoryArchive {
        archive_id,
        description,
        creation_date,
        size,
        tree_hash,
    })
}

/// Parses a JSON inventory (docs/protocol.md §5.3).
///
/// Syntax errors, and a top level or `ArchiveList` of the wrong shape, are
/// [`ErrorKind::Json`] at serde_json's line and column; problems with one
/// archive's fields are located by its index in `ArchiveList`.
///
/// ```
/// use glacier_verify::inventory::{parse_json, ErrorKind, Location};
/// let json = br#"{"VaultARN": "arn:aws:glacier:us-east-1:012345678901:vaults/examplevault",
///   "InventoryDate": "2011-12-12T14:19:01Z",
///   "ArchiveList": [{"ArchiveId": "abc", "ArchiveDescription": "my archive1",
///     "CreationDate": "2012-05-15T17:19:46.700Z", "Size": 2140123,
///     "SHA256TreeHash": "6b9d4cf8697bd3af6aa1b590a0b27b337da5b18988dbcc619a3e608a554a1e62"}]}"#;
/// let inventory = parse_json(json).unwrap();
/// assert_eq!(inventory.archives[0].size, 2140123);
///
/// let err = parse_json(br#"{"ArchiveList": [{"ArchiveId": "abc", "ArchiveDescription": ""}]}"#)
///     .unwrap_err();
/// assert_eq!(err.location, Location::Archive { index: 0 });
/// assert_eq!(err.kind, ErrorKind::MissingField("CreationDate"));
/// ```
pub fn parse_json(bytes: &[u8]) -> Result<Inventory, InventoryError> {
    let ObjectOnly(raw) = serde_json::from_slice::<ObjectOnly<RawInventory>>(strip_bom(bytes))
        .map_err(|error| {
            InventoryError::new(
                Location::Line {
                    line: error.line(),
                    column: Some(error.column()),
                },
                ErrorKind::Json(error.to_string()),
            )
        })?;
    let vault_arn = json_optional_string(Location::Document, "VaultARN", raw.vault_arn)?;
    let inventory_date =
        json_optional_string(Location::Document, "InventoryDate", raw.inventory_date)?;
    let list = match raw.archive_list {
        Field::Present(list) => list,
        Field::Absent | Field::Null => {
            return Err(InventoryError::new(
                Location::Document,
                ErrorKind::MissingField("ArchiveList"),
            ));
        }
    };
    let archives = list
        .into_iter()
        .enumerate()
        .map(|(index, ObjectOnly(raw))| json_archive(index, raw))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Inventory {
        vault_arn,
        inventory_date,
        archives,
    })
}

// ---------------------------------------------------------------------------
// CSV

const COL_ID: &str = "ArchiveId";
const COL_DESCRIPTION: &str = "ArchiveDescription";
const COL_DATE: &str = "CreationDate";
const COL_SIZE: &str = "Size";
const COL_HASH: &str = "SHA256TreeHash";

/// One field of a line, before unescaping: byte range of its text (for a
/// quoted field, between the quotes).
#[derive(Debug, Clone, Copy)]
struct RawField {
    start: usize,
    end: usize,
    quoted: bool,
}

/// One way to read the field at some start: the field, and where the next
/// field starts (`None`: this was the last field of the line).
type FieldOption = (RawField, Option<usize>);

/// Why a line could not be split, and how far the scan got before finding
/// out (the error reported is the one that got furthest).
#[derive(Debug, Clone, Copy)]
struct SplitFailure {
    progress: usize,
    column: usize,
    kind: SplitProblem,
}

#[derive(Debug, Clone, Copy)]
enum SplitProblem {
    Unterminated,
    QuoteInUnquoted,
    AfterClosingQuote,
}

impl SplitProblem {
    fn kind(self) -> ErrorKind {
        match self {
            SplitProblem::Unterminated => ErrorKind::UnterminatedQuote,
            SplitProblem::QuoteInUnquoted => ErrorKind::QuoteInUnquotedField,
            SplitProblem::AfterClosingQuote => ErrorKind::TextAfterClosingQuote,
        }
    }
}

fn at(line: &[u8], index: usize) -> Option<u8> {
    line.get(index).copied()
}

/// Every way to read one field starting at `start`, most preferred first,
/// and the problem that ruled out others (if any).
fn field_options(line: &[u8], start: usize) -> (Vec<FieldOption>, Option<SplitFailure>) {
    if at(line, start) == Some(b'"') {
        quoted_field_options(line, start)
    } else {
        unquoted_field(line, start)
    }
}

/// Where the next field starts after a field ending just before `after`:
/// `Some(None)` at the end of the line, `None` when no comma follows.
fn next_start(line: &[u8], after: usize) -> Option<Option<usize>> {
    match at(line, after) {
        None => Some(None),
        Some(b',') => Some(Some(after.saturating_add(1))),
        Some(_) => None,
    }
}

/// An unquoted field: up to the next comma; a quote inside is an error.
fn unquoted_field(line: &[u8], start: usize) -> (Vec<FieldOption>, Option<SplitFailure>) {
    let len = line.len();
    let end = line
        .get(start..)
        .and_then(|rest| rest.iter().position(|&b| b == b','))
        .map_or(len, |offset| start.saturating_add(offset));
    let field = RawField {
        start,
        end,
        quoted: false,
    };
    if let Some(quote) = line
        .get(start..end)
        .and_then(|text| text.iter().position(|&b| b == b'"'))
    {
        let column = start.saturating_add(quote);
        let failure = SplitFailure {
            progress: column,
            column,
            kind: SplitProblem::QuoteInUnquoted,
        };
        return (Vec::new(), Some(failure));
    }
    let next = if end >= len {
        None
    } else {
        Some(end.saturating_add(1))
    };
    (vec![(field, next)], None)
}

/// A quoted field: every place it could end (`\"` may be an escaped quote
/// or a backslash before the closing one), longest first.
fn quoted_field_options(line: &[u8], start: usize) -> (Vec<FieldOption>, Option<SplitFailure>) {
    let len = line.len();
    let next_start = |after: usize| next_start(line, after);
    let content = start.saturating_add(1);
    let mut options = Vec::new();
    let mut failure = None;
    let mut i = content;
    let mut closed = false;
    while let Some(byte) = at(line, i) {
        let after = i.saturating_add(1);
        if byte == b'"' {
            // A quote without a backslash before it can only close the field.
            match next_start(after) {
                Some(next) => options.push((
                    RawField {
                        start: content,
                        end: i,
                        quoted: true,
                    },
                    next,
                )),
                None => {
                    failure = Some(SplitFailure {
                        progress: after,
                        column: after,
                        kind: SplitProblem::AfterClosingQuote,
                    })
                }
            }
            closed = true;
            break;
        }
        if byte == b'\\' && at(line, after) == Some(b'"') {
            // `\"`: an escaped quote, or a literal backslash ending the
            // field followed by the closing quote — possible only before `,`
            // or the end of the line.
            let after_quote = after.saturating_add(1);
            if let Some(next) = next_start(after_quote) {
                options.push((
                    RawField {
                        start: content,
                        end: after,
                        quoted: true,
                    },
                    next,
                ));
            }
            i = after_quote;
        } else {
            i = after;
        }
    }
    if !closed {
        failure = Some(SplitFailure {
            progress: len,
            column: start,
            kind: SplitProblem::Unterminated,
        });
    }
    // Longest field first: `\"` is an escaped quote unless it has to close.
    options.reverse();
    (options, failure)
}

/// Splits one line into fields (see [`parse_csv`] for the rule).
///
/// A depth-first search over the places a quoted field may close, iterative
/// (no recursion on untrusted input) and memoised on field starts: whether
/// the rest of a line from a field start splits does not depend on how that
/// start was reached, so each start is expanded at most once. Each expansion
/// scans only up to the next `,` (unquoted) or the next quote without a
/// backslash (quoted), and such scans from different starts do not overlap,
/// so a line is split in linear time.
fn split_line(line: &[u8]) -> Result<Vec<RawField>, SplitFailure> {
    struct Frame {
        start: usize,
        options: Vec<FieldOption>,
        tried: usize,
    }
    let mut path: Vec<Frame> = Vec::new();
    let mut failed: HashSet<usize> = HashSet::new();
    let mut furthest: Option<SplitFailure> = None;
    let mut start = 0;
    loop {
        if !failed.contains(&start) {
            let (options, failure) = field_options(line, start);
            if let Some(failure) = failure
                && furthest.is_none_or(|best| failure.progress > best.progress)
            {
                furthest = Some(failure);
            }
            path.push(Frame {
                start,
                options,
                tried: 0,
            });
        }
        // Take the next untried option of the deepest frame, backtracking
        // out of frames that have none left.
        loop {
            let Some(frame) = path.last_mut() else {
                return Err(furthest.unwrap_or(SplitFailure {
                    progress: 0,
                    column: 0,
                    kind: SplitProblem::Unterminated,
                }));
            };
            match frame.options.get(frame.tried).copied() {
                Some((_, next)) => {
                    frame.tried = frame.tried.saturating_add(1);
                    match next {
                        Some(next) => {
                            start = next;
                            break;
                        }
                        None => {
                            return Ok(path
                                .iter()
                                .filter_map(|frame| {
                                    frame
                                        .options
                                        .get(frame.tried.saturating_sub(1))
                                        .map(|(field, _)| *field)
                                })
                                .collect());
                        }
                    }
                }
                None => {
                    failed.insert(frame.start);
                    path.pop();
                }
            }
        }
    }
}

/// The text of a field: quoted fields lose the backslash of each `\"`.
fn field_bytes(line: &[u8], field: RawField) -> Vec<u8> {
    let text = line.get(field.start..field.end).unwrap_or_default();
    if !field.quoted {
        return text.to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'\\' && bytes.peek() == Some(&b'"') {
            continue;
        }
        out.push(byte);
    }
    out
}

fn field_string(line: &[u8], field: RawField, line_no: usize) -> Result<String, InventoryError> {
    String::from_utf8(field_bytes(line, field)).map_err(|_| {
        InventoryError::new(
            Location::Line {
                line: line_no,
                column: Some(field.start.saturating_add(1)),
            },
            ErrorKind::InvalidUtf8,
        )
    })
}

fn split_checked(line: &[u8], line_no: usize) -> Result<Vec<RawField>, InventoryError> {
    split_line(line).map_err(|failure| {
        InventoryError::new(
            Location::Line {
                line: line_no,
                column: Some(failure.column.saturating_add(1)),
            },
            failure.kind.kind(),
        )
    })
}

/// Where the five Glacier columns are in a record.
struct Columns {
    count: usize,
    id: usize,
    description: usize,
    date: usize,
    size: usize,
    hash: usize,
}

fn header_columns(line: &[u8], line_no: usize) -> Result<Columns, InventoryError> {
    let fields = split_checked(line, line_no)?;
    let mut names = Vec::with_capacity(fields.len());
    for field in &fields {
        let name = field_string(line, *field, line_no)?;
        if names.contains(&name) {
            return Err(InventoryError::new(
                Location::Line {
                    line: line_no,
                    column: Some(field.start.saturating_add(1)),
                },
                ErrorKind::DuplicateColumn(excerpt(&name)),
            ));
        }
        names.push(name);
    }
    let find = |column: &'static str| {
        names.iter().position(|name| name == column).ok_or_else(|| {
            InventoryError::new(
                Location::Line {
                    line: line_no,
                    column: None,
                },
                ErrorKind::MissingColumn(column),
            )
        })
    };
    Ok(Columns {
        count: names.len(),
        id: find(COL_ID)?,
        description: find(COL_DESCRIPTION)?,
        date: find(COL_DATE)?,
        size: find(COL_SIZE)?,
        hash: find(COL_HASH)?,
    })
}

fn csv_record(
    line: &[u8],
    line_no: usize,
    columns: &Columns,
) -> Result<InventoryArchive, InventoryError> {
    let fields = split_checked(line, line_no)?;
    let location = Location::Line {
        line: line_no,
        column: None,
    };
    if fields.len() != columns.count {
        return Err(InventoryError::new(
            location,
            ErrorKind::FieldCount {
                expected: columns.count,
                found: fields.len(),
            },
        ));
    }
    let get = |index: usize| -> Result<String, InventoryError> {
        match fields.get(index) {
            Some(field) => field_string(line, *field, line_no),
            None => Err(InventoryError::new(
                location,
                ErrorKind::FieldCount {
                    expected: columns.count,
                    found: fields.len(),
                },
            )),
        }
    };
    let archive_id = bounded(
        location,
        "ArchiveId",
        get(columns.id)?,
        MAX_ARCHIVE_ID_BYTES,
    )?;
    if archive_id.is_empty() {
        return Err(InventoryError::new(location, ErrorKind::EmptyArchiveId));
    }
    let description = bounded(
        location,
        "ArchiveDescription",
        get(columns.description)?,
        MAX_DESCRIPTION_BYTES,
    )?;
    let creation_date = bounded(
        location,
        "CreationDate",
        get(columns.date)?,
        MAX_CREATION_DATE_BYTES,
    )?;
    let size_text = get(columns.size)?;
    let size = if !size_text.is_empty() && size_text.bytes().all(|b| b.is_ascii_digit()) {
        size_text.parse::<u64>().ok()
    } else {
        None
    }
    .ok_or_else(|| InventoryError::new(location, ErrorKind::BadSize(excerpt(&size_text))))?;
    let hash_text = get(columns.hash)?;
    let tree_hash = Digest::from_hex(hash_text.as_bytes())
        .map_err(|_| InventoryError::new(location, ErrorKind::BadTreeHash(excerpt(&hash_text))))?;
    Ok(InventoryArchive {
        archive_id,
        description,
        creation_date,
        size,
        tree_hash,
    })
}

/// Parses a CSV inventory (docs/protocol.md §5.3).
///
/// # How `\"` is read
/// Inside a quoted field every `"` Glacier writes is preceded by a
/// backslash, and backslashes are not escaped, so `\"` is ambiguous: an
/// escaped quote (`1\"2` ← `1"2`), or a literal backslash that ends the
/// field followed by the closing quote (`"a,b\"` ← `a,b\`). The rule here:
///
/// 1. In a quoted field, `\"` is an escaped quote and stands for `"`; every
///    other backslash is itself. So `"…,1\"2"` reads `…,1"2` and
///    `"…,1\\"2"` reads `…,1\"2`: both examples from the AWS documentation.
/// 2. A quote without a backslash before it closes the field, and must be
///    followed by `,` or the end of the line.
/// 3. A `\"` followed by `,` or the end of the line may instead be the end of
///    a field that ends in a backslash. It is read that way only when
///    reading it as an escaped quote leaves no valid reading of the rest of
///    the line (the field would never close, or a later field would be
///    malformed). A field that does not start with `"` may not contain one.
///
/// Rule 3 cannot be the simpler "a `\"` before `,` closes the field":
/// `say "hi", then` is written `"say \"hi\", then"`, where the first `\"`
/// is followed by `,` yet is an escaped quote.
///
/// No line has two readings under rules 1–3, so the order in which rule 3's
/// choices are tried never matters. Suppose two readings first differ in a
/// quoted field that one closes at a `\"` and the other continues. From
/// there on, whenever one reading is inside a quoted field and the other is
/// not, the text up to where the first closes holds no `"` at all (the
/// outside reading could only hold it in a quoted field, which opens only at
/// a quote without a backslash, which would end the inside one), so the
/// close is a quote without a backslash where the outside reading must open
/// a field, and the two swap roles; at the end of the line one of them is
/// left with a field that never closes. (Also checked by brute force: every
/// line of up to 12 characters over `a` `,` `"` `\` has at most one
/// reading, and every record of up to three fields over those characters,
/// of lengths up to 5, 5 and 3, reads back as written.) So every line
/// Glacier writes reads back as the record it came from, whatever the field
/// count. The residual ambiguity lies outside the line: text from a writer
/// that escapes backslashes (`\\`) reads with both backslashes kept, as
/// Glacier's would, and cannot be told apart; RFC 4180 quote doubling
/// (`""`) is rejected.
///
/// Fields never span lines: descriptions are printable ASCII (docs/protocol.md §5.2).
///
/// ```
/// use glacier_verify::inventory::parse_csv;
/// let hash = "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a";
/// let csv = format!(
///     "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n\
///      a1,\"my archive description,1\\\"2\",2012-05-15T17:19:46Z,1,{hash}\n\
///      a2,\"my archive description,1\\\\\"2\",2012-05-15T17:19:46Z,1,{hash}\n\
///      a3,\"ends in a backslash, \\\",2012-05-15T17:19:46Z,1,{hash}\n"
/// );
/// let inventory = parse_csv(csv.as_bytes()).unwrap();
/// assert_eq!(inventory.archives[0].description, r#"my archive description,1"2"#);
/// assert_eq!(inventory.archives[1].description, r#"my archive description,1\"2"#);
/// assert_eq!(inventory.archives[2].description, r"ends in a backslash, \");
/// ```
pub fn parse_csv(bytes: &[u8]) -> Result<Inventory, InventoryError> {
    let bytes = strip_bom(bytes);
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .collect();
    // Empty lines at the end (including the one after a final newline) are
    // not records.
    let used = lines
        .iter()
        .rposition(|line| !line.is_empty())
        .map_or(0, |last| last.saturating_add(1));
    let mut numbered = lines
        .into_iter()
        .take(used)
        .enumerate()
        .map(|(index, line)| (index.saturating_add(1), line));
    let Some((header_no, header)) = numbered.next() else {
        return Err(InventoryError::new(Location::Document, ErrorKind::NoHeader));
    };
    let empty_line = |line_no| {
        InventoryError::new(
            Location::Line {
                line: line_no,
                column: None,
            },
            ErrorKind::EmptyLine,
        )
    };
    if header.is_empty() {
        return Err(empty_line(header_no));
    }
    let columns = header_columns(header, header_no)?;
    let mut archives = Vec::new();
    for (line_no, line) in numbered {
        if line.is_empty() {
            return Err(empty_line(line_no));
        }
        archives.push(csv_record(line, line_no, &columns)?);
    }
    Ok(Inventory {
        vault_arn: None,
        inventory_date: None,
        archives,
    })
}

// ---------------------------------------------------------------------------
// Queries and output

/// Text safe to print on a terminal: control characters and other
/// characters Rust does not consider printable (e.g. bidirectional
/// overrides) are replaced by their `\n`, `\u{202e}` escapes. Backslashes are
/// left alone, so a description's own `\n` (backslash, n) prints the same
/// as an escaped newline; the JSON output is unambiguous.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let needs_escape = c.is_control()
            || (!matches!(c, '\\' | '\'' | '"') && c.escape_debug().nth(1).is_some());
        if needs_escape {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Inventory {
    /// The first archive listed with this id.
    ///
    /// ```
    /// use glacier_verify::inventory::Inventory;
    /// assert!(Inventory::default().find("abc").is_none());
    /// ```
    pub fn find(&self, archive_id: &str) -> Option<&InventoryArchive> {
        self.archives
            .iter()
            .find(|archive| archive.archive_id == archive_id)
    }

    /// The sum of the archive sizes, in bytes (saturating at `u64::MAX`).
    pub fn total_size(&self) -> u64 {
        self.archives
            .iter()
            .fold(0u64, |total, archive| total.saturating_add(archive.size))
    }

    /// Writes the archives as a table: a header line, then one line per
    /// archive with the full archive id (for copy and paste), the size in
    /// bytes (right-aligned), the tree hash in lowercase hex and the
    /// description. Columns are separated by two spaces; the description is
    /// last and not padded. Control characters in ids and descriptions are
    /// printed escaped (`\n`, `\u{1b}`).
    ///
    /// ```
    /// use glacier_verify::inventory::parse;
    /// let csv = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n\
    ///            abc,notes,2012-05-15T17:19:46Z,1024,\
    ///            2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a\n";
    /// let mut out = Vec::new();
    /// parse(csv.as_bytes()).unwrap().write_table(&mut out).unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.starts_with("ARCHIVE ID  SIZE  TREE HASH"));
    /// assert!(text.contains("abc         1024  2edc9868"));
    /// ```
    pub fn write_table(&self, w: &mut impl io::Write) -> io::Result<()> {
        const ID: &str = "ARCHIVE ID";
        const SIZE: &str = "SIZE";
        const HASH: &str = "TREE HASH";
        const DESCRIPTION: &str = "DESCRIPTION";
        struct Row {
            id: String,
            size: String,
            hash: HexDigest,
            description: String,
        }
        let rows: Vec<Row> = self
            .archives
            .iter()
            .map(|archive| Row {
                id: printable(&archive.archive_id),
                size: archive.size.to_string(),
                hash: archive.tree_hash.to_hex(),
                description: printable(&archive.description),
            })
            .collect();
        let id_width = rows
            .iter()
            .map(|row| row.id.chars().count())
            .fold(ID.len(), usize::max);
        let size_width = rows
            .iter()
            .map(|row| row.size.len())
            .fold(SIZE.len(), usize::max);
        let hash_width = if rows.is_empty() { HASH.len() } else { 64 };
        writeln!(
            w,
            "{ID:<id_width$}  {SIZE:>size_width$}  {HASH:<hash_width$}  {DESCRIPTION}"
        )?;
        for row in &rows {
            let Row {
                id,
                size,
                hash,
                description,
            } = row;
            let hash = hash.as_str();
            let line =
                format!("{id:<id_width$}  {size:>size_width$}  {hash:<hash_width$}  {description}");
            // No padding after the last column when there is no description.
            let line = if description.is_empty() {
                line.trim_end()
            } else {
                &line
            };
            writeln!(w, "{line}")?;
        }
        Ok(())
    }

    /// The inventory as JSON for `glacier-verify inventory --json`:
    /// `{"vaultArn", "inventoryDate", "archives": [{"archiveId", "size",
    /// "treeHash", "description", "creationDate"}]}`, with `null` for an
    /// unknown vault ARN or date and tree hashes in lowercase hex.
    ///
    /// ```
    /// use glacier_verify::inventory::Inventory;
    /// let json = Inventory::default().to_json();
    /// assert_eq!(json["archives"], serde_json::json!([]));
    /// assert!(json["vaultArn"].is_null());
    /// ```
    pub fn to_json(&self) -> Value {
        let archives: Vec<Value> = self
            .archives
            .iter()
            .map(|archive| {
                serde_json::json!({
                    "archiveId": archive.archive_id,
                    "size": archive.size,
                    "treeHash": archive.tree_hash.to_hex().as_str(),
                    "description": archive.description,
                    "creationDate": archive.creation_date,
                })
            })
            .collect();
        serde_json::json!({
            "vaultArn": self.vault_arn,
            "inventoryDate": self.inventory_date,
            "archives": archives,
        })
    }
}
