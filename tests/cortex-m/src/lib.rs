//! Shared firmware code: generated inputs, a response generator behind
//! `embedded_io::Read`, the verification cases, and stack measurement.
//!
//! Nothing here stores test data: every input is generated on the fly from a
//! [`Segment`] description, and the expected digests are docs/protocol.md §7's.
#![no_std]

use core::convert::Infallible;
use core::fmt::{self, Write as _};

use glacier_verify_core::{
    ByteRange, Digest, DrainError, Error, Expectation, HashSource, JobKind, Level, RangeRequest,
    TreeHasher, Verified, verify_response,
};

/// 1 MiB.
pub const MIB: u64 = 1 << 20;

/// Budgets checked by the firmware itself (run.sh checks flash and static RAM).
pub const STACK_BUDGET: usize = 8 * 1024;

/// The buffer lent to `verify_response`.
pub const BUF_LEN: usize = 512;

// ---------------------------------------------------------------------------
// Generated inputs.

/// A piece of generated input.
#[derive(Clone, Copy)]
pub enum Segment {
    /// Literal bytes (short strings of docs/protocol.md §7).
    Bytes(&'static [u8]),
    /// `len` copies of one byte.
    Fill(u8, u64),
    /// `len` bytes of `bytes(i % 251)` starting at absolute offset `start`.
    Mod251 { start: u64, len: u64 },
}

impl Segment {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match *self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::Fill(_, n) => n,
            Segment::Mod251 { len, .. } => len,
        }
    }

    /// Whether the segment is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Streams the bytes of a list of segments into any buffer size.
pub struct Gen<'a> {
    segs: &'a [Segment],
    seg: usize,
    /// Offset inside the current segment.
    off: u64,
    /// Running `i % 251` of a `Mod251` segment.
    m: u8,
}

impl<'a> Gen<'a> {
    /// A generator over `segs`.
    pub fn new(segs: &'a [Segment]) -> Self {
        let mut g = Gen {
            segs,
            seg: 0,
            off: 0,
            m: 0,
        };
        g.enter();
        g
    }

    fn enter(&mut self) {
        self.off = 0;
        if let Some(Segment::Mod251 { start, .. }) = self.segs.get(self.seg) {
            self.m = (start % 251) as u8;
        }
    }

    /// Fills `buf` with the next bytes; 0 at the end.
    pub fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(seg) = self.segs.get(self.seg).copied() else {
                break;
            };
            let left = seg.len() - self.off;
            if left == 0 {
                self.seg += 1;
                self.enter();
                continue;
            }
            let take = (left.min((buf.len() - n) as u64)) as usize;
            let dst = &mut buf[n..n + take];
            match seg {
                Segment::Bytes(b) => {
                    let from = self.off as usize;
                    dst.copy_from_slice(&b[from..from + take]);
                }
                Segment::Fill(byte, _) => dst.fill(byte),
                Segment::Mod251 { .. } => {
                    for d in dst.iter_mut() {
                        *d = self.m;
                        self.m = if self.m == 250 { 0 } else { self.m + 1 };
                    }
                }
            }
            self.off += take as u64;
            n += take;
        }
        n
    }
}

/// Tree hash of generated input, fed in `chunk`-byte pieces (any size: the
/// pieces straddle the 1 MiB leaf boundaries).
pub fn hash_segments(segs: &[Segment], buf: &mut [u8]) -> Digest {
    let mut h = TreeHasher::new();
    let mut g = Gen::new(segs);
    loop {
        let n = g.fill(buf);
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize()
}

/// A hex digest at compile time (for the statics below).
pub const fn hex32(hex: &str) -> Digest {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let h = hex.as_bytes();
    assert!(h.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nib(h[2 * i]) << 4) | nib(h[2 * i + 1]);
        i += 1;
    }
    Digest(out)
}

/// Parses one of the hex digests written in this file.
pub fn digest(hex: &str) -> Digest {
    Digest::from_hex(hex.as_bytes()).unwrap_or(Digest([0; 32]))
}

// ---------------------------------------------------------------------------
// The 6.5 MiB `bytes(i % 251)` job output of docs/protocol.md §7.

/// Its length: 6.5 MiB.
pub const PAT_LEN: u64 = 6 * MIB + MIB / 2;
/// Tree hash of the whole output.
pub const PAT_WHOLE: &str = "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f";
/// Tree hash of `[2 MiB, 4 MiB)`.
pub const PAT_2_4: &str = "9e217b1ceb8db81071f9c6e4a2bf0401a83491d10751ce858a2628f5d699dbdb";
/// Tree hash of `[4 MiB, end)`.
pub const PAT_4_END: &str = "3e997f13ddc355e8a55035672d60ba90275ece6485044b3616a0966e2b895fc1";

// ---------------------------------------------------------------------------
// A raw GetJobOutput response behind `embedded_io::Read`.

/// Generates a response head, then its body, on the fly. Reads return short,
/// irregular counts (as a socket does), so the head arrives in pieces and the
/// body's reads straddle leaf boundaries.
pub struct ResponseReader<'a> {
    /// The head, sent first.
    pub head: HeadText,
    head_pos: usize,
    body: Gen<'a>,
    body_pos: u64,
    /// Body offset whose byte is flipped (`^ 0x01`), for the negative case.
    flip_at: Option<u64>,
    reads: usize,
}

/// Read sizes cycle through these caps.
const READ_CAPS: [usize; 6] = [100, 512, 333, 512, 512, 7];

impl<'a> ResponseReader<'a> {
    /// A response whose body is `body`; write its head into [`Self::head`].
    pub fn new(body: &'a [Segment], flip_at: Option<u64>) -> Self {
        ResponseReader {
            head: HeadText {
                buf: [0; 384],
                len: 0,
            },
            head_pos: 0,
            body: Gen::new(body),
            body_pos: 0,
            flip_at,
            reads: 0,
        }
    }
}

impl embedded_io::ErrorType for ResponseReader<'_> {
    type Error = Infallible;
}

impl embedded_io::Read for ResponseReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let cap = READ_CAPS[self.reads % READ_CAPS.len()].min(buf.len());
        self.reads += 1;
        let buf = &mut buf[..cap];
        if self.head_pos < self.head.len {
            let n = (self.head.len - self.head_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head.buf[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            return Ok(n);
        }
        let n = self.body.fill(buf);
        if let Some(at) = self.flip_at
            && at >= self.body_pos
            && at < self.body_pos + n as u64
        {
            buf[(at - self.body_pos) as usize] ^= 0x01;
        }
        self.body_pos += n as u64;
        Ok(n)
    }
}

/// A response head's text in a fixed buffer.
pub struct HeadText {
    buf: [u8; 384],
    len: usize,
}

impl fmt::Write for HeadText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the head Glacier sends into `h`: 200 for the whole output, 206
/// with a `Content-Range` for a part; a tree hash header when given.
/// (In place: a returned head would be one more copy on the stack.)
pub fn write_head(
    h: &mut HeadText,
    part: Option<(ByteRange, u64)>,
    body_len: u64,
    hash: Option<&str>,
) {
    let _ = match part {
        None => h.write_str("HTTP/1.1 200 OK\r\n"),
        Some((r, total)) => write!(
            h,
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {}-{}/{}\r\n",
            r.first(),
            r.last(),
            total
        ),
    };
    let _ = write!(
        h,
        "x-amzn-RequestId: fw-cortex-m\r\nContent-Type: application/octet-stream\r\n\
         Accept-Ranges: bytes\r\nContent-Length: {body_len}\r\n"
    );
    if let Some(hash) = hash {
        let _ = write!(h, "x-amz-sha256-tree-hash: {hash}\r\n");
    }
    let _ = h.write_str("\r\n");
}

// ---------------------------------------------------------------------------
// Verification cases.

/// What a case must give.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Want {
    /// Verified at this level, with this computed tree hash.
    Verified(Level, &'static str),
    /// `TreeHashMismatch` against the header.
    HeaderMismatch,
    /// `BodyTooShort`.
    TooShort,
}

/// One response to verify.
pub struct Case {
    /// Short name for the log.
    pub name: &'static str,
    /// Status-line part: `None` = 200 whole output, else (range, total).
    pub part: Option<(ByteRange, u64)>,
    /// `Content-Length` announced.
    pub content_length: u64,
    /// The body actually streamed.
    pub body: &'static [Segment],
    /// `x-amz-sha256-tree-hash` sent, if any.
    pub header_hash: Option<&'static str>,
    /// The caller's expectation.
    pub expect: Expectation,
    /// Body byte to corrupt.
    pub flip_at: Option<u64>,
    /// The required outcome.
    pub want: Want,
}

/// Result of running a case.
pub struct Outcome {
    /// What `verify_response` returned.
    pub result: Result<Verified, Error>,
    /// Whether that is what the case wants.
    pub pass: bool,
}

/// Runs `case` through `verify_response` with a 512-byte buffer.
#[inline(never)]
pub fn run_case(case: &Case) -> Outcome {
    let mut reader = ResponseReader::new(case.body, case.flip_at);
    write_head(
        &mut reader.head,
        case.part,
        case.content_length,
        case.header_hash,
    );
    let mut buf = [0u8; BUF_LEN];
    let result = match verify_response(&mut reader, case.expect, &mut buf) {
        Ok(v) => Ok(v),
        Err(DrainError::Verify(e)) => Err(e),
        Err(DrainError::Read(never)) => match never {},
    };
    let pass = match (case.want, &result) {
        (Want::Verified(level, hash), Ok(v)) => v.level() == level && v.tree_hash == digest(hash),
        (
            Want::HeaderMismatch,
            Err(Error::TreeHashMismatch {
                source, expected, ..
            }),
        ) => {
            *source == HashSource::Header
                && case.header_hash.is_some_and(|h| digest(h) == *expected)
        }
        (Want::TooShort, Err(Error::BodyTooShort { .. })) => true,
        _ => false,
    };
    Outcome { result, pass }
}

const fn range(first: u64, last: u64) -> ByteRange {
    match ByteRange::new(first, last) {
        Ok(r) => r,
        Err(_) => panic!("bad range"),
    }
}

const PAT_JOB: JobKind = JobKind::Archive {
    archive_size: PAT_LEN,
    retrieval: range(0, PAT_LEN - 1),
};

static BODY_WHOLE: [Segment; 1] = [Segment::Mod251 {
    start: 0,
    len: PAT_LEN,
}];
static BODY_2_4: [Segment; 1] = [Segment::Mod251 {
    start: 2 * MIB,
    len: 2 * MIB,
}];
static BODY_4_END: [Segment; 1] = [Segment::Mod251 {
    start: 4 * MIB,
    len: PAT_LEN - 4 * MIB,
}];
static BODY_SHORT: [Segment; 1] = [Segment::Fill(b'z', 999)];

/// The verifier firmware's cases (docs/protocol.md §7's 6.5 MiB output).
pub static CASES: [Case; 5] = [
    Case {
        name: "200 whole 6.5 MiB, header hash",
        part: None,
        content_length: PAT_LEN,
        body: &BODY_WHOLE,
        header_hash: Some(PAT_WHOLE),
        expect: Expectation::unknown(None),
        flip_at: None,
        want: Want::Verified(Level::HeaderHash, PAT_WHOLE),
    },
    Case {
        name: "206 bytes 2-4 MiB, archive job",
        part: Some((range(2 * MIB, 4 * MIB - 1), PAT_LEN)),
        content_length: 2 * MIB,
        body: &BODY_2_4,
        header_hash: Some(PAT_2_4),
        expect: Expectation {
            job: PAT_JOB,
            output_len: None,
            range: Some(RangeRequest::Closed(range(2 * MIB, 4 * MIB - 1))),
            tree_hash: None,
        },
        flip_at: None,
        want: Want::Verified(Level::HeaderHash, PAT_2_4),
    },
    Case {
        name: "206 bytes 4 MiB-end, header + expected",
        part: Some((range(4 * MIB, PAT_LEN - 1), PAT_LEN)),
        content_length: PAT_LEN - 4 * MIB,
        body: &BODY_4_END,
        header_hash: Some(PAT_4_END),
        expect: Expectation {
            job: PAT_JOB,
            output_len: None,
            range: Some(RangeRequest::From(4 * MIB)),
            tree_hash: Some(hex32(PAT_4_END)),
        },
        flip_at: None,
        want: Want::Verified(Level::HeaderAndExpectedHash, PAT_4_END),
    },
    Case {
        name: "200 whole, one flipped byte",
        part: None,
        content_length: PAT_LEN,
        body: &BODY_WHOLE,
        header_hash: Some(PAT_WHOLE),
        expect: Expectation::unknown(None),
        flip_at: Some(3 * MIB + 17),
        want: Want::HeaderMismatch,
    },
    Case {
        name: "200 body 1 byte short",
        part: None,
        content_length: 1000,
        body: &BODY_SHORT,
        header_hash: None,
        expect: Expectation::unknown(None),
        flip_at: None,
        want: Want::TooShort,
    },
];

// ---------------------------------------------------------------------------
// Stack measurement.

unsafe extern "C" {
    /// Top of the stack (initial SP), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
    /// Lowest address the stack may reach (end of static RAM).
    static _stack_end: u32;
}

const PAINT: u32 = 0xDEAD_BEEF;

fn stack_bounds() -> (usize, usize) {
    // Only the symbols' addresses are taken (no read: no `unsafe` needed).
    (
        core::ptr::addr_of!(_stack_end) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    )
}

/// Paints the free stack below the caller with a pattern.
#[inline(never)]
pub fn paint_stack() {
    let sp: usize;
    // SAFETY: reads SP.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    let (bottom, _) = stack_bounds();
    // Leave this function's own frame alone (it is far smaller than 64 B).
    let top = (sp - 64) & !3;
    let mut p = bottom;
    while p < top {
        // SAFETY: [bottom, top) is unused stack below this frame.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Peak stack use since [`paint_stack`]: bytes from the top of the stack
/// down to the deepest word that lost the pattern. `None` if the painted
/// region was used up entirely (the measurement overflowed).
#[inline(never)]
pub fn stack_peak() -> Option<usize> {
    let (bottom, top) = stack_bounds();
    let mut p = bottom;
    while p < top {
        // SAFETY: reads stack memory.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    if p == bottom { None } else { Some(top - p) }
}

/// Stack in use where it is called: bytes from the top of the stack down
/// to the stack pointer. With [`paint_stack`] and [`stack_peak`] it gives
/// what one call below this point used: `stack_peak() - stack_depth()`.
#[inline(always)]
pub fn stack_depth() -> usize {
    let sp: usize;
    // SAFETY: reads SP.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    let (_, top) = stack_bounds();
    top - sp
}

/// Total stack size available (between `_stack_end` and `_stack_start`).
pub fn stack_size() -> usize {
    let (bottom, top) = stack_bounds();
    top - bottom
}

// ---------------------------------------------------------------------------
// docs/protocol.md §7 tree-hash vectors.

/// A published vector: input segments and expected tree hash.
pub struct Vector {
    /// Description.
    pub name: &'static str,
    /// Input, generated.
    pub input: &'static [Segment],
    /// Expected tree hash.
    pub hash: &'static str,
}

macro_rules! vector {
    ($name:expr, [$($seg:expr),*], $hash:expr) => {
        Vector { name: $name, input: &[$($seg),*], hash: $hash }
    };
}

/// docs/protocol.md §7's vectors (published unless marked self-generated).
pub static VECTORS: &[Vector] = &[
    vector!(
        "empty",
        [],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    ),
    vector!(
        "'a'*1024",
        [Segment::Fill(b'a', 1024)],
        "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a"
    ),
    vector!(
        "'a'*1MiB",
        [Segment::Fill(b'a', MIB)],
        "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360"
    ),
    vector!(
        "'a'*2MiB",
        [Segment::Fill(b'a', 2 * MIB)],
        "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa"
    ),
    vector!(
        "'a'*4MiB",
        [Segment::Fill(b'a', 4 * MIB)],
        "9491cb2ed1d4e7cd53215f4017c23ec4ad21d7050a1e6bb636c4f67e8cddb844"
    ),
    vector!(
        "'a'*(4MiB+20)",
        [Segment::Fill(b'a', 4 * MIB + 20)],
        "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f"
    ),
    vector!(
        "'0'*5.5MiB",
        [Segment::Fill(b'0', 5767168)],
        "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a"
    ),
    vector!(
        "'hello world'",
        [Segment::Bytes(b"hello world")],
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    ),
    vector!(
        "'Hello World'",
        [Segment::Bytes(b"Hello World")],
        "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"
    ),
    vector!(
        "'Welcome to Amazon Glacier.'",
        [Segment::Bytes(b"Welcome to Amazon Glacier.")],
        "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"
    ),
    vector!(
        "'Hello, world! '+'x'*100",
        [Segment::Bytes(b"Hello, world! "), Segment::Fill(b'x', 100)],
        "15aad04dbdebee9ad90ba889d8eb3b9045be355fed57c62894bc2b1ae259c8c8"
    ),
    vector!(
        "i%251 * 6.5MiB (whole)",
        [Segment::Mod251 {
            start: 0,
            len: PAT_LEN
        }],
        PAT_WHOLE
    ),
    vector!(
        "i%251 [2MiB,4MiB)",
        [Segment::Mod251 {
            start: 2 * MIB,
            len: 2 * MIB
        }],
        PAT_2_4
    ),
    vector!(
        "i%251 [4MiB,end)",
        [Segment::Mod251 {
            start: 4 * MIB,
            len: PAT_LEN - 4 * MIB
        }],
        PAT_4_END
    ),
    // Self-generated with the verified reference (docs/protocol.md §7, last
    // paragraph).
    vector!(
        "'a'*1 (self-gen)",
        [Segment::Fill(b'a', 1)],
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    ),
    vector!(
        "'a'*(1MiB-1) (self-gen)",
        [Segment::Fill(b'a', MIB - 1)],
        "3311ea1faad557de3899e89a39076c69d9d0cc5b4cff56a0b61339f487395d56"
    ),
    vector!(
        "'a'*(1MiB+1) (self-gen)",
        [Segment::Fill(b'a', MIB + 1)],
        "8dd49bbc6297567fac3852c2deddcdbc57358bc403c10d4f6dc64b143ad9b27b"
    ),
    vector!(
        "'a'*3MiB (self-gen)",
        [Segment::Fill(b'a', 3 * MIB)],
        "70239f4f2ead7561f69d48b956b547edef52a1280a93c262c0b582190be7db17"
    ),
    vector!(
        "x|y|z 1MiB each (fog, self-gen)",
        [
            Segment::Fill(b'x', MIB),
            Segment::Fill(b'y', MIB),
            Segment::Fill(b'z', MIB)
        ],
        "fb11cccf656c26d768243aa2bf51ba025c7feaffd43defb972abbdfd89817214"
    ),
];
