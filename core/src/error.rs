//! The one error type of the crate.

use core::fmt;

use crate::head::HeaderField;
use crate::range::ByteRange;
use crate::tree::Digest;
use crate::verify::HashSource;

/// Everything that can go wrong, each with its precise cause.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    // --- digests and tree hashes -------------------------------------------
    /// Not exactly 64 hex digits.
    InvalidHexDigest,
    /// Input past 2⁶⁴−1 bytes (or a composition that would get there).
    InputTooLong,
    /// A subtree pushed of zero bytes.
    EmptySubtree,
    /// A subtree pushed while a leaf was half full: parts start on whole MiB.
    SubtreeAfterPartialLeaf,
    /// A non-final part that is not a power-of-two number of MiB (docs/protocol.md §4.2).
    SubtreeNotPowerOfTwo,
    /// A part that does not start on a multiple of its own (rounded-up) size,
    /// so its tree is not a node of the whole tree (docs/protocol.md §4.2, §4.3).
    SubtreeMisaligned,

    // --- ranges --------------------------------------------------------------
    /// A `Range` / `RetrievalByteRange` value that is not `bytes=a-b`, `bytes=a-` / `a-b`.
    InvalidRange,
    /// A range whose first byte is after its last.
    RangeStartAfterEnd,
    /// A range bound that does not fit in 64 bits.
    RangeOverflow,
    /// A range outside the output (Glacier answers 400, docs/protocol.md §1).
    RangeNotSatisfiable,
    /// A `Content-Range` value that is not `bytes a-b/total` with `a <= b < total`.
    InvalidContentRange,

    // --- response heads ------------------------------------------------------
    /// The status line is not `HTTP/x.y NNN reason`.
    InvalidStatusLine,
    /// A header name that is not an RFC 9110 token, or a malformed header line.
    InvalidHeaderName,
    /// A header value with control characters or a stray CR.
    InvalidHeaderValue,
    /// A header line starting with a space or tab (RFC 9112 §5.2).
    ObsoleteLineFolding,
    /// A line ending in LF without CR.
    BareLineFeed,
    /// A head line longer than [`MAX_LINE_LEN`](crate::MAX_LINE_LEN).
    LineTooLong,
    /// A head longer than [`MAX_HEAD_LEN`](crate::MAX_HEAD_LEN) or than the buffer lent.
    HeadTooLarge,
    /// The stream ended inside the head.
    HeadIncomplete,
    /// `Content-Length` is not a decimal number that fits in 64 bits.
    InvalidContentLength,
    /// Two `Content-Length` values that differ.
    ConflictingContentLength,
    /// `x-amz-sha256-tree-hash` is not 64 hex digits.
    InvalidTreeHashHeader,
    /// `x-amz-archive-description` is not printable ASCII of at most 1024 characters.
    InvalidArchiveDescription,
    /// Non-ASCII bytes in a header that must be ASCII.
    NonAsciiHeader(HeaderField),
    /// The same header twice with different values.
    DuplicateHeader(HeaderField),
    /// `Transfer-Encoding` together with `Content-Length` (RFC 9112 §6.1).
    TransferEncodingWithContentLength,

    // --- error bodies --------------------------------------------------------
    /// An error body that is not a JSON object with a `code` (docs/protocol.md §3).
    InvalidErrorBody,

    // --- verification --------------------------------------------------------
    /// An expectation that contradicts itself (e.g. an output length other
    /// than the retrieval range's).
    InvalidExpectation,
    /// A status other than 200/206.
    UnexpectedStatus(u16),
    /// 200 with the whole output to a request for a part: the server ignored
    /// `Range` (docs/protocol.md §1, §11). The bytes are not the range asked for.
    RangeIgnored {
        /// Length of the whole output the server sent instead.
        content_length: u64,
    },
    /// 206 without `Content-Range`.
    MissingContentRange,
    /// `Content-Range` does not name the requested bytes.
    ContentRangeMismatch {
        /// First byte asked for.
        requested_first: u64,
        /// Last byte asked for.
        requested_last: u64,
        /// What the server said it sent.
        received: ByteRange,
    },
    /// No `Content-Length`: the size cannot be checked.
    MissingContentLength,
    /// `Content-Length` other than the expected size.
    ContentLengthMismatch {
        /// Bytes expected.
        expected: u64,
        /// `Content-Length` received.
        received: u64,
    },
    /// More body bytes than `Content-Length`.
    BodyTooLong {
        /// The announced length.
        content_length: u64,
    },
    /// The body ended before `Content-Length` bytes.
    BodyTooShort {
        /// The announced length.
        content_length: u64,
        /// Bytes that arrived.
        received: u64,
    },
    /// The computed tree hash differs from a stated one.
    TreeHashMismatch {
        /// Which hash it was compared with.
        source: HashSource,
        /// Tree hash of the bytes received.
        computed: Digest,
        /// The hash they should have had.
        expected: Digest,
    },
    /// `x-amz-sha256-tree-hash` missing where docs/protocol.md §2.3 says Glacier sends
    /// it, and no expected hash to check against instead (docs/protocol.md §9.3).
    TreeHashHeaderMissing,
    /// The pieces of an [`Assembly`](crate::Assembly) do not add up to the
    /// output's expected length.
    OutputLengthMismatch {
        /// Bytes the output should have.
        expected: u64,
        /// Bytes the pieces cover.
        assembled: u64,
    },
    /// More than [`MAX_EXPECTED`](crate::MAX_EXPECTED) expected hashes.
    TooManyExpectedHashes,
    /// [`Verifier::on_head`](crate::Verifier::on_head) called twice.
    HeadAlreadySeen,
    /// Body bytes or `finish` before the head.
    BodyBeforeHead,
    /// A zero-length buffer was lent.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidHexDigest => f.write_str("not a SHA-256 digest: expected exactly 64 hex digits"),
            Error::InputTooLong => f.write_str("input longer than 2^64-1 bytes"),
            Error::EmptySubtree => f.write_str("a tree-hash part of zero bytes"),
            Error::SubtreeAfterPartialLeaf => {
                f.write_str("a tree-hash part must start on a whole MiB of the input")
            }
            Error::SubtreeNotPowerOfTwo => {
                f.write_str("only the last tree-hash part may be other than a power-of-two number of MiB")
            }
            Error::SubtreeMisaligned => f.write_str(
                "tree-hash part does not start on a multiple of its size: its hash is not a node of the whole tree",
            ),
            Error::InvalidRange => f.write_str("malformed range: expected bytes=FIRST-LAST or bytes=FIRST-"),
            Error::RangeStartAfterEnd => f.write_str("range starts after it ends"),
            Error::RangeOverflow => f.write_str("range bound does not fit in 64 bits"),
            Error::RangeNotSatisfiable => f.write_str("range lies outside the job output"),
            Error::InvalidContentRange => {
                f.write_str("malformed Content-Range: expected bytes FIRST-LAST/TOTAL with FIRST <= LAST < TOTAL")
            }
            Error::InvalidStatusLine => f.write_str("malformed HTTP status line"),
            Error::InvalidHeaderName => f.write_str("malformed header line or header name"),
            Error::InvalidHeaderValue => f.write_str("header value contains control characters"),
            Error::ObsoleteLineFolding => f.write_str("obsolete header line folding is not accepted"),
            Error::BareLineFeed => f.write_str("head line ends in LF without CR"),
            Error::LineTooLong => f.write_str("head line too long"),
            Error::HeadTooLarge => f.write_str("response head too large"),
            Error::HeadIncomplete => f.write_str("stream ended inside the response head"),
            Error::InvalidContentLength => f.write_str("malformed Content-Length"),
            Error::ConflictingContentLength => f.write_str("conflicting Content-Length values"),
            Error::InvalidTreeHashHeader => {
                f.write_str("malformed x-amz-sha256-tree-hash: expected 64 hex digits")
            }
            Error::InvalidArchiveDescription => f.write_str(
                "malformed x-amz-archive-description: expected at most 1024 printable ASCII characters",
            ),
            Error::NonAsciiHeader(h) => write!(f, "non-ASCII bytes in {}", h.name()),
            Error::DuplicateHeader(h) => write!(f, "{} given twice with different values", h.name()),
            Error::TransferEncodingWithContentLength => {
                f.write_str("both Transfer-Encoding and Content-Length present")
            }
            Error::InvalidErrorBody => f.write_str("error body is not a Glacier JSON error"),
            Error::InvalidExpectation => f.write_str("inconsistent expectation"),
            Error::UnexpectedStatus(s) => write!(f, "unexpected HTTP status {s}"),
            Error::RangeIgnored { content_length } => write!(
                f,
                "server ignored the Range header and sent the whole output ({content_length} bytes) with 200"
            ),
            Error::MissingContentRange => f.write_str("206 response without Content-Range"),
            Error::ContentRangeMismatch {
                requested_first,
                requested_last,
                received,
            } => write!(
                f,
                "Content-Range bytes {received} does not match the requested bytes {requested_first}-{requested_last}"
            ),
            Error::MissingContentLength => f.write_str("response without Content-Length"),
            Error::ContentLengthMismatch { expected, received } => {
                write!(f, "Content-Length {received} differs from the expected {expected} bytes")
            }
            Error::BodyTooLong { content_length } => {
                write!(f, "body longer than its Content-Length of {content_length} bytes")
            }
            Error::BodyTooShort {
                content_length,
                received,
            } => write!(
                f,
                "body ended after {received} of {content_length} bytes"
            ),
            Error::TreeHashMismatch {
                source,
                computed,
                expected,
            } => {
                if *source == HashSource::Header {
                    write!(f, "tree hash mismatch: computed {computed}, x-amz-sha256-tree-hash {expected}")
                } else {
                    write!(
                        f,
                        "tree hash mismatch: computed {computed}, expected tree hash {expected} (from {source})"
                    )
                }
            }
            Error::TreeHashHeaderMissing => f.write_str(
                "x-amz-sha256-tree-hash missing although the ranges are tree-hash aligned, and no expected hash to check instead",
            ),
            Error::OutputLengthMismatch { expected, assembled } => write!(
                f,
                "the downloaded pieces cover {assembled} bytes of an output of {expected}"
            ),
            Error::TooManyExpectedHashes => f.write_str("too many expected tree hashes"),
            Error::HeadAlreadySeen => f.write_str("response head given twice"),
            Error::BodyBeforeHead => f.write_str("body before response head"),
            Error::BufferTooSmall => f.write_str("buffer too small"),
        }
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Error::InputTooLong | Error::BodyTooLong { .. } => embedded_io::ErrorKind::OutOfMemory,
            Error::BufferTooSmall => embedded_io::ErrorKind::InvalidInput,
            _ => embedded_io::ErrorKind::InvalidData,
        }
    }
}
