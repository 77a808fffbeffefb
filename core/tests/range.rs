//! Ranges and alignment: the `Range` / `Content-Range` / `RetrievalByteRange`
//! grammars (docs/protocol.md §1, §2.2, §4.3) and tree-hash alignment checked against a
//! brute-force reading of its definition (docs/protocol.md §4.3, §2.3).

mod common;

use common::{MIB64, node_spans};
use glacier_verify_core::is_tree_hash_aligned_with_leaf;
use glacier_verify_core::{
    ByteRange, ContentRange, Error, JobKind, RangeRequest, is_megabyte_aligned,
    is_tree_hash_aligned, parse_retrieval_byte_range, tree_hash_header_expected,
};
use proptest::prelude::*;

fn br(first: u64, last: u64) -> ByteRange {
    ByteRange::new(first, last).unwrap()
}

// --- ByteRange --------------------------------------------------------------------------------

#[test]
fn byte_range_invariants() {
    let r = br(5, 9);
    assert_eq!((r.first(), r.last(), r.len(), r.end()), (5, 9, 5, 10));
    assert!(!r.is_empty());
    assert_eq!(br(7, 7).len(), 1);
    assert_eq!(ByteRange::new(2, 1), Err(Error::RangeStartAfterEnd));
    assert_eq!(ByteRange::new(0, u64::MAX), Err(Error::RangeOverflow));
    let big = br(0, u64::MAX - 1);
    assert_eq!((big.len(), big.end()), (u64::MAX, u64::MAX));
    assert_eq!(ByteRange::whole(0), None);
    assert_eq!(ByteRange::whole(1), Some(br(0, 0)));
    assert_eq!(ByteRange::whole(8 * MIB64), Some(br(0, 8 * MIB64 - 1)));
    assert_eq!(r.offset_by(100), Ok(br(105, 109)));
    assert_eq!(r.offset_by(u64::MAX), Err(Error::RangeOverflow));
    assert_eq!(br(0, 0).offset_by(u64::MAX), Err(Error::RangeOverflow));
    assert_eq!(r.to_string(), "5-9");
}

// --- Range request header ---------------------------------------------------------------------

#[test]
fn range_request_accepts_the_two_documented_forms() {
    assert_eq!(
        RangeRequest::parse(b"bytes=0-1048575"),
        Ok(RangeRequest::Closed(br(0, 1_048_575)))
    );
    assert_eq!(RangeRequest::parse(b"bytes=5-"), Ok(RangeRequest::From(5)));
    assert_eq!(RangeRequest::parse(b"bytes=0-"), Ok(RangeRequest::From(0)));
    assert_eq!(
        RangeRequest::parse(b"bytes=7-7"),
        Ok(RangeRequest::Closed(br(7, 7)))
    );
    // Leading zeros are 1*DIGIT too.
    assert_eq!(
        RangeRequest::parse(b"bytes=007-010"),
        Ok(RangeRequest::Closed(br(7, 10)))
    );
    assert_eq!(
        RangeRequest::parse(b"bytes=0-18446744073709551614"),
        Ok(RangeRequest::Closed(br(0, u64::MAX - 1)))
    );
    assert_eq!(
        RangeRequest::parse(b"bytes=18446744073709551615-"),
        Ok(RangeRequest::From(u64::MAX))
    );
}

#[test]
fn range_request_rejects_everything_else() {
    for bad in [
        &b""[..],
        b"bytes",
        b"bytes=",
        b"bytes=-",
        b"bytes 0-1",                 // boto3#2077's form
        b"bytes 0-4194303/235812776", // boto3#2077 verbatim
        b"Range: bytes=0-1",          // boto3#300
        b"Range: bytes=0-1048575",
        b"bytes=-5",      // suffix form: undocumented
        b"bytes=0-1,2-3", // multi-range
        b"bytes=0-1, 2-3",
        b"bytes= 0-1",
        b"bytes=0 -1",
        b"bytes=0- 1",
        b"bytes=0-1 ",
        b" bytes=0-1",
        b"bytes=+1-2",
        b"bytes=1-+2",
        b"bytes=0x10-0x20",
        b"BYTES=0-1",
        b"bytes=1.5-2",
        b"bytes=a-b",
        b"bytes=0-1\r\n",
        b"bytes==0-1",
    ] {
        assert_eq!(
            RangeRequest::parse(bad),
            Err(Error::InvalidRange),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        RangeRequest::parse(b"bytes=1-0"),
        Err(Error::RangeStartAfterEnd)
    );
    assert_eq!(
        RangeRequest::parse(b"bytes=10-9"),
        Err(Error::RangeStartAfterEnd)
    );
    // A bound past 2^64 − 1 does not fit in 64 bits.
    for overflow in [
        &b"bytes=0-18446744073709551616"[..],
        b"bytes=18446744073709551616-",
        b"bytes=18446744073709551616-18446744073709551617",
        b"bytes=0-99999999999999999999999",
    ] {
        assert_eq!(
            RangeRequest::parse(overflow),
            Err(Error::RangeOverflow),
            "{:?}",
            String::from_utf8_lossy(overflow)
        );
    }
    // A last byte of 2^64 − 1 fits, but its length would not.
    assert_eq!(
        RangeRequest::parse(b"bytes=0-18446744073709551615"),
        Err(Error::RangeOverflow)
    );
}

#[test]
fn range_request_resolve() {
    let len = 8 * MIB64;
    assert_eq!(RangeRequest::From(0).resolve(len), Ok(br(0, len - 1)));
    assert_eq!(
        RangeRequest::From(MIB64).resolve(len),
        Ok(br(MIB64, len - 1))
    );
    assert_eq!(
        RangeRequest::From(len - 1).resolve(len),
        Ok(br(len - 1, len - 1))
    );
    assert_eq!(
        RangeRequest::From(len).resolve(len),
        Err(Error::RangeNotSatisfiable)
    );
    assert_eq!(
        RangeRequest::From(0).resolve(0),
        Err(Error::RangeNotSatisfiable)
    );
    let closed = RangeRequest::Closed(br(0, MIB64 - 1));
    assert_eq!(closed.resolve(len), Ok(br(0, MIB64 - 1)));
    assert_eq!(closed.resolve(MIB64), Ok(br(0, MIB64 - 1)));
    // An end past the output is not silently clamped (docs/protocol.md §10.6): we send exact ranges.
    assert_eq!(closed.resolve(MIB64 - 1), Err(Error::RangeNotSatisfiable));
    // boto#2510: bytes=8388608-12582911 of a 5,242,880-byte output.
    let past = RangeRequest::parse(b"bytes=8388608-12582911").unwrap();
    assert_eq!(past.resolve(5_242_880), Err(Error::RangeNotSatisfiable));
    assert_eq!(past.first(), 8_388_608);
    assert_eq!(RangeRequest::From(42).first(), 42);
}

#[test]
fn range_request_display_round_trips() {
    for text in [
        "bytes=0-1048575",
        "bytes=5-",
        "bytes=0-0",
        "bytes=18446744073709551615-",
    ] {
        let r = RangeRequest::parse(text.as_bytes()).unwrap();
        assert_eq!(r.to_string(), text);
    }
    for r in [
        RangeRequest::Closed(br(3, 3)),
        RangeRequest::Closed(br(MIB64, 2 * MIB64 - 1)),
        RangeRequest::From(12345),
    ] {
        assert_eq!(RangeRequest::parse(r.to_string().as_bytes()), Ok(r));
    }
}

proptest! {
    #[test]
    fn range_request_round_trips(first in any::<u64>(), len in 0u64..=u64::MAX) {
        let last = first.saturating_add(len).min(u64::MAX - 1);
        prop_assume!(first <= last);
        let r = RangeRequest::Closed(br(first, last));
        prop_assert_eq!(RangeRequest::parse(r.to_string().as_bytes()), Ok(r));
        let open = RangeRequest::From(first);
        prop_assert_eq!(RangeRequest::parse(open.to_string().as_bytes()), Ok(open));
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = RangeRequest::parse(&bytes);
        let _ = ContentRange::parse(&bytes);
        let _ = parse_retrieval_byte_range(&bytes);
    }
}

// --- Content-Range ----------------------------------------------------------------------------

#[test]
fn content_range_parses_the_documented_form() {
    let cr = ContentRange::parse(b"bytes 0-1023/8388608").unwrap();
    assert_eq!(
        cr,
        ContentRange {
            range: br(0, 1023),
            total: 8_388_608
        }
    );
    let cr = ContentRange::parse(b"bytes 0-1048575/8388608").unwrap();
    assert_eq!(
        (cr.range.first(), cr.range.last(), cr.total),
        (0, 1_048_575, 8_388_608)
    );
    let cr = ContentRange::parse(b"bytes 9-9/10").unwrap();
    assert_eq!((cr.range.len(), cr.total), (1, 10));
    let cr = ContentRange::parse(b"bytes 0-18446744073709551613/18446744073709551614").unwrap();
    assert_eq!(cr.total, u64::MAX - 1);
    for text in [
        "bytes 0-1023/8388608",
        "bytes 5-5/6",
        "bytes 1048576-2097151/3250585",
    ] {
        assert_eq!(
            ContentRange::parse(text.as_bytes()).unwrap().to_string(),
            text
        );
    }
}

#[test]
fn content_range_rejects_everything_else() {
    for bad in [
        &b""[..],
        b"bytes */100", // unsatisfied-range form
        b"bytes 0-9/*", // unknown total
        b"bytes 0-9/10 ",
        b"bytes 10-10/10", // last >= total
        b"bytes 0-10/10",
        b"bytes 5-4/10",  // first > last
        b"bytes  0-9/10", // double space
        b"bytes\t0-9/10",
        b"0-9/10", // missing "bytes "
        b"bytes=0-9/10",
        b"Bytes 0-9/10",
        b"bytes 0-9",
        b"bytes 0-/10",
        b"bytes -9/10",
        b"bytes 0 - 9/10",
        b"bytes +0-9/10",
        b"bytes 0-9/10/10",
        b"bytes 0-9/18446744073709551616", // total overflows
        b"bytes 0-18446744073709551616/1", // last overflows
        b"bytes 18446744073709551616-1/2",
        b"bytes 0-18446744073709551615/18446744073709551615",
    ] {
        assert_eq!(
            ContentRange::parse(bad),
            Err(Error::InvalidContentRange),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

// --- RetrievalByteRange ------------------------------------------------------------------------

#[test]
fn retrieval_byte_range() {
    assert_eq!(
        parse_retrieval_byte_range(b"2097152-4194303"),
        Ok(br(2_097_152, 4_194_303))
    );
    assert_eq!(
        parse_retrieval_byte_range(b"0-16777215"),
        Ok(br(0, 16_777_215))
    );
    assert_eq!(parse_retrieval_byte_range(b"0-0"), Ok(br(0, 0)));
    for bad in [
        &b""[..],
        b"bytes=0-1",
        b"0-",
        b"-5",
        b"0 -1",
        b"0-1 ",
        b"+0-1",
        b"0-1-2",
        b"\"0-1\"",
    ] {
        assert_eq!(
            parse_retrieval_byte_range(bad),
            Err(Error::InvalidRange),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        parse_retrieval_byte_range(b"4-3"),
        Err(Error::RangeStartAfterEnd)
    );
    assert_eq!(
        parse_retrieval_byte_range(b"0-18446744073709551616"),
        Err(Error::RangeOverflow)
    );
    assert_eq!(
        parse_retrieval_byte_range(b"0-18446744073709551615"),
        Err(Error::RangeOverflow)
    );
    // Display is the same form.
    assert_eq!(br(2_097_152, 4_194_303).to_string(), "2097152-4194303");
}

// --- megabyte alignment -----------------------------------------------------------------------

#[test]
fn megabyte_alignment() {
    let m = MIB64;
    let size = 6 * m + m / 2;
    // Start on a MiB, end + 1 on a MiB …
    assert!(is_megabyte_aligned(br(0, m - 1), size));
    assert!(is_megabyte_aligned(br(m, 3 * m - 1), size));
    assert!(is_megabyte_aligned(br(2 * m, 4 * m - 1), size));
    // … or at the end of the data.
    assert!(is_megabyte_aligned(br(6 * m, size - 1), size));
    assert!(is_megabyte_aligned(br(0, size - 1), size));
    assert!(is_megabyte_aligned(br(0, 4), 5));
    // Not aligned.
    assert!(!is_megabyte_aligned(br(1, m), size));
    assert!(!is_megabyte_aligned(br(0, m), size));
    assert!(!is_megabyte_aligned(br(0, m - 2), size));
    assert!(!is_megabyte_aligned(br(m + 1, 2 * m - 1), size));
    assert!(!is_megabyte_aligned(br(6 * m, size - 2), size));
    // Past the end of the data.
    assert!(!is_megabyte_aligned(br(6 * m, size), size));
    assert!(!is_megabyte_aligned(br(6 * m, 7 * m - 1), size));
    // DG-IJ's example RetrievalByteRange.
    assert!(is_megabyte_aligned(
        parse_retrieval_byte_range(b"2097152-4194303").unwrap(),
        16 * m
    ));
}

// --- tree-hash alignment: the definition, brute force -------------------------------------------

#[test]
fn tree_hash_alignment_matches_the_definition_exhaustively() {
    // docs/protocol.md §4.3: "aligned iff the root of the tree hash built over the range
    // is equivalent to a node in the tree hash of the whole archive". Leaf =
    // 4 bytes, every archive size 1..=82 (1–21 leaves), every range.
    let leaf = 4;
    let mut ranges = 0u64;
    let mut aligned = 0u64;
    for size in 1..=82u64 {
        let spans = node_spans(size, leaf);
        for first in 0..size {
            for last in first..size {
                let want = spans.contains(&(first, last + 1));
                let got = is_tree_hash_aligned_with_leaf(br(first, last), size, leaf);
                assert_eq!(got, want, "size {size}, range [{first}, {last}]");
                // Tree-hash aligned implies megabyte aligned (scaled).
                if got {
                    assert!(first % leaf == 0 && ((last + 1) % leaf == 0 || last + 1 == size));
                }
                ranges += 1;
                aligned += u64::from(got);
            }
        }
    }
    assert_eq!(ranges, 95_284, "docs/protocol.md §4.3's count of ranges");
    assert!(aligned > 0);
}

#[test]
fn tree_hash_alignment_with_other_leaf_sizes() {
    for leaf in [1u64, 2, 8] {
        for size in 1..=40u64 {
            let spans = node_spans(size, leaf);
            for first in 0..size {
                for last in first..size {
                    assert_eq!(
                        is_tree_hash_aligned_with_leaf(br(first, last), size, leaf),
                        spans.contains(&(first, last + 1)),
                        "leaf {leaf}, size {size}, [{first}, {last}]"
                    );
                }
            }
        }
    }
    // Degenerate inputs.
    assert!(!is_tree_hash_aligned_with_leaf(br(0, 3), 4, 0));
    assert!(!is_tree_hash_aligned_with_leaf(br(0, 4), 4, 4));
}

#[test]
fn tree_hash_alignment_with_one_mib_leaves() {
    // The real function against the definition, with range ends on and just
    // off every MiB boundary and the data's end.
    let m = MIB64;
    for size in [
        1,
        m - 1,
        m,
        m + 1,
        2 * m,
        3 * m + 100_000,
        5 * m,
        6 * m + m / 2,
        8 * m,
        11 * m + 1,
        16 * m,
        17 * m - 1,
    ] {
        let spans = node_spans(size, m);
        let mut points: Vec<u64> = (0..=size.div_ceil(m))
            .flat_map(|k| [k * m, (k * m).saturating_sub(1), k * m + 1])
            .chain([size - 1, size, size + 1])
            .collect();
        points.sort_unstable();
        points.dedup();
        for &first in &points {
            for &end in &points {
                if first >= end || end > size + 1 {
                    continue;
                }
                let r = br(first, end - 1);
                assert_eq!(
                    is_tree_hash_aligned(r, size),
                    end <= size && spans.contains(&(first, end)),
                    "size {size}, [{first}, {end})"
                );
            }
        }
    }
}

#[test]
fn dg_range_and_get_job_output_examples() {
    let m = MIB64;
    // DG-RANGE: 6.5 MB archive, two 2 MB ranges, both megabyte aligned, one tree-hash aligned.
    let size = 6 * m + m / 2;
    let a = br(2 * m, 4 * m - 1);
    let b = br(m, 3 * m - 1);
    assert!(is_megabyte_aligned(a, size) && is_megabyte_aligned(b, size));
    assert!(is_tree_hash_aligned(a, size));
    assert!(!is_tree_hash_aligned(b, size));
    assert!(is_tree_hash_aligned(br(4 * m, size - 1), size));
    assert!(is_tree_hash_aligned(br(6 * m, size - 1), size));
    assert!(is_tree_hash_aligned(br(0, size - 1), size));
    assert!(!is_tree_hash_aligned(br(2 * m, size - 1), size));
    assert!(!is_tree_hash_aligned(br(5 * m, size - 1), size));
    // DG-GJO: 3.1 MB of retrieved data; [1 MiB, 2 MiB) and [2 MiB, end] get a header.
    let size = 3 * m + m / 10;
    assert!(is_tree_hash_aligned(br(m, 2 * m - 1), size));
    assert!(is_tree_hash_aligned(br(2 * m, size - 1), size));
    assert!(is_tree_hash_aligned(br(3 * m, size - 1), size));
    assert!(is_tree_hash_aligned(br(0, 2 * m - 1), size));
    assert!(!is_tree_hash_aligned(br(m, 3 * m - 1), size));
    assert!(!is_tree_hash_aligned(br(m, size - 1), size));
    // docs/protocol.md §10.1: 1–3 MiB is MB-aligned (the API reference's rule) but not tree-hash aligned.
    assert!(is_megabyte_aligned(br(m, 3 * m - 1), 16 * m));
    assert!(!is_tree_hash_aligned(br(m, 3 * m - 1), 16 * m));
    // The whole data is always aligned; nothing past the end is.
    for size in [1, 5, m - 1, m, m + 1, 7 * m + 3] {
        assert!(is_tree_hash_aligned(br(0, size - 1), size));
        assert!(!is_tree_hash_aligned(br(0, size), size));
    }
}

// --- when the header is expected (docs/protocol.md §2.3) ----------------------------------------------------

#[test]
fn tree_hash_header_expected_per_job_kind() {
    let m = MIB64;
    let archive_size = 6 * m + m / 2;
    let whole = JobKind::Archive {
        archive_size,
        retrieval: br(0, archive_size - 1),
    };
    // Whole retrieval: aligned download ranges get it.
    assert!(tree_hash_header_expected(whole, br(0, archive_size - 1)));
    assert!(tree_hash_header_expected(whole, br(2 * m, 4 * m - 1)));
    assert!(tree_hash_header_expected(
        whole,
        br(4 * m, archive_size - 1)
    ));
    assert!(!tree_hash_header_expected(whole, br(m, 3 * m - 1)));
    assert!(!tree_hash_header_expected(whole, br(0, 100)));
    // Past the output: never.
    assert!(!tree_hash_header_expected(whole, br(6 * m, archive_size)));

    // Aligned retrieval range [4 MiB, end): download ranges are relative to it.
    let tail = JobKind::Archive {
        archive_size,
        retrieval: br(4 * m, archive_size - 1),
    };
    let out = archive_size - 4 * m; // 2.5 MiB of output
    assert!(tree_hash_header_expected(tail, br(0, out - 1)));
    assert!(tree_hash_header_expected(tail, br(0, 2 * m - 1))); // absolute [4, 6) MiB
    assert!(tree_hash_header_expected(tail, br(2 * m, out - 1))); // absolute [6, 6.5) MiB
    assert!(tree_hash_header_expected(tail, br(m, 2 * m - 1)));
    assert!(!tree_hash_header_expected(tail, br(m, out - 1)));
    assert!(!tree_hash_header_expected(tail, br(0, out))); // one past the output

    // Aligned retrieval [2 MiB, 4 MiB): a relative [0, 1 MiB) is absolute [2, 3) MiB.
    let mid = JobKind::Archive {
        archive_size,
        retrieval: br(2 * m, 4 * m - 1),
    };
    assert!(tree_hash_header_expected(mid, br(0, 2 * m - 1)));
    assert!(tree_hash_header_expected(mid, br(0, m - 1)));
    assert!(tree_hash_header_expected(mid, br(m, 2 * m - 1)));
    assert!(!tree_hash_header_expected(mid, br(m, 2 * m)));
    // Past the retrieved data, even where the absolute range would be
    // aligned ([4, 6) MiB): the download must lie within the output.
    assert!(!tree_hash_header_expected(mid, br(2 * m, 4 * m - 1)));

    // Non-aligned retrieval [1 MiB, 3 MiB): never, not even for the whole output
    // (DG-RANGE: "no checksum values are returned").
    let off = JobKind::Archive {
        archive_size,
        retrieval: br(m, 3 * m - 1),
    };
    assert!(!tree_hash_header_expected(off, br(0, 2 * m - 1)));
    assert!(!tree_hash_header_expected(off, br(0, m - 1)));
    assert!(!tree_hash_header_expected(off, br(m, 2 * m - 1)));

    // Inventory and unknown jobs: never required.
    for job in [JobKind::Inventory, JobKind::Unknown] {
        assert!(!tree_hash_header_expected(job, br(0, m - 1)));
        assert!(!tree_hash_header_expected(job, br(0, 906 - 1)));
    }
}

#[test]
fn relative_and_absolute_alignment_coincide_for_aligned_retrievals() {
    // docs/protocol.md §2.3: for a tree-hash-aligned retrieval range R of an archive of
    // size S, a download range d (relative to R) is aligned within R's data
    // iff d + R.first is aligned within the archive. Brute force on the node
    // spans (leaf = 4 units), independent of the function under test, and
    // then the function itself.
    let leaf = 4;
    let mut checked = 0u64;
    for size in 1..=82u64 {
        let archive = node_spans(size, leaf);
        for &(r0, r1) in &archive {
            // Every node of the archive tree is an aligned retrieval range.
            let len = r1 - r0;
            let output = node_spans(len, leaf);
            for a in 0..len {
                for b in a..len {
                    let relative = output.contains(&(a, b + 1));
                    let absolute = archive.contains(&(r0 + a, r0 + b + 1));
                    assert_eq!(relative, absolute, "S {size}, R [{r0},{r1}), d [{a},{b}]");
                    assert_eq!(
                        is_tree_hash_aligned_with_leaf(br(a, b), len, leaf),
                        is_tree_hash_aligned_with_leaf(br(r0 + a, r0 + b), size, leaf),
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(
        checked, 222_988,
        "docs/protocol.md §2.3's count of sub-ranges"
    );

    // And the claim needs R aligned: R = [4, 12) of 16 units is not a node;
    // its whole output is aligned relatively but not absolutely.
    let archive = node_spans(16, leaf);
    assert!(!archive.contains(&(4, 12)));
    assert!(is_tree_hash_aligned_with_leaf(br(0, 7), 8, leaf));
    assert!(!is_tree_hash_aligned_with_leaf(br(4, 11), 16, leaf));
}

#[test]
fn header_expected_uses_absolute_alignment_at_mib_scale() {
    // tree_hash_header_expected (1 MiB leaves) against the span definition,
    // for every MiB-granular retrieval and download range of a few archives.
    let m = MIB64;
    for archive_size in [3 * m + m / 10, 6 * m + m / 2, 8 * m, 9 * m + 1] {
        let spans = node_spans(archive_size, m);
        let ends: Vec<u64> = (1..=archive_size.div_ceil(m))
            .map(|k| (k * m).min(archive_size))
            .collect();
        for r0 in (0..archive_size).step_by(m as usize) {
            for &r1 in ends.iter().filter(|&&e| e > r0) {
                let retrieval = br(r0, r1 - 1);
                let job = JobKind::Archive {
                    archive_size,
                    retrieval,
                };
                let out = r1 - r0;
                for a in (0..out).step_by(m as usize) {
                    let b_ends = (a / m + 1..=out.div_ceil(m)).map(|k| (k * m).min(out));
                    for b_end in b_ends {
                        let want =
                            spans.contains(&(r0, r1)) && spans.contains(&(r0 + a, r0 + b_end));
                        assert_eq!(
                            tree_hash_header_expected(job, br(a, b_end - 1)),
                            want,
                            "S {archive_size}, R [{r0},{r1}), d [{a},{b_end})"
                        );
                    }
                }
            }
        }
    }
}
