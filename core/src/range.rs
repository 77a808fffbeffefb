//! Byte ranges: the `Range` request header, `Content-Range`, DescribeJob's
//! `RetrievalByteRange`, and the megabyte / tree-hash alignment rules that
//! decide when Glacier sends `x-amz-sha256-tree-hash` (docs/protocol.md §1, §2.2, §2.3, §4.3).
//!
//! Every parser is strict: one form, no spaces where the grammar has none,
//! decimal digits only, no overflow, `first <= last`. Glacier silently ignores
//! a malformed `Range` (docs/protocol.md §1: boto3#2077, boto3#300), so we never send one.

use core::fmt;

use nom::{
    IResult, Parser,
    bytes::complete::tag,
    character::complete::{char, digit1},
    combinator::{all_consuming, map, opt},
};

use crate::Error;
use crate::tree::LEAF_SIZE;

/// An inclusive byte range `[first, last]`, as HTTP writes them.
///
/// Invariant: `first <= last < u64::MAX`, so [`len`](Self::len) always fits.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ByteRange {
    first: u64,
    last: u64,
}

impl ByteRange {
    /// `[first, last]`; [`Error::RangeStartAfterEnd`] when `first > last`,
    /// [`Error::RangeOverflow`] when `last == u64::MAX` (its length would not fit).
    pub const fn new(first: u64, last: u64) -> Result<Self, Error> {
        if first > last {
            return Err(Error::RangeStartAfterEnd);
        }
        if last == u64::MAX {
            return Err(Error::RangeOverflow);
        }
        Ok(ByteRange { first, last })
    }

    /// The whole of an output of `len` bytes, `[0, len-1]`; `None` for `len == 0`.
    pub const fn whole(len: u64) -> Option<Self> {
        match len.checked_sub(1) {
            Some(last) => Some(ByteRange { first: 0, last }),
            None => None,
        }
    }

    /// First byte offset.
    pub const fn first(&self) -> u64 {
        self.first
    }

    /// Last byte offset (inclusive).
    pub const fn last(&self) -> u64 {
        self.last
    }

    /// Number of bytes, `last - first + 1`.
    pub const fn len(&self) -> u64 {
        // Invariant first <= last < u64::MAX: neither step wraps.
        self.last.wrapping_sub(self.first).wrapping_add(1)
    }

    /// A range is never empty; provided for API symmetry with `len`.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        // Invariant last < u64::MAX.
        self.last.wrapping_add(1)
    }

    /// This range shifted by `offset`: a range relative to a job's output
    /// made absolute in the archive (docs/protocol.md §1: ranges are relative to the
    /// retrieved data).
    pub fn offset_by(&self, offset: u64) -> Result<Self, Error> {
        let first = self.first.checked_add(offset).ok_or(Error::RangeOverflow)?;
        let last = self.last.checked_add(offset).ok_or(Error::RangeOverflow)?;
        ByteRange::new(first, last)
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// What a `Range` request header asks for (docs/protocol.md §1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RangeRequest {
    /// `bytes=first-last`.
    Closed(ByteRange),
    /// `bytes=first-`: from `first` to the end of the output (the .NET SDK's
    /// resume form, docs/protocol.md §1).
    From(u64),
}

impl RangeRequest {
    /// Parses a `Range` header value: `bytes=a-b` or `bytes=a-`. Suffix
    /// (`bytes=-n`) and multi-range forms are undocumented for Glacier
    /// (docs/protocol.md §1) and rejected, as are spaces, signs and overflow.
    ///
    /// ```
    /// use glacier_verify_core::{ByteRange, RangeRequest};
    /// assert_eq!(RangeRequest::parse(b"bytes=0-1048575").unwrap(),
    ///            RangeRequest::Closed(ByteRange::new(0, 1048575).unwrap()));
    /// assert!(RangeRequest::parse(b"bytes 0-1048575").is_err());
    /// ```
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        let (_, (first, last)) = all_consuming((tag("bytes="), number, char('-'), opt(number)))
            .map(|(_, a, _, b)| (a, b))
            .parse(value)
            .map_err(|_| Error::InvalidRange)?;
        let first = first.ok_or(Error::RangeOverflow)?;
        match last {
            Some(last) => Ok(RangeRequest::Closed(ByteRange::new(
                first,
                last.ok_or(Error::RangeOverflow)?,
            )?)),
            None => Ok(RangeRequest::From(first)),
        }
    }

    /// First byte asked for.
    pub fn first(&self) -> u64 {
        match self {
            RangeRequest::Closed(r) => r.first(),
            RangeRequest::From(first) => *first,
        }
    }

    /// The concrete range within an output of `output_len` bytes.
    /// A start at or past the end is [`Error::RangeNotSatisfiable`] (Glacier
    /// answers it with 400, docs/protocol.md §1); an end past the output is too — we always
    /// send exact ranges (docs/protocol.md §10.6).
    pub fn resolve(&self, output_len: u64) -> Result<ByteRange, Error> {
        let (first, last) = match *self {
            RangeRequest::Closed(r) => (r.first(), r.last()),
            RangeRequest::From(first) => (first, output_len.saturating_sub(1)),
        };
        if first >= output_len || last >= output_len {
            return Err(Error::RangeNotSatisfiable);
        }
        ByteRange::new(first, last)
    }
}

impl fmt::Display for RangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeRequest::Closed(r) => write!(f, "bytes={r}"),
            RangeRequest::From(first) => write!(f, "bytes={first}-"),
        }
    }
}

/// A `Content-Range: bytes first-last/total` response header (docs/protocol.md §2.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ContentRange {
    /// The bytes this response carries.
    pub range: ByteRange,
    /// Size of the whole job output.
    pub total: u64,
}

impl ContentRange {
    /// Parses `bytes first-last/total` (one space after `bytes`, as RFC 9110
    /// and Glacier write it). The unsatisfied form `bytes */total`, an
    /// unknown total `*`, `last >= total`, and anything else are errors.
    ///
    /// ```
    /// use glacier_verify_core::ContentRange;
    /// let cr = ContentRange::parse(b"bytes 0-1048575/8388608").unwrap();
    /// assert_eq!((cr.range.first(), cr.range.last(), cr.total), (0, 1048575, 8388608));
    /// ```
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        let (_, (first, last, total)) =
            all_consuming((tag("bytes "), number, char('-'), number, char('/'), number))
                .map(|(_, a, _, b, _, t)| (a, b, t))
                .parse(value)
                .map_err(|_| Error::InvalidContentRange)?;
        let (Some(first), Some(last), Some(total)) = (first, last, total) else {
            return Err(Error::InvalidContentRange);
        };
        let range = ByteRange::new(first, last).map_err(|_| Error::InvalidContentRange)?;
        if last >= total {
            return Err(Error::InvalidContentRange);
        }
        Ok(ContentRange { range, total })
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}/{}", self.range, self.total)
    }
}

/// Parses DescribeJob's / InitiateJob's `RetrievalByteRange`:
/// `"StartByteValue-EndByteValue"`, inclusive, no `bytes=` prefix (docs/protocol.md §4.3, §5.1).
pub fn parse_retrieval_byte_range(value: &[u8]) -> Result<ByteRange, Error> {
    let (_, (first, last)) = all_consuming((number, char('-'), number))
        .map(|(a, _, b)| (a, b))
        .parse(value)
        .map_err(|_| Error::InvalidRange)?;
    ByteRange::new(
        first.ok_or(Error::RangeOverflow)?,
        last.ok_or(Error::RangeOverflow)?,
    )
}

/// Decimal digits into a `u64`; `None` when the value does not fit in 64
/// bits, so callers can say [`Error::RangeOverflow`] rather than "malformed".
/// Leading zeros are accepted as RFC 9110's `1*DIGIT` allows.
fn number(input: &[u8]) -> IResult<&[u8], Option<u64>> {
    map(digit1, |digits: &[u8]| {
        digits.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d.wrapping_sub(b'0'))))
        })
    })
    .parse(input)
}

/// Megabyte alignment (docs/protocol.md §4.3, DG-RANGE): `first` divisible by 1 MiB and
/// `last + 1` divisible by 1 MiB or equal to `size` (the end of the data).
/// InitiateJob requires it of a `RetrievalByteRange`.
pub fn is_megabyte_aligned(range: ByteRange, size: u64) -> bool {
    range.first().is_multiple_of(LEAF_SIZE)
        && range.last() < size
        && (range.end().is_multiple_of(LEAF_SIZE) || range.end() == size)
}

/// Tree-hash alignment of `range` within data of `size` bytes (docs/protocol.md §4.3,
/// "Precise condition"): the root of the tree over the range is a node of
/// the tree over the whole data, that is
/// `first` is a multiple of `M·2^k` and `last + 1 = min(first + M·2^k, size)`
/// for some `k ≥ 0`, with `M` = 1 MiB.
///
/// ```
/// use glacier_verify_core::{ByteRange, is_tree_hash_aligned};
/// const MIB: u64 = 1 << 20;
/// let size = 6 * MIB + MIB / 2; // the 6.5 MB example of DG-RANGE
/// assert!(is_tree_hash_aligned(ByteRange::new(2 * MIB, 4 * MIB - 1).unwrap(), size));
/// assert!(!is_tree_hash_aligned(ByteRange::new(MIB, 3 * MIB - 1).unwrap(), size));
/// assert!(is_tree_hash_aligned(ByteRange::new(4 * MIB, size - 1).unwrap(), size));
/// ```
pub fn is_tree_hash_aligned(range: ByteRange, size: u64) -> bool {
    is_tree_hash_aligned_with_leaf(range, size, LEAF_SIZE)
}

/// [`is_tree_hash_aligned`] with another leaf size (a power of two): the
/// rule is leaf-size agnostic, which lets tests check it exhaustively against
/// the definition with small leaves (docs/protocol.md §4.3 "VERIFIED").
pub fn is_tree_hash_aligned_with_leaf(range: ByteRange, size: u64, leaf: u64) -> bool {
    if leaf == 0 || range.last() >= size || !range.first().is_multiple_of(leaf) {
        return false;
    }
    let len = range.len();
    if range.end() < size {
        // Interior range: a full perfect subtree, 2^k leaves, aligned to its size.
        len.is_multiple_of(leaf)
            && len.checked_div(leaf).is_some_and(u64::is_power_of_two)
            && range.first().is_multiple_of(len)
    } else {
        // Range to the end: the smallest subtree size that covers it must
        // divide the start.
        let leaves = len.div_ceil(leaf);
        match leaves
            .checked_next_power_of_two()
            .and_then(|p| p.checked_mul(leaf))
        {
            Some(block) => range.first().is_multiple_of(block),
            None => false,
        }
    }
}

/// What kind of job produced the output (docs/protocol.md §5.1 `Action`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JobKind {
    /// `ArchiveRetrieval`: `archive_size` is DescribeJob's `ArchiveSizeInBytes`
    /// (the whole archive, even for ranged retrievals) and `retrieval` its
    /// `RetrievalByteRange` (the whole archive when none was given).
    Archive {
        /// Size of the whole archive in bytes.
        archive_size: u64,
        /// The retrieved part of the archive, absolute.
        retrieval: ByteRange,
    },
    /// `InventoryRetrieval`: a tree hash is verified if present, never required
    /// (docs/protocol.md §2.3(c), §10.2).
    Inventory,
    /// Nothing is known about the job (offline checks): a tree hash header
    /// is verified if present, never required.
    Unknown,
}

/// Whether a GetJobOutput response for `download` (relative to the job
/// output) must carry `x-amz-sha256-tree-hash` (docs/protocol.md §2.3 "Formal rule"):
/// an archive job whose retrieval range is tree-hash aligned in the archive,
/// and a download range that, made absolute, is tree-hash aligned too.
pub fn tree_hash_header_expected(job: JobKind, download: ByteRange) -> bool {
    match job {
        JobKind::Archive {
            archive_size,
            retrieval,
        } => {
            is_tree_hash_aligned(retrieval, archive_size)
                && download.last() < retrieval.len()
                && download
                    .offset_by(retrieval.first())
                    .is_ok_and(|abs| is_tree_hash_aligned(abs, archive_size))
        }
        JobKind::Inventory | JobKind::Unknown => false,
    }
}
