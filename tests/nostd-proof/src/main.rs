//! Host-only `no_std` link proof of `glacier-verify-core`.
//!
//! This binary has no `std`, no `alloc`, no C runtime: its own `_start`, its
//! own `#[panic_handler]`, and the raw `exit` system call. It calls every
//! public entry point of the core with `black_box` inputs, so the linker has to
//! resolve all of them; a dependency that linked `std` would collide with the
//! panic handler here (E0152), one that used `alloc` would find no global
//! allocator. It also checks a few known answers (docs/protocol.md §7) and
//! exits 0 only if they hold, so running it is a (small) test as well.
#![no_std]
#![no_main]

use core::fmt::{self, Write as _};
use core::hint::black_box;

use embedded_io::{Error as _, Write as _};
use glacier_verify_core::{
    Assembly, ByteRange, ContentRange, Digest, DrainError, Error, ErrorCode, Expectation,
    ExpectedHash, GLACIER_VERSION, HashSource, HeadBuilder, HeaderField, HeaderHash, JobKind,
    LEAF_SIZE, Level, MAX_DESCRIPTION_LEN, MAX_EXPECTED, Parsed, RangeRequest, RetryClass,
    SIGNING_SERVICE, ServiceError, TreeHasher, Verifier, classify, combine, is_megabyte_aligned,
    is_tree_hash_aligned, is_tree_hash_aligned_with_leaf, leaf_hash, parse_head,
    parse_retrieval_byte_range, tree_hash, tree_hash_header_expected, verify_body, verify_response,
};

mod mem;

const MIB: usize = 1 << 20;

/// docs/protocol.md §7: `b'a' * 2097152`.
const A_2MIB: &[u8] = b"560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa";
/// docs/protocol.md §7: `b'hello world'`.
const HELLO: &[u8] = b"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
/// docs/protocol.md §7: empty input.
const EMPTY: &[u8] = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---------------------------------------------------------------------------
// Runtime: entry, exit, panic.

/// Entry point. The kernel enters with `rsp` 16-byte aligned (not the
/// `call`-time alignment a Rust function assumes), so align it and call.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",
        "and rsp, -16",
        "call {main}",
        "ud2",
        main = sym proof_main,
    )
}

/// The raw `exit_group` system call.
fn exit(code: i32) -> ! {
    // SAFETY: exit_group(2) takes one integer argument and never returns.
    unsafe {
        core::arch::asm!(
            "syscall",
            in("rax") 231,
            in("rdi") code,
            options(noreturn, nostack),
        )
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

/// A no-op defmt logger: the proof only needs the `Format` impls to link.
#[cfg(feature = "defmt")]
mod defmt_logger {
    #[defmt::global_logger]
    struct NoopLogger;

    // SAFETY: nothing is shared; every method is a no-op.
    unsafe impl defmt::Logger for NoopLogger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(bytes: &[u8]) {
            core::hint::black_box(bytes);
        }
    }

    // On the thumb targets `defmt.x` provides a default; a host link has no
    // such script, so the proof defines the timestamp itself.
    defmt::timestamp!("{=u32}", 0);
}

// ---------------------------------------------------------------------------
// Helpers.

/// A fixed buffer behind `core::fmt::Write`.
struct Sink {
    buf: [u8; 1024],
    len: usize,
}

impl Sink {
    fn new() -> Self {
        Sink {
            buf: [0; 1024],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

impl fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Failure counter: the exit status is non-zero if any check failed.
struct Checks(u32);

impl Checks {
    fn check(&mut self, ok: bool) {
        if !black_box(ok) {
            self.0 += 1;
        }
    }
}

fn hex(text: &[u8]) -> Digest {
    Digest::from_hex(black_box(text)).unwrap_or(Digest([0; 32]))
}

/// `n` bytes of `byte` fed to `w` in 4 KiB pieces (no heap, no big statics).
fn feed<W: embedded_io::Write>(w: &mut W, byte: u8, n: usize) -> bool {
    let chunk = [black_box(byte); 4096];
    let mut left = n;
    while left > 0 {
        let take = left.min(chunk.len());
        if w.write_all(&chunk[..take]).is_err() {
            return false;
        }
        left -= take;
    }
    w.flush().is_ok()
}

// ---------------------------------------------------------------------------
// The proof.

extern "C" fn proof_main() -> ! {
    let mut c = Checks(0);
    let mut out = Sink::new();

    // --- tree hash -----------------------------------------------------------
    let hello: &[u8] = black_box(b"hello world");
    let hello_hash = tree_hash(hello);
    c.check(hello_hash == hex(HELLO));
    c.check(leaf_hash(hello) == hello_hash);
    c.check(hello_hash.matches_hex(black_box(
        b"B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
    )));
    c.check(tree_hash(black_box(&[])) == hex(EMPTY));
    c.check(hello_hash.to_hex().as_str().as_bytes() == HELLO);
    c.check(Digest::from_hex(black_box(b"0xzz")).is_err());
    let _ = write!(out, "{hello_hash} {hello_hash:?} {:?}", hello_hash.to_hex());
    c.check(out.as_bytes().starts_with(HELLO));
    black_box(out.as_bytes());

    // Streaming, through `update` and through the embedded-io `Write` impl.
    let mut h = TreeHasher::new();
    c.check(feed(&mut h, b'a', 2 * MIB));
    c.check(h.bytes() == 2 * LEAF_SIZE && !h.is_too_long());
    out.clear();
    let _ = write!(out, "{h:?}");
    black_box(out.as_bytes());
    let streamed = h.clone().finalize();
    c.check(streamed == hex(A_2MIB));
    let mut h2 = TreeHasher::default();
    let piece = [b'a'; 4096];
    for _ in 0..(2 * MIB / piece.len()) {
        h2.update(black_box(&piece));
    }
    c.check(h2.finalize() == streamed);

    // Composition: push_subtree + finish_with, and combine.
    let mut leaf = TreeHasher::new();
    c.check(feed(&mut leaf, b'a', MIB));
    let one_mib = leaf.finalize();
    c.check(combine(&one_mib, &one_mib) == streamed);
    let mut composed = TreeHasher::new();
    c.check(
        composed
            .push_subtree(black_box(one_mib), black_box(LEAF_SIZE))
            .is_ok(),
    );
    c.check(composed.clone().finish_with(one_mib, LEAF_SIZE) == Ok(streamed));
    c.check(composed.push_subtree(one_mib, black_box(LEAF_SIZE)).is_ok());
    c.check(composed.clone().finalize() == streamed);
    c.check(
        composed
            .push_subtree(one_mib, black_box(3 * LEAF_SIZE))
            .is_err(),
    );
    c.check(composed.finish_with(hello_hash, black_box(11)).is_ok());

    // --- ranges -----------------------------------------------------------------
    let mib = LEAF_SIZE;
    let req = RangeRequest::parse(black_box(b"bytes=2097152-4194303"));
    c.check(matches!(req, Ok(RangeRequest::Closed(r)) if r.first() == 2 * mib && r.last() == 4 * mib - 1));
    let open = RangeRequest::parse(black_box(b"bytes=1048576-"));
    c.check(open.is_ok_and(|r| {
        r.first() == mib
            && r.resolve(black_box(3 * mib))
                .is_ok_and(|b| b.len() == 2 * mib)
    }));
    c.check(RangeRequest::parse(black_box(b"bytes=-5")).is_err());
    let cr = ContentRange::parse(black_box(b"bytes 0-1048575/8388608"));
    c.check(cr.is_ok_and(|cr| cr.total == 8 * mib && cr.range.len() == mib));
    c.check(ContentRange::parse(black_box(b"bytes */10")).is_err());
    let rbr = parse_retrieval_byte_range(black_box(b"0-6815743"));
    c.check(rbr.is_ok());
    let size = black_box(6 * mib + mib / 2);
    let r24 = ByteRange::new(2 * mib, 4 * mib - 1)
        .unwrap_or(ByteRange::new(0, 0).unwrap_or_else(|_| exit(2)));
    c.check(is_tree_hash_aligned(r24, size));
    c.check(is_megabyte_aligned(r24, size));
    c.check(is_tree_hash_aligned_with_leaf(r24, size, black_box(mib)));
    c.check(ByteRange::whole(black_box(0)).is_none());
    c.check(!r24.is_empty() && r24.end() == 4 * mib);
    c.check(r24.offset_by(black_box(u64::MAX)).is_err());
    let job = JobKind::Archive {
        archive_size: size,
        retrieval: ByteRange::whole(size).unwrap_or(r24),
    };
    c.check(tree_hash_header_expected(black_box(job), r24));
    c.check(!tree_hash_header_expected(
        black_box(JobKind::Inventory),
        r24,
    ));
    out.clear();
    if let (Ok(req), Ok(cr), Ok(open)) = (req, cr, open) {
        let _ = write!(out, "{req} {cr} {open} {r24} {req:?} {cr:?} {job:?}");
    }
    black_box(out.as_bytes());

    // --- heads ------------------------------------------------------------------
    let raw: &[u8] = black_box(
        b"HTTP/1.1 100 Continue\r\n\r\n\
          HTTP/1.1 206 Partial Content\r\n\
          Content-Range: bytes 0-10/11\r\n\
          Content-Length: 11\r\n\
          Content-Type: application/octet-stream\r\n\
          Accept-Ranges: bytes\r\n\
          x-amz-archive-description: proof\r\n\
          x-amzn-RequestId: req-1\r\n\
          x-amz-sha256-tree-hash: b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\r\n\
          \r\nhello world",
    );
    match parse_head(raw) {
        Ok(Parsed::Complete { value, consumed }) => {
            c.check(value.status == 206 && value.tree_hash == Some(hello_hash));
            c.check(raw.get(consumed..) == Some(hello));
            out.clear();
            let _ = write!(out, "{value:?}");
            black_box(out.as_bytes());
        }
        _ => c.check(false),
    }
    c.check(parse_head(&raw[..black_box(20)]) == Ok(Parsed::Partial));
    c.check(parse_head(black_box(b"HTTP/1.1 200 OK\nX: y\r\n\r\n")).is_err());

    let mut b = match HeadBuilder::new(black_box(200)) {
        Ok(b) => b,
        Err(_) => exit(3),
    };
    c.check(
        b.header(black_box(b"content-length"), black_box(b"11"))
            .is_ok(),
    );
    c.check(
        b.header(black_box(b"X-Amz-Sha256-Tree-Hash"), HELLO)
            .is_ok(),
    );
    c.check(b.header(black_box(b"bad name"), b"x").is_err());
    out.clear();
    let _ = write!(out, "{b:?}");
    let head = b.finish();
    c.check(head.is_ok_and(|h| h.content_length == Some(11)));
    c.check(HeadBuilder::new(black_box(42)).is_err());
    c.check(!HeaderField::TreeHash.name().is_empty());

    // --- service errors -----------------------------------------------------------
    let body: &[u8] = black_box(
        br#"{"code":"InvalidParameterValueException","message":"The job is not currently available for download: \u00e9","type":"Client","extra":[1,{"a":null},true]}"#,
    );
    match ServiceError::parse(black_box(400), body) {
        Ok(e) => {
            c.check(e.code == ErrorCode::InvalidParameterValueException);
            c.check(e.is_job_not_ready());
            c.check(e.retry_class() == RetryClass::Fatal);
            out.clear();
            let _ = write!(out, "{e} {e:?}");
            black_box(out.as_bytes());
        }
        Err(_) => c.check(false),
    }
    c.check(ServiceError::parse(black_box(404), black_box(b"404 Not Found")).is_err());
    c.check(classify(black_box(503), None) == RetryClass::Transient);
    c.check(
        classify(black_box(400), Some(black_box("ThrottlingException"))) == RetryClass::Throttling,
    );
    c.check(ErrorCode::from_text(black_box("BadRequest")) == ErrorCode::BadRequest);

    // --- verifier -------------------------------------------------------------------
    // Raw response through `verify_response` (a `&[u8]` is an embedded-io Read).
    let response: &[u8] = black_box(
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\
          x-amz-sha256-tree-hash: b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\r\n\r\nhello world",
    );
    let mut buf = [0u8; 512];
    let mut reader = response;
    let verdict = verify_response(&mut reader, Expectation::unknown(None), &mut buf);
    match verdict {
        Ok(v) => {
            c.check(v.level() == glacier_verify_core::Level::HeaderHash);
            c.check(!v.level().as_str().is_empty());
            out.clear();
            let _ = write!(out, "{v:?}");
            black_box(out.as_bytes());
        }
        Err(_) => c.check(false),
    }
    // One flipped byte: TreeHashMismatch.
    let mut flipped = [0u8; 256];
    let n = response.len();
    flipped[..n].copy_from_slice(response);
    flipped[n - 1] ^= black_box(1);
    let mut reader: &[u8] = &flipped[..n];
    let bad = verify_response(&mut reader, Expectation::unknown(None), &mut buf);
    c.check(matches!(
        bad,
        Err(DrainError::Verify(
            glacier_verify_core::Error::TreeHashMismatch { .. }
        ))
    ));
    if let Err(e) = bad {
        out.clear();
        let _ = write!(out, "{e} {e:?}");
        black_box(out.as_bytes());
        // `&[u8]` never fails to read: `DrainError::Read(Infallible)` is uninhabited.
        let DrainError::Verify(inner) = e;
        black_box(inner.kind());
    }

    // Verifier driven by hand: new / on_head / update / Write / finish.
    let expect = Expectation {
        job: JobKind::Unknown,
        output_len: Some(black_box(11)),
        range: None,
        tree_hash: Some(hello_hash),
    };
    match (Verifier::new(expect), head) {
        (Ok(mut v), Ok(head)) => {
            c.check(v.on_head(&head).is_ok());
            c.check(v.update(&hello[..5]).is_ok());
            c.check(v.write_all(&hello[5..]).is_ok() && v.flush().is_ok());
            c.check(v.received() == 11 && v.hasher().bytes() == 11);
            c.check(v.clone().update(b"!").is_err());
            out.clear();
            let _ = write!(out, "{v:?}");
            match v.finish() {
                Ok(done) => {
                    c.check(done.level() == glacier_verify_core::Level::HeaderAndExpectedHash)
                }
                Err(_) => c.check(false),
            }
        }
        _ => c.check(false),
    }

    // verify_body after a head from HeadBuilder.
    let mut hb = HeadBuilder::new(206).unwrap_or_else(|_| exit(4));
    let _ = hb.header(
        b"Content-Range",
        black_box(b"bytes 1048576-1048586/1048587"),
    );
    let _ = hb.header(b"Content-Length", black_box(b"11"));
    let ranged = Expectation::unknown(Some(RangeRequest::From(black_box(mib))));
    match (Verifier::new(ranged), hb.finish()) {
        (Ok(mut v), Ok(h)) => {
            c.check(v.on_head(&h).is_ok());
            let mut reader = hello;
            let r = verify_body(&mut reader, v, &mut buf);
            c.check(r.is_ok_and(|v| v.level() == glacier_verify_core::Level::SizeOnly));
        }
        _ => c.check(false),
    }

    // Resumed download: continuing a 1 MiB prefix with a body of 1 MiB.
    let mut prefix = TreeHasher::new();
    c.check(feed(&mut prefix, b'a', MIB));
    let cont = Expectation {
        job: JobKind::Unknown,
        output_len: Some(2 * mib),
        range: Some(RangeRequest::From(mib)),
        tree_hash: Some(streamed),
    };
    match Verifier::continuing(cont, prefix) {
        Ok(mut v) => {
            let mut hb = HeadBuilder::new(206).unwrap_or_else(|_| exit(5));
            let _ = hb.header(
                b"Content-Range",
                black_box(b"bytes 1048576-2097151/2097152"),
            );
            let _ = hb.header(b"Content-Length", black_box(b"1048576"));
            let one_mib_hex = one_mib.to_hex();
            let _ = hb.header(b"x-amz-sha256-tree-hash", one_mib_hex.as_str().as_bytes());
            match hb.finish() {
                Ok(h) => c.check(v.on_head(&h).is_ok()),
                Err(_) => c.check(false),
            }
            c.check(feed(&mut v, b'a', MIB));
            c.check(
                v.finish()
                    .is_ok_and(|d| d.expected_hash_matched && d.hashed_len == 2 * mib),
            );
        }
        Err(_) => c.check(false),
    }

    // --- assembly: the verified pieces of one output -------------------------------
    // 2 MiB of 'a' in two 1 MiB parts, each verified as a part (the second
    // without its tree-hash header, which Glacier sends for that range), and
    // one expected hash from DescribeJob: the missing header passes through it.
    let two = ByteRange::whole(2 * mib).unwrap_or(r24);
    let two_job = JobKind::Archive {
        archive_size: 2 * mib,
        retrieval: two,
    };
    let mut assembly = Assembly::new(Some(black_box(2 * mib)));
    c.check(
        assembly
            .expect(ExpectedHash {
                source: HashSource::DescribeJob,
                digest: streamed,
            })
            .is_ok(),
    );
    let one_mib_hex = one_mib.to_hex();
    for (first, with_header) in [(0, true), (mib, false)] {
        let last = first + mib - 1;
        let mut hb = HeadBuilder::new(206).unwrap_or_else(|_| exit(6));
        let mut cr = Sink::new();
        let _ = write!(cr, "bytes {first}-{last}/{}", 2 * mib);
        let _ = hb.header(b"Content-Range", cr.as_bytes());
        let _ = hb.header(b"Content-Length", black_box(b"1048576"));
        if with_header {
            let _ = hb.header(b"x-amz-sha256-tree-hash", one_mib_hex.as_str().as_bytes());
        }
        let part = Expectation {
            job: two_job,
            output_len: None,
            range: ByteRange::new(first, last).ok().map(RangeRequest::Closed),
            tree_hash: None,
        };
        match (Verifier::new(part), hb.finish()) {
            (Ok(mut v), Ok(h)) => {
                c.check(v.on_head(&h).is_ok());
                c.check(feed(&mut v, b'a', MIB));
                match v.finish_part() {
                    Ok(piece) => c.check(assembly.push(&piece).is_ok()),
                    Err(_) => c.check(false),
                }
            }
            _ => c.check(false),
        }
    }
    c.check(assembly.bytes() == 2 * mib && !assembly.every_header_matched());
    let whole_verdict = assembly.verdict();
    match whole_verdict {
        Ok(v) => {
            c.check(v.tree_hash == streamed && v.level == Level::ExpectedHash);
            c.check((v.parts, v.header_matched, v.header_missing) == (2, 1, 1));
            c.check(v.matched().count() == 1 && !v.every_header_matched());
            out.clear();
            let _ = write!(out, "{v:?}");
            black_box(out.as_bytes());
        }
        Err(_) => c.check(false),
    }
    // From records (a journal re-hashed from disk): no expected hash, so the
    // missing header fails; a wrong expected hash fails naming its source.
    let mut recorded = Assembly::new(None);
    c.check(
        recorded
            .push_recorded(LEAF_SIZE, one_mib, HeaderHash::Matched(one_mib))
            .is_ok(),
    );
    c.check(
        recorded
            .push_recorded(LEAF_SIZE, one_mib, HeaderHash::MissingButExpected)
            .is_ok(),
    );
    c.check(recorded.verdict() == Err(Error::TreeHashHeaderMissing));
    c.check(
        recorded
            .expect(ExpectedHash {
                source: HashSource::Inventory,
                digest: hello_hash,
            })
            .is_ok(),
    );
    c.check(matches!(
        recorded.verdict(),
        Err(Error::TreeHashMismatch {
            source: HashSource::Inventory,
            ..
        })
    ));
    c.check(recorded.expected().count() == 1 && MAX_EXPECTED >= 4);
    c.check(recorded.push_recorded(0, one_mib, HeaderHash::NotSent) == Err(Error::EmptySubtree));
    out.clear();
    let _ = write!(
        out,
        "{recorded:?} {}",
        HashSource::FirstResponseHeader.describe()
    );
    black_box(out.as_bytes());

    // --- protocol facts ------------------------------------------------------------------
    c.check(glacier_verify_core::MIB == LEAF_SIZE);
    c.check(black_box(GLACIER_VERSION) == "2012-06-01" && black_box(SIGNING_SERVICE) == "glacier");
    c.check(black_box(MAX_DESCRIPTION_LEN) == 1024);

    // --- defmt: every `Format` impl gets used ---------------------------------------------
    #[cfg(feature = "defmt")]
    {
        defmt::println!("{} {} {}", hello_hash, r24, job);
        defmt::println!("{}", verdict);
        defmt::println!("{}", bad);
        defmt::println!("{}", parse_head(raw));
        defmt::println!("{}", ServiceError::parse(400, body));
        defmt::println!("{}", HeaderField::ContentRange);
        defmt::println!("{}", whole_verdict);
    }

    black_box(&out);
    exit(if c.0 == 0 { 0 } else { 1 })
}
