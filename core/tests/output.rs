//! The whole-output verdict (docs/protocol.md §4.2, §9.3, §9.4): parts
//! composed into one tree hash, every expected hash compared under its
//! source, the missing-header rule, and the level reached.

mod common;

use common::{MIB64, pseudo_random, reference_tree_hash};
use glacier_verify_core::{
    Assembly, ByteRange, Digest, Error, Expectation, ExpectedHash, HashSource, HeadBuilder,
    HeaderHash, JobKind, Level, MAX_EXPECTED, Parsed, RangeRequest, TreeHasher, Verified, Verifier,
    parse_head, tree_hash,
};

const LEN: u64 = 5 * MIB64 + 12_345;
const PART: u64 = 2 * MIB64;

fn data() -> Vec<u8> {
    pseudo_random(LEN as usize, 42)
}

fn archive_job() -> JobKind {
    JobKind::Archive {
        archive_size: LEN,
        retrieval: ByteRange::new(0, LEN - 1).unwrap(),
    }
}

fn expected(source: HashSource, digest: Digest) -> ExpectedHash {
    ExpectedHash { source, digest }
}

/// One verified 206 response for `data[first..=last]`, with or without
/// its header hash, concluded as a part.
fn part(data: &[u8], first: u64, last: u64, with_header: bool, job: JobKind) -> Verified {
    let body = &data[first as usize..=last as usize];
    let mut raw = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {first}-{last}/{}\r\n",
        body.len(),
        data.len()
    );
    if with_header {
        raw += &format!("x-amz-sha256-tree-hash: {}\r\n", tree_hash(body));
    }
    raw += "\r\n";
    let Parsed::Complete { value: head, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!("incomplete head");
    };
    let range = RangeRequest::Closed(ByteRange::new(first, last).unwrap());
    let mut v = Verifier::new(Expectation {
        job,
        output_len: Some(data.len() as u64),
        range: Some(range),
        tree_hash: None,
    })
    .unwrap();
    v.on_head(&head).unwrap();
    v.update(body).unwrap();
    v.finish_part().unwrap()
}

fn parts(data: &[u8], with_header: impl Fn(u64) -> bool) -> Vec<Verified> {
    let len = data.len() as u64;
    (0..len.div_ceil(PART))
        .map(|i| {
            let first = i * PART;
            let last = (first + PART).min(len) - 1;
            part(data, first, last, with_header(i), archive_job())
        })
        .collect()
}

fn assemble(pieces: &[Verified], expect: &[ExpectedHash]) -> Result<Assembly, Error> {
    let mut a = Assembly::new(Some(LEN));
    for e in expect {
        a.expect(*e)?;
    }
    for p in pieces {
        a.push(p)?;
    }
    Ok(a)
}

#[test]
fn parts_compose_to_the_reference_tree_hash() {
    let data = data();
    let whole = Digest(reference_tree_hash(&data));
    let a = assemble(&parts(&data, |_| true), &[]).unwrap();
    let v = a.verdict().unwrap();
    assert_eq!(v.tree_hash, whole);
    assert_eq!(v.bytes, LEN);
    assert_eq!((v.parts, v.header_matched), (3, 3));
    assert_eq!(v.level, Level::HeaderHash);
    assert!(v.every_header_matched());
    assert_eq!(v.matched().count(), 0);
}

#[test]
fn every_expected_hash_is_compared_under_its_source() {
    let data = data();
    let whole = tree_hash(&data);
    let sources = [
        expected(HashSource::DescribeJob, whole),
        expected(HashSource::CommandLine, whole),
        expected(HashSource::Inventory, whole),
    ];
    let v = assemble(&parts(&data, |_| true), &sources)
        .unwrap()
        .verdict()
        .unwrap();
    assert_eq!(v.level, Level::HeaderAndExpectedHash);
    let listed: Vec<_> = v.matched().copied().collect();
    assert_eq!(listed, sources);

    // One wrong source among right ones fails, naming that source.
    let mut wrong = whole;
    wrong.0[0] ^= 1;
    let sources = [
        expected(HashSource::DescribeJob, whole),
        expected(HashSource::Inventory, wrong),
    ];
    let e = assemble(&parts(&data, |_| true), &sources)
        .unwrap()
        .verdict()
        .unwrap_err();
    assert_eq!(
        e,
        Error::TreeHashMismatch {
            source: HashSource::Inventory,
            computed: whole,
            expected: wrong
        }
    );
    assert!(e.to_string().contains("inventory"), "{e}");
}

#[test]
fn a_missing_header_passes_only_through_an_expected_hash() {
    let data = data();
    // Part 1 lacks the header Glacier sends for aligned ranges.
    let pieces = parts(&data, |i| i != 1);
    assert_eq!(pieces[1].header, HeaderHash::MissingButExpected);
    // Refused as soon as the piece is verified, and when pushed.
    let a = Assembly::new(Some(LEN));
    assert_eq!(a.admit(&pieces[1]), Err(Error::TreeHashHeaderMissing));
    assert_eq!(a.admit(&pieces[0]), Ok(()));
    assert_eq!(
        assemble(&pieces, &[]).unwrap_err(),
        Error::TreeHashHeaderMissing
    );
    // A record says the same: it fails at the verdict.
    let mut a = Assembly::new(Some(LEN));
    for (i, p) in pieces.iter().enumerate() {
        let header = if i == 1 {
            HeaderHash::MissingButExpected
        } else {
            p.header
        };
        a.push_recorded(p.hashed_len, p.tree_hash, header).unwrap();
    }
    assert_eq!(a.verdict().unwrap_err(), Error::TreeHashHeaderMissing);

    let whole = tree_hash(&data);
    let v = assemble(&pieces, &[expected(HashSource::DescribeJob, whole)])
        .unwrap()
        .verdict()
        .unwrap();
    assert_eq!(v.level, Level::ExpectedHash);
    assert_eq!((v.header_matched, v.header_missing), (2, 1));
    assert!(!v.every_header_matched());
}

#[test]
fn finish_refuses_what_finish_part_defers() {
    // The same response: alone it fails, as a part it defers to the assembly.
    let data = data();
    let body = &data[..PART as usize];
    let raw = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {PART}\r\nContent-Range: bytes 0-{}/{LEN}\r\n\r\n",
        PART - 1
    );
    let Parsed::Complete { value: head, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    let expect = Expectation {
        job: archive_job(),
        output_len: Some(LEN),
        range: Some(RangeRequest::Closed(ByteRange::new(0, PART - 1).unwrap())),
        tree_hash: None,
    };
    let mut alone = Verifier::new(expect).unwrap();
    alone.on_head(&head).unwrap();
    alone.update(body).unwrap();
    let mut deferred = alone.clone();
    assert_eq!(alone.finish().unwrap_err(), Error::TreeHashHeaderMissing);
    deferred.update(&[]).unwrap();
    let v = deferred.finish_part().unwrap();
    assert_eq!(v.header, HeaderHash::MissingButExpected);
}

#[test]
fn parts_without_headers_reach_only_the_levels_they_earn() {
    // A retrieval range that is not tree-hash aligned: no header is due,
    // none is sent.
    let data = data();
    let job = JobKind::Unknown;
    let pieces: Vec<_> = (0..LEN.div_ceil(PART))
        .map(|i| {
            let first = i * PART;
            part(&data, first, (first + PART).min(LEN) - 1, false, job)
        })
        .collect();
    assert!(pieces.iter().all(|p| p.header == HeaderHash::NotSent));
    let v = assemble(&pieces, &[]).unwrap().verdict().unwrap();
    assert_eq!(v.level, Level::SizeOnly);
    let v = assemble(
        &pieces,
        &[expected(HashSource::CommandLine, tree_hash(&data))],
    )
    .unwrap()
    .verdict()
    .unwrap();
    assert_eq!(v.level, Level::ExpectedHash);

    // Some parts with a header, some without: not every header matched.
    let mut mixed = parts(&data, |_| true);
    mixed[2] = part(&data, 2 * PART, LEN - 1, false, JobKind::Unknown);
    let v = assemble(&mixed, &[]).unwrap().verdict().unwrap();
    assert_eq!(v.level, Level::SizeOnly);
    assert_eq!(v.header_matched, 2);
}

#[test]
fn recorded_parts_mix_with_fresh_ones() {
    let data = data();
    let fresh = parts(&data, |_| true);
    let mut a = Assembly::new(Some(LEN));
    a.expect(expected(HashSource::DescribeJob, tree_hash(&data)))
        .unwrap();
    // Part 0 from an earlier run's record, re-hashed from storage.
    let h0 = tree_hash(&data[..PART as usize]);
    a.push_recorded(PART, h0, HeaderHash::Matched(h0)).unwrap();
    a.push(&fresh[1]).unwrap();
    a.push(&fresh[2]).unwrap();
    let v = a.verdict().unwrap();
    assert_eq!(v.level, Level::HeaderAndExpectedHash);
    assert_eq!(v.tree_hash, tree_hash(&data));
}

#[test]
fn length_and_shape_are_checked() {
    let data = data();
    let pieces = parts(&data, |_| true);
    // Incomplete output.
    let a = assemble(&pieces[..2], &[]).unwrap();
    assert_eq!(
        a.verdict().unwrap_err(),
        Error::OutputLengthMismatch {
            expected: LEN,
            assembled: 2 * PART
        }
    );
    // More than the output.
    let mut a = Assembly::new(Some(PART));
    a.push(&pieces[0]).unwrap();
    assert!(matches!(
        a.push(&pieces[1]),
        Err(Error::OutputLengthMismatch { .. })
    ));
    // A non-final piece that is not a power-of-two MiB cannot compose.
    let mut a = Assembly::new(None);
    let h = tree_hash(&data[..(3 * MIB64) as usize]);
    a.push_recorded(3 * MIB64, h, HeaderHash::NotSent).unwrap();
    assert_eq!(
        a.push_recorded(MIB64, h, HeaderHash::NotSent),
        Err(Error::SubtreeNotPowerOfTwo)
    );
    assert_eq!(
        a.push_recorded(0, h, HeaderHash::NotSent),
        Err(Error::EmptySubtree)
    );
}

#[test]
fn a_refused_piece_leaves_the_assembly_as_it_was() {
    let data = pseudo_random((8 * MIB64) as usize, 7);
    let h = |a: u64, b: u64| tree_hash(&data[(a * MIB64) as usize..(b * MIB64) as usize]);
    let mut a = Assembly::new(None);
    a.push_recorded(4 * MIB64, h(0, 4), HeaderHash::NotSent)
        .unwrap();
    a.push_recorded(3 * MIB64, h(4, 7), HeaderHash::NotSent)
        .unwrap();
    // The held 3 MiB piece can only be the last one.
    assert_eq!(
        a.push_recorded(MIB64, h(7, 8), HeaderHash::NotSent),
        Err(Error::SubtreeNotPowerOfTwo)
    );
    assert_eq!(a.bytes(), 7 * MIB64);
    // What was pushed before still concludes, to its true tree hash.
    let v = a.verdict().unwrap();
    assert_eq!(v.tree_hash, tree_hash(&data[..(7 * MIB64) as usize]));
    assert_eq!(v.parts, 2);
}

#[test]
fn an_empty_output_has_the_empty_tree_hash() {
    let mut a = Assembly::new(Some(0));
    let v = a.verdict().unwrap();
    assert_eq!(v.tree_hash, tree_hash(b""));
    assert_eq!(v.level, Level::SizeOnly);
    a.expect(expected(HashSource::DescribeJob, tree_hash(b"")))
        .unwrap();
    assert_eq!(a.verdict().unwrap().level, Level::ExpectedHash);
}

#[test]
fn a_resumed_stream_is_one_piece_from_the_start() {
    // 3 MiB kept on disk, the rest from a second response whose header
    // covers only its own bytes: checked against the first response's header.
    let data = data();
    let kept = 3 * MIB64;
    let mut prefix = TreeHasher::new();
    prefix.update(&data[..kept as usize]);
    let body = &data[kept as usize..];
    let raw = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {kept}-{}/{LEN}\r\nx-amz-sha256-tree-hash: {}\r\n\r\n",
        body.len(),
        LEN - 1,
        tree_hash(body)
    );
    let Parsed::Complete { value: head, .. } = parse_head(raw.as_bytes()).unwrap() else {
        panic!()
    };
    let mut v = Verifier::continuing(
        Expectation {
            job: archive_job(),
            output_len: Some(LEN),
            range: Some(RangeRequest::Closed(ByteRange::new(kept, LEN - 1).unwrap())),
            tree_hash: None,
        },
        prefix,
    )
    .unwrap();
    v.on_head(&head).unwrap();
    v.update(body).unwrap();
    let piece = v.finish_part().unwrap();
    let mut a = Assembly::new(Some(LEN));
    a.expect(expected(HashSource::FirstResponseHeader, tree_hash(&data)))
        .unwrap();
    a.push(&piece).unwrap();
    let verdict = a.verdict().unwrap();
    assert_eq!(verdict.level, Level::ExpectedHash);
    assert_eq!((verdict.parts, verdict.header_not_compared), (1, 1));
}

#[test]
fn expected_hashes_are_bounded() {
    let mut a = Assembly::new(None);
    let e = expected(HashSource::CommandLine, tree_hash(b"x"));
    for _ in 0..MAX_EXPECTED {
        a.expect(e).unwrap();
    }
    assert_eq!(a.expect(e), Err(Error::TooManyExpectedHashes));
}

#[test]
fn head_builder_parts_work_too() {
    // The offline path builds heads by hand; the assembly does not care.
    let body = b"small archive";
    let len = body.len().to_string();
    let hash = tree_hash(body).to_hex();
    let mut b = HeadBuilder::new(200).unwrap();
    b.header(b"Content-Length", len.as_bytes()).unwrap();
    b.header(b"x-amz-sha256-tree-hash", hash.as_str().as_bytes())
        .unwrap();
    let mut v = Verifier::new(Expectation::unknown(None)).unwrap();
    v.on_head(&b.finish().unwrap()).unwrap();
    v.update(body).unwrap();
    let mut a = Assembly::new(None);
    a.push(&v.finish_part().unwrap()).unwrap();
    assert_eq!(a.verdict().unwrap().level, Level::HeaderHash);
}
