//! [`RawVerifier`]: raw response bytes pushed in any split give exactly what
//! `verify_response` gives when it pulls the same bytes; the head buffer's
//! limit, the stream ending inside the head, and the first failure kept.

mod common;

use common::{MIB, Trickle, mod251, pseudo_random};
use glacier_verify_core::{
    ByteRange, Digest, DrainError, Error, Expectation, HashSource, JobKind, Level, RAW_HEAD_LEN,
    RangeRequest, RawVerifier, Verified, Verifier, tree_hash, verify_response,
};
use proptest::prelude::*;

fn br(first: u64, last: u64) -> ByteRange {
    ByteRange::new(first, last).unwrap()
}

fn archive(size: u64) -> JobKind {
    JobKind::Archive {
        archive_size: size,
        retrieval: ByteRange::whole(size).unwrap(),
    }
}

/// Head + body of a Glacier-like response.
fn response(status_and_fields: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "{status_and_fields}x-amzn-RequestId: raw-test\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    [head.as_bytes(), body].concat()
}

fn ok_200(body: &[u8], hash: Option<Digest>) -> Vec<u8> {
    let mut f = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len());
    if let Some(h) = hash {
        f += &format!("x-amz-sha256-tree-hash: {h}\r\n");
    }
    response(&f, body)
}

/// Feeds `raw` cut at `cuts` (offsets, any order, out-of-range ignored),
/// stopping at the first failure, then finishes.
fn feed_cut(expect: Expectation, raw: &[u8], cuts: &[usize]) -> Result<Verified, Error> {
    let mut points: Vec<usize> = cuts.iter().copied().filter(|c| *c < raw.len()).collect();
    points.sort_unstable();
    points.dedup();
    let mut v = RawVerifier::new(expect)?;
    let mut from = 0;
    for to in points.into_iter().chain([raw.len()]) {
        v.feed(&raw[from..to])?;
        from = to;
    }
    v.finish()
}

/// Feeds `raw` in pieces of `step` bytes.
fn feed_steps(expect: Expectation, raw: &[u8], step: usize) -> Result<Verified, Error> {
    let cuts: Vec<usize> = (step..raw.len()).step_by(step).collect();
    feed_cut(expect, raw, &cuts)
}

/// What `verify_response` says about the same bytes.
fn pulled(expect: Expectation, raw: &[u8]) -> Result<Verified, Error> {
    let mut reader = Trickle::new(raw, 777);
    let mut buf = [0u8; 4096];
    verify_response(&mut reader, expect, &mut buf).map_err(|e| match e {
        DrainError::Verify(e) => e,
        DrainError::Read(never) => match never {},
    })
}

#[test]
fn whole_response_in_every_piece_size_matches_verify_response() {
    let body = mod251(2 * MIB + 333);
    let raw = ok_200(&body, Some(tree_hash(&body)));
    let want = pulled(Expectation::unknown(None), &raw).unwrap();
    assert_eq!(want.level(), Level::HeaderHash);
    for step in [1, 2, 3, 7, 64, 100, 511, 1460, 4096, 65_536, MIB, raw.len()] {
        let got = feed_steps(Expectation::unknown(None), &raw, step);
        assert_eq!(got, Ok(want), "pieces of {step}");
    }
}

#[test]
fn every_cut_of_a_small_response_in_two_or_three() {
    let body = b"Welcome to Amazon Glacier.";
    let raw = ok_200(body, Some(tree_hash(body)));
    let want = pulled(Expectation::unknown(None), &raw);
    assert!(want.is_ok());
    for a in 0..=raw.len() {
        assert_eq!(
            feed_cut(Expectation::unknown(None), &raw, &[a]),
            want,
            "cut {a}"
        );
        for b in (a..=raw.len()).step_by(5) {
            assert_eq!(
                feed_cut(Expectation::unknown(None), &raw, &[a, b]),
                want,
                "cuts {a} {b}"
            );
        }
    }
}

#[test]
fn ranged_206_and_its_failures_match_verify_response() {
    let total = 6 * MIB as u64 + MIB as u64 / 2;
    let data = mod251(total as usize);
    let (first, last) = (2 * MIB as u64, 4 * MIB as u64 - 1);
    let body = &data[first as usize..=last as usize];
    let hash = tree_hash(body);
    let expect = |cr_first: u64| Expectation {
        job: archive(total),
        output_len: None,
        range: Some(RangeRequest::Closed(br(cr_first, last))),
        tree_hash: None,
    };
    let head = |cr: &str, len: u64, hash: Option<Digest>| {
        let mut f = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: {cr}\r\nContent-Length: {len}\r\n"
        );
        if let Some(h) = hash {
            f += &format!("x-amz-sha256-tree-hash: {h}\r\n");
        }
        f
    };
    let cr = format!("bytes {first}-{last}/{total}");
    let good = response(&head(&cr, body.len() as u64, Some(hash)), body);
    let mut flipped = good.clone();
    let at = flipped.len() - 1000;
    flipped[at] ^= 0x40;
    let short = response(
        &head(&cr, body.len() as u64, Some(hash)),
        &body[..body.len() - 1],
    );
    let long = [good.as_slice(), b"!"].concat();
    let wrong_cr = response(
        &head(
            &format!("bytes {}-{last}/{total}", first + 1),
            body.len() as u64 - 1,
            Some(hash),
        ),
        &body[1..],
    );
    let no_header = response(&head(&cr, body.len() as u64, None), body);

    // Passes, or fails with an error this predicate accepts.
    type Want = Result<(), fn(&Error) -> bool>;
    let cases: [(&str, &[u8], Want); 6] = [
        ("good", &good, Ok(())),
        (
            "flipped",
            &flipped,
            Err(|e| {
                matches!(
                    e,
                    Error::TreeHashMismatch {
                        source: HashSource::Header,
                        ..
                    }
                )
            }),
        ),
        (
            "short",
            &short,
            Err(|e| matches!(e, Error::BodyTooShort { .. })),
        ),
        (
            "long",
            &long,
            Err(|e| matches!(e, Error::BodyTooLong { .. })),
        ),
        (
            "wrong Content-Range",
            &wrong_cr,
            Err(|e| matches!(e, Error::ContentRangeMismatch { .. })),
        ),
        (
            "no header where due",
            &no_header,
            Err(|e| *e == Error::TreeHashHeaderMissing),
        ),
    ];
    for (name, raw, want) in cases {
        let pull = pulled(expect(first), raw);
        match want {
            Ok(()) => assert_eq!(pull.map(|v| v.level()), Ok(Level::HeaderHash), "{name}"),
            Err(is) => assert!(pull.as_ref().is_err_and(is), "{name}: {pull:?}"),
        }
        for step in [1, 13, 1460, 100_003] {
            assert_eq!(
                feed_steps(expect(first), raw, step),
                pull,
                "{name}, pieces of {step}"
            );
        }
    }
}

#[test]
fn head_longer_than_the_buffer_is_head_too_large() {
    // A head of exactly RAW_HEAD_LEN bytes fits; one byte more does not.
    let base = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nx-pad: \r\n\r\n".len();
    let fitting = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nx-pad: {}\r\n\r\nabc",
        "p".repeat(RAW_HEAD_LEN - base)
    );
    for step in [1, 100, RAW_HEAD_LEN, RAW_HEAD_LEN + 3] {
        let v = feed_steps(Expectation::unknown(None), fitting.as_bytes(), step).unwrap();
        assert_eq!(v.body_len, 3);
    }
    let over = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nx-pad: {}\r\n\r\nabc",
        "p".repeat(RAW_HEAD_LEN - base + 1)
    );
    for step in [1, 100, RAW_HEAD_LEN, over.len()] {
        assert_eq!(
            feed_steps(Expectation::unknown(None), over.as_bytes(), step),
            Err(Error::HeadTooLarge),
            "pieces of {step}"
        );
    }
    // verify_response with a buffer of the same size agrees.
    let mut reader: &[u8] = over.as_bytes();
    let mut buf = [0u8; RAW_HEAD_LEN];
    assert!(matches!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::HeadTooLarge))
    ));
}

#[test]
fn stream_ending_in_the_head_is_head_incomplete() {
    let raw = ok_200(b"abc", None);
    let end = raw.len() - 3;
    for cut in [0, 1, 16, end - 1] {
        let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
        v.feed(&raw[..cut]).unwrap();
        assert_eq!(v.finish(), Err(Error::HeadIncomplete), "{cut} bytes");
    }
    // The whole head but no body: the body is short.
    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    v.feed(&raw[..end]).unwrap();
    assert_eq!(
        v.finish(),
        Err(Error::BodyTooShort {
            content_length: 3,
            received: 0
        })
    );
}

#[test]
fn interim_continue_heads_are_skipped() {
    let body = b"hello world";
    let raw = [
        b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(),
        &ok_200(body, Some(tree_hash(body))),
    ]
    .concat();
    for step in [1, 5, raw.len()] {
        let v = feed_steps(Expectation::unknown(None), &raw, step).unwrap();
        assert_eq!(v.level(), Level::HeaderHash);
    }
}

#[test]
fn the_first_failure_is_kept_and_finish_is_repeatable() {
    let body = b"abcdef";
    let raw = ok_200(body, Some(tree_hash(body)));
    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    v.feed(&raw).unwrap();
    let too_long = Error::BodyTooLong { content_length: 6 };
    assert_eq!(v.feed(b"x"), Err(too_long));
    assert_eq!(v.received(), 6, "the excess is not counted");
    assert_eq!(v.feed(b""), Err(too_long));
    assert_eq!(v.finish(), Err(too_long));
    assert_eq!(v.finish(), Err(too_long));

    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    assert_eq!(
        v.feed(b"HTTP/1.1 404 Not Found\r\n\r\n"),
        Err(Error::MissingContentLength)
    );
    assert_eq!(v.feed(&raw), Err(Error::MissingContentLength));
    assert_eq!(v.finish(), Err(Error::MissingContentLength));

    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    v.feed(&raw).unwrap();
    let first = v.finish().unwrap();
    assert_eq!(v.finish(), Ok(first));
    assert_eq!(v.feed(b""), Ok(()));
    assert_eq!(v.feed(b"x"), Err(too_long), "bytes after the end");
    assert_eq!(v.finish(), Err(too_long));
}

#[test]
fn a_malformed_head_fails_at_the_line_that_is_wrong() {
    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    v.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3").unwrap();
    assert_eq!(v.feed(b"\n"), Err(Error::BareLineFeed));
    let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
    assert_eq!(
        v.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n"),
        Err(Error::ConflictingContentLength)
    );
}

#[test]
fn an_inconsistent_expectation_is_refused_at_new() {
    let e = Expectation {
        job: archive(10),
        output_len: Some(11),
        range: None,
        tree_hash: None,
    };
    assert_eq!(Verifier::new(e).err(), Some(Error::InvalidExpectation));
    assert_eq!(RawVerifier::new(e).err(), Some(Error::InvalidExpectation));
}

#[test]
fn state_size() {
    let raw = size_of::<RawVerifier>();
    let verifier = size_of::<Verifier>();
    println!("size_of::<RawVerifier>() = {raw}");
    // The verifier, the head buffer, and a kept verdict.
    assert!(raw >= verifier + RAW_HEAD_LEN);
    assert!(raw <= verifier + RAW_HEAD_LEN + 256, "{raw}");
}

/// The crate docs state the measured size; keep it true.
#[cfg(target_arch = "x86_64")]
#[test]
fn crate_docs_state_the_measured_size() {
    let lib = include_str!("../src/lib.rs");
    let s = size_of::<RawVerifier>().to_string();
    let row = format!(
        "//! | [`RawVerifier`] | {} {} (",
        &s[..s.len() - 3],
        &s[s.len() - 3..]
    );
    assert!(lib.contains(&row), "lib.rs \"## Memory\" lacks {row:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any response, mangled or not, cut anywhere: the same outcome as
    /// `verify_response` pulling it.
    #[test]
    fn any_split_of_any_response_matches_verify_response(
        len in 0usize..3000,
        seed in any::<u64>(),
        ranged in any::<bool>(),
        with_hash in any::<bool>(),
        mangle in prop_oneof![Just(None), (0usize..4000, any::<u8>()).prop_map(Some)],
        trim in 0usize..3,
        cuts in prop::collection::vec(0usize..4000, 0..12),
    ) {
        let body = pseudo_random(len, seed);
        let hash = with_hash.then(|| tree_hash(&body));
        let (expect, mut raw) = if ranged && len > 0 {
            let total = len as u64 + 10;
            let f = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-{}/{total}\r\nContent-Length: {len}\r\n{}",
                total - 1,
                hash.map(|h| format!("x-amz-sha256-tree-hash: {h}\r\n")).unwrap_or_default()
            );
            let e = Expectation {
                job: archive(total),
                output_len: None,
                range: Some(RangeRequest::From(10)),
                tree_hash: None,
            };
            (e, response(&f, &body))
        } else {
            (Expectation::unknown(None), ok_200(&body, hash))
        };
        if let Some((at, x)) = mangle
            && at < raw.len()
        {
            raw[at] ^= x | 1;
        }
        raw.truncate(raw.len() - trim.min(raw.len()));
        prop_assert_eq!(feed_cut(expect, &raw, &cuts), pulled(expect, &raw));
    }
}

#[test]
fn restart_reuses_the_state_for_another_response() {
    let body = b"first body";
    let raw = ok_200(body, Some(tree_hash(body)));
    let mut v = RawVerifier::default();
    v.feed(&raw).unwrap();
    assert_eq!(v.finish().unwrap().level(), Level::HeaderHash);

    // A ranged response next, on the same state.
    let total = 3 * MIB as u64;
    let data = mod251(total as usize);
    let part = &data[MIB..2 * MIB];
    let f = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {}-{}/{total}\r\nContent-Length: {}\r\nx-amz-sha256-tree-hash: {}\r\n",
        MIB,
        2 * MIB - 1,
        MIB,
        tree_hash(part)
    );
    let expect = Expectation {
        job: archive(total),
        output_len: None,
        range: Some(RangeRequest::Closed(br(MIB as u64, 2 * MIB as u64 - 1))),
        tree_hash: None,
    };
    v.restart(expect).unwrap();
    for piece in response(&f, part).chunks(999) {
        v.feed(piece).unwrap();
    }
    let verdict = v.finish().unwrap();
    assert_eq!(verdict.level(), Level::HeaderHash);
    assert_eq!(verdict.tree_hash, tree_hash(part));

    // An inconsistent expectation is kept as the failure until a good restart.
    let bad = Expectation {
        output_len: Some(1),
        ..expect
    };
    assert_eq!(v.restart(bad), Err(Error::InvalidExpectation));
    assert_eq!(v.feed(b"HTTP/1.1"), Err(Error::InvalidExpectation));
    assert_eq!(v.finish(), Err(Error::InvalidExpectation));
    v.restart(Expectation::unknown(None)).unwrap();
    v.feed(&raw).unwrap();
    assert!(v.finish().is_ok());
}

#[test]
fn default_is_new_with_nothing_known() {
    let body = mod251(5000);
    for raw in [ok_200(&body, Some(tree_hash(&body))), ok_200(&body, None)] {
        let mut d = RawVerifier::default();
        let mut n = RawVerifier::new(Expectation::unknown(None)).unwrap();
        d.feed(&raw).unwrap();
        n.feed(&raw).unwrap();
        assert_eq!(d.finish(), n.finish());
    }
}
