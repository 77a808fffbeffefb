//! Core benchmarks, run with `cargo bench -p glacier-verify-core --bench core`:
//!
//! - `hash`: the tree hash against plain `sha2` SHA-256 over the same buffer
//!   (in one call, and streamed in 256 KiB updates as the host feeds it);
//! - `verify`: the [`Verifier`] against a bare [`TreeHasher`] over the same
//!   16 MiB body, at a gateway's 4 KiB chunks and the host's 256 KiB, and a
//!   whole raw response through [`verify_response`];
//! - `head`: per-response costs — parsing a Glacier head, building one from
//!   split headers, and parse + `Verifier::new` + `on_head`.
//!
//! Throughputs are printed by divan (`BytesCount`). The goal "tree hash ≥
//! 0.98× plain SHA-256" is checked with interleaved rounds by the sibling
//! bench `interleaved` (divan runs benchmarks one after another, so a
//! ratio of two of its lines is exposed to load changing in between).

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use glacier_verify_core::{
    ByteRange, Digest, Expectation, HeadBuilder, JobKind, Parsed, RangeRequest, TreeHasher,
    Verifier, parse_head, tree_hash, verify_response,
};
use sha2::{Digest as _, Sha256};

fn main() {
    divan::main();
}

/// Deterministic pseudo-random bytes (xorshift64*): no page of zeros that a
/// clever layer below could shortcut.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The expectation of a whole-archive download of `len` bytes with a known
/// tree hash: what `get-job-output` checks after DescribeJob.
fn archive_expectation(len: u64, hash: Digest) -> Expectation {
    let Some(retrieval) = ByteRange::whole(len) else {
        return Expectation::unknown(None);
    };
    Expectation {
        job: JobKind::Archive {
            archive_size: len,
            retrieval,
        },
        output_len: None,
        range: None,
        tree_hash: Some(hash),
    }
}

/// Tree hash versus plain SHA-256 over the same buffer. Up to 1 MiB the two
/// are the same function (docs/protocol.md §4.1); above it the tree adds one 64-byte
/// hash per leaf.
#[divan::bench_group(sample_count = 40)]
mod hash {
    use super::*;

    /// 4 KiB (one leaf, tiny), 1 MiB (exactly one leaf), 16 MiB (16 leaves).
    const LENS: &[usize] = &[4 << 10, 1 << 20, 16 << 20];

    /// Baseline: RustCrypto `sha2` over the whole buffer.
    #[divan::bench(args = LENS)]
    fn sha256_plain(bencher: Bencher, len: usize) {
        let data = pseudo_random(len);
        bencher
            .counter(BytesCount::new(len))
            .bench(|| Sha256::digest(black_box(&data[..])));
    }

    /// `tree_hash` over the whole buffer in one call.
    #[divan::bench(args = LENS)]
    fn tree_hash_one_call(bencher: Bencher, len: usize) {
        let data = pseudo_random(len);
        bencher
            .counter(BytesCount::new(len))
            .bench(|| tree_hash(black_box(&data[..])));
    }

    /// `TreeHasher::update` in 256 KiB pieces, the host's read size.
    #[divan::bench(args = LENS)]
    fn tree_hasher_256k_updates(bencher: Bencher, len: usize) {
        let data = pseudo_random(len);
        bencher.counter(BytesCount::new(len)).bench(|| {
            let mut h = TreeHasher::new();
            for piece in black_box(&data[..]).chunks(256 << 10) {
                h.update(piece);
            }
            h.finalize()
        });
    }
}

/// The verifier's cost on top of hashing: the same 16 MiB body through a
/// bare `TreeHasher` and through a `Verifier` (length accounting, head
/// checks, header and expected hash comparisons), fed in `chunk`-byte pieces.
#[divan::bench_group(sample_count = 30)]
mod verify {
    use super::*;

    const BODY: usize = 16 << 20;
    /// A gateway's socket buffer and the host's read buffer.
    const CHUNKS: &[usize] = &[4 << 10, 256 << 10];

    /// Baseline: hashing alone.
    #[divan::bench(args = CHUNKS)]
    fn tree_hasher_only(bencher: Bencher, chunk: usize) {
        let data = pseudo_random(BODY);
        bencher.counter(BytesCount::new(BODY)).bench(|| {
            let mut h = TreeHasher::new();
            for piece in black_box(&data[..]).chunks(chunk) {
                h.update(piece);
            }
            h.finalize()
        });
    }

    /// `Verifier::new` + `on_head` + `update` per chunk + `finish`, with the
    /// header hash and DescribeJob's hash both compared.
    #[divan::bench(args = CHUNKS)]
    fn verifier(bencher: Bencher, chunk: usize) {
        let data = pseudo_random(BODY);
        let hash = tree_hash(&data);
        let hex = hash.to_hex();
        let len = BODY.to_string();
        let mut b = HeadBuilder::new(200).expect("status");
        b.header(b"Content-Length", len.as_bytes()).expect("length");
        b.header(b"x-amz-sha256-tree-hash", hex.as_str().as_bytes())
            .expect("hash");
        let head = b.finish().expect("head");
        let expect = archive_expectation(BODY as u64, hash);
        bencher.counter(BytesCount::new(BODY)).bench(|| {
            let mut v = Verifier::new(expect).expect("expectation");
            v.on_head(&head).expect("head accepted");
            for piece in black_box(&data[..]).chunks(chunk) {
                v.update(piece).expect("within Content-Length");
            }
            v.finish().expect("verified")
        });
    }

    /// `verify_response`: a raw head + body read from memory through a
    /// `chunk`-byte buffer, as a gateway runs it on a socket.
    #[divan::bench(args = CHUNKS)]
    fn verify_response_raw(bencher: Bencher, chunk: usize) {
        let body = pseudo_random(BODY);
        let hash = tree_hash(&body);
        let head = format!(
            "HTTP/1.1 200 OK\r\nx-amzn-RequestId: bench\r\nx-amz-sha256-tree-hash: {hash}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {BODY}\r\n\r\n"
        );
        let response = [head.as_bytes(), &body].concat();
        let expect = archive_expectation(BODY as u64, hash);
        let mut buf = vec![0u8; chunk];
        bencher.counter(BytesCount::new(BODY)).bench_local(|| {
            let mut reader: &[u8] = black_box(&response[..]);
            verify_response(&mut reader, expect, &mut buf).expect("verified")
        });
    }
}

/// Per-response costs: what every GetJobOutput (and every part) pays once.
#[divan::bench_group(sample_count = 200)]
mod head {
    use super::*;

    const HASH: &str = "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60";

    /// A whole-output answer as Glacier sends it (docs/protocol.md §2.2 example 1).
    fn head_200() -> String {
        format!(
            "HTTP/1.1 200 OK\r\nx-amzn-RequestId: TRTCUq2hdP-lHILGaAKCXqUyN8QVc81VhEyH6pOGD2p6Ki4\r\n\
             x-amz-sha256-tree-hash: {HASH}\r\nDate: Wed, 10 Feb 2017 12:00:00 GMT\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n"
        )
    }

    /// A part of a parallel download.
    fn head_206() -> String {
        format!(
            "HTTP/1.1 206 Partial Content\r\nx-amzn-RequestId: TRTCUq2hdP-lHILGaAKCXqUyN8QVc81VhEyH6pOGD2p6Ki4\r\n\
             x-amz-sha256-tree-hash: {HASH}\r\nDate: Wed, 10 Feb 2017 12:00:00 GMT\r\n\
             Content-Range: bytes 16777216-33554431/1073741824\r\nAccept-Ranges: bytes\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: 16777216\r\n\r\n"
        )
    }

    #[divan::bench]
    fn parse_head_200(bencher: Bencher) {
        let raw = head_200();
        bencher
            .counter(BytesCount::new(raw.len()))
            .bench(|| parse_head(black_box(raw.as_bytes())).expect("valid head"));
    }

    #[divan::bench]
    fn parse_head_206(bencher: Bencher) {
        let raw = head_206();
        bencher
            .counter(BytesCount::new(raw.len()))
            .bench(|| parse_head(black_box(raw.as_bytes())).expect("valid head"));
    }

    /// The host's path: ureq has split the headers, the core checks them.
    #[divan::bench]
    fn head_builder_206(bencher: Bencher) {
        let pairs: [(&[u8], String); 7] = [
            (
                b"x-amzn-requestid",
                "TRTCUq2hdP-lHILGaAKCXqUyN8QVc81VhEyH6pOGD2p6Ki4".into(),
            ),
            (b"x-amz-sha256-tree-hash", HASH.into()),
            (b"date", "Wed, 10 Feb 2017 12:00:00 GMT".into()),
            (
                b"content-range",
                "bytes 16777216-33554431/1073741824".into(),
            ),
            (b"accept-ranges", "bytes".into()),
            (b"content-type", "application/octet-stream".into()),
            (b"content-length", "16777216".into()),
        ];
        bencher.bench(|| {
            let mut b = HeadBuilder::new(black_box(206)).expect("status");
            for (name, value) in &pairs {
                b.header(black_box(name), value.as_bytes()).expect("header");
            }
            b.finish().expect("head")
        });
    }

    /// Everything a part costs before its first body byte: parse the head,
    /// set up the verifier, check status, Content-Range and Content-Length.
    #[divan::bench]
    fn parse_and_on_head_206(bencher: Bencher) {
        let raw = head_206();
        let total = 1u64 << 30;
        let expect = Expectation {
            job: JobKind::Archive {
                archive_size: total,
                retrieval: ByteRange::whole(total).expect("non-empty"),
            },
            output_len: None,
            range: Some(RangeRequest::parse(b"bytes=16777216-33554431").expect("range")),
            tree_hash: None,
        };
        bencher.bench(|| {
            let Ok(Parsed::Complete { value, .. }) = parse_head(black_box(raw.as_bytes())) else {
                panic!("head did not parse");
            };
            let mut v = Verifier::new(expect).expect("expectation");
            v.on_head(&value).expect("head accepted");
            v
        });
    }
}
