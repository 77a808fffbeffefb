//! The verifier: an expectation, then the raw bytes of one GetJobOutput
//! response as they come off the socket, then the verdict
//! (docs/protocol.md §9).

use glacier_verify_core::{
    ByteRange, Digest, Expectation, JobKind, Level, RAW_HEAD_LEN, RangeRequest, RawVerifier,
};

use crate::ffi::{self, AnyBits, Slot, State, Storage};
use crate::hash::status_of;
use crate::status::gv_status::{self, *};

/// Bytes of a `gv_verifier`.
pub const GV_VERIFIER_SIZE: usize = 4096;

/// Alignment of a `gv_verifier`, in bytes.
pub const GV_VERIFIER_ALIGN: usize = 8;

/// Longest response head a `gv_verifier` accepts, interim `1xx` heads
/// included: the largest Glacier head (an `x-amz-archive-description` at
/// its 1024-character limit, docs/protocol.md §2.2) with some 600 bytes to
/// spare for a proxy's headers. A longer one is `GV_HEAD_TOO_LARGE`.
pub const GV_HEAD_MAX: usize = 2048;

const _: () = assert!(GV_HEAD_MAX == RAW_HEAD_LEN);

/// The kind of job whose output is downloaded (DescribeJob's `Action`).
/// Zero is no kind: a zeroed `gv_expectation` is refused.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum gv_job_kind {
    /// `ArchiveRetrieval`: `archive_size` and the retrieval range apply.
    GV_JOB_ARCHIVE = 1,
    /// `InventoryRetrieval`: a tree-hash header is checked when present,
    /// never required (docs/protocol.md §2.3).
    GV_JOB_INVENTORY = 2,
}

/// Which hashes a passing response was compared with. Zero is no level: a
/// zeroed `gv_verdict` never reads as verified.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum gv_level {
    /// Status, ranges and sizes only: no tree hash was available to compare.
    GV_LEVEL_SIZE_ONLY = 1,
    /// Sizes, and the body's tree hash equals `x-amz-sha256-tree-hash`.
    GV_LEVEL_HEADER_HASH = 2,
    /// Sizes, and the body's tree hash equals the expectation's `tree_hash`.
    GV_LEVEL_EXPECTED_HASH = 3,
    /// Sizes, the header hash and the expected hash.
    GV_LEVEL_HEADER_AND_EXPECTED_HASH = 4,
}

/// A `gv_job_kind` as C stores it: any `uint32_t` (the header names it
/// `gv_job_kind`, the same C type), so that no value is undefined
/// behaviour to read here.
pub type gv_job_kind_value = u32;

/// A C `bool` read as its byte (the header names it `bool`, which is one
/// byte on every supported ABI): 0 or 1, anything else is
/// `GV_INVALID_ARGUMENT` rather than undefined behaviour.
pub type gv_bool_value = u8;

/// What the caller knows before the response arrives: DescribeJob's facts
/// about the job (docs/protocol.md §9.1) and the `Range` it sent.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gv_expectation {
    /// `GV_JOB_ARCHIVE` or `GV_JOB_INVENTORY`.
    pub job: gv_job_kind_value,
    /// Archive jobs: `ArchiveSizeInBytes`.
    pub archive_size: u64,
    /// Archive jobs: the job's `RetrievalByteRange`, inclusive (the whole
    /// archive, 0 to `archive_size` - 1, when the job named none).
    pub retrieval_first: u64,
    /// Archive jobs: last byte of the `RetrievalByteRange`, inclusive.
    pub retrieval_last: u64,
    /// 0: derive from the retrieval range; inventory jobs:
    /// `InventorySizeInBytes` (0: unknown).
    pub output_len: u64,
    /// A `Range` header was sent.
    pub has_range: gv_bool_value,
    /// First byte of the `Range` sent, inclusive, relative to the job output.
    pub range_first: u64,
    /// Last byte of the `Range` sent, inclusive; `UINT64_MAX`: open-ended,
    /// `bytes=FIRST-`.
    pub range_last: u64,
    /// An expected tree hash of the body is known (for a whole-output
    /// download, DescribeJob's `SHA256TreeHash`).
    pub has_tree_hash: gv_bool_value,
    /// The expected tree hash, when `has_tree_hash`.
    pub tree_hash: [u8; 32],
}

// Integers and bytes only: every bit pattern C leaves there is a value.
impl AnyBits for gv_expectation {}

/// A passing response.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gv_verdict {
    /// Which hashes were compared.
    pub level: gv_level,
    /// Body bytes received and verified (= `Content-Length`).
    pub bytes: u64,
    /// The computed tree hash of the body.
    pub tree_hash: [u8; 32],
}

/// One response's verifier, in storage the caller owns (a static, a
/// struct member; on a small stack it is large): `GV_VERIFIER_SIZE` bytes
/// aligned to `GV_VERIFIER_ALIGN`. Opaque: set it up with
/// `gv_verifier_init` and never write its bytes.
#[repr(C, align(8))]
pub struct gv_verifier {
    opaque: [u8; GV_VERIFIER_SIZE],
}

impl State for RawVerifier {
    const LIVE: u64 = u64::from_le_bytes(*b"gvVerif1");
    const DONE: u64 = u64::from_le_bytes(*b"gvVEdone");
    /// A verifier to `restart` (`RawVerifier::new` would return one
    /// through a `Result`, a second state on the stack).
    #[inline(never)]
    fn fresh() -> Self {
        RawVerifier::default()
    }
}

impl Storage for gv_verifier {
    type Inner = RawVerifier;
}

const _: () = assert!(ffi::fits::<gv_verifier>());
const _: () = assert!(core::mem::align_of::<gv_verifier>() == GV_VERIFIER_ALIGN);

fn flag(byte: gv_bool_value) -> Result<bool, gv_status> {
    match byte {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(GV_INVALID_ARGUMENT),
    }
}

/// The core's expectation from C's.
fn expectation(e: &gv_expectation) -> Result<Expectation, gv_status> {
    let has_range = flag(e.has_range)?;
    let has_tree_hash = flag(e.has_tree_hash)?;
    let job = match e.job {
        j if j == gv_job_kind::GV_JOB_ARCHIVE as u32 => JobKind::Archive {
            archive_size: e.archive_size,
            retrieval: ByteRange::new(e.retrieval_first, e.retrieval_last)?,
        },
        j if j == gv_job_kind::GV_JOB_INVENTORY as u32 => JobKind::Inventory,
        _ => return Err(GV_INVALID_ARGUMENT),
    };
    let range = match (has_range, e.range_last) {
        (false, _) => None,
        (true, u64::MAX) => Some(RangeRequest::From(e.range_first)),
        (true, last) => Some(RangeRequest::Closed(ByteRange::new(e.range_first, last)?)),
    };
    Ok(Expectation {
        job,
        output_len: (e.output_len != 0).then_some(e.output_len),
        range,
        tree_hash: has_tree_hash.then_some(Digest(e.tree_hash)),
    })
}

/// Sets up `verifier` for one response. Refuses an expectation that
/// contradicts itself; on any failure the storage holds no verifier (later
/// calls give `GV_NOT_INITIALIZED`). Any earlier state in the storage is
/// dropped.
///
/// # Safety
/// `verifier` is NULL or points to a `gv_verifier`; `expect` is NULL or
/// points to a `gv_expectation`; neither is used by another thread during
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_verifier_init(
    verifier: *mut gv_verifier,
    expect: *const gv_expectation,
) -> gv_status {
    // Copied out before the state is borrowed, so the two may even overlap.
    // SAFETY: `expect` is NULL or a whole gv_expectation (the caller's guarantee).
    let given = unsafe { ffi::read(expect) };
    // SAFETY: the caller's guarantee is the one `slot` needs.
    let slot = match unsafe { ffi::slot(verifier) } {
        Ok(s) => s,
        Err(status) => return status,
    };
    let state = slot.fill();
    let started = given
        .and_then(|e| expectation(&e))
        .and_then(|e| state.restart(e).map_err(gv_status::from));
    if let Err(status) = started {
        slot.clear();
        return status;
    }
    GV_OK
}

fn verifier_feed(slot: Result<&mut Slot<RawVerifier>, gv_status>, data: &[u8]) -> gv_status {
    match slot.and_then(Slot::live) {
        Ok(v) => gv_status::of(v.feed(data)),
        Err(status) => status,
    }
}

/// Feeds the next `len` raw bytes of the response — status line, headers,
/// body, cut anywhere, exactly as `recv` returned them (`data` may be NULL
/// when `len` is 0). Fails as soon as the bytes so far cannot be a passing
/// response; the first failure is returned again by every later feed and by
/// `gv_verifier_finish`, so a loop may feed to the end and check once.
///
/// # Safety
/// `verifier` is NULL or points to a `gv_verifier`; `data` is NULL or
/// points to `len` readable bytes; neither is used by another thread
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_verifier_feed(
    verifier: *mut gv_verifier,
    data: *const u8,
    len: usize,
) -> gv_status {
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    let input = match unsafe { ffi::bytes(data, len) } {
        Ok(b) => b,
        Err(status) => return status,
    };
    if ffi::overlaps(input, verifier) {
        return GV_INVALID_ARGUMENT;
    }
    // SAFETY: the caller's guarantee is the one `slot` needs; `input` does
    // not overlap the storage (checked above).
    verifier_feed(unsafe { ffi::slot(verifier) }, input)
}

fn level(l: Level) -> Result<gv_level, gv_status> {
    match l {
        Level::SizeOnly => Ok(gv_level::GV_LEVEL_SIZE_ONLY),
        Level::HeaderHash => Ok(gv_level::GV_LEVEL_HEADER_HASH),
        Level::ExpectedHash => Ok(gv_level::GV_LEVEL_EXPECTED_HASH),
        Level::HeaderAndExpectedHash => Ok(gv_level::GV_LEVEL_HEADER_AND_EXPECTED_HASH),
        // `Level` is non-exhaustive: a newer core may add levels.
        _ => Err(GV_UNKNOWN_ERROR),
    }
}

/// Ends the response (the connection closed, or the caller read
/// `Content-Length` body bytes) and gives the verdict: `GV_OK` and
/// `*verdict` written, or the failure (`*verdict` untouched). Finishes the
/// verifier either way: later calls give `GV_ALREADY_FINISHED` until
/// `gv_verifier_init`. With `verdict` NULL or misaligned nothing happens
/// and the verifier stays usable.
///
/// # Safety
/// `verifier` is NULL or points to a `gv_verifier`; `verdict` is NULL or
/// points to a writable `gv_verdict`; neither is used by another thread
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_verifier_finish(
    verifier: *mut gv_verifier,
    verdict: *mut gv_verdict,
) -> gv_status {
    if verdict.is_null() {
        return GV_NULL_POINTER;
    }
    if !verdict.is_aligned() {
        return GV_MISALIGNED;
    }
    // SAFETY: the caller's guarantee is the one `slot` needs.
    let slot = match unsafe { ffi::slot(verifier) } {
        Ok(s) => s,
        Err(status) => return status,
    };
    let result = match slot.live() {
        Ok(v) => v.finish(),
        Err(status) => return status,
    };
    slot.retire();
    let out = result.map_err(gv_status::from).and_then(|v| {
        Ok(gv_verdict {
            level: level(v.level())?,
            bytes: v.body_len,
            tree_hash: v.tree_hash.0,
        })
    });
    match out {
        // SAFETY: `verdict` is a writable gv_verdict (the caller's
        // guarantee); the slot's borrow has ended.
        Ok(v) => status_of(unsafe { ffi::write(verdict, v) }),
        Err(status) => status,
    }
}
