//! The [`Verifier`]: an [`Expectation`] plus a [`ResponseHead`] plus the
//! streamed body give a [`Verified`] verdict or a precise [`Error`]
//! (docs/protocol.md §9 "Derived verification rules").
//!
//! Checks, in order:
//! 1. status: 206 to a ranged request, 200 to a whole-output request; a 200
//!    to a ranged request is accepted only if the range was the whole output
//!    (docs/protocol.md §2.1, §9.2) — otherwise the server ignored `Range` (docs/protocol.md §1,
//!    boto3#2077; moto, docs/protocol.md §11) and the bytes must not be used as the range;
//! 2. `Content-Range` first and last against the requested range exactly; a
//!    different total is a warning, not a failure (docs/protocol.md §9.2, §10.7);
//! 3. `Content-Length` against the expected length (docs/protocol.md §2.2 DG-GJO:
//!    "verify your download size");
//! 4. body bytes against `Content-Length`: one byte too many fails at once,
//!    too few fail at the end (docs/protocol.md §9.2, mt-aws-glacier's "Unexpected end of data");
//! 5. the body's tree hash against `x-amz-sha256-tree-hash` when present;
//! 6. the header's absence where docs/protocol.md §2.3 says Glacier sends it: passes only
//!    when an expected hash was given and matched (docs/protocol.md §9.3);
//! 7. the expected tree hash, when the caller gave one.
//!
//! The verdict says exactly which hashes were compared, so "no checksum was
//! available" can never be mistaken for "verified" (docs/protocol.md §8, boto#2509).

use embedded_io::{ErrorType, Read, Write};

use crate::Error;
use crate::head::{Parsed, ResponseHead, parse_head};
use crate::range::{ByteRange, JobKind, RangeRequest, tree_hash_header_expected};
use crate::tree::{Digest, TreeHasher};

/// What the caller knows before the response arrives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expectation {
    /// The job (DescribeJob `Action`, `ArchiveSizeInBytes`, `RetrievalByteRange`).
    pub job: JobKind,
    /// Size of the whole job output when known (docs/protocol.md §9.1: `InventorySizeInBytes`,
    /// or the length of `RetrievalByteRange`). For archive jobs it defaults to
    /// the retrieval range's length.
    pub output_len: Option<u64>,
    /// The `Range` header sent, relative to the job output; `None` = whole output.
    pub range: Option<RangeRequest>,
    /// Expected tree hash of the bytes this download ends up with: the body,
    /// or prefix + body for [`Verifier::continuing`]. For a whole-output
    /// download that is DescribeJob's `SHA256TreeHash` (docs/protocol.md §9.1).
    pub tree_hash: Option<Digest>,
}

impl Expectation {
    /// Nothing known but, optionally, the range that was asked for.
    pub const fn unknown(range: Option<RangeRequest>) -> Self {
        Expectation {
            job: JobKind::Unknown,
            output_len: None,
            range,
            tree_hash: None,
        }
    }
}

/// What happened with `x-amz-sha256-tree-hash`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HeaderHash {
    /// Present and equal to the body's tree hash.
    Matched(Digest),
    /// Absent, and docs/protocol.md §2.3 does not promise it (non-aligned range,
    /// inventory, unknown job).
    NotSent,
    /// Absent although docs/protocol.md §2.3 says Glacier sends it; the download passed
    /// only because the expected hash matched. Worth a warning.
    MissingButExpected,
    /// Present, but the hasher was continuing a prefix
    /// ([`Verifier::continuing`]), so the body's own hash was not computed;
    /// nothing was compared.
    NotCompared(Digest),
}

/// A response that passed every check that applied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Verified {
    /// Bytes of the output this response carried (relative to the job
    /// output); `None` for an empty output.
    pub delivered: Option<ByteRange>,
    /// Size of the whole job output, as expected or as the server stated it.
    pub output_len: u64,
    /// Body bytes received (= `Content-Length`).
    pub body_len: u64,
    /// Tree hash computed: of the body, or of prefix + body when continuing.
    pub tree_hash: Digest,
    /// Bytes covered by `tree_hash` (body length, or prefix + body).
    pub hashed_len: u64,
    /// The header hash check.
    pub header: HeaderHash,
    /// Whether the caller's expected tree hash was compared (and matched).
    pub expected_hash_matched: bool,
    /// `Content-Range` total when it differed from the expected output length
    /// (docs/protocol.md §9.2 says log, not fail).
    pub content_range_total_mismatch: Option<u64>,
}

/// How far a verdict goes: which hashes were compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Level {
    /// Status, ranges and sizes only: no tree hash was available to compare.
    SizeOnly,
    /// Sizes, and the body's tree hash equals the server's header.
    HeaderHash,
    /// Sizes, and the tree hash equals the caller's expected hash.
    ExpectedHash,
    /// Sizes, header hash and expected hash.
    HeaderAndExpectedHash,
}

impl Level {
    /// The level reached when the tree hash matched a response header
    /// (`header`) and / or an expected hash (`expected`).
    pub const fn of(header: bool, expected: bool) -> Self {
        match (header, expected) {
            (true, true) => Level::HeaderAndExpectedHash,
            (true, false) => Level::HeaderHash,
            (false, true) => Level::ExpectedHash,
            (false, false) => Level::SizeOnly,
        }
    }

    /// Short machine-friendly name (`size-only`, `header-hash`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::SizeOnly => "size-only",
            Level::HeaderHash => "header-hash",
            Level::ExpectedHash => "expected-hash",
            Level::HeaderAndExpectedHash => "header-and-expected-hash",
        }
    }
}

impl core::fmt::Display for Level {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Verified {
    /// Which hashes were compared.
    pub fn level(&self) -> Level {
        Level::of(
            matches!(self.header, HeaderHash::Matched(_)),
            self.expected_hash_matched,
        )
    }
}

/// Where a hash that a computed tree hash is compared with came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HashSource {
    /// The response's `x-amz-sha256-tree-hash`.
    Header,
    /// The [`Expectation`]'s hash, source not named.
    Expected,
    /// DescribeJob's `SHA256TreeHash`.
    DescribeJob,
    /// A hash the user typed (`--expected-tree-hash`).
    CommandLine,
    /// The archive's `SHA256TreeHash` in a vault inventory.
    Inventory,
    /// The `x-amz-sha256-tree-hash` of a stream's first response, which a
    /// resumed stream (prefix from disk + a later response) is checked against.
    FirstResponseHeader,
}

impl HashSource {
    /// Short machine-friendly name (`header`, `describe-job`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            HashSource::Header => "x-amz-sha256-tree-hash",
            HashSource::Expected => "expected",
            HashSource::DescribeJob => "describe-job",
            HashSource::CommandLine => "command-line",
            HashSource::Inventory => "inventory",
            HashSource::FirstResponseHeader => "first-response-header",
        }
    }

    /// The source in words, for messages.
    pub const fn describe(self) -> &'static str {
        match self {
            HashSource::Header => "x-amz-sha256-tree-hash",
            HashSource::Expected => "expected tree hash",
            HashSource::DescribeJob => "DescribeJob SHA256TreeHash",
            HashSource::CommandLine => "--expected-tree-hash",
            HashSource::Inventory => "inventory",
            HashSource::FirstResponseHeader => "x-amz-sha256-tree-hash of the first response",
        }
    }
}

impl core::fmt::Display for HashSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the verifier learnt from the head.
#[derive(Clone, Copy, Debug)]
struct Accepted {
    delivered: Option<ByteRange>,
    output_len: u64,
    content_length: u64,
    header_hash: Option<Digest>,
    header_expected: bool,
    total_mismatch: Option<u64>,
}

/// Streaming verification of one GetJobOutput response, in fixed memory.
///
/// ```
/// use glacier_verify_core::{Expectation, HeadBuilder, Level, Verifier, tree_hash};
/// let body = b"archive bytes";
/// let hash = tree_hash(body).to_hex();
/// let len = body.len().to_string();
/// let mut head = HeadBuilder::new(200).unwrap();
/// head.header(b"Content-Length", len.as_bytes()).unwrap();
/// head.header(b"x-amz-sha256-tree-hash", hash.as_str().as_bytes()).unwrap();
///
/// let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
/// v.on_head(&head.finish().unwrap()).unwrap();
/// v.update(&body[..5]).unwrap();
/// v.update(&body[5..]).unwrap();
/// let verdict = v.finish().unwrap();
/// assert_eq!(verdict.level(), Level::HeaderHash);
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    expect: Expectation,
    /// The requested range resolved against the output length, when both are known.
    requested: Option<ByteRange>,
    hasher: TreeHasher,
    /// Bytes already in `hasher` before this body (continuing mode).
    prefix_len: u64,
    accepted: Option<Accepted>,
    received: u64,
}

impl Verifier {
    /// A verifier for one response. Refuses an inconsistent expectation: a
    /// range outside a known output, an output length that contradicts the
    /// archive job's retrieval range.
    pub fn new(expect: Expectation) -> Result<Self, Error> {
        Self::with_hasher(expect, TreeHasher::new(), 0)
    }

    /// A verifier whose tree hash continues `prefix`, the hasher of the
    /// `prefix.bytes()` bytes of the download already held, which end
    /// exactly where this request starts (a resumed download). For a
    /// download of the whole output the request must start at
    /// `prefix.bytes()`; for a download of a range starting at `s`, at
    /// `s + prefix.bytes()` — so the request may not start before
    /// `prefix.bytes()`. The computed and expected hashes then cover
    /// prefix + body; the header hash, which is of the body alone, is
    /// reported [`HeaderHash::NotCompared`].
    pub fn continuing(expect: Expectation, prefix: TreeHasher) -> Result<Self, Error> {
        let prefix_len = prefix.bytes();
        let possible = match expect.range {
            Some(r) => r.first() >= prefix_len,
            None => prefix_len == 0,
        };
        if !possible {
            return Err(Error::InvalidExpectation);
        }
        Self::with_hasher(expect, prefix, prefix_len)
    }

    fn with_hasher(
        expect: Expectation,
        hasher: TreeHasher,
        prefix_len: u64,
    ) -> Result<Self, Error> {
        let (expect, requested) = resolve(expect)?;
        Ok(Verifier {
            expect,
            requested,
            hasher,
            prefix_len,
            accepted: None,
            received: 0,
        })
    }

    /// `Verifier::new(Expectation::unknown(None))`, which cannot fail.
    pub(crate) fn unknown() -> Self {
        Verifier {
            expect: Expectation::unknown(None),
            requested: None,
            hasher: TreeHasher::new(),
            prefix_len: 0,
            accepted: None,
            received: 0,
        }
    }

    /// [`new`](Self::new) in place, for [`RawVerifier`](crate::RawVerifier):
    /// the same checks, without a second 1.7 KB state on the stack. On an
    /// error `self` is unchanged.
    pub(crate) fn restart(&mut self, expect: Expectation) -> Result<(), Error> {
        let (expect, requested) = resolve(expect)?;
        self.expect = expect;
        self.requested = requested;
        self.hasher = TreeHasher::new();
        self.prefix_len = 0;
        self.accepted = None;
        self.received = 0;
        Ok(())
    }

    /// Checks the head: status, `Content-Range`, `Content-Length` (steps 1–3).
    /// Call once, before any body bytes.
    pub fn on_head(&mut self, head: &ResponseHead<'_>) -> Result<(), Error> {
        if self.accepted.is_some() {
            return Err(Error::HeadAlreadySeen);
        }
        let content_length = head.content_length.ok_or(Error::MissingContentLength)?;
        let expected_len = self.expect.output_len;
        let (delivered, output_len, total_mismatch) = match head.status {
            206 => {
                let cr = head.content_range.ok_or(Error::MissingContentRange)?;
                let want_first = self.expect.range.map_or(0, |r| r.first());
                let want_last = match (self.expect.range, self.requested) {
                    (Some(RangeRequest::Closed(r)), _) => r.last(),
                    (_, Some(r)) => r.last(),
                    // Open-ended request, output length unknown: to the end.
                    (_, None) => cr.total.saturating_sub(1),
                };
                if cr.range.first() != want_first || cr.range.last() != want_last {
                    return Err(Error::ContentRangeMismatch {
                        requested_first: want_first,
                        requested_last: want_last,
                        received: cr.range,
                    });
                }
                let mismatch = expected_len.filter(|e| *e != cr.total).map(|_| cr.total);
                (Some(cr.range), expected_len.unwrap_or(cr.total), mismatch)
            }
            200 => {
                // The whole output. Fine only if that is what was asked for:
                // with a known output length E, only for bytes=0-(E-1)
                // (docs/protocol.md §9.2) — a 200 of any length to a smaller range means
                // the server ignored `Range`; with E unknown, the request must
                // start at 0 and a closed one end where this body ends.
                let whole = ByteRange::whole(content_length);
                let covers_request = match (self.expect.range, expected_len) {
                    (None, _) => true,
                    (Some(_), Some(e)) => {
                        self.requested.is_some() && self.requested == ByteRange::whole(e)
                    }
                    (Some(RangeRequest::From(first)), None) => first == 0,
                    (Some(RangeRequest::Closed(r)), None) => {
                        r.first() == 0 && whole.is_some_and(|w| w.last() == r.last())
                    }
                };
                if !covers_request {
                    return Err(Error::RangeIgnored { content_length });
                }
                if let Some(e) = expected_len
                    && e != content_length
                {
                    return Err(Error::ContentLengthMismatch {
                        expected: e,
                        received: content_length,
                    });
                }
                (whole, content_length, None)
            }
            status => return Err(Error::UnexpectedStatus(status)),
        };
        let expected_body = delivered.map_or(0, |d| d.len());
        if content_length != expected_body {
            return Err(Error::ContentLengthMismatch {
                expected: expected_body,
                received: content_length,
            });
        }
        let header_expected =
            delivered.is_some_and(|d| tree_hash_header_expected(self.expect.job, d));
        self.accepted = Some(Accepted {
            delivered,
            output_len,
            content_length,
            header_hash: head.tree_hash,
            header_expected,
            total_mismatch,
        });
        Ok(())
    }

    /// Feeds body bytes (step 4: more than `Content-Length` fails here, and
    /// the excess is not hashed).
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let accepted = self.accepted.as_ref().ok_or(Error::BodyBeforeHead)?;
        let total = self
            .received
            .checked_add(chunk.len() as u64)
            .filter(|t| *t <= accepted.content_length)
            .ok_or(Error::BodyTooLong {
                content_length: accepted.content_length,
            })?;
        self.hasher.update(chunk);
        self.received = total;
        Ok(())
    }

    /// Body bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The tree-hash state so far: a host that loses the connection can clone
    /// it at a whole-MiB boundary and resume with [`Verifier::continuing`].
    pub fn hasher(&self) -> &TreeHasher {
        &self.hasher
    }

    /// Ends the body and gives the verdict (steps 4–7).
    ///
    /// Takes the verifier by value; on a small stack, prefer the drain
    /// helpers ([`verify_body`], [`verify_response`]), which conclude in
    /// place without copying the 1.7 KB state.
    pub fn finish(mut self) -> Result<Verified, Error> {
        self.conclude()
    }

    /// Ends the body of one piece of a larger output and gives its verdict,
    /// for an [`Assembly`](crate::Assembly): as [`finish`](Self::finish),
    /// except that a header missing where Glacier sends it
    /// ([`HeaderHash::MissingButExpected`]) is not an error here — the
    /// assembly fails unless an expected hash of the whole output matches.
    pub fn finish_part(mut self) -> Result<Verified, Error> {
        self.settle(true)
    }

    /// [`finish`](Self::finish) in place (also for [`RawVerifier`](crate::RawVerifier)).
    pub(crate) fn conclude(&mut self) -> Result<Verified, Error> {
        self.settle(false)
    }

    /// Concludes; `deferred`: leave a missing header to the caller's assembly.
    fn settle(&mut self, deferred: bool) -> Result<Verified, Error> {
        let a = self.accepted.ok_or(Error::BodyBeforeHead)?;
        if self.received < a.content_length {
            return Err(Error::BodyTooShort {
                content_length: a.content_length,
                received: self.received,
            });
        }
        let hashed_len = self.hasher.bytes();
        let computed = self.hasher.root();
        let continuing = self.prefix_len != 0;
        let header = match a.header_hash {
            Some(h) if continuing => HeaderHash::NotCompared(h),
            Some(h) if h == computed => HeaderHash::Matched(h),
            Some(h) => {
                return Err(Error::TreeHashMismatch {
                    source: HashSource::Header,
                    computed,
                    expected: h,
                });
            }
            None if a.header_expected => HeaderHash::MissingButExpected,
            None => HeaderHash::NotSent,
        };
        let expected_hash_matched = match self.expect.tree_hash {
            Some(e) if e == computed => true,
            Some(e) => {
                return Err(Error::TreeHashMismatch {
                    source: HashSource::Expected,
                    computed,
                    expected: e,
                });
            }
            None => false,
        };
        if header == HeaderHash::MissingButExpected && !expected_hash_matched && !deferred {
            return Err(Error::TreeHashHeaderMissing);
        }
        Ok(Verified {
            delivered: a.delivered,
            output_len: a.output_len,
            body_len: self.received,
            tree_hash: computed,
            hashed_len,
            header,
            expected_hash_matched,
            content_range_total_mismatch: a.total_mismatch,
        })
    }
}

/// Checks an expectation and resolves its range: refuses a retrieval range
/// past the archive and an output length other than the retrieval range's;
/// derives the output length of an archive job.
fn resolve(mut expect: Expectation) -> Result<(Expectation, Option<ByteRange>), Error> {
    if let JobKind::Archive {
        archive_size,
        retrieval,
    } = expect.job
    {
        if retrieval.last() >= archive_size {
            return Err(Error::InvalidExpectation);
        }
        match expect.output_len {
            None => expect.output_len = Some(retrieval.len()),
            Some(len) if len != retrieval.len() => return Err(Error::InvalidExpectation),
            Some(_) => {}
        }
    }
    let requested = match (expect.range, expect.output_len) {
        (Some(r), Some(len)) => Some(r.resolve(len)?),
        (Some(RangeRequest::Closed(r)), None) => Some(r),
        (None, Some(len)) => ByteRange::whole(len),
        _ => None,
    };
    Ok((expect, requested))
}

impl ErrorType for Verifier {
    type Error = Error;
}

impl Write for Verifier {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        self.update(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Failure of [`verify_response`] / [`verify_body`]: the reader's, or a verification error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DrainError<E> {
    /// The reader failed.
    Read(E),
    /// The response failed verification.
    Verify(Error),
}

impl<E: core::fmt::Debug> core::fmt::Display for DrainError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DrainError::Read(e) => write!(f, "read failed: {e:?}"),
            DrainError::Verify(e) => write!(f, "{e}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for DrainError<E> {}

impl<E> From<Error> for DrainError<E> {
    fn from(e: Error) -> Self {
        DrainError::Verify(e)
    }
}

/// Reads the body from `reader` into `verifier` until end of stream, through
/// the caller's `buf`, and gives the verdict. The stream must end with the
/// body: bytes past `Content-Length` are [`Error::BodyTooLong`].
pub fn verify_body<R: Read>(
    reader: &mut R,
    mut verifier: Verifier,
    buf: &mut [u8],
) -> Result<Verified, DrainError<R::Error>> {
    drain(reader, &mut verifier, buf)
}

/// Reads `reader` to its end into `verifier` and concludes, by reference
/// (moving the verifier would copy it on the stack).
fn drain<R: Read>(
    reader: &mut R,
    verifier: &mut Verifier,
    buf: &mut [u8],
) -> Result<Verified, DrainError<R::Error>> {
    if buf.is_empty() {
        return Err(DrainError::Verify(Error::BufferTooSmall));
    }
    loop {
        let n = reader.read(buf).map_err(DrainError::Read)?;
        if n == 0 {
            return Ok(verifier.conclude()?);
        }
        verifier.update(buf.get(..n).unwrap_or(&[]))?;
    }
}

/// Verifies a whole raw response — head, then body — read from `reader`
/// through the caller's `buf`, which must hold the entire head (Glacier's
/// heads are well under 1 KiB; [`Error::HeadTooLarge`] otherwise).
///
/// This is what a gateway without an HTTP stack runs on a socket.
pub fn verify_response<R: Read>(
    reader: &mut R,
    expect: Expectation,
    buf: &mut [u8],
) -> Result<Verified, DrainError<R::Error>> {
    let mut verifier = Verifier::new(expect)?;
    let mut filled = 0usize;
    let consumed = loop {
        let free = buf.get_mut(filled..).unwrap_or(&mut []);
        if free.is_empty() {
            return Err(DrainError::Verify(Error::HeadTooLarge));
        }
        let n = reader.read(free).map_err(DrainError::Read)?;
        if n == 0 {
            return Err(DrainError::Verify(Error::HeadIncomplete));
        }
        filled = filled.saturating_add(n);
        let have = buf.get(..filled).unwrap_or(&[]);
        if let Parsed::Complete { value, consumed } = parse_head(have)? {
            verifier.on_head(&value)?;
            break consumed;
        }
    };
    verifier.update(buf.get(consumed..filled).unwrap_or(&[]))?;
    drain(reader, &mut verifier, buf)
}
