//! The checks behind the fuzz targets of `glacier-verify-core`, one
//! function per target. Each takes the raw fuzz input and panics when a
//! property fails; any byte string is a valid input.
//!
//! Included twice with `#[path]`: by the targets in `fuzz/fuzz_targets/`
//! (run by libFuzzer) and by `core/tests/fuzz_corpus.rs`, which replays the
//! committed seeds in `fuzz/seeds/<target>/` on every `cargo test`. So this
//! file uses only what both have: the core crate, `sha2`, `embedded-io` and
//! `std`.
#![allow(dead_code)]

use std::convert::Infallible;

use glacier_verify_core::MAX_HEAD_LEN;
use glacier_verify_core::{
    Assembly, ByteRange, ContentRange, Digest, DrainError, Error, Expectation, ExpectedHash,
    HashSource, HeadBuilder, HeaderHash, JobKind, LEAF_SIZE, Level, MAX_EXPECTED, Parsed,
    RangeRequest, ResponseHead, ServiceError, TreeHasher, Verified, Verifier, classify,
    is_megabyte_aligned, is_tree_hash_aligned, is_tree_hash_aligned_with_leaf, parse_head,
    parse_retrieval_byte_range, tree_hash, tree_hash_header_expected, verify_response,
};
use sha2::{Digest as _, Sha256};

#[path = "input.rs"]
mod input;
pub use input::{Input, Rng, fnv1a, pseudo_random};

const MIB: usize = 1 << 20;
const MIB64: u64 = 1 << 20;

// ---------------------------------------------------------------------------
// Shared oracles

/// docs/protocol.md §4.1 read literally: SHA-256 of every 1 MiB leaf, then
/// pairs hashed level by level, an odd last node promoted unchanged; the empty
/// input hashes to SHA-256 of nothing.
pub fn reference_tree_hash(data: &[u8]) -> Digest {
    reference_root(&leaf_digests(data))
}

/// SHA-256 of each 1 MiB leaf of `data` (the last may be shorter).
fn leaf_digests(data: &[u8]) -> Vec<[u8; 32]> {
    data.chunks(MIB)
        .map(|leaf| Sha256::digest(leaf).into())
        .collect()
}

/// The root over these leaves, pairing level by level (docs/protocol.md §4.1
/// steps 2-4).
fn reference_root(leaves: &[[u8; 32]]) -> Digest {
    if leaves.is_empty() {
        return Digest(Sha256::digest(b"").into());
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut h = Sha256::new();
                    h.update(l);
                    h.update(r);
                    h.finalize().into()
                }
                [only] => *only,
                _ => unreachable!("chunks(2)"),
            })
            .collect();
    }
    Digest(level[0])
}

/// docs/protocol.md §4.3's precise condition, literally: `a` a multiple of
/// `M·2^k` and `b + 1 = min(a + M·2^k, S)` for some `k`.
fn reference_tree_hash_aligned(first: u64, last: u64, size: u64, leaf: u64) -> bool {
    if leaf == 0 || last >= size || first > last {
        return false;
    }
    (0..64).any(|k| {
        leaf.checked_mul(1u64 << k).is_some_and(|block| {
            first.is_multiple_of(block)
                && last.checked_add(1) == Some(first.saturating_add(block).min(size))
        })
    })
}

/// The byte spans of every node of the tree over `size` bytes with
/// `leaf`-byte leaves (docs/protocol.md §4.3's definition of alignment).
fn node_spans(size: u64, leaf: u64) -> std::collections::HashSet<(u64, u64)> {
    let mut all = std::collections::HashSet::new();
    let mut level: Vec<(u64, u64)> = (0..size.div_ceil(leaf))
        .map(|i| (i * leaf, ((i + 1) * leaf).min(size)))
        .collect();
    all.extend(level.iter().copied());
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => (l.0, r.1),
                [only] => *only,
                _ => unreachable!("chunks(2)"),
            })
            .collect();
        all.extend(level.iter().copied());
    }
    all
}

/// Split points in `0..=len` chosen from `seed`: all of them for short
/// inputs, otherwise 24 pseudo-random ones (6 past 4 KiB, where each parse
/// costs more); with `extra` and `len`, ascending, deduplicated.
fn split_points(len: usize, seed: u64, extra: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = if len <= 160 {
        (0..=len).collect()
    } else {
        let mut rng = Rng::new(seed);
        (0..if len <= 4096 { 24 } else { 6 })
            .map(|_| rng.below(len as u64 + 1) as usize)
            .collect()
    };
    points.extend(extra.iter().copied().filter(|&p| p <= len));
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points
}

/// An `embedded_io` reader handing out the concatenation of some slices
/// in pieces of pseudo-random sizes, the way a socket does. (Slices, so a
/// one-byte change of a multi-MiB response costs no copy.)
pub struct Chunked<'a> {
    parts: Vec<&'a [u8]>,
    rng: Rng,
    max: u64,
    delivered: usize,
}

impl<'a> Chunked<'a> {
    /// `data` in pieces of 1..=`max` bytes (sizes from `seed`).
    pub fn new(data: &'a [u8], seed: u64, max: usize) -> Self {
        Self::of(vec![data], seed, max)
    }

    /// The concatenation of `parts`, in pieces.
    pub fn of(parts: Vec<&'a [u8]>, seed: u64, max: usize) -> Self {
        Chunked {
            parts: parts.into_iter().rev().collect(),
            rng: Rng::new(seed),
            max: max.max(1) as u64,
            delivered: 0,
        }
    }
}

impl embedded_io::ErrorType for Chunked<'_> {
    type Error = Infallible;
}

impl embedded_io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        // Tiny pieces often around the head; in the body rarely, and
        // pieces of at least up to 4 KiB otherwise (speed).
        let (tiny_odds, max) = if self.delivered < 1024 {
            (2, self.max)
        } else {
            (16, self.max.max(4096))
        };
        let want = if self.rng.below(tiny_odds) == 0 {
            1 + self.rng.below(16) as usize
        } else {
            1 + self.rng.below(max) as usize
        };
        let mut n = 0;
        while n < want.min(buf.len()) {
            let Some(part) = self.parts.last_mut() else {
                break;
            };
            let take = (want.min(buf.len()) - n).min(part.len());
            buf[n..n + take].copy_from_slice(&part[..take]);
            *part = &part[take..];
            n += take;
            if part.is_empty() {
                self.parts.pop();
            }
        }
        self.delivered += n;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// head: the raw response-head parser, whole and incrementally

/// `parse_head` on the input, and on prefixes of it as a socket reader
/// would call it: `Partial` until the head is complete, then the same
/// result for every longer prefix; a complete head takes exactly the
/// bytes up to its blank line and agrees with [`HeadBuilder`] fed the
/// same lines.
pub fn head(data: &[u8]) {
    let full = parse_head(data);
    // Around the head-size limit, where a longer buffer must not change
    // the verdict either.
    let mut extra = vec![MAX_HEAD_LEN - 1, MAX_HEAD_LEN, MAX_HEAD_LEN + 1];
    if let Ok(Parsed::Complete { value, consumed }) = &full {
        let consumed = *consumed;
        assert!(
            consumed >= 4 && consumed <= data.len(),
            "consumed {consumed}"
        );
        assert!(data[..consumed].ends_with(b"\r\n\r\n"));
        assert!(!(100..200).contains(&value.status), "interim head returned");
        assert!((200..=999).contains(&value.status));
        assert_eq!(parse_head(&data[..consumed]), full, "head alone");
        assert_eq!(
            parse_head(&data[..consumed - 1]),
            Ok(Parsed::Partial),
            "one byte short"
        );
        assert_eq!(
            rebuild_head(&data[..consumed]),
            Ok(*value),
            "HeadBuilder disagrees"
        );
        if value.transfer_encoding {
            assert_eq!(value.content_length, None);
        }
        extra.extend([consumed - 1, consumed]);
    }
    // Incremental: Partial until a result settles, then always that result.
    let mut settled: Option<(usize, Result<Parsed<ResponseHead<'_>>, Error>)> = None;
    for n in split_points(data.len(), fnv1a(data), &extra) {
        let r = parse_head(&data[..n]);
        match &settled {
            Some((at, s)) => assert_eq!(&r, s, "prefix {n} differs from prefix {at}"),
            None if r != Ok(Parsed::Partial) => settled = Some((n, r)),
            None => {}
        }
    }
    match settled {
        Some((_, s)) => assert_eq!(s, full),
        None => assert_eq!(full, Ok(Parsed::Partial)),
    }
}

/// The head of `raw` (a complete head, interim heads first) rebuilt from
/// its lines with [`HeadBuilder`], a status line parsed independently.
fn rebuild_head(raw: &[u8]) -> Result<ResponseHead<'_>, Error> {
    let mut rest = raw;
    loop {
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("complete head has a blank line");
        let (this, after) = (&rest[..end], &rest[end + 4..]);
        let mut lines = this
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let status =
            reference_status(lines.next().unwrap_or_default()).ok_or(Error::InvalidStatusLine)?;
        let mut b = HeadBuilder::new(status)?;
        for line in lines {
            let colon = line
                .iter()
                .position(|&c| c == b':')
                .ok_or(Error::InvalidHeaderName)?;
            b.header(&line[..colon], &line[colon + 1..])?;
        }
        let head = b.finish()?;
        if (100..200).contains(&status) {
            rest = after;
            continue;
        }
        assert!(after.is_empty(), "bytes after the final head");
        return Ok(head);
    }
}

/// `HTTP/d[.d] SP ddd [SP reason]`.
fn reference_status(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let (major, rest) = rest.split_first()?;
    if !major.is_ascii_digit() {
        return None;
    }
    let rest = match rest {
        [b'.', minor, rest @ ..] if minor.is_ascii_digit() => rest,
        _ => rest,
    };
    let rest = rest.strip_prefix(b" ")?;
    if rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (code, reason) = rest.split_at(3);
    if !reason.is_empty() {
        let text = reason.strip_prefix(b" ")?;
        if !text
            .iter()
            .all(|&c| c == b' ' || c == b'\t' || (0x21..=0x7e).contains(&c) || c >= 0x80)
        {
            return None;
        }
    }
    Some(
        code.iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')),
    )
}

// ---------------------------------------------------------------------------
// range: Range, Content-Range, RetrievalByteRange; alignment

/// Decimal digits: `None` if empty or not all digits, `Some(None)` on overflow.
fn reference_number(s: &[u8]) -> Option<Option<u64>> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v = 0u64;
    for d in s {
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(n) => v = n,
            None => return Some(None),
        }
    }
    Some(Some(v))
}

fn reference_byte_range(first: &[u8], last: &[u8]) -> Option<ByteRange> {
    let first = reference_number(first)??;
    let last = reference_number(last)??;
    (first <= last && last != u64::MAX).then(|| ByteRange::new(first, last).expect("valid"))
}

fn reference_range_request(s: &[u8]) -> Option<RangeRequest> {
    let rest = s.strip_prefix(b"bytes=")?;
    let dash = rest.iter().position(|&c| c == b'-')?;
    let (first, last) = (&rest[..dash], &rest[dash + 1..]);
    if last.is_empty() {
        return Some(RangeRequest::From(reference_number(first)??));
    }
    reference_byte_range(first, last).map(RangeRequest::Closed)
}

fn reference_content_range(s: &[u8]) -> Option<ContentRange> {
    let rest = s.strip_prefix(b"bytes ")?;
    let dash = rest.iter().position(|&c| c == b'-')?;
    let slash = rest.iter().position(|&c| c == b'/')?;
    if slash < dash {
        return None;
    }
    let range = reference_byte_range(&rest[..dash], &rest[dash + 1..slash])?;
    let total = reference_number(&rest[slash + 1..])??;
    (range.last() < total).then_some(ContentRange { range, total })
}

fn reference_retrieval(s: &[u8]) -> Option<ByteRange> {
    let dash = s.iter().position(|&c| c == b'-')?;
    reference_byte_range(&s[..dash], &s[dash + 1..])
}

/// The three range parsers against plain reference parsers, their `Display`
/// round trip (`parse(display(x)) == x`, and display is never longer than the
/// input: it only drops leading zeros), `resolve`, and the alignment rules
/// against docs/protocol.md §4.3 on numbers drawn from the same bytes.
pub fn range(data: &[u8]) {
    let rr = RangeRequest::parse(data);
    assert_eq!(rr.ok(), reference_range_request(data), "Range");
    if let Ok(r) = rr {
        let text = r.to_string();
        assert_eq!(
            RangeRequest::parse(text.as_bytes()),
            Ok(r),
            "Range round trip"
        );
        assert!(text.len() <= data.len());
        for len in [0, 1, r.first(), r.first().saturating_add(1), u64::MAX] {
            check_resolve(r, len);
        }
        if let RangeRequest::Closed(br) = r {
            check_resolve(r, br.last());
            check_resolve(r, br.end());
        }
    }

    let cr = ContentRange::parse(data);
    assert_eq!(cr.ok(), reference_content_range(data), "Content-Range");
    if let Ok(c) = cr {
        let text = c.to_string();
        assert_eq!(
            ContentRange::parse(text.as_bytes()),
            Ok(c),
            "Content-Range round trip"
        );
        assert!(text.len() <= data.len());
        check_alignment(c.range, c.total);
        // A 206 head carrying it parses to the same value.
        let mut b = HeadBuilder::new(206).expect("206");
        b.header(b"Content-Range", data).expect("same parser");
        assert_eq!(b.finish().expect("head").content_range, Some(c));
    }

    let rb = parse_retrieval_byte_range(data);
    assert_eq!(rb.ok(), reference_retrieval(data), "RetrievalByteRange");
    if let Ok(r) = rb {
        let text = r.to_string();
        assert_eq!(
            parse_retrieval_byte_range(text.as_bytes()),
            Ok(r),
            "round trip"
        );
        assert!(text.len() <= data.len());
        check_alignment(r, r.end());
        check_alignment(r, r.end().saturating_add(MIB64));
    }

    // Alignment on numbers near MiB multiples, drawn from the input bytes.
    let mut inp = Input::new(data);
    let unit = |inp: &mut Input<'_>| -> u64 {
        let mib = u64::from(inp.pick(40));
        let adj = i64::from(inp.u8() as i8);
        (mib * MIB64).saturating_add_signed(if inp.bool() { adj } else { 0 })
    };
    let (a, len, size) = (unit(&mut inp), unit(&mut inp).max(1), unit(&mut inp));
    if let Ok(r) = ByteRange::new(a, a.saturating_add(len - 1)) {
        check_alignment(r, size);
        check_alignment(r, r.end());
    }
    // The definition itself (node spans) with small leaves.
    let leaf = 1u64 << inp.pick(3);
    let size = 1 + u64::from(inp.u8()) % 160;
    let first = u64::from(inp.u8()) % size;
    let last = first + u64::from(inp.u8()) % (size - first);
    let r = ByteRange::new(first, last).expect("first <= last");
    let spans = node_spans(size, leaf);
    assert_eq!(
        is_tree_hash_aligned_with_leaf(r, size, leaf),
        spans.contains(&(first, last + 1)),
        "alignment vs node spans: [{first}, {last}] of {size}, leaf {leaf}"
    );
}

fn check_resolve(r: RangeRequest, len: u64) {
    let last_asked = match r {
        RangeRequest::Closed(b) => b.last(),
        RangeRequest::From(_) => len.saturating_sub(1),
    };
    match r.resolve(len) {
        Ok(b) => {
            assert_eq!(b.first(), r.first());
            assert_eq!(b.last(), last_asked);
            assert!(b.last() < len);
        }
        Err(_) => assert!(r.first() >= len || last_asked >= len || len == 0),
    }
}

fn check_alignment(r: ByteRange, size: u64) {
    let th = is_tree_hash_aligned(r, size);
    assert_eq!(
        th,
        reference_tree_hash_aligned(r.first(), r.last(), size, LEAF_SIZE),
        "tree-hash alignment of {r} in {size}"
    );
    let mb = is_megabyte_aligned(r, size);
    assert_eq!(
        mb,
        r.first().is_multiple_of(MIB64)
            && r.last() < size
            && (r.end().is_multiple_of(MIB64) || r.end() == size),
        "megabyte alignment of {r} in {size}"
    );
    // "a range that is tree-hash aligned is also megabyte aligned" (DG-RANGE).
    assert!(!th || mb);
}

// ---------------------------------------------------------------------------
// service_error: Glacier JSON error bodies

/// [`ServiceError::parse`] never panics; what it returns is consistent
/// (bounded, non-empty, sanitised code; typed code and retry class agree
/// with the text); surrounding whitespace changes nothing; and a body cut
/// before its closing brace is refused. (The differential against
/// serde_json lives in the host checks.)
pub fn service_error(data: &[u8]) {
    const STATUSES: [u16; 8] = [400, 403, 404, 408, 429, 500, 503, 200];
    let status = STATUSES[(fnv1a(data) % 8) as usize];
    let r = ServiceError::parse(status, data);
    if let Ok(e) = &r {
        assert_eq!(e.status, status);
        assert!(!e.code_text.is_empty());
        assert!(e.code_text.len() <= glacier_verify_core::MAX_CODE_LEN);
        assert!(!e.code_text.contains(':'), "code keeps a ':' suffix");
        assert!(e.message.len() <= glacier_verify_core::MAX_MESSAGE_LEN);
        assert_eq!(
            e.code,
            glacier_verify_core::ErrorCode::from_text(&e.code_text)
        );
        assert_eq!(e.retry_class(), classify(status, Some(&e.code_text)));
        let shown = e.to_string();
        assert!(shown.contains(e.code_text.as_str()));
        let _ = e.is_job_not_ready();
        // A cut body: everything before the last '}' is not an object.
        let close = data.iter().rposition(|&c| c == b'}').expect("object");
        assert!(
            ServiceError::parse(status, &data[..close]).is_err(),
            "cut body accepted"
        );
    }
    let mut padded = b" \r\n\t".to_vec();
    padded.extend_from_slice(data);
    padded.extend_from_slice(b"\n ");
    assert_eq!(
        ServiceError::parse(status, &padded),
        r,
        "whitespace around the body"
    );
}

// ---------------------------------------------------------------------------
// digest: hex digests

/// [`Digest::from_hex`] accepts exactly 64 hex digits of either case, and
/// round-trips through lowercase hex; any 32 bytes round-trip too.
pub fn digest(data: &[u8]) {
    let r = Digest::from_hex(data);
    let valid = data.len() == 64 && data.iter().all(u8::is_ascii_hexdigit);
    assert_eq!(r.is_ok(), valid);
    if let Ok(d) = r {
        let lower = data.to_ascii_lowercase();
        assert_eq!(d.to_hex().as_str().as_bytes(), &lower[..]);
        assert_eq!(d.to_string().as_bytes(), &lower[..]);
        assert!(d.matches_hex(data));
        assert!(d.matches_hex(&data.to_ascii_uppercase()));
        for (i, byte) in d.0.iter().enumerate() {
            let text = std::str::from_utf8(&data[2 * i..2 * i + 2]).expect("hex");
            assert_eq!(u8::from_str_radix(text, 16), Ok(*byte));
        }
    } else {
        assert!(!Digest([0; 32]).matches_hex(data) || valid);
    }
    if data.len() >= 32 {
        let d = Digest(data[..32].try_into().expect("32 bytes"));
        let hex = d.to_hex();
        let expected: String = d.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex.as_str(), expected);
        assert_eq!(Digest::from_hex(hex.as_str().as_bytes()), Ok(d));
        assert_eq!(format!("{d:?}"), format!("Digest({expected})"));
    }
}

// ---------------------------------------------------------------------------
// tree_hash: streaming and composed against the reference

/// Published and self-generated vectors of docs/protocol.md §7 that fit the
/// generator: (pattern, length, tree hash). Pattern 1 is `'a'` repeated, 2 is
/// `i % 251`, 3 is ASCII `'0'` repeated.
const VECTORS: &[(u8, usize, &str)] = &[
    (
        1,
        0,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    (
        1,
        1,
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    ),
    (
        1,
        1024,
        "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a",
    ),
    (
        1,
        1048575,
        "3311ea1faad557de3899e89a39076c69d9d0cc5b4cff56a0b61339f487395d56",
    ),
    (
        1,
        1048576,
        "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360",
    ),
    (
        1,
        1048577,
        "8dd49bbc6297567fac3852c2deddcdbc57358bc403c10d4f6dc64b143ad9b27b",
    ),
    (
        1,
        2097152,
        "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa",
    ),
    (
        1,
        3145728,
        "70239f4f2ead7561f69d48b956b547edef52a1280a93c262c0b582190be7db17",
    ),
    (
        1,
        4194304,
        "9491cb2ed1d4e7cd53215f4017c23ec4ad21d7050a1e6bb636c4f67e8cddb844",
    ),
    (
        1,
        4194324,
        "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f",
    ),
    (
        1,
        5242880,
        "1ca676a2caf9791fcf24580c2c6f9b051ebbf689720da6ff8c41f2d01cdde5ea",
    ),
    (
        1,
        7340033,
        "836b6b7f501bf8ea8b9dacc72fad2bb26d2de4ca062723f991eaf5ab16982840",
    ),
    (
        2,
        6815744,
        "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f",
    ),
    (
        3,
        5767168,
        "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a",
    ),
];

/// Largest input the tree-hash target generates: 8 MiB (docs/protocol.md
/// §7's 7 MiB vector fits; most inputs are far smaller).
const MAX_TREE_INPUT: usize = 8 * MIB;

/// Input layout: pattern (u8), seed (u64), leaves (u8: below 128 it is `b % 4`,
/// else `(b - 128) % 9`), adjustment (i32), then operation bytes. The payload
/// is `leaves` MiB plus the adjustment (within ±1 MiB), up to 8 MiB:
/// pseudo-random from the seed (pattern 0) or one of docs/protocol.md §7's
/// patterns. Checks: [`tree_hash`] and the streaming hasher fed in random
/// pieces against the reference; every composition of equal power-of-two-MiB
/// parts through `push_subtree` / `finish_with`; and a random mix of bytes and
/// subtrees where each composition call must succeed exactly when it is legal
/// (docs/protocol.md §4.2) and refusals leave the hasher intact.
pub fn tree_hash_differential(data: &[u8]) {
    let mut inp = Input::new(data);
    let pattern = inp.pick(4);
    let seed = inp.u64();
    // Half the inputs up to 3 MiB (fast), the rest up to 8 MiB.
    let leaves = match inp.u8() {
        b @ 0..=127 => usize::from(b % 4),
        b => usize::from((b - 128) % 9),
    };
    let adj = inp.i32() % (MIB as i32 + 1);
    let len = (leaves * MIB)
        .saturating_add_signed(adj as isize)
        .min(MAX_TREE_INPUT);
    let payload: Vec<u8> = match pattern {
        0 => pseudo_random(len, seed),
        1 => vec![b'a'; len],
        2 => (0..len).map(|i| (i % 251) as u8).collect(),
        _ => vec![b'0'; len],
    };
    let leaves = leaf_digests(&payload);
    let reference = reference_root(&leaves);
    for (p, l, hex) in VECTORS {
        if *p == pattern && *l == len {
            assert_eq!(
                reference.to_hex().as_str(),
                *hex,
                "docs/protocol.md §7 vector"
            );
        }
    }
    // The one-call form (the streaming checks below cover the same code
    // on the larger inputs, where hashing dominates the run time).
    if len <= 2 * MIB + 64 {
        assert_eq!(tree_hash(&payload), reference, "tree_hash");
    }
    // The reference root of payload[start..end), `start` on a leaf and
    // `end` on a leaf or at the end: from the leaf digests, no rehashing.
    let part_root = |start: usize, end: usize| -> Digest {
        assert!(start.is_multiple_of(MIB) && (end.is_multiple_of(MIB) || end == len));
        reference_root(&leaves[start / MIB..end.div_ceil(MIB)])
    };

    // Streaming, in pieces whose sizes come from the input.
    let mut ops = Rng::new(fnv1a(inp.rest()) ^ seed);
    let mut h = TreeHasher::new();
    let mut pos = 0;
    let check_at = ops.below(len as u64 + 1) as usize;
    let mut checked_prefix = false;
    while pos < len {
        let step = match ops.below(5) {
            0 => ops.below(64) as usize,
            1 => ops.below(70_000) as usize,
            2 => MIB - pos % MIB, // to the next leaf boundary
            3 => (MIB - pos % MIB).saturating_sub(1 + ops.below(3) as usize),
            _ => ops.below(2 * MIB64) as usize,
        };
        let mut end = (pos + step).min(len);
        if !checked_prefix && end >= check_at {
            end = check_at;
        }
        h.update(&payload[pos..end]);
        pos = end;
        assert_eq!(h.bytes(), pos as u64);
        if !checked_prefix && pos == check_at {
            checked_prefix = true;
            let whole = pos / MIB;
            let mut prefix_leaves = leaves[..whole].to_vec();
            if pos % MIB != 0 {
                prefix_leaves.push(Sha256::digest(&payload[whole * MIB..pos]).into());
            }
            assert_eq!(
                h.clone().finalize(),
                reference_root(&prefix_leaves),
                "prefix {pos}"
            );
        }
    }
    assert!(!h.is_too_long());
    assert_eq!(h.finalize(), reference, "streamed");

    // Composition of equal power-of-two-MiB parts (docs/protocol.md §4.2).
    let part = MIB << ops.below(3);
    let starts: Vec<usize> = (0..len).step_by(part).collect();
    let mut composed = TreeHasher::new();
    if let Some((&last, init)) = starts.split_last() {
        for &p in init {
            composed
                .push_subtree(part_root(p, p + part), part as u64)
                .expect("aligned part");
        }
        let mut all = composed.clone();
        let root = composed
            .finish_with(part_root(last, len), (len - last) as u64)
            .expect("last part");
        assert_eq!(root, reference, "composed from {part}-byte parts");
        if len - last == part {
            all.push_subtree(part_root(last, len), part as u64)
                .expect("full last part");
            assert_eq!(all.finalize(), reference, "composed, all pushed");
        }
    } else {
        assert_eq!(composed.finalize(), reference, "empty");
    }

    // A random mix: each call succeeds exactly when it is legal. Illegal
    // calls get a dummy digest: they must be refused whatever it is.
    let dummy = Digest([0x5a; 32]);
    let mut h = TreeHasher::new();
    let mut pos = 0;
    let mut finished = false;
    for _ in 0..64 {
        if pos >= len {
            break;
        }
        let remaining = len - pos;
        let aligned_leaves = (pos % MIB == 0).then_some((pos / MIB) as u64);
        match ops.below(4) {
            0 => {
                let n = (ops.below(3 * MIB64) as usize).min(remaining);
                h.update(&payload[pos..pos + n]);
                pos += n;
            }
            1 => {
                // A subtree of a power-of-two MiB, or a wrong size.
                let size = match ops.below(4) {
                    0 => 3 * MIB,
                    1 => MIB + 1 + ops.below(100) as usize,
                    _ => MIB << ops.below(3),
                };
                if size > remaining {
                    continue;
                }
                let legal = size % MIB == 0
                    && (size / MIB).is_power_of_two()
                    && aligned_leaves.is_some_and(|l| l % (size / MIB) as u64 == 0);
                let before = h.bytes();
                let digest = if legal {
                    part_root(pos, pos + size)
                } else {
                    dummy
                };
                let r = h.push_subtree(digest, size as u64);
                assert_eq!(r.is_ok(), legal, "push_subtree {size} at {pos}: {r:?}");
                if legal {
                    pos += size;
                } else {
                    assert_eq!(h.bytes(), before, "refused push changed the hasher");
                }
            }
            2 => {
                // finish_with the rest.
                let span = (remaining.div_ceil(MIB) as u64).next_power_of_two();
                let legal = aligned_leaves.is_some_and(|l| l % span == 0);
                let digest = if legal { part_root(pos, len) } else { dummy };
                let r = h.clone().finish_with(digest, remaining as u64);
                assert_eq!(r.is_ok(), legal, "finish_with {remaining} at {pos}: {r:?}");
                if let Ok(root) = r {
                    assert_eq!(root, reference, "finish_with at {pos}");
                    finished = true;
                    break;
                }
            }
            _ => {
                // Degenerate calls are refused without effect.
                let before = h.bytes();
                assert!(h.push_subtree(reference, 0).is_err());
                assert!(h.clone().finish_with(reference, 0).is_err());
                assert_eq!(h.bytes(), before);
            }
        }
    }
    if !finished {
        h.update(&payload[pos..]);
        assert_eq!(h.finalize(), reference, "mixed");
    }

    // Near the 2^64-byte limit, with subtree roots standing in for data:
    // each composition call succeeds exactly when it is legal, and the
    // byte count never wraps.
    let mut h = TreeHasher::new();
    let mut leaves = 0u64;
    for _ in 0..ops.below(12) {
        // Mostly the largest subtrees, where the limits are.
        let k = if ops.below(2) == 0 {
            43 - ops.below(4)
        } else {
            ops.below(44)
        } as u32;
        let span = 1u64 << k;
        let legal = leaves.is_multiple_of(span) && leaves + span < 1 << 44;
        let r = h.push_subtree(dummy, MIB64 << k);
        assert_eq!(
            r.is_ok(),
            legal,
            "push 2^{k} MiB after {leaves} leaves: {r:?}"
        );
        if legal {
            leaves += span;
        }
        assert_eq!(h.bytes(), leaves * MIB64);
    }
    let n = match ops.below(3) {
        0 => ops.next_u64(),
        1 => u64::MAX - ops.below(3 * MIB64),
        _ => 1 + ops.below(4 * MIB64),
    };
    let span = n.div_ceil(MIB64).checked_next_power_of_two();
    let legal = n > 0
        && span.is_some_and(|s| leaves.is_multiple_of(s))
        && (leaves * MIB64).checked_add(n).is_some();
    let r = h.finish_with(dummy, n);
    assert_eq!(
        r.is_ok(),
        legal,
        "finish_with {n} after {leaves} leaves: {r:?}"
    );
}

// ---------------------------------------------------------------------------
// verifier: correct responses verify, any one-byte change does not

/// Input layout: a mode byte, then the mode's bytes.
///
/// Even mode — a *correct* response built from the input (job kind,
/// output size, Range, status, header set and order, expected hash,
/// chunking): it must verify, both as raw bytes through
/// [`verify_response`] and through [`HeadBuilder`] + [`Verifier`], with
/// the verdict naming exactly the hashes compared; then one body byte
/// changed (fails whenever a hash was compared), one byte missing or one
/// extra (always fail), a wrong tree-hash header or Content-Length (fail),
/// and the resumed form through [`Verifier::continuing`].
///
/// Odd mode — an arbitrary expectation and arbitrary raw response bytes:
/// no panic, the same result whatever the read sizes, the same as the
/// builder path, and a pass only with a body whose size and hashes are
/// what the verdict says.
pub fn verifier(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.u8() & 1 == 0 {
        verifier_correct(&mut inp);
    } else {
        verifier_arbitrary(&mut inp);
    }
}

/// A size near a MiB multiple, at most `max_mib` MiB + 64 bytes.
fn mib_size(inp: &mut Input<'_>, max_mib: u8) -> u64 {
    // Mostly 0-1 MiB, so most runs are fast; up to `max_mib` for the trees.
    let mib = u64::from(if inp.bool() {
        inp.pick(2)
    } else {
        inp.pick(max_mib + 1)
    });
    match inp.pick(4) {
        0 => mib * MIB64,
        1 => mib * MIB64 + u64::from(inp.u8() % 64),
        2 => (mib * MIB64).saturating_sub(u64::from(inp.u8() % 64)),
        _ => u64::from(inp.u16()), // small
    }
}

/// A range of `[0, size)`, often tree-hash aligned.
fn some_range(inp: &mut Input<'_>, size: u64) -> ByteRange {
    assert!(size > 0);
    let whole_mibs = size.div_ceil(MIB64);
    let (first, len) = match inp.pick(4) {
        0 => (0, size),
        1 => {
            // An aligned block 2^k MiB, or the tail from an aligned start.
            let k = inp.pick(4);
            let block = MIB64 << k;
            let first = block * inp.below(whole_mibs.div_ceil(1 << k));
            (first.min(size - 1), block)
        }
        2 => {
            let first = MIB64 * inp.below(whole_mibs);
            (first.min(size - 1), MIB64 * (1 + inp.below(4)))
        }
        _ => {
            let first = inp.below(size);
            (first, 1 + inp.below(size - first))
        }
    };
    let last = first.saturating_add(len - 1).min(size - 1);
    ByteRange::new(first, last).expect("first <= last")
}

/// Header name in a case chosen by the input.
fn cased(name: &str, style: u8) -> String {
    match style % 3 {
        0 => name.to_string(),
        1 => name.to_ascii_lowercase(),
        _ => name.to_ascii_uppercase(),
    }
}

struct Case {
    expect: Expectation,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delivered: Option<ByteRange>,
    header_hash: bool,
    header_expected: bool,
}

fn build_case(inp: &mut Input<'_>) -> Case {
    let kind = inp.pick(3);
    let (job, e) = match kind {
        0 => (JobKind::Unknown, mib_size(inp, 4)),
        1 => (JobKind::Inventory, mib_size(inp, 4)),
        _ => {
            let archive_size = mib_size(inp, 6).max(1);
            let retrieval = if inp.bool() {
                ByteRange::whole(archive_size).expect("non-empty")
            } else {
                some_range(inp, archive_size)
            };
            (
                JobKind::Archive {
                    archive_size,
                    retrieval,
                },
                retrieval.len(),
            )
        }
    };
    // Keep bodies to a few MiB.
    let e = e.min(3 * MIB64 + 64);
    let (job, e) = match job {
        JobKind::Archive {
            archive_size,
            retrieval,
        } if retrieval.len() > e => {
            let retrieval =
                ByteRange::new(retrieval.first(), retrieval.first() + e - 1).expect("e >= 1");
            (
                JobKind::Archive {
                    archive_size,
                    retrieval,
                },
                e,
            )
        }
        other => (other, e),
    };
    let output_len_known = inp.bool();
    let range = if e == 0 {
        None
    } else {
        match inp.pick(3) {
            0 => None,
            1 => Some(RangeRequest::Closed(some_range(inp, e))),
            _ => Some(RangeRequest::From(some_range(inp, e).first())),
        }
    };
    let delivered = match range {
        None => ByteRange::whole(e),
        Some(RangeRequest::Closed(r)) => Some(r),
        Some(RangeRequest::From(first)) => Some(ByteRange::new(first, e - 1).expect("first < e")),
    };
    let body_len = delivered.map_or(0, |d| d.len()) as usize;
    let body = pseudo_random(body_len, inp.u64());
    let is_whole = delivered == ByteRange::whole(e);
    let status = if range.is_none() || (is_whole && inp.bool()) {
        200
    } else {
        206
    };
    let header_expected = delivered.is_some_and(|d| reference_header_expected(job, d));
    assert_eq!(
        header_expected,
        delivered.is_some_and(|d| tree_hash_header_expected(job, d)),
        "tree_hash_header_expected({job:?}, {delivered:?})"
    );
    let header_hash = if header_expected {
        inp.pick(4) != 0
    } else {
        inp.bool()
    };
    let give_expected = (header_expected && !header_hash) || inp.bool();
    let hash = reference_tree_hash(&body);
    let expect = Expectation {
        job,
        output_len: output_len_known.then_some(e),
        range,
        tree_hash: give_expected.then_some(hash),
    };
    let style = inp.u8();
    let mut headers = vec![
        (cased("Content-Length", style), body_len.to_string()),
        (
            cased("Content-Type", style >> 2),
            "application/octet-stream".to_string(),
        ),
        (
            cased("x-amzn-RequestId", style >> 4),
            "AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q".into(),
        ),
        (
            "Date".to_string(),
            "Wed, 10 Feb 2017 12:00:00 GMT".to_string(),
        ),
    ];
    if status == 206 {
        let d = delivered.expect("206 has a range");
        headers.push((
            cased("Content-Range", style >> 6),
            format!("bytes {}-{}/{}", d.first(), d.last(), e),
        ));
    }
    if header_hash {
        let hex = hash.to_hex();
        let value = if inp.bool() {
            hex.as_str().to_ascii_uppercase()
        } else {
            hex.as_str().to_string()
        };
        headers.push((cased("x-amz-sha256-tree-hash", inp.u8()), value));
    }
    if inp.bool() {
        headers.push(("Accept-Ranges".into(), "bytes".into()));
    }
    // Shuffle the header order.
    let mut rng = Rng::new(inp.u64());
    for i in (1..headers.len()).rev() {
        headers.swap(i, rng.below(i as u64 + 1) as usize);
    }
    Case {
        expect,
        status,
        headers,
        body,
        delivered,
        header_hash,
        header_expected,
    }
}

/// docs/protocol.md §2.3's formal rule, from the §4.3 reference condition.
fn reference_header_expected(job: JobKind, d: ByteRange) -> bool {
    match job {
        JobKind::Archive {
            archive_size,
            retrieval,
        } => {
            reference_tree_hash_aligned(
                retrieval.first(),
                retrieval.last(),
                archive_size,
                LEAF_SIZE,
            ) && d.last() < retrieval.len()
                && reference_tree_hash_aligned(
                    d.first() + retrieval.first(),
                    d.last() + retrieval.first(),
                    archive_size,
                    LEAF_SIZE,
                )
        }
        _ => false,
    }
}

fn raw_head(status: u16, headers: &[(String, String)]) -> Vec<u8> {
    let reason = if status == 200 {
        "OK"
    } else {
        "Partial Content"
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn run_raw(
    parts: Vec<&[u8]>,
    expect: Expectation,
    seed: u64,
    max_read: usize,
    buf_len: usize,
) -> Result<Verified, DrainError<Infallible>> {
    let mut buf = vec![0u8; buf_len];
    verify_response(&mut Chunked::of(parts, seed, max_read), expect, &mut buf)
}

fn run_builder(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    expect: Expectation,
    seed: u64,
) -> Result<Verified, Error> {
    let mut b = HeadBuilder::new(status)?;
    for (n, v) in headers {
        b.header(n.as_bytes(), v.as_bytes())?;
    }
    let head = b.finish()?;
    let mut v = Verifier::new(expect)?;
    v.on_head(&head)?;
    let mut rng = Rng::new(seed);
    let mut pos = 0;
    while pos < body.len() {
        let n = 1 + rng.below(300_000) as usize;
        let end = (pos + n).min(body.len());
        v.update(&body[pos..end])?;
        pos = end;
    }
    v.finish()
}

fn verifier_correct(inp: &mut Input<'_>) {
    let case = build_case(inp);
    let Case {
        expect,
        status,
        headers,
        body,
        delivered,
        header_hash,
        header_expected,
    } = case;
    let hash = reference_tree_hash(&body);
    let seed = inp.u64();
    let max_read = 1 + usize::from(inp.u16());
    let buf_len = 512 + 8 * usize::from(inp.u8());
    let head = raw_head(status, &headers);
    let ctx = || format!("{expect:?} {status} {headers:?} body {}", body.len());

    let verdict = run_raw(vec![&head, &body], expect, seed, max_read, buf_len)
        .unwrap_or_else(|e| panic!("correct response refused: {e:?}\n{}", ctx()));
    assert_eq!(verdict.delivered, delivered);
    assert_eq!(verdict.body_len, body.len() as u64);
    assert_eq!(verdict.tree_hash, hash);
    assert_eq!(verdict.hashed_len, body.len() as u64);
    let want_header = match (header_hash, header_expected) {
        (true, _) => HeaderHash::Matched(hash),
        (false, true) => HeaderHash::MissingButExpected,
        (false, false) => HeaderHash::NotSent,
    };
    assert_eq!(verdict.header, want_header, "{}", ctx());
    assert_eq!(verdict.expected_hash_matched, expect.tree_hash.is_some());
    assert_eq!(verdict.content_range_total_mismatch, None);
    let via_builder = run_builder(status, &headers, &body, expect, seed);
    assert_eq!(via_builder, Ok(verdict), "builder path differs\n{}", ctx());
    let hashed = verdict.level() != Level::SizeOnly;
    assert_eq!(hashed, header_hash || expect.tree_hash.is_some());

    let mutate = |parts: Vec<&[u8]>| run_raw(parts, expect, seed, max_read, buf_len);
    if !body.is_empty() {
        let at = inp.below(body.len() as u64) as usize;
        // One changed byte.
        let changed = [body[at] ^ (1 | inp.u8())];
        let r = mutate(vec![&head, &body[..at], &changed, &body[at + 1..]]);
        if hashed {
            assert!(r.is_err(), "changed byte at {at} verified\n{}", ctx());
        } else {
            assert_eq!(r.map(|v| v.level()), Ok(Level::SizeOnly));
        }
        // One missing byte.
        let r = mutate(vec![&head, &body[..at], &body[at + 1..]]);
        assert!(
            matches!(r, Err(DrainError::Verify(Error::BodyTooShort { .. }))),
            "missing byte: {r:?}"
        );
    }
    // One extra byte, anywhere in the body or after it.
    let at = inp.below(body.len() as u64 + 1) as usize;
    let extra = [inp.u8()];
    let r = mutate(vec![&head, &body[..at], &extra, &body[at..]]);
    assert!(
        matches!(r, Err(DrainError::Verify(Error::BodyTooLong { .. }))),
        "extra byte: {r:?}"
    );

    // A wrong tree-hash header, or a wrong Content-Length.
    if header_hash {
        let mut wrong = headers.clone();
        let h = wrong
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-sha256-tree-hash"))
            .expect("sent");
        let i = inp.below(64) as usize;
        let digit = u8::from_str_radix(&h.1[i..i + 1], 16).expect("hex");
        let other = (digit + 1 + inp.pick(15)) % 16;
        h.1.replace_range(i..i + 1, &format!("{other:x}"));
        let r = mutate(vec![&raw_head(status, &wrong), &body]);
        assert!(
            matches!(r, Err(DrainError::Verify(Error::TreeHashMismatch { .. }))),
            "wrong header hash: {r:?}"
        );
    }
    let mut wrong = headers.clone();
    let cl = wrong
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .expect("sent");
    cl.1 = if body.is_empty() || inp.bool() {
        body.len() + 1
    } else {
        body.len() - 1
    }
    .to_string();
    assert!(
        mutate(vec![&raw_head(status, &wrong), &body]).is_err(),
        "wrong Content-Length"
    );

    // Resumed: the first whole MiBs already held, the rest requested.
    if let (Some(d), Some(e)) = (delivered, expect.output_len)
        && d.first() == 0
        && d.len() > MIB64
        && expect.range.is_none()
    {
        let held = MIB64 * (1 + inp.below(d.len().div_ceil(MIB64) - 1));
        let mut prefix = TreeHasher::new();
        prefix.update(&body[..held as usize]);
        let resume = Expectation {
            range: Some(RangeRequest::From(held)),
            tree_hash: Some(hash),
            ..expect
        };
        let mut v = Verifier::continuing(resume, prefix).expect("resumable");
        let rest = &body[held as usize..];
        let mut b = HeadBuilder::new(206).expect("206");
        let cr = format!("bytes {held}-{}/{e}", e - 1);
        let cl = rest.len().to_string();
        b.header(b"Content-Range", cr.as_bytes()).expect("cr");
        b.header(b"Content-Length", cl.as_bytes()).expect("cl");
        v.on_head(&b.finish().expect("head")).expect("resumed head");
        v.update(rest).expect("rest");
        let resumed = v.finish().expect("resumed download verifies");
        assert_eq!(resumed.tree_hash, hash);
        assert_eq!(resumed.hashed_len, e);
        assert!(resumed.expected_hash_matched);
    }
}

fn verifier_arbitrary(inp: &mut Input<'_>) {
    let job = match inp.pick(3) {
        0 => JobKind::Unknown,
        1 => JobKind::Inventory,
        _ => {
            let archive_size = u64::from(inp.u32());
            let first = u64::from(inp.u32());
            let last = first.saturating_add(u64::from(inp.u32()));
            match ByteRange::new(first, last) {
                Ok(retrieval) => JobKind::Archive {
                    archive_size,
                    retrieval,
                },
                Err(_) => JobKind::Unknown,
            }
        }
    };
    let output_len = inp.bool().then(|| u64::from(inp.u32()));
    let range = match inp.pick(3) {
        0 => None,
        1 => ByteRange::new(u64::from(inp.u32()), u64::from(inp.u32()))
            .ok()
            .map(RangeRequest::Closed),
        _ => Some(RangeRequest::From(u64::from(inp.u32()))),
    };
    let tree_hash = inp.bool().then(|| Digest(inp.array()));
    let expect = Expectation {
        job,
        output_len,
        range,
        tree_hash,
    };
    let buf_len = 1 + usize::from(inp.u16() % 2048);
    let seed = inp.u64();
    let max_read = 1 + usize::from(inp.pick(255));
    let raw = inp.rest();
    let mut buf = vec![0u8; buf_len];
    let whole = verify_response(&mut &raw[..], expect, &mut buf);
    let trickled = run_raw(vec![raw], expect, seed, max_read, buf_len);
    assert_eq!(whole, trickled, "result depends on read sizes");

    let parsed = parse_head(raw);
    if let Ok(Parsed::Complete { value, consumed }) = parsed
        && consumed <= buf_len
    {
        let body = &raw[consumed..];
        let direct = Verifier::new(expect).and_then(|mut v| {
            v.on_head(&value)?;
            v.update(body)?;
            v.finish()
        });
        assert_eq!(
            whole,
            direct.map_err(DrainError::Verify),
            "raw and builder paths differ"
        );
        if let Ok(verdict) = whole {
            let hash = reference_tree_hash(body);
            assert_eq!(value.content_length, Some(body.len() as u64));
            assert_eq!(verdict.body_len, body.len() as u64);
            assert_eq!(verdict.tree_hash, hash);
            if let HeaderHash::Matched(h) = verdict.header {
                assert_eq!(h, hash);
                assert_eq!(value.tree_hash, Some(h));
            }
            assert_eq!(verdict.expected_hash_matched, tree_hash.is_some());
            if let Some(t) = tree_hash {
                assert_eq!(t, hash);
            }
            assert!(matches!(value.status, 200 | 206));
            assert_eq!(verdict.delivered.map_or(0, |d| d.len()), body.len() as u64);
        }
    } else if let Ok(verdict) = whole {
        panic!("verified without a complete head in the buffer: {verdict:?}");
    }

    // Resumed (for a quarter of the inputs): the same response continuing
    // a prefix already hashed, of a length drawn from the seed.
    if seed & 3 == 0
        && let Ok(Parsed::Complete { value, consumed }) = parse_head(raw)
    {
        let prefix = pseudo_random(usize::from((seed >> 8) as u16), seed);
        let body = &raw[consumed..];
        let mut hasher = TreeHasher::new();
        hasher.update(&prefix);
        let resumed = Verifier::continuing(expect, hasher).and_then(|mut v| {
            v.on_head(&value)?;
            v.update(body)?;
            v.finish()
        });
        if let Ok(v) = resumed {
            let all = [&prefix[..], body].concat();
            let hash = reference_tree_hash(&all);
            assert_eq!(v.tree_hash, hash, "resumed hash");
            assert_eq!(v.hashed_len, all.len() as u64);
            assert_eq!(v.body_len, body.len() as u64);
            assert_eq!(v.expected_hash_matched, tree_hash.is_some());
            if let Some(t) = tree_hash {
                assert_eq!(t, hash);
            }
            match (value.tree_hash, prefix.is_empty()) {
                (Some(h), false) => assert_eq!(v.header, HeaderHash::NotCompared(h)),
                (Some(h), true) => assert_eq!((v.header, h), (HeaderHash::Matched(hash), hash)),
                (None, _) => assert!(matches!(
                    v.header,
                    HeaderHash::NotSent | HeaderHash::MissingButExpected
                )),
            }
            match expect.range {
                Some(r) => assert!(r.first() >= prefix.len() as u64),
                None => assert!(prefix.is_empty()),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// assembly: the verified pieces of one output, composed into one verdict

/// Longest output the assembly target generates: 6 MiB and a bit (pieces
/// of 1, 2 and 4 MiB and a tail; most outputs are far smaller).
const MAX_ASSEMBLY_OUTPUT: usize = 6 * MIB + MIB / 2;

/// Most pieces one case pushes (the output is at most 7 MiB, and pieces
/// of arbitrary length end the case at the next push).
const MAX_PIECES: usize = 16;

/// The sources an expected hash can name, picked by one input byte.
const SOURCES: [HashSource; 6] = [
    HashSource::DescribeJob,
    HashSource::CommandLine,
    HashSource::Inventory,
    HashSource::FirstResponseHeader,
    HashSource::Expected,
    HashSource::Header,
];

/// Bytes of the fixed part of an assembly input (see [`assembly`]).
pub const ASSEMBLY_HEAD_LEN: usize = 1 + 8 + 1 + 4 + 1 + 1 + 2 + 1 + 1 + 1 + 3 * (MAX_EXPECTED + 1);

/// Bytes each piece reads from an assembly input (see [`assembly`]).
pub const ASSEMBLY_PIECE_LEN: usize = 1 + 1 + 4;

/// A piece as pushed, for the model of the verdict.
struct Pushed {
    first: u64,
    len: u64,
    header: HeaderHash,
}

/// Input layout (fixed part, [`ASSEMBLY_HEAD_LEN`] bytes): pattern (u8: `% 3`:
/// pseudo-random from the seed, a 1-16 byte unit from the seed repeated,
/// docs/protocol.md §7's `i % 251`), seed (u64), MiBs (u8: below 128 it is
/// `b % 4`, else `(b - 128) % 7`), adjustment (i32, within ±1 MiB), job (u8 `% 3`:
/// the whole archive, unknown, inventory), length known (u8 `% 4`: no, yes,
/// yes, off by 1 + delta), delta (u16), plan (u8 `% 4`: parts of 1, 2 or 4 MiB,
/// or mixed sizes), expected hashes (u8 `% (MAX_EXPECTED + 2)`), whether they
/// come after the pieces (u8 bit 0), then for each of `MAX_EXPECTED + 1`
/// expected hashes: source (u8, index into [`SOURCES`]), kind (u8 `% 3`: 2 is
/// wrong, else right), which bit of the hash a wrong one flips (u8).
///
/// Then per piece ([`ASSEMBLY_PIECE_LEN`] bytes): control (u8: bit 0
/// pushed from a record with `push_recorded`, else through a [`Verifier`]
/// and `push`; bits 1-2 the header state of a record, bit 1 whether a
/// response sends `x-amz-sha256-tree-hash`, bit 3 a 200 for a whole
/// output; with mixed sizes bits 4-6 the size: 0 any length, 1-2 1 MiB,
/// 3-4 2 MiB, 5-6 4 MiB, 7 the rest), extra (u8 `% 16`: 1 a record
/// whose digest is corrupted, 2 an empty record pushed first, 3 the first
/// piece resumed from a prefix on disk) and a number (u32) for "any
/// length", the corrupted bit, a header state's digest and the resumed
/// prefix.
///
/// Checks: no panic; every push and `expect` succeeds or fails exactly as
/// the rules say (docs/protocol.md §4.2: each piece but the last a
/// power-of-two MiB on a multiple of its length, the last one on a
/// multiple of its rounded-up length); the verdict, when the pieces were
/// accepted, is exactly the one the rules give: on Ok the tree hash is
/// the core's [`tree_hash`] of the data pushed, every expected hash
/// equals it, the level is [`Level::of`] (every piece header-matched, any
/// expected); an expected hash that differs fails with `TreeHashMismatch`
/// naming its source (the first such in the order given); a piece whose
/// header was missing where Glacier sends it fails with
/// `TreeHashHeaderMissing` unless an expected hash matched; a corrupted
/// record is caught by every expected hash.
pub fn assembly(data: &[u8]) {
    let mut inp = Input::new(data);
    let pattern = inp.pick(3);
    let seed = inp.u64();
    let mibs = match inp.u8() {
        b @ 0..=127 => usize::from(b % 4),
        b => usize::from((b - 128) % 7),
    };
    let adj = inp.i32() % (MIB as i32 + 1);
    let len = (mibs * MIB)
        .saturating_add_signed(adj as isize)
        .min(MAX_ASSEMBLY_OUTPUT);
    let bytes: Vec<u8> = match pattern {
        0 => pseudo_random(len, seed),
        1 => {
            let unit = pseudo_random(1 + (seed % 16) as usize, seed);
            unit.iter().copied().cycle().take(len).collect()
        }
        _ => (0..len).map(|i| (i % 251) as u8).collect(),
    };
    let len64 = len as u64;
    let job = match inp.pick(3) {
        0 => match ByteRange::whole(len64) {
            Some(retrieval) => JobKind::Archive {
                archive_size: len64,
                retrieval,
            },
            None => JobKind::Unknown,
        },
        1 => JobKind::Unknown,
        _ => JobKind::Inventory,
    };
    let known = inp.pick(4);
    let delta = 1 + u64::from(inp.u16());
    let declared = match known {
        0 => None,
        1 | 2 => Some(len64),
        _ if delta & 1 == 0 => Some(len64 + delta),
        _ => Some(len64.saturating_sub(delta)),
    };
    let plan = inp.pick(4);
    let n_expected = usize::from(inp.pick(MAX_EXPECTED as u8 + 2));
    let expected_after = inp.bool();
    let whole = tree_hash(&bytes);
    for (p, l, hex) in VECTORS {
        if *p == 2 && pattern == 2 && *l == len {
            assert_eq!(whole.to_hex().as_str(), *hex, "docs/protocol.md §7 vector");
        }
    }
    let mut expected: Vec<ExpectedHash> = Vec::new();
    for _ in 0..=MAX_EXPECTED {
        let source = SOURCES[usize::from(inp.u8()) % SOURCES.len()];
        let wrong = inp.pick(3) == 2;
        let bit = inp.u8();
        let mut digest = whole;
        if wrong {
            digest.0[usize::from(bit % 32)] ^= 1 << (bit >> 5);
        }
        expected.push(ExpectedHash { source, digest });
    }
    expected.truncate(n_expected);
    let ctx = || format!("len {len} job {job:?} declared {declared:?} plan {plan}");

    let mut a = Assembly::new(declared);
    let give = |a: &mut Assembly| {
        for (i, e) in expected.iter().enumerate() {
            let r = a.expect(*e);
            if i < MAX_EXPECTED {
                assert_eq!(r, Ok(()), "expect #{i}");
            } else {
                assert_eq!(r, Err(Error::TooManyExpectedHashes), "expect #{i}");
            }
        }
    };
    if !expected_after {
        give(&mut a);
    }

    // Push the pieces; the model follows along.
    let mut pushed: Vec<Pushed> = Vec::new();
    let mut pos = 0u64;
    let mut corrupted = false;
    while pos < len64 && pushed.len() < MAX_PIECES {
        let ctrl = inp.u8();
        let extra = inp.u8() % 16;
        let number = u64::from(inp.u32());
        let rest = len64 - pos;
        let size = match plan {
            0..=2 => MIB64 << plan,
            _ => match (ctrl >> 4) & 7 {
                0 => 1 + number % rest,
                1 | 2 => MIB64,
                3 | 4 => 2 * MIB64,
                5 | 6 => 4 * MIB64,
                _ => rest,
            },
        }
        .min(rest);
        let end = pos + size;
        let piece = &bytes[pos as usize..end as usize];

        if extra == 2 {
            let before = a.bytes();
            let r = a.push_recorded(0, whole, HeaderHash::NotSent);
            assert_eq!(r, Err(Error::EmptySubtree), "empty record");
            assert_eq!(a.bytes(), before, "refused empty record counted");
        }

        // What the push must do: the length first, then the shape of the
        // piece held back until now (the last one may have any length).
        let want = match (declared, pushed.last()) {
            (Some(e), _) if end > e => Err(Error::OutputLengthMismatch {
                expected: e,
                assembled: end,
            }),
            (_, Some(held)) if !held.len.is_multiple_of(MIB64) => Err(Error::SubtreeNotPowerOfTwo),
            (_, Some(held)) if !(held.len / MIB64).is_power_of_two() => {
                Err(Error::SubtreeNotPowerOfTwo)
            }
            (_, Some(held)) if !(held.first / MIB64).is_multiple_of(held.len / MIB64) => {
                Err(Error::SubtreeMisaligned)
            }
            _ => Ok(()),
        };

        let (r, header) = if ctrl & 1 == 1 {
            // A record: the digest re-hashed from storage, the header state
            // as the journal kept it.
            let mut digest = tree_hash(piece);
            let header = match (ctrl >> 1) & 3 {
                0 => HeaderHash::Matched(digest),
                1 => HeaderHash::NotSent,
                2 => HeaderHash::MissingButExpected,
                _ => HeaderHash::NotCompared(Digest(
                    pseudo_random(32, number).try_into().expect("32"),
                )),
            };
            if extra == 1 {
                digest.0[(number % 32) as usize] ^= 1 << (number >> 5 & 7);
            }
            let r = a.push_recorded(size, digest, header);
            if r.is_ok() && extra == 1 {
                corrupted = true;
            }
            (r, header)
        } else {
            // A response for the piece, verified as a part.
            let resumed_prefix = if pushed.is_empty() && extra == 3 && size > MIB64 {
                MIB64 * (1 + number % ((size - 1) / MIB64))
            } else {
                0
            };
            let sends_header = ctrl & 2 != 0;
            let (v, sent) = verified_piece(
                &bytes,
                job,
                declared.and(Some(len64)),
                pos,
                end,
                sends_header,
                ctrl & 8 != 0,
                resumed_prefix,
            );
            assert_eq!(v.hashed_len, size, "piece length");
            let delivered = ByteRange::new(pos + resumed_prefix, end - 1).expect("non-empty");
            let want_header = match (sent, resumed_prefix) {
                (Some(h), 0) => HeaderHash::Matched(h),
                (Some(h), _) => HeaderHash::NotCompared(h),
                (None, _) if tree_hash_header_expected(job, delivered) => {
                    HeaderHash::MissingButExpected
                }
                (None, _) => HeaderHash::NotSent,
            };
            assert_eq!(v.header, want_header, "header of piece {pos}..{end}");
            (a.push(&v), v.header)
        };
        // A verified piece whose header went missing is refused at once
        // while no expected hash was given (Assembly::admit), before any
        // check of its shape.
        let want = if ctrl & 1 == 0
            && header == HeaderHash::MissingButExpected
            && a.expected().next().is_none()
        {
            Err(Error::TreeHashHeaderMissing)
        } else {
            want
        };
        assert_eq!(
            r,
            want,
            "push {pos}..{end} after {} pieces; {}",
            pushed.len(),
            ctx()
        );
        match r {
            Ok(()) => {
                pushed.push(Pushed {
                    first: pos,
                    len: size,
                    header,
                });
                pos = end;
                assert_eq!(a.bytes(), pos);
            }
            // Longer than the output: refused before anything changed.
            Err(Error::OutputLengthMismatch { .. }) => {
                assert_eq!(a.bytes(), pos);
                break;
            }
            // A refused piece leaves the assembly as it was; the case ends.
            Err(_) => {
                assert_eq!(a.bytes(), pos, "a refused piece changed the assembly");
                return;
            }
        }
    }
    if expected_after {
        give(&mut a);
    }
    let given = &expected[..expected.len().min(MAX_EXPECTED)];
    assert!(a.expected().eq(given.iter()), "expected hashes kept");

    // The verdict the rules give.
    let assembled = pos;
    let truth = if assembled == len64 {
        whole
    } else {
        tree_hash(&bytes[..assembled as usize])
    };
    let every_header = !pushed.is_empty()
        && pushed
            .iter()
            .all(|p| matches!(p.header, HeaderHash::Matched(_)));
    let missing = pushed
        .iter()
        .filter(|p| p.header == HeaderHash::MissingButExpected)
        .count() as u64;
    let verdict = a.verdict();
    assert_eq!(a.verdict(), verdict, "verdict changed the assembly");
    assert_eq!(a.every_header_matched(), every_header);
    let shape = pushed.last().is_none_or(|last| {
        let span = last.len.div_ceil(MIB64).next_power_of_two();
        (last.first / MIB64).is_multiple_of(span)
    });
    let ctx = || format!("{} pieces {:?}: {verdict:?}", pushed.len(), ctx());
    if let Some(e) = declared
        && e != assembled
    {
        assert_eq!(
            verdict,
            Err(Error::OutputLengthMismatch {
                expected: e,
                assembled
            }),
            "{}",
            ctx()
        );
        return;
    }
    if !shape {
        assert_eq!(verdict, Err(Error::SubtreeMisaligned), "{}", ctx());
        return;
    }
    // Without an expected hash, a missing header cannot be made up for.
    if missing > 0 && given.is_empty() {
        assert_eq!(verdict, Err(Error::TreeHashHeaderMissing), "{}", ctx());
        return;
    }
    // A corrupted record: the composed hash is not the data's, and every
    // expected hash (right or one bit off) tells.
    let computed = match verdict {
        Ok(v) => v.tree_hash,
        Err(Error::TreeHashMismatch { computed, .. }) => computed,
        Err(e) => panic!("unexpected {e:?}: {}", ctx()),
    };
    assert_eq!(computed == truth, !corrupted, "composed hash; {}", ctx());
    match given.iter().find(|e| e.digest != computed) {
        Some(first) => {
            assert_eq!(
                verdict,
                Err(Error::TreeHashMismatch {
                    source: first.source,
                    computed,
                    expected: first.digest,
                }),
                "{}",
                ctx()
            );
            return;
        }
        // Every given hash equals the composed one. After a corruption that
        // can only be because each given hash was itself a wrong one, one
        // bit off exactly where the corruption flipped it (one piece): never
        // a right hash.
        None => assert!(
            !corrupted || given.iter().all(|e| e.digest != whole),
            "corruption matched a right hash: {}",
            ctx()
        ),
    }
    let v = verdict.unwrap_or_else(|e| panic!("refused: {e:?}: {}", ctx()));
    assert_eq!(v.bytes, assembled);
    assert_eq!(v.tree_hash, computed);
    assert!(v.matched().all(|e| e.digest == v.tree_hash));
    assert!(v.matched().eq(given.iter()), "matched hashes listed");
    assert_eq!(
        v.level,
        Level::of(every_header, !given.is_empty()),
        "{}",
        ctx()
    );
    assert_eq!(v.every_header_matched(), every_header);
    assert_eq!(v.parts, pushed.len() as u64);
    let count = |f: fn(&HeaderHash) -> bool| pushed.iter().filter(|p| f(&p.header)).count() as u64;
    assert_eq!(
        v.header_matched,
        count(|h| matches!(h, HeaderHash::Matched(_)))
    );
    assert_eq!(v.header_missing, missing);
    assert_eq!(
        v.header_not_compared,
        count(|h| matches!(h, HeaderHash::NotCompared(_)))
    );
}

/// The piece `[first, end)` of `data`, as a [`Verifier`] concludes it
/// for an assembly (`finish_part`): a 206 with `Content-Range` (a 200
/// when `ok_200` and the piece is the whole output), its tree-hash header
/// sent or not; with `prefix` > 0 the first `prefix` bytes were kept on
/// disk and the response carries the rest (`Verifier::continuing`).
/// Returns the verdict and the tree-hash header sent.
#[allow(clippy::too_many_arguments)]
fn verified_piece(
    data: &[u8],
    job: JobKind,
    output_len: Option<u64>,
    first: u64,
    end: u64,
    sends_header: bool,
    ok_200: bool,
    prefix: u64,
) -> (Verified, Option<Digest>) {
    let total = data.len() as u64;
    let start = first + prefix;
    let body = &data[start as usize..end as usize];
    let whole = start == 0 && end == total;
    let (status, range) = if whole && ok_200 {
        (200, None)
    } else {
        let r = ByteRange::new(start, end - 1).expect("non-empty piece");
        (206, Some(RangeRequest::Closed(r)))
    };
    // The head borrows its values.
    let cl = body.len().to_string();
    let cr = format!("bytes {start}-{}/{total}", end - 1);
    let sent = sends_header.then(|| tree_hash(body));
    let hex = sent.map(|h| h.to_hex());
    let mut b = HeadBuilder::new(status).expect("status");
    b.header(b"Content-Length", cl.as_bytes())
        .expect("Content-Length");
    if status == 206 {
        b.header(b"Content-Range", cr.as_bytes())
            .expect("Content-Range");
    }
    if let Some(hex) = &hex {
        b.header(b"x-amz-sha256-tree-hash", hex.as_str().as_bytes())
            .expect("tree-hash header");
    }
    let expect = Expectation {
        job,
        output_len,
        range,
        tree_hash: None,
    };
    let mut v = if prefix > 0 {
        let mut held = TreeHasher::new();
        held.update(&data[first as usize..start as usize]);
        Verifier::continuing(expect, held)
    } else {
        Verifier::new(expect)
    }
    .expect("consistent expectation");
    v.on_head(&b.finish().expect("head"))
        .expect("head accepted");
    v.update(body).expect("body accepted");
    let verdict = v.finish_part().expect("a correct piece verifies");
    (verdict, sent)
}
