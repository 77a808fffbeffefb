//! # glacier-verify-core
//!
//! Decides whether an Amazon S3 Glacier GetJobOutput response is exactly the
//! data Glacier meant, in fixed memory and with no operating system: the same
//! code runs in the `glacier-verify` command and on storage gateways.
//!
//! - [`TreeHasher`]: streaming SHA-256 tree hash (1 MiB leaves, pairwise,
//!   odd promoted; docs/protocol.md §4.1) with subtree composition for parallel and
//!   resumed downloads (docs/protocol.md §4.2).
//! - [`RangeRequest`], [`ContentRange`], [`is_tree_hash_aligned`],
//!   [`tree_hash_header_expected`]: ranges and alignment (docs/protocol.md §1, §2.3, §4.3).
//! - [`parse_head`], [`HeadBuilder`]: response heads into a typed
//!   [`ResponseHead`] (docs/protocol.md §2).
//! - [`ServiceError`]: Glacier's JSON error bodies and retry classes (docs/protocol.md §3).
//! - [`Verifier`]: expectation + head + streamed body → [`Verified`] or a
//!   precise [`Error`] (docs/protocol.md §9). The verdict's [`Level`] says which hashes
//!   were compared; "no checksum available" never reads as "verified".
//! - [`RawVerifier`]: the same for the raw bytes of a response pushed in
//!   as they come off a socket, split anywhere, the head gathered in
//!   [`RAW_HEAD_LEN`] bytes of its own state.
//! - [`Assembly`]: the verified pieces of one output (parts, a resumed
//!   stream, pieces an earlier run kept) → one [`OutputVerdict`] for the
//!   whole output: composed tree hash, every [`ExpectedHash`] compared under
//!   its [`HashSource`], the level reached.
//! - [`GLACIER_VERSION`], [`MIB`], [`SIGNING_SERVICE`],
//!   [`MAX_DESCRIPTION_LEN`], [`MAX_ARCHIVE_SIZE`]: protocol facts, stated once for every layer.
//!
//! ## Memory
//! No heap, no `alloc`, no `unsafe`. Measured on x86-64 (the test
//! `state_sizes` prints and checks them):
//!
//! | type | bytes |
//! |---|---|
//! | [`TreeHasher`] | 1 528 (44 pending 32-byte roots + one SHA-256 state) |
//! | [`Verifier`] | 1 776 (a `TreeHasher` + the expectation and head facts) |
//! | [`RawVerifier`] | 3 968 (a `Verifier` + the [`RAW_HEAD_LEN`]-byte head buffer + the verdict kept) |
//! | [`ResponseHead`] | 152 |
//! | [`ServiceError`] | 344 (code and message kept inline) |
//! | [`Error`] | 72 |
//!
//! A whole-response check with [`verify_response`] needs only a buffer the
//! caller lends (512 bytes hold a Glacier head).
//!
//! ## Example
//! ```
//! use glacier_verify_core::{parse_head, tree_hash, verify_response, Expectation, Level};
//! let body = vec![0x5au8; 3 << 20];
//! let head = format!(
//!     "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nx-amz-sha256-tree-hash: {}\r\n\r\n",
//!     body.len(),
//!     tree_hash(&body)
//! );
//! let mut response = [head.as_bytes(), &body].concat();
//! let mut reader: &[u8] = &response;
//! let mut buf = [0u8; 512];
//! let verdict = verify_response(&mut reader, Expectation::unknown(None), &mut buf).unwrap();
//! assert_eq!(verdict.level(), Level::HeaderHash);
//!
//! // One flipped byte and it fails.
//! let last = response.len() - 1;
//! response[last] ^= 1;
//! let mut reader: &[u8] = &response;
//! assert!(verify_response(&mut reader, Expectation::unknown(None), &mut buf).is_err());
//! ```
#![no_std]
// No unsafe code ships: the only `unsafe` is the no-op defmt logger that
// test builds with the `defmt` feature need (defmt's `Logger` is an unsafe trait).
#![cfg_attr(not(test), forbid(unsafe_code))]
#![cfg_attr(test, deny(unsafe_code))]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

// Modules are private: every public item has one path, at the crate root.
mod error;
mod head;
mod output;
mod protocol;
mod range;
mod raw;
mod service_error;
mod tree;
mod verify;

pub use error::Error;
pub use head::{
    HeadBuilder, HeaderField, MAX_ARCHIVE_DESCRIPTION_LEN, MAX_HEAD_LEN, MAX_LINE_LEN, Parsed,
    ResponseHead, is_tchar, parse_head,
};
pub use output::{Assembly, ExpectedHash, MAX_EXPECTED, OutputVerdict};
pub use protocol::{GLACIER_VERSION, MAX_ARCHIVE_SIZE, MAX_DESCRIPTION_LEN, MIB, SIGNING_SERVICE};
pub use range::{
    ByteRange, ContentRange, JobKind, RangeRequest, is_megabyte_aligned, is_tree_hash_aligned,
    is_tree_hash_aligned_with_leaf, parse_retrieval_byte_range, tree_hash_header_expected,
};
pub use raw::{RAW_HEAD_LEN, RawVerifier};
pub use service_error::{
    ErrorCode, ErrorType, MAX_CODE_LEN, MAX_MESSAGE_LEN, RetryClass, ServiceError, classify,
};
pub use tree::{
    Digest, HexDigest, LEAF_SIZE, MAX_DEPTH, TreeHasher, combine, leaf_hash, tree_hash,
};
pub use verify::{
    DrainError, Expectation, HashSource, HeaderHash, Level, Verified, Verifier, verify_body,
    verify_response,
};

#[cfg(all(test, feature = "defmt"))]
#[allow(unsafe_code)]
mod defmt_logger {
    //! A no-op global logger so host tests link with the `defmt` feature on.
    #[defmt::global_logger]
    struct NoopLogger;

    unsafe impl defmt::Logger for NoopLogger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(_bytes: &[u8]) {}
    }
}
