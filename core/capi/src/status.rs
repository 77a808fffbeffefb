//! `gv_status`: one value per failure of the core, a few for misuse of the
//! C interface, and `gv_status_str`.

use core::ffi::{CStr, c_char};

use glacier_verify_core::{Error, HashSource};

/// What a call concluded. `GV_OK` (0) is success; every other value names
/// one failure. Values 1–99 are the core's failures, one per kind of its
/// `Error` (two for a tree-hash mismatch: against the header or against
/// the expected hash); 100 and up are misuse of this interface. The numbers
/// are part of the ABI and never reused.
///
/// In C before C23 `gv_status` is a `uint32_t`, so any value can reach
/// `gv_status_str`; the functions of this library return only the values
/// listed here.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum gv_status {
    /// Success.
    GV_OK = 0,

    // --- digests and tree hashes (docs/protocol.md §4) ---------------------
    /// Not exactly 64 hex digits.
    GV_INVALID_HEX_DIGEST = 1,
    /// Input past 2^64-1 bytes.
    GV_INPUT_TOO_LONG = 2,
    /// A subtree of zero bytes.
    GV_EMPTY_SUBTREE = 3,
    /// A subtree pushed while a leaf was half full.
    GV_SUBTREE_AFTER_PARTIAL_LEAF = 4,
    /// A non-final part that is not a power-of-two number of MiB.
    GV_SUBTREE_NOT_POWER_OF_TWO = 5,
    /// A part that does not start on a multiple of its size.
    GV_SUBTREE_MISALIGNED = 6,

    // --- ranges (docs/protocol.md §1, §4.3) ---------------------------------
    /// A range value that is not `bytes=a-b` or `bytes=a-`.
    GV_INVALID_RANGE = 7,
    /// A range whose first byte is after its last: `range_first` >
    /// `range_last`, or `retrieval_first` > `retrieval_last`.
    GV_RANGE_START_AFTER_END = 8,
    /// A range bound that does not fit in 64 bits (a `retrieval_last` of
    /// `UINT64_MAX`).
    GV_RANGE_OVERFLOW = 9,
    /// A range outside the output.
    GV_RANGE_NOT_SATISFIABLE = 10,
    /// A `Content-Range` that is not `bytes a-b/total` with `a <= b < total`.
    GV_INVALID_CONTENT_RANGE = 11,

    // --- response heads (docs/protocol.md §2) --------------------------------
    /// The status line is not `HTTP/x.y NNN reason`.
    GV_INVALID_STATUS_LINE = 12,
    /// A malformed header line or header name.
    GV_INVALID_HEADER_NAME = 13,
    /// A header value with control characters or a stray CR.
    GV_INVALID_HEADER_VALUE = 14,
    /// A header line starting with a space or tab (obsolete line folding).
    GV_OBSOLETE_LINE_FOLDING = 15,
    /// A line ending in LF without CR.
    GV_BARE_LINE_FEED = 16,
    /// A head line too long.
    GV_LINE_TOO_LONG = 17,
    /// A head longer than `GV_HEAD_MAX` bytes.
    GV_HEAD_TOO_LARGE = 18,
    /// The response ended inside the head.
    GV_HEAD_INCOMPLETE = 19,
    /// `Content-Length` is not a decimal number that fits in 64 bits.
    GV_INVALID_CONTENT_LENGTH = 20,
    /// Two `Content-Length` values that differ.
    GV_CONFLICTING_CONTENT_LENGTH = 21,
    /// `x-amz-sha256-tree-hash` is not 64 hex digits.
    GV_INVALID_TREE_HASH_HEADER = 22,
    /// `x-amz-archive-description` is not printable ASCII of at most 1024 characters.
    GV_INVALID_ARCHIVE_DESCRIPTION = 23,
    /// Non-ASCII bytes in a header that must be ASCII.
    GV_NON_ASCII_HEADER = 24,
    /// The same interpreted header twice with different values.
    GV_DUPLICATE_HEADER = 25,
    /// `Transfer-Encoding` together with `Content-Length`.
    GV_TRANSFER_ENCODING_WITH_CONTENT_LENGTH = 26,

    // --- error bodies (docs/protocol.md §3) ----------------------------------
    /// An error body that is not a Glacier JSON error.
    GV_INVALID_ERROR_BODY = 27,

    // --- verification (docs/protocol.md §9) ----------------------------------
    /// An expectation that contradicts itself (an `output_len` other than
    /// the retrieval range's length, a retrieval range past `archive_size`).
    GV_INVALID_EXPECTATION = 28,
    /// A status other than 200 or 206 (a Glacier error response, a redirect).
    GV_UNEXPECTED_STATUS = 29,
    /// 200 with the whole output to a request for a part: the server ignored `Range`.
    GV_RANGE_IGNORED = 30,
    /// 206 without `Content-Range`.
    GV_MISSING_CONTENT_RANGE = 31,
    /// `Content-Range` does not name the requested bytes.
    GV_CONTENT_RANGE_MISMATCH = 32,
    /// No `Content-Length`.
    GV_MISSING_CONTENT_LENGTH = 33,
    /// `Content-Length` other than the expected size.
    GV_CONTENT_LENGTH_MISMATCH = 34,
    /// More body bytes than `Content-Length` (the excess is not hashed).
    GV_BODY_TOO_LONG = 35,
    /// The body ended before `Content-Length` bytes.
    GV_BODY_TOO_SHORT = 36,
    /// The body's tree hash differs from its `x-amz-sha256-tree-hash`:
    /// damaged on the way, worth downloading again.
    GV_TREE_HASH_MISMATCH = 37,
    /// `x-amz-sha256-tree-hash` missing where Glacier sends it
    /// (docs/protocol.md §2.3), and no expected tree hash to check instead.
    GV_TREE_HASH_HEADER_MISSING = 38,
    /// The pieces of an output do not add up to its length.
    GV_OUTPUT_LENGTH_MISMATCH = 39,
    /// Too many expected hashes.
    GV_TOO_MANY_EXPECTED_HASHES = 40,
    /// A response head given twice.
    GV_HEAD_ALREADY_SEEN = 41,
    /// Body bytes or an end before the head.
    GV_BODY_BEFORE_HEAD = 42,
    /// A zero-length buffer.
    GV_BUFFER_TOO_SMALL = 43,
    /// The body's tree hash differs from the expectation's `tree_hash`
    /// (the second status of the core's one tree-hash mismatch, told apart
    /// because it asks for another reaction: when the header matched, the
    /// service holds other bytes than expected and downloading again cannot
    /// help).
    GV_EXPECTED_TREE_HASH_MISMATCH = 44,

    // --- misuse of this interface ---------------------------------------------
    /// A pointer that must not be NULL was NULL.
    GV_NULL_POINTER = 100,
    /// A `gv_tree_hasher` or `gv_verifier` not aligned to its
    /// `GV_*_ALIGN`, or a `gv_expectation` or `gv_verdict` not aligned for
    /// its type.
    GV_MISALIGNED = 101,
    /// A value no argument may have: a `gv_job_kind` outside the enum, a
    /// `bool` byte other than 0 or 1, a length that runs past the end of the
    /// address space, or input bytes that overlap the state being updated.
    GV_INVALID_ARGUMENT = 102,
    /// A `gv_tree_hasher` or `gv_verifier` that its `_init` function has
    /// not set up (or whose `_init` failed).
    GV_NOT_INITIALIZED = 103,
    /// A `gv_tree_hasher` or `gv_verifier` after its `_finish`: call
    /// `_init` again to reuse the storage.
    GV_ALREADY_FINISHED = 104,
    /// A failure of a newer core that this interface has no status for.
    /// No build of this crate returns it while its tests pass.
    GV_UNKNOWN_ERROR = 105,
}

use gv_status::*;

/// Every status, in value order (for the tests and `gv_status_str`).
pub(crate) const ALL: [gv_status; 51] = [
    GV_OK,
    GV_INVALID_HEX_DIGEST,
    GV_INPUT_TOO_LONG,
    GV_EMPTY_SUBTREE,
    GV_SUBTREE_AFTER_PARTIAL_LEAF,
    GV_SUBTREE_NOT_POWER_OF_TWO,
    GV_SUBTREE_MISALIGNED,
    GV_INVALID_RANGE,
    GV_RANGE_START_AFTER_END,
    GV_RANGE_OVERFLOW,
    GV_RANGE_NOT_SATISFIABLE,
    GV_INVALID_CONTENT_RANGE,
    GV_INVALID_STATUS_LINE,
    GV_INVALID_HEADER_NAME,
    GV_INVALID_HEADER_VALUE,
    GV_OBSOLETE_LINE_FOLDING,
    GV_BARE_LINE_FEED,
    GV_LINE_TOO_LONG,
    GV_HEAD_TOO_LARGE,
    GV_HEAD_INCOMPLETE,
    GV_INVALID_CONTENT_LENGTH,
    GV_CONFLICTING_CONTENT_LENGTH,
    GV_INVALID_TREE_HASH_HEADER,
    GV_INVALID_ARCHIVE_DESCRIPTION,
    GV_NON_ASCII_HEADER,
    GV_DUPLICATE_HEADER,
    GV_TRANSFER_ENCODING_WITH_CONTENT_LENGTH,
    GV_INVALID_ERROR_BODY,
    GV_INVALID_EXPECTATION,
    GV_UNEXPECTED_STATUS,
    GV_RANGE_IGNORED,
    GV_MISSING_CONTENT_RANGE,
    GV_CONTENT_RANGE_MISMATCH,
    GV_MISSING_CONTENT_LENGTH,
    GV_CONTENT_LENGTH_MISMATCH,
    GV_BODY_TOO_LONG,
    GV_BODY_TOO_SHORT,
    GV_TREE_HASH_MISMATCH,
    GV_TREE_HASH_HEADER_MISSING,
    GV_OUTPUT_LENGTH_MISMATCH,
    GV_TOO_MANY_EXPECTED_HASHES,
    GV_HEAD_ALREADY_SEEN,
    GV_BODY_BEFORE_HEAD,
    GV_BUFFER_TOO_SMALL,
    GV_EXPECTED_TREE_HASH_MISMATCH,
    GV_NULL_POINTER,
    GV_MISALIGNED,
    GV_INVALID_ARGUMENT,
    GV_NOT_INITIALIZED,
    GV_ALREADY_FINISHED,
    GV_UNKNOWN_ERROR,
];

impl From<Error> for gv_status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidHexDigest => GV_INVALID_HEX_DIGEST,
            Error::InputTooLong => GV_INPUT_TOO_LONG,
            Error::EmptySubtree => GV_EMPTY_SUBTREE,
            Error::SubtreeAfterPartialLeaf => GV_SUBTREE_AFTER_PARTIAL_LEAF,
            Error::SubtreeNotPowerOfTwo => GV_SUBTREE_NOT_POWER_OF_TWO,
            Error::SubtreeMisaligned => GV_SUBTREE_MISALIGNED,
            Error::InvalidRange => GV_INVALID_RANGE,
            Error::RangeStartAfterEnd => GV_RANGE_START_AFTER_END,
            Error::RangeOverflow => GV_RANGE_OVERFLOW,
            Error::RangeNotSatisfiable => GV_RANGE_NOT_SATISFIABLE,
            Error::InvalidContentRange => GV_INVALID_CONTENT_RANGE,
            Error::InvalidStatusLine => GV_INVALID_STATUS_LINE,
            Error::InvalidHeaderName => GV_INVALID_HEADER_NAME,
            Error::InvalidHeaderValue => GV_INVALID_HEADER_VALUE,
            Error::ObsoleteLineFolding => GV_OBSOLETE_LINE_FOLDING,
            Error::BareLineFeed => GV_BARE_LINE_FEED,
            Error::LineTooLong => GV_LINE_TOO_LONG,
            Error::HeadTooLarge => GV_HEAD_TOO_LARGE,
            Error::HeadIncomplete => GV_HEAD_INCOMPLETE,
            Error::InvalidContentLength => GV_INVALID_CONTENT_LENGTH,
            Error::ConflictingContentLength => GV_CONFLICTING_CONTENT_LENGTH,
            Error::InvalidTreeHashHeader => GV_INVALID_TREE_HASH_HEADER,
            Error::InvalidArchiveDescription => GV_INVALID_ARCHIVE_DESCRIPTION,
            Error::NonAsciiHeader(_) => GV_NON_ASCII_HEADER,
            Error::DuplicateHeader(_) => GV_DUPLICATE_HEADER,
            Error::TransferEncodingWithContentLength => GV_TRANSFER_ENCODING_WITH_CONTENT_LENGTH,
            Error::InvalidErrorBody => GV_INVALID_ERROR_BODY,
            Error::InvalidExpectation => GV_INVALID_EXPECTATION,
            Error::UnexpectedStatus(_) => GV_UNEXPECTED_STATUS,
            Error::RangeIgnored { .. } => GV_RANGE_IGNORED,
            Error::MissingContentRange => GV_MISSING_CONTENT_RANGE,
            Error::ContentRangeMismatch { .. } => GV_CONTENT_RANGE_MISMATCH,
            Error::MissingContentLength => GV_MISSING_CONTENT_LENGTH,
            Error::ContentLengthMismatch { .. } => GV_CONTENT_LENGTH_MISMATCH,
            Error::BodyTooLong { .. } => GV_BODY_TOO_LONG,
            Error::BodyTooShort { .. } => GV_BODY_TOO_SHORT,
            Error::TreeHashMismatch {
                source: HashSource::Header,
                ..
            } => GV_TREE_HASH_MISMATCH,
            Error::TreeHashMismatch { .. } => GV_EXPECTED_TREE_HASH_MISMATCH,
            Error::TreeHashHeaderMissing => GV_TREE_HASH_HEADER_MISSING,
            Error::OutputLengthMismatch { .. } => GV_OUTPUT_LENGTH_MISMATCH,
            Error::TooManyExpectedHashes => GV_TOO_MANY_EXPECTED_HASHES,
            Error::HeadAlreadySeen => GV_HEAD_ALREADY_SEEN,
            Error::BodyBeforeHead => GV_BODY_BEFORE_HEAD,
            Error::BufferTooSmall => GV_BUFFER_TOO_SMALL,
            // `Error` is non-exhaustive: a newer core may add kinds.
            _ => GV_UNKNOWN_ERROR,
        }
    }
}

impl gv_status {
    /// The status of a core result.
    pub(crate) fn of(result: Result<(), Error>) -> Self {
        match result {
            Ok(()) => GV_OK,
            Err(e) => e.into(),
        }
    }

    /// The text `gv_status_str` gives.
    pub(crate) const fn text(self) -> &'static CStr {
        match self {
            GV_OK => c"ok",
            GV_INVALID_HEX_DIGEST => c"not a SHA-256 digest: expected exactly 64 hex digits",
            GV_INPUT_TOO_LONG => c"input longer than 2^64-1 bytes",
            GV_EMPTY_SUBTREE => c"a tree-hash part of zero bytes",
            GV_SUBTREE_AFTER_PARTIAL_LEAF => c"a tree-hash part must start on a whole MiB of the input",
            GV_SUBTREE_NOT_POWER_OF_TWO => {
                c"only the last tree-hash part may be other than a power-of-two number of MiB"
            }
            GV_SUBTREE_MISALIGNED => c"tree-hash part does not start on a multiple of its size",
            GV_INVALID_RANGE => c"malformed range: expected bytes=FIRST-LAST or bytes=FIRST-",
            GV_RANGE_START_AFTER_END => c"range starts after it ends",
            GV_RANGE_OVERFLOW => c"range bound does not fit in 64 bits",
            GV_RANGE_NOT_SATISFIABLE => c"range lies outside the job output",
            GV_INVALID_CONTENT_RANGE => {
                c"malformed Content-Range: expected bytes FIRST-LAST/TOTAL with FIRST <= LAST < TOTAL"
            }
            GV_INVALID_STATUS_LINE => c"malformed HTTP status line",
            GV_INVALID_HEADER_NAME => c"malformed header line or header name",
            GV_INVALID_HEADER_VALUE => c"header value contains control characters",
            GV_OBSOLETE_LINE_FOLDING => c"obsolete header line folding is not accepted",
            GV_BARE_LINE_FEED => c"head line ends in LF without CR",
            GV_LINE_TOO_LONG => c"head line too long",
            GV_HEAD_TOO_LARGE => c"response head too large",
            GV_HEAD_INCOMPLETE => c"response ended inside its head",
            GV_INVALID_CONTENT_LENGTH => c"malformed Content-Length",
            GV_CONFLICTING_CONTENT_LENGTH => c"conflicting Content-Length values",
            GV_INVALID_TREE_HASH_HEADER => {
                c"malformed x-amz-sha256-tree-hash: expected 64 hex digits"
            }
            GV_INVALID_ARCHIVE_DESCRIPTION => {
                c"malformed x-amz-archive-description: expected at most 1024 printable ASCII characters"
            }
            GV_NON_ASCII_HEADER => c"non-ASCII bytes in a header that must be ASCII",
            GV_DUPLICATE_HEADER => c"a header given twice with different values",
            GV_TRANSFER_ENCODING_WITH_CONTENT_LENGTH => {
                c"both Transfer-Encoding and Content-Length present"
            }
            GV_INVALID_ERROR_BODY => c"error body is not a Glacier JSON error",
            GV_INVALID_EXPECTATION => c"inconsistent expectation",
            GV_UNEXPECTED_STATUS => c"unexpected HTTP status (neither 200 nor 206)",
            GV_RANGE_IGNORED => {
                c"server ignored the Range header and sent the whole output with 200"
            }
            GV_MISSING_CONTENT_RANGE => c"206 response without Content-Range",
            GV_CONTENT_RANGE_MISMATCH => c"Content-Range does not match the requested bytes",
            GV_MISSING_CONTENT_LENGTH => c"response without Content-Length",
            GV_CONTENT_LENGTH_MISMATCH => c"Content-Length differs from the expected size",
            GV_BODY_TOO_LONG => c"body longer than its Content-Length",
            GV_BODY_TOO_SHORT => c"body ended before its Content-Length",
            GV_TREE_HASH_MISMATCH => {
                c"tree hash mismatch: the body does not match its x-amz-sha256-tree-hash"
            }
            GV_TREE_HASH_HEADER_MISSING => {
                c"x-amz-sha256-tree-hash missing although the ranges are tree-hash aligned, and no expected hash to check instead"
            }
            GV_OUTPUT_LENGTH_MISMATCH => c"the pieces do not cover the output's length",
            GV_TOO_MANY_EXPECTED_HASHES => c"too many expected tree hashes",
            GV_HEAD_ALREADY_SEEN => c"response head given twice",
            GV_BODY_BEFORE_HEAD => c"body before response head",
            GV_BUFFER_TOO_SMALL => c"buffer too small",
            GV_EXPECTED_TREE_HASH_MISMATCH => {
                c"tree hash mismatch: the body does not match the expected tree hash"
            }
            GV_NULL_POINTER => c"a required pointer is NULL",
            GV_MISALIGNED => c"state or struct pointer not aligned as the header states",
            GV_INVALID_ARGUMENT => c"invalid argument value",
            GV_NOT_INITIALIZED => c"state not initialised by its _init function",
            GV_ALREADY_FINISHED => c"state already finished: call _init to reuse it",
            GV_UNKNOWN_ERROR => c"a failure this version of the C interface has no status for",
        }
    }
}

/// The text of a status: a NUL-terminated, static, lower-case English
/// phrase; never NULL. A value that is no `gv_status` gives
/// "unknown status".
#[unsafe(no_mangle)]
pub extern "C" fn gv_status_str(status: gv_status_value) -> *const c_char {
    text_of(status).as_ptr()
}

/// The text of any value C may pass as a status.
fn text_of(status: gv_status_value) -> &'static CStr {
    ALL.iter()
        .find(|s| **s as u32 == status)
        .map_or(c"unknown status", |s| s.text())
}

/// A `gv_status` as C hands it over: any `uint32_t` (the header names it
/// `gv_status`, the same C type), so that no value C passes is undefined
/// behaviour on this side.
pub type gv_status_value = u32;

#[cfg(test)]
mod tests {
    use super::*;
    use glacier_verify_core::{ByteRange, Digest, HeaderField};

    /// Every kind of the core's `Error`, one value each (both tree-hash
    /// sources the verifier reports).
    fn every_core_error() -> [Error; 44] {
        let d = Digest([0; 32]);
        let r = ByteRange::new(0, 1).unwrap();
        let mismatch = |source| Error::TreeHashMismatch {
            source,
            computed: d,
            expected: d,
        };
        [
            Error::InvalidHexDigest,
            Error::InputTooLong,
            Error::EmptySubtree,
            Error::SubtreeAfterPartialLeaf,
            Error::SubtreeNotPowerOfTwo,
            Error::SubtreeMisaligned,
            Error::InvalidRange,
            Error::RangeStartAfterEnd,
            Error::RangeOverflow,
            Error::RangeNotSatisfiable,
            Error::InvalidContentRange,
            Error::InvalidStatusLine,
            Error::InvalidHeaderName,
            Error::InvalidHeaderValue,
            Error::ObsoleteLineFolding,
            Error::BareLineFeed,
            Error::LineTooLong,
            Error::HeadTooLarge,
            Error::HeadIncomplete,
            Error::InvalidContentLength,
            Error::ConflictingContentLength,
            Error::InvalidTreeHashHeader,
            Error::InvalidArchiveDescription,
            Error::NonAsciiHeader(HeaderField::ContentType),
            Error::DuplicateHeader(HeaderField::TreeHash),
            Error::TransferEncodingWithContentLength,
            Error::InvalidErrorBody,
            Error::InvalidExpectation,
            Error::UnexpectedStatus(403),
            Error::RangeIgnored { content_length: 1 },
            Error::MissingContentRange,
            Error::ContentRangeMismatch {
                requested_first: 0,
                requested_last: 1,
                received: r,
            },
            Error::MissingContentLength,
            Error::ContentLengthMismatch {
                expected: 1,
                received: 2,
            },
            Error::BodyTooLong { content_length: 1 },
            Error::BodyTooShort {
                content_length: 2,
                received: 1,
            },
            mismatch(HashSource::Header),
            Error::TreeHashHeaderMissing,
            Error::OutputLengthMismatch {
                expected: 1,
                assembled: 2,
            },
            Error::TooManyExpectedHashes,
            Error::HeadAlreadySeen,
            Error::BodyBeforeHead,
            Error::BufferTooSmall,
            mismatch(HashSource::Expected),
        ]
    }

    #[test]
    fn every_core_error_has_its_own_status_in_order() {
        let statuses = every_core_error().map(gv_status::from);
        for (i, s) in statuses.iter().enumerate() {
            assert_eq!(*s as u32, i as u32 + 1, "{s:?}");
        }
        assert_eq!(&ALL[1..45], &statuses);
    }

    #[test]
    fn statuses_are_distinct_ordered_and_have_distinct_texts() {
        for pair in ALL.windows(2) {
            assert!((pair[0] as u32) < (pair[1] as u32), "{pair:?}");
        }
        let texts: Vec<&CStr> = ALL.iter().map(|s| s.text()).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(!t.is_empty());
            assert!(!texts[..i].contains(t), "{t:?} twice");
        }
        assert_eq!(ALL[0], GV_OK);
        assert_eq!(ALL[45] as u32, 100);
    }

    #[test]
    fn status_str_of_any_value() {
        let text = text_of;
        assert_eq!(text(0), c"ok");
        assert_eq!(text(45), c"unknown status");
        assert_eq!(text(u32::MAX), c"unknown status");
        assert_eq!(text(GV_HEAD_TOO_LARGE as u32), GV_HEAD_TOO_LARGE.text());
    }
}
