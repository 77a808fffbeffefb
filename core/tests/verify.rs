//! The verifier against docs/protocol.md §9: every check with a passing and a failing
//! case, the header-expected rule of §2.3, resumed downloads, and whole raw
//! responses read through a small buffer.

mod common;

use common::{MIB, MIB64, Trickle, mod251, pseudo_random};
use glacier_verify_core::{
    ByteRange, Digest, DrainError, Error, Expectation, HashSource, HeadBuilder, HeaderHash,
    JobKind, LEAF_SIZE, Level, Parsed, RangeRequest, TreeHasher, Verified, Verifier, parse_head,
    tree_hash, verify_body, verify_response,
};

fn br(first: u64, last: u64) -> ByteRange {
    ByteRange::new(first, last).unwrap()
}

/// A raw head with the given fields.
fn head(status: u16, cl: Option<u64>, cr: Option<String>, hash: Option<Digest>) -> String {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        _ => "Whatever",
    };
    let mut s = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/octet-stream\r\n");
    if let Some(cl) = cl {
        s += &format!("Content-Length: {cl}\r\n");
    }
    if let Some(cr) = cr {
        s += &format!("Content-Range: {cr}\r\n");
    }
    if let Some(h) = hash {
        s += &format!("x-amz-sha256-tree-hash: {h}\r\n");
    }
    s + "\r\n"
}

/// A 206 head for `data[first..=last]` of an output of `total` bytes.
fn head_206(first: u64, last: u64, total: u64, hash: Option<Digest>) -> String {
    head(
        206,
        Some(last - first + 1),
        Some(format!("bytes {first}-{last}/{total}")),
        hash,
    )
}

/// Head, then the body in pieces.
fn run(expect: Expectation, raw_head: &str, body: &[u8]) -> Result<Verified, Error> {
    let mut v = Verifier::new(expect)?;
    let Parsed::Complete { value, .. } = parse_head(raw_head.as_bytes())? else {
        panic!("partial head")
    };
    v.on_head(&value)?;
    for piece in body.chunks(100_003) {
        v.update(piece)?;
    }
    v.finish()
}

fn archive(archive_size: u64, retrieval: ByteRange) -> JobKind {
    JobKind::Archive {
        archive_size,
        retrieval,
    }
}

/// An archive job retrieving all of an archive of `len` bytes.
fn whole_archive(len: u64) -> JobKind {
    archive(len, ByteRange::whole(len).unwrap())
}

fn expect(job: JobKind, range: Option<RangeRequest>, hash: Option<Digest>) -> Expectation {
    Expectation {
        job,
        output_len: None,
        range,
        tree_hash: hash,
    }
}

fn closed(first: u64, last: u64) -> Option<RangeRequest> {
    Some(RangeRequest::Closed(br(first, last)))
}

// --- status and Content-Range (docs/protocol.md §9.2) ----------------------------------------------------------

#[test]
fn partial_content_with_the_right_content_range() {
    let data = mod251(8 * MIB);
    let e = 8 * MIB64;
    let part = &data[MIB..2 * MIB];
    let v = run(
        expect(whole_archive(e), closed(MIB64, 2 * MIB64 - 1), None),
        &head_206(MIB64, 2 * MIB64 - 1, e, Some(tree_hash(part))),
        part,
    )
    .unwrap();
    assert_eq!(v.delivered, Some(br(MIB64, 2 * MIB64 - 1)));
    assert_eq!((v.output_len, v.body_len, v.hashed_len), (e, MIB64, MIB64));
    assert_eq!(v.tree_hash, tree_hash(part));
    assert_eq!(v.header, HeaderHash::Matched(tree_hash(part)));
    assert_eq!(v.content_range_total_mismatch, None);
    assert_eq!(v.level(), Level::HeaderHash);

    // DG-GJO example 2: bytes=0-1023 of 8 MiB, no header (not aligned).
    let v = run(
        expect(whole_archive(e), closed(0, 1023), None),
        &head_206(0, 1023, e, None),
        &data[..1024],
    )
    .unwrap();
    assert_eq!(v.header, HeaderHash::NotSent);
    assert_eq!(v.level(), Level::SizeOnly);
}

#[test]
fn content_range_naming_other_bytes_fails() {
    let data = mod251(4 * MIB);
    let e = 4 * MIB64;
    let want = closed(MIB64, 2 * MIB64 - 1);
    for (first, last) in [
        (0, MIB64 - 1),             // other first and last
        (MIB64 + 1, 2 * MIB64),     // shifted
        (MIB64, 2 * MIB64 - 2),     // last differs
        (MIB64 - 1, 2 * MIB64 - 1), // first differs
    ] {
        let r = run(
            expect(whole_archive(e), want, None),
            &head_206(first, last, e, None),
            &data[first as usize..=last as usize],
        );
        assert_eq!(
            r.unwrap_err(),
            Error::ContentRangeMismatch {
                requested_first: MIB64,
                requested_last: 2 * MIB64 - 1,
                received: br(first, last),
            }
        );
    }
    // Open-ended request: the range must run to the end of the known output.
    let r = run(
        expect(whole_archive(e), Some(RangeRequest::From(MIB64)), None),
        &head_206(MIB64, 2 * MIB64 - 1, e, None),
        &data[MIB..2 * MIB],
    );
    assert!(
        matches!(r, Err(Error::ContentRangeMismatch { requested_last, .. }) if requested_last == e - 1)
    );
}

#[test]
fn content_range_total_mismatch_is_a_warning() {
    // docs/protocol.md §9.2 / §10.7: the total is INFERRED; log, do not fail.
    let data = mod251(2 * MIB);
    let e = 2 * MIB64;
    let v = run(
        expect(whole_archive(e), closed(0, MIB64 - 1), None),
        &head_206(0, MIB64 - 1, 16 * MIB64, Some(tree_hash(&data[..MIB]))),
        &data[..MIB],
    )
    .unwrap();
    assert_eq!(v.content_range_total_mismatch, Some(16 * MIB64));
    assert_eq!(v.level(), Level::HeaderHash);
    assert_eq!(v.output_len, e, "the expected length stands");
    // Unknown output length: the server's total is taken, nothing to compare.
    let v = run(
        Expectation::unknown(closed(0, MIB64 - 1)),
        &head_206(0, MIB64 - 1, 16 * MIB64, None),
        &data[..MIB],
    )
    .unwrap();
    assert_eq!(v.content_range_total_mismatch, None);
    assert_eq!(v.output_len, 16 * MIB64);
}

#[test]
fn ok_to_a_ranged_request_for_a_part_is_range_ignored() {
    // docs/protocol.md §1 (boto3#2077, boto3#300) and §11 (moto): the whole output with 200.
    let data = mod251(3 * MIB);
    let e = 3 * MIB64;
    let whole_head = head(200, Some(e), None, None);
    for range in [
        closed(0, MIB64 - 1),
        closed(MIB64, 2 * MIB64 - 1),
        closed(MIB64, e - 1),
        Some(RangeRequest::From(MIB64)),
    ] {
        for job in [whole_archive(e), JobKind::Unknown] {
            let r = run(expect(job, range, None), &whole_head, &data);
            assert_eq!(
                r.unwrap_err(),
                Error::RangeIgnored { content_length: e },
                "{range:?}"
            );
        }
    }
    // A 200 carrying exactly the bytes of a non-whole request starting at 0 is
    // still not what was asked for when the output is known to be longer.
    let r = run(
        expect(whole_archive(e), closed(0, MIB64 - 1), None),
        &head(200, Some(MIB64), None, None),
        &data[..MIB],
    );
    assert_eq!(
        r.unwrap_err(),
        Error::RangeIgnored {
            content_length: MIB64
        }
    );
}

#[test]
fn ok_to_a_whole_output_range_is_accepted() {
    let data = mod251(3 * MIB + 5);
    let e = data.len() as u64;
    let hash = tree_hash(&data);
    for range in [closed(0, e - 1), Some(RangeRequest::From(0)), None] {
        for job in [whole_archive(e), JobKind::Unknown] {
            let v = run(
                expect(job, range, None),
                &head(200, Some(e), None, Some(hash)),
                &data,
            )
            .unwrap();
            assert_eq!(v.delivered, Some(br(0, e - 1)), "{range:?}");
            assert_eq!(v.level(), Level::HeaderHash);
        }
    }
    // And a 206 for the whole output is fine too.
    let v = run(
        expect(whole_archive(e), closed(0, e - 1), None),
        &head_206(0, e - 1, e, Some(hash)),
        &data,
    )
    .unwrap();
    assert_eq!(v.level(), Level::HeaderHash);
}

#[test]
fn other_statuses_fail() {
    for status in [201, 204, 304, 400, 404, 416, 500, 503] {
        let r = run(
            Expectation::unknown(None),
            &head(status, Some(0), None, None),
            b"",
        );
        assert_eq!(r.unwrap_err(), Error::UnexpectedStatus(status));
    }
}

// --- sizes (docs/protocol.md §2.2, §9.2) -------------------------------------------------------------------

#[test]
fn missing_content_length_or_content_range() {
    let r = run(
        Expectation::unknown(None),
        &head(200, None, None, None),
        b"abc",
    );
    assert_eq!(r.unwrap_err(), Error::MissingContentLength);
    let r = run(
        Expectation::unknown(closed(0, 2)),
        &head(206, None, Some("bytes 0-2/3".into()), None),
        b"abc",
    );
    assert_eq!(r.unwrap_err(), Error::MissingContentLength);
    let r = run(
        Expectation::unknown(closed(0, 2)),
        &head(206, Some(3), None, None),
        b"abc",
    );
    assert_eq!(r.unwrap_err(), Error::MissingContentRange);
    // A chunked response has no Content-Length either.
    let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(
        run(Expectation::unknown(None), raw, b"").unwrap_err(),
        Error::MissingContentLength
    );
}

#[test]
fn content_length_other_than_expected() {
    let data = mod251(2 * MIB);
    let e = 2 * MIB64;
    // 200: Content-Length must be the output length (DG-GJO "verify your download size").
    let r = run(
        expect(whole_archive(e), None, None),
        &head(200, Some(e - 1), None, None),
        &data[1..],
    );
    assert_eq!(
        r.unwrap_err(),
        Error::ContentLengthMismatch {
            expected: e,
            received: e - 1
        }
    );
    let inventory = Expectation {
        job: JobKind::Inventory,
        output_len: Some(906),
        range: None,
        tree_hash: None,
    };
    let r = run(inventory, &head(200, Some(907), None, None), &[b' '; 907]);
    assert_eq!(
        r.unwrap_err(),
        Error::ContentLengthMismatch {
            expected: 906,
            received: 907
        }
    );
    assert!(run(inventory, &head(200, Some(906), None, None), &[b' '; 906]).is_ok());
    // 206: Content-Length must be the range's length.
    let r = run(
        expect(whole_archive(e), closed(0, 1023), None),
        &head(206, Some(1000), Some(format!("bytes 0-1023/{e}")), None),
        &data[..1000],
    );
    assert_eq!(
        r.unwrap_err(),
        Error::ContentLengthMismatch {
            expected: 1024,
            received: 1000
        }
    );
}

#[test]
fn body_too_long_fails_at_the_update_that_crosses() {
    let data = mod251(3000);
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    let raw = head(200, Some(2048), None, None);
    let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    v.on_head(&value).unwrap();
    v.update(&data[..1000]).unwrap();
    v.update(&data[1000..2048]).unwrap();
    assert_eq!(v.received(), 2048);
    // Exactly at the limit an empty update is fine; one byte more is not.
    v.update(&[]).unwrap();
    assert_eq!(
        v.update(&data[2048..2049]),
        Err(Error::BodyTooLong {
            content_length: 2048
        })
    );
    // The excess was not hashed or counted.
    assert_eq!(v.received(), 2048);
    assert_eq!(v.hasher().bytes(), 2048);
    let verdict = v.finish().unwrap();
    assert_eq!(verdict.tree_hash, tree_hash(&data[..2048]));

    // A single update that straddles the limit fails as a whole.
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    v.on_head(&value).unwrap();
    v.update(&data[..2000]).unwrap();
    assert_eq!(
        v.update(&data[2000..2100]),
        Err(Error::BodyTooLong {
            content_length: 2048
        })
    );
    assert_eq!(v.received(), 2000);
}

#[test]
fn body_too_short_fails_at_finish() {
    let data = mod251(2048);
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    let raw = head(200, Some(2048), None, Some(tree_hash(&data)));
    let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    v.on_head(&value).unwrap();
    v.update(&data[..2047]).unwrap();
    assert_eq!(
        v.finish().unwrap_err(),
        Error::BodyTooShort {
            content_length: 2048,
            received: 2047
        }
    );
}

// --- tree hashes (docs/protocol.md §2.3, §9.3) ------------------------------------------------------------------

#[test]
fn header_hash_match_and_mismatch() {
    let data = pseudo_random(2 * MIB + 77, 1);
    let e = data.len() as u64;
    let good = tree_hash(&data);
    let v = run(
        Expectation::unknown(None),
        &head(200, Some(e), None, Some(good)),
        &data,
    )
    .unwrap();
    assert_eq!(v.header, HeaderHash::Matched(good));
    assert_eq!(v.level(), Level::HeaderHash);

    // The plain SHA-256 (moto's "tree hash", docs/protocol.md §11) of a > 1 MiB body is not it.
    let plain = Digest(common::sha256(&data));
    let r = run(
        Expectation::unknown(None),
        &head(200, Some(e), None, Some(plain)),
        &data,
    );
    assert_eq!(
        r.unwrap_err(),
        Error::TreeHashMismatch {
            source: HashSource::Header,
            computed: good,
            expected: plain
        }
    );
}

#[test]
fn header_missing_where_glacier_sends_it() {
    let data = mod251(6 * MIB + MIB / 2);
    let s = data.len() as u64;
    let whole = tree_hash(&data);
    // Whole archive, whole download: docs/protocol.md §2.3 says the header is sent.
    let r = run(
        expect(whole_archive(s), None, None),
        &head(200, Some(s), None, None),
        &data,
    );
    assert_eq!(r.unwrap_err(), Error::TreeHashHeaderMissing);
    // An aligned part, [2 MiB, 4 MiB): also.
    let part = &data[2 * MIB..4 * MIB];
    let r = run(
        expect(whole_archive(s), closed(2 * MIB64, 4 * MIB64 - 1), None),
        &head_206(2 * MIB64, 4 * MIB64 - 1, s, None),
        part,
    );
    assert_eq!(r.unwrap_err(), Error::TreeHashHeaderMissing);
    // Passes only when the expected hash matched — and says so.
    let v = run(
        expect(whole_archive(s), None, Some(whole)),
        &head(200, Some(s), None, None),
        &data,
    )
    .unwrap();
    assert_eq!(v.header, HeaderHash::MissingButExpected);
    assert!(v.expected_hash_matched);
    assert_eq!(v.level(), Level::ExpectedHash);
    let v = run(
        expect(
            whole_archive(s),
            closed(2 * MIB64, 4 * MIB64 - 1),
            Some(tree_hash(part)),
        ),
        &head_206(2 * MIB64, 4 * MIB64 - 1, s, None),
        part,
    )
    .unwrap();
    assert_eq!(
        (v.header, v.level()),
        (HeaderHash::MissingButExpected, Level::ExpectedHash)
    );
    // A non-aligned part, [1 MiB, 3 MiB): no header promised, size only.
    let v = run(
        expect(whole_archive(s), closed(MIB64, 3 * MIB64 - 1), None),
        &head_206(MIB64, 3 * MIB64 - 1, s, None),
        &data[MIB..3 * MIB],
    )
    .unwrap();
    assert_eq!(
        (v.header, v.level()),
        (HeaderHash::NotSent, Level::SizeOnly)
    );
    // A non-aligned retrieval: never promised (DG-RANGE), even for the whole output.
    let job = archive(s, br(MIB64, 3 * MIB64 - 1));
    let out = &data[MIB..3 * MIB];
    let v = run(
        expect(job, None, None),
        &head(200, Some(2 * MIB64), None, None),
        out,
    )
    .unwrap();
    assert_eq!(v.header, HeaderHash::NotSent);
    // An aligned retrieval [4 MiB, end): the relative range [0, 2 MiB) is
    // absolute [4, 6) MiB, aligned, so the header is promised.
    let job = archive(s, br(4 * MIB64, s - 1));
    let r = run(
        expect(job, closed(0, 2 * MIB64 - 1), None),
        &head_206(0, 2 * MIB64 - 1, s - 4 * MIB64, None),
        &data[4 * MIB..6 * MIB],
    );
    assert_eq!(r.unwrap_err(), Error::TreeHashHeaderMissing);
}

#[test]
fn inventory_and_unknown_jobs_never_require_the_header() {
    let body = br#"{"VaultARN":"arn:aws:glacier:us-west-2:012345678901:vaults/examplevault","ArchiveList":[]}"#;
    let n = body.len() as u64;
    for job in [JobKind::Inventory, JobKind::Unknown] {
        let e = Expectation {
            job,
            output_len: Some(n),
            range: None,
            tree_hash: None,
        };
        let v = run(e, &head(200, Some(n), None, None), body).unwrap();
        assert_eq!(
            (v.header, v.level()),
            (HeaderHash::NotSent, Level::SizeOnly)
        );
        // But one that is present is verified (docs/protocol.md §2.3(c)).
        let v = run(e, &head(200, Some(n), None, Some(tree_hash(body))), body).unwrap();
        assert_eq!(v.level(), Level::HeaderHash);
        let wrong = tree_hash(b"something else");
        let r = run(e, &head(200, Some(n), None, Some(wrong)), body);
        assert!(matches!(
            r,
            Err(Error::TreeHashMismatch {
                source: HashSource::Header,
                ..
            })
        ));
    }
}

#[test]
fn expected_hash_match_and_mismatch() {
    let data = pseudo_random(3 * MIB, 2);
    let e = data.len() as u64;
    let good = tree_hash(&data);
    let v = run(
        expect(whole_archive(e), None, Some(good)),
        &head(200, Some(e), None, Some(good)),
        &data,
    )
    .unwrap();
    assert!(v.expected_hash_matched);
    assert_eq!(v.level(), Level::HeaderAndExpectedHash);

    // The header agrees with the body, but the body is not what DescribeJob promised.
    let promised = tree_hash(b"the archive that was uploaded");
    let r = run(
        expect(whole_archive(e), None, Some(promised)),
        &head(200, Some(e), None, Some(good)),
        &data,
    );
    assert_eq!(
        r.unwrap_err(),
        Error::TreeHashMismatch {
            source: HashSource::Expected,
            computed: good,
            expected: promised
        }
    );
    // Expected hash only (unknown job, no header).
    let v = run(
        expect(JobKind::Unknown, None, Some(good)),
        &head(200, Some(e), None, None),
        &data,
    )
    .unwrap();
    assert_eq!(
        (v.header, v.level()),
        (HeaderHash::NotSent, Level::ExpectedHash)
    );
}

#[test]
fn level_names() {
    assert_eq!(Level::SizeOnly.as_str(), "size-only");
    assert_eq!(Level::HeaderHash.as_str(), "header-hash");
    assert_eq!(Level::ExpectedHash.as_str(), "expected-hash");
    assert_eq!(
        Level::HeaderAndExpectedHash.as_str(),
        "header-and-expected-hash"
    );
}

#[test]
fn empty_output() {
    // Glacier refuses empty archives, but an empty inventory-like output must not break.
    let v = run(
        Expectation::unknown(None),
        &head(200, Some(0), None, None),
        b"",
    )
    .unwrap();
    assert_eq!(v.delivered, None);
    assert_eq!(v.body_len, 0);
    assert_eq!(v.tree_hash, tree_hash(b""));
    let r = run(
        Expectation::unknown(None),
        &head(200, Some(0), None, None),
        b"x",
    );
    assert_eq!(r.unwrap_err(), Error::BodyTooLong { content_length: 0 });
}

// --- expectations and call order ----------------------------------------------------------------

#[test]
fn inconsistent_expectations_are_rejected() {
    let s = 8 * MIB64;
    // Output length other than the retrieval range's.
    let e = Expectation {
        job: archive(s, br(0, 2 * MIB64 - 1)),
        output_len: Some(s),
        range: None,
        tree_hash: None,
    };
    assert_eq!(Verifier::new(e).unwrap_err(), Error::InvalidExpectation);
    // Retrieval range past the archive.
    let e = expect(archive(s, br(0, s)), None, None);
    assert_eq!(Verifier::new(e).unwrap_err(), Error::InvalidExpectation);
    // A range outside the output.
    let e = expect(
        archive(s, br(0, 2 * MIB64 - 1)),
        closed(2 * MIB64, 3 * MIB64 - 1),
        None,
    );
    assert_eq!(Verifier::new(e).unwrap_err(), Error::RangeNotSatisfiable);
    let e = expect(whole_archive(s), Some(RangeRequest::From(s)), None);
    assert_eq!(Verifier::new(e).unwrap_err(), Error::RangeNotSatisfiable);
    // Consistent ones are fine, and the output length defaults to the retrieval's.
    let e = Expectation {
        job: archive(s, br(0, 2 * MIB64 - 1)),
        output_len: Some(2 * MIB64),
        range: closed(0, MIB64 - 1),
        tree_hash: None,
    };
    assert!(Verifier::new(e).is_ok());
}

#[test]
fn call_order_errors() {
    let raw = head(200, Some(3), None, None);
    let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    assert_eq!(v.update(b"abc"), Err(Error::BodyBeforeHead));
    assert_eq!(v.clone().finish().unwrap_err(), Error::BodyBeforeHead);
    v.on_head(&value).unwrap();
    assert_eq!(v.on_head(&value), Err(Error::HeadAlreadySeen));
    v.update(b"abc").unwrap();
    assert_eq!(v.finish().unwrap().tree_hash, tree_hash(b"abc"));
}

#[test]
fn write_impl_feeds_the_body() {
    use embedded_io::Write;
    let data = pseudo_random(MIB + 3, 4);
    let hash = tree_hash(&data);
    let mut b = HeadBuilder::new(200).unwrap();
    let len = data.len().to_string();
    let hex = hash.to_hex();
    b.header(b"Content-Length", len.as_bytes()).unwrap();
    b.header(b"x-amz-sha256-tree-hash", hex.as_str().as_bytes())
        .unwrap();
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    v.on_head(&b.finish().unwrap()).unwrap();
    v.write_all(&data).unwrap();
    v.flush().unwrap();
    assert_eq!(
        v.write(b"x"),
        Err(Error::BodyTooLong {
            content_length: data.len() as u64
        })
    );
    assert_eq!(v.finish().unwrap().level(), Level::HeaderHash);
}

// --- resumed downloads (Verifier::continuing) ------------------------------------------------------

#[test]
fn continuing_a_broken_download_gives_the_whole_output_hash() {
    let data = mod251(6 * MIB + MIB / 2);
    let s = data.len() as u64;
    let whole = tree_hash(&data);
    for cut in [0usize, 1, MIB, 2 * MIB + 12_345, 4 * MIB, data.len() - 1] {
        // First attempt: the whole output, the connection drops after `cut` bytes.
        let mut first = Verifier::new(expect(whole_archive(s), None, Some(whole))).unwrap();
        let raw = head(200, Some(s), None, Some(whole));
        let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
            panic!()
        };
        first.on_head(&value).unwrap();
        first.update(&data[..cut]).unwrap();
        let prefix = first.hasher().clone();
        assert_eq!(prefix.bytes(), cut as u64);

        // Resume with `bytes=cut-`. The 206's header hash is of the rest only.
        let rest = &data[cut..];
        let e = expect(
            whole_archive(s),
            Some(RangeRequest::From(cut as u64)),
            Some(whole),
        );
        let mut second = Verifier::continuing(e, prefix).unwrap();
        let raw = head_206(cut as u64, s - 1, s, Some(tree_hash(rest)));
        let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
            panic!()
        };
        second.on_head(&value).unwrap();
        for piece in rest.chunks(333_333) {
            second.update(piece).unwrap();
        }
        let v = second.finish().unwrap();
        assert_eq!(v.tree_hash, whole, "cut {cut}");
        assert_eq!(v.hashed_len, s);
        assert_eq!(v.body_len, s - cut as u64);
        assert_eq!(v.delivered, Some(br(cut as u64, s - 1)));
        assert!(v.expected_hash_matched);
        if cut == 0 {
            // Nothing before: the body's own hash is the whole hash, and is compared.
            assert_eq!(v.level(), Level::HeaderAndExpectedHash);
        } else {
            // Never claims a header check it did not do.
            assert_eq!(v.header, HeaderHash::NotCompared(tree_hash(rest)));
            assert_eq!(v.level(), Level::ExpectedHash);
        }
    }
}

#[test]
fn continuing_checks_the_expected_hash_over_prefix_and_body() {
    let data = mod251(3 * MIB);
    let s = data.len() as u64;
    let mut prefix = TreeHasher::new();
    prefix.update(&data[..MIB]);
    // A corrupted resumed body fails against the whole-output hash.
    let mut rest = data[MIB..].to_vec();
    rest[5] ^= 0x80;
    let e = expect(
        whole_archive(s),
        Some(RangeRequest::From(MIB64)),
        Some(tree_hash(&data)),
    );
    let r = (|| {
        let mut v = Verifier::continuing(e, prefix.clone())?;
        let raw = head_206(MIB64, s - 1, s, None);
        let Parsed::Complete { value, .. } = parse_head(raw.as_bytes())? else {
            panic!()
        };
        v.on_head(&value)?;
        v.update(&rest)?;
        v.finish()
    })();
    assert!(matches!(
        r,
        Err(Error::TreeHashMismatch {
            source: HashSource::Expected,
            ..
        })
    ));
    // The request cannot start before the prefix ends.
    for range in [
        Some(RangeRequest::From(0)),
        Some(RangeRequest::From(MIB64 - 1)),
        closed(0, 10),
        None,
    ] {
        let e = expect(whole_archive(s), range, None);
        assert_eq!(
            Verifier::continuing(e, prefix.clone()).unwrap_err(),
            Error::InvalidExpectation
        );
    }
    // An empty prefix with no range is an ordinary verifier.
    assert!(Verifier::continuing(expect(whole_archive(s), None, None), TreeHasher::new()).is_ok());
}

#[test]
fn continuing_a_broken_chunk_download() {
    // A chunk [2 MiB, 4 MiB) of an aligned plan breaks after 1 MiB; the rest
    // is asked for as [3 MiB, 4 MiB). prefix + body hash to the chunk's hash.
    let data = mod251(6 * MIB + MIB / 2);
    let s = data.len() as u64;
    let chunk = &data[2 * MIB..4 * MIB];
    let mut prefix = TreeHasher::new();
    prefix.update(&chunk[..MIB]);
    let rest = &chunk[MIB..];
    let e = expect(
        whole_archive(s),
        closed(3 * MIB64, 4 * MIB64 - 1),
        Some(tree_hash(chunk)),
    );
    let mut v = Verifier::continuing(e, prefix.clone()).unwrap();
    let raw = head_206(3 * MIB64, 4 * MIB64 - 1, s, Some(tree_hash(rest)));
    let Parsed::Complete { value, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    v.on_head(&value).unwrap();
    v.update(rest).unwrap();
    let verdict = v.finish().unwrap();
    assert_eq!(verdict.tree_hash, tree_hash(chunk));
    assert_eq!((verdict.hashed_len, verdict.body_len), (2 * MIB64, MIB64));
    assert_eq!(verdict.header, HeaderHash::NotCompared(tree_hash(rest)));
    assert_eq!(verdict.level(), Level::ExpectedHash);
    // Without an expected hash nothing was compared: size only, never "verified".
    let e = expect(whole_archive(s), closed(3 * MIB64, 4 * MIB64 - 1), None);
    let mut v = Verifier::continuing(e, prefix).unwrap();
    v.on_head(&value).unwrap();
    v.update(rest).unwrap();
    assert_eq!(v.finish().unwrap().level(), Level::SizeOnly);
}

// --- docs/protocol.md §9.4: aligned chunks compose into the whole-output hash --------------------------------

#[test]
fn aligned_chunk_downloads_compose_into_describe_job_hash() {
    let data = mod251(6 * MIB + MIB / 2);
    let s = data.len() as u64;
    let describe_job_hash = tree_hash(&data);
    let chunk = 2 * MIB64;
    let mut composed = TreeHasher::new();
    let mut first = 0u64;
    let mut last_part = None;
    while first < s {
        let last = (first + chunk).min(s) - 1;
        let body = &data[first as usize..=last as usize];
        // Glacier sends a header for every aligned chunk.
        let v = run(
            expect(whole_archive(s), closed(first, last), None),
            &head_206(first, last, s, Some(tree_hash(body))),
            body,
        )
        .unwrap();
        assert_eq!(v.level(), Level::HeaderHash);
        if last + 1 < s {
            composed.push_subtree(v.tree_hash, v.body_len).unwrap();
        } else {
            last_part = Some((v.tree_hash, v.body_len));
        }
        first = last + 1;
    }
    let (h, len) = last_part.unwrap();
    assert_eq!(composed.finish_with(h, len).unwrap(), describe_job_hash);
    assert_eq!(LEAF_SIZE, MIB64);
}

// --- whole raw responses through a small buffer ------------------------------------------------

fn response(head: &str, body: &[u8]) -> Vec<u8> {
    [head.as_bytes(), body].concat()
}

#[test]
fn verify_response_through_a_512_byte_buffer() {
    let data = pseudo_random(3 * MIB + 17, 6);
    let e = data.len() as u64;
    let hash = tree_hash(&data);
    let raw = response(&head(200, Some(e), None, Some(hash)), &data);
    let mut buf = [0u8; 512];
    // Whole reads, then reads of at most 1, 7, 100 and 511 bytes (the head split across reads).
    let mut reader: &[u8] = &raw;
    let v = verify_response(
        &mut reader,
        expect(whole_archive(e), None, Some(hash)),
        &mut buf,
    )
    .unwrap();
    assert_eq!(v.level(), Level::HeaderAndExpectedHash);
    for max in [7, 100, 511] {
        let mut reader = Trickle::new(&raw, max);
        let v = verify_response(&mut reader, Expectation::unknown(None), &mut buf).unwrap();
        assert_eq!(v.tree_hash, hash, "max {max}");
        assert!(reader.reads > raw.len() / 512, "max {max}");
    }
    // One byte per read, head and body (a short body keeps it quick).
    let short = response(
        &head(200, Some(600), None, Some(tree_hash(&data[..600]))),
        &data[..600],
    );
    let mut reader = Trickle::new(&short, 1);
    let v = verify_response(&mut reader, Expectation::unknown(None), &mut buf).unwrap();
    assert_eq!(v.level(), Level::HeaderHash);
    assert_eq!(reader.reads, short.len() + 1);
}

#[test]
fn one_flipped_byte_anywhere_fails() {
    // A small body: every byte position, every bit of a few positions.
    let data = pseudo_random(1500, 7);
    let hash = tree_hash(&data);
    let head_text = head(200, Some(data.len() as u64), None, Some(hash));
    let raw = response(&head_text, &data);
    let mut buf = [0u8; 512];
    let mut reader: &[u8] = &raw;
    assert!(verify_response(&mut reader, Expectation::unknown(None), &mut buf).is_ok());
    for pos in head_text.len()..raw.len() {
        let mut bad = raw.clone();
        bad[pos] ^= 1 << (pos % 8);
        let mut reader = Trickle::new(&bad, 200);
        let r = verify_response(&mut reader, Expectation::unknown(None), &mut buf);
        assert!(
            matches!(
                r,
                Err(DrainError::Verify(Error::TreeHashMismatch {
                    source: HashSource::Header,
                    ..
                }))
            ),
            "pos {pos}: {r:?}"
        );
    }
    // A multi-leaf body: positions around every leaf boundary and at random.
    let data = pseudo_random(4 * MIB + 1000, 8);
    let hash = tree_hash(&data);
    let head_text = head(200, Some(data.len() as u64), None, Some(hash));
    let mut raw = response(&head_text, &data);
    let h = head_text.len();
    let mut positions = vec![0, 1, data.len() - 1, data.len() - 2];
    for k in 1..=4 {
        positions.extend([k * MIB - 1, k * MIB]);
    }
    positions.extend(
        pseudo_random(16, 9)
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize % data.len()),
    );
    for pos in positions {
        raw[h + pos] ^= 0x10;
        let mut reader: &[u8] = &raw;
        let r = verify_response(&mut reader, Expectation::unknown(None), &mut buf);
        assert!(
            matches!(r, Err(DrainError::Verify(Error::TreeHashMismatch { .. }))),
            "pos {pos}"
        );
        raw[h + pos] ^= 0x10;
    }
    let mut reader: &[u8] = &raw;
    assert!(verify_response(&mut reader, Expectation::unknown(None), &mut buf).is_ok());
}

#[test]
fn verify_response_errors() {
    let mut buf = [0u8; 512];
    // Stream ends inside the head.
    let mut reader: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n";
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::HeadIncomplete))
    );
    // Head larger than the lent buffer.
    let big = format!(
        "HTTP/1.1 200 OK\r\nX-Pad: {}\r\nContent-Length: 0\r\n\r\n",
        "p".repeat(600)
    );
    let mut reader: &[u8] = big.as_bytes();
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::HeadTooLarge))
    );
    let mut big_buf = [0u8; 2048];
    let mut reader: &[u8] = big.as_bytes();
    assert!(verify_response(&mut reader, Expectation::unknown(None), &mut big_buf).is_ok());
    // Body longer than Content-Length in the same read as the head, or later.
    let raw = response(&head(200, Some(3), None, None), b"abcd");
    let mut reader: &[u8] = &raw;
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::BodyTooLong { content_length: 3 }))
    );
    let mut reader = Trickle::new(&raw, 10);
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::BodyTooLong { content_length: 3 }))
    );
    // Body shorter.
    let raw = response(&head(200, Some(3), None, None), b"ab");
    let mut reader: &[u8] = &raw;
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::BodyTooShort {
            content_length: 3,
            received: 2
        }))
    );
    // A head error, and an empty buffer.
    let mut reader: &[u8] = b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut buf),
        Err(DrainError::Verify(Error::BareLineFeed))
    );
    let mut reader: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n";
    assert_eq!(
        verify_response(&mut reader, Expectation::unknown(None), &mut []),
        Err(DrainError::Verify(Error::HeadTooLarge))
    );
    // An inconsistent expectation fails before reading.
    let mut reader: &[u8] = b"";
    let e = expect(archive(10, br(0, 10)), None, None);
    assert_eq!(
        verify_response(&mut reader, e, &mut buf),
        Err(DrainError::Verify(Error::InvalidExpectation))
    );
}

/// A reader that fails after some bytes.
struct Failing<'a>(&'a [u8]);

#[derive(Debug, PartialEq)]
struct Broken;

impl core::fmt::Display for Broken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("broken pipe")
    }
}

impl core::error::Error for Broken {}

impl embedded_io::Error for Broken {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::BrokenPipe
    }
}

impl embedded_io::ErrorType for Failing<'_> {
    type Error = Broken;
}

impl embedded_io::Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Broken> {
        if self.0.is_empty() {
            return Err(Broken);
        }
        let n = buf.len().min(self.0.len()).min(64);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn reader_errors_are_passed_through() {
    let raw = response(&head(200, Some(100), None, None), &[0; 50]);
    let mut buf = [0u8; 512];
    let r = verify_response(&mut Failing(&raw), Expectation::unknown(None), &mut buf);
    assert_eq!(r, Err(DrainError::Read(Broken)));
    assert_eq!(r.unwrap_err().to_string(), "read failed: Broken");
    let r = verify_response(
        &mut Failing(b"HTTP/1.1 200"),
        Expectation::unknown(None),
        &mut buf,
    );
    assert_eq!(r, Err(DrainError::Read(Broken)));
}

#[test]
fn verify_body_drains_a_reader() {
    let data = pseudo_random(2 * MIB + 9, 10);
    let hash = tree_hash(&data);
    let len = data.len().to_string();
    let hex = hash.to_hex();
    let make = || {
        let mut b = HeadBuilder::new(200).unwrap();
        b.header(b"Content-Length", len.as_bytes()).unwrap();
        b.header(b"x-amz-sha256-tree-hash", hex.as_str().as_bytes())
            .unwrap();
        let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
        v.on_head(&b.finish().unwrap()).unwrap();
        v
    };
    let mut buf = [0u8; 4096];
    let mut reader: &[u8] = &data;
    let v = verify_body(&mut reader, make(), &mut buf).unwrap();
    assert_eq!((v.tree_hash, v.level()), (hash, Level::HeaderHash));
    let mut reader = Trickle::new(&data, 1000);
    assert!(verify_body(&mut reader, make(), &mut buf[..3]).is_ok());
    // Errors: empty buffer, flipped byte, extra byte, missing byte.
    let mut reader: &[u8] = &data;
    assert_eq!(
        verify_body(&mut reader, make(), &mut []),
        Err(DrainError::Verify(Error::BufferTooSmall))
    );
    let mut bad = data.clone();
    bad[MIB + 5] ^= 4;
    let mut reader: &[u8] = &bad;
    assert!(matches!(
        verify_body(&mut reader, make(), &mut buf),
        Err(DrainError::Verify(Error::TreeHashMismatch { .. }))
    ));
    let long = [&data[..], b"!"].concat();
    let mut reader: &[u8] = &long;
    assert!(matches!(
        verify_body(&mut reader, make(), &mut buf),
        Err(DrainError::Verify(Error::BodyTooLong { .. }))
    ));
    let mut reader: &[u8] = &data[1..];
    assert!(matches!(
        verify_body(&mut reader, make(), &mut buf),
        Err(DrainError::Verify(Error::BodyTooShort { .. }))
    ));
}

#[test]
fn error_messages_name_the_cause() {
    // Display is what the host prints: spot-check it carries the numbers.
    let e = Error::ContentRangeMismatch {
        requested_first: 0,
        requested_last: 1023,
        received: br(5, 9),
    };
    assert_eq!(
        e.to_string(),
        "Content-Range bytes 5-9 does not match the requested bytes 0-1023"
    );
    assert!(
        Error::RangeIgnored { content_length: 42 }
            .to_string()
            .contains("42")
    );
    assert!(
        Error::BodyTooShort {
            content_length: 9,
            received: 3
        }
        .to_string()
        .contains("3 of 9")
    );
    let d = tree_hash(b"");
    let m = Error::TreeHashMismatch {
        source: HashSource::Header,
        computed: d,
        expected: d,
    }
    .to_string();
    assert!(m.contains("x-amz-sha256-tree-hash") && m.contains(&d.to_string()));
}
