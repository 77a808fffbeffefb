//! The tree hash (docs/protocol.md §4.1) and hex digests.

use core::ffi::c_char;

use glacier_verify_core::{Digest, TreeHasher, tree_hash};

use crate::ffi::{self, Slot, State, Storage};
use crate::status::gv_status::{self, *};

/// Bytes of a `gv_tree_hasher`.
pub const GV_TREE_HASHER_SIZE: usize = 1536;

/// Alignment of a `gv_tree_hasher`, in bytes.
pub const GV_TREE_HASHER_ALIGN: usize = 8;

/// A streaming tree hasher, in storage the caller owns (a static, a stack
/// variable, a struct member): `GV_TREE_HASHER_SIZE` bytes aligned to
/// `GV_TREE_HASHER_ALIGN`. Opaque: set it up with `gv_tree_hasher_init` and
/// never write its bytes. A state may be copied whole (assignment,
/// `memcpy`) while it is in use: the copy is an independent hasher.
#[repr(C, align(8))]
pub struct gv_tree_hasher {
    opaque: [u8; GV_TREE_HASHER_SIZE],
}

impl State for TreeHasher {
    const LIVE: u64 = u64::from_le_bytes(*b"gvTHash1");
    const DONE: u64 = u64::from_le_bytes(*b"gvTHdone");
    #[inline(never)]
    fn fresh() -> Self {
        TreeHasher::new()
    }
}

impl Storage for gv_tree_hasher {
    type Inner = TreeHasher;
}

const _: () = assert!(ffi::fits::<gv_tree_hasher>());
const _: () = assert!(core::mem::align_of::<gv_tree_hasher>() == GV_TREE_HASHER_ALIGN);

/// Sets up `hasher` for a new input. Any earlier state in the storage is
/// dropped. NULL or a misaligned pointer does nothing (and later calls on it
/// give `GV_NULL_POINTER` or `GV_MISALIGNED`).
///
/// # Safety
/// `hasher` is NULL or points to a `gv_tree_hasher` no other thread uses
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_tree_hasher_init(hasher: *mut gv_tree_hasher) {
    // SAFETY: the caller's guarantee is the one `slot` needs.
    if let Ok(slot) = unsafe { ffi::slot(hasher) } {
        let _ = slot.fill();
    }
}

fn hasher_update(slot: Result<&mut Slot<TreeHasher>, gv_status>, data: &[u8]) -> gv_status {
    let hasher = match slot.and_then(Slot::live) {
        Ok(h) => h,
        Err(status) => return status,
    };
    hasher.update(data);
    if hasher.is_too_long() {
        return GV_INPUT_TOO_LONG;
    }
    GV_OK
}

/// Hashes the next `len` bytes at `data` (any split gives the same hash).
/// `data` may be NULL when `len` is 0.
///
/// # Safety
/// `hasher` is NULL or points to a `gv_tree_hasher`; `data` is NULL or
/// points to `len` readable bytes; neither is used by another thread
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_tree_hasher_update(
    hasher: *mut gv_tree_hasher,
    data: *const u8,
    len: usize,
) -> gv_status {
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    let input = match unsafe { ffi::bytes(data, len) } {
        Ok(b) => b,
        Err(status) => return status,
    };
    if ffi::overlaps(input, hasher) {
        return GV_INVALID_ARGUMENT;
    }
    // SAFETY: the caller's guarantee is the one `slot` needs; `input` does
    // not overlap the storage (checked above).
    hasher_update(unsafe { ffi::slot(hasher) }, input)
}

/// Writes the tree hash of everything hashed into `out` and finishes the
/// hasher: later calls on it give `GV_ALREADY_FINISHED` until
/// `gv_tree_hasher_init`. With `out` NULL nothing happens
/// (`GV_NULL_POINTER`) and the hasher stays usable.
///
/// # Safety
/// `hasher` is NULL or points to a `gv_tree_hasher`; `out` is NULL or
/// points to 32 writable bytes; neither is used by another thread during
/// the call.
///
/// cbindgen:ptrs-as-arrays=[[out;32]]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_tree_hasher_finish(
    hasher: *mut gv_tree_hasher,
    out: *mut u8,
) -> gv_status {
    if out.is_null() {
        return GV_NULL_POINTER;
    }
    // SAFETY: the caller's guarantee is the one `slot` needs.
    let slot = match unsafe { ffi::slot(hasher) } {
        Ok(s) => s,
        Err(status) => return status,
    };
    let digest = match slot.live() {
        Ok(h) => core::mem::take(h).finalize(),
        Err(status) => return status,
    };
    slot.retire();
    // SAFETY: `out` is 32 writable bytes (the caller's guarantee); the
    // slot's borrow has ended.
    status_of(unsafe { ffi::write(out.cast::<[u8; 32]>(), digest.0) })
}

/// Writes the tree hash of `len` bytes at `data` into `out`: the one-call
/// form of init, update, finish (`data` may be NULL when `len` is 0).
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `out` is NULL or
/// points to 32 writable bytes.
///
/// cbindgen:ptrs-as-arrays=[[out;32]]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_tree_hash(data: *const u8, len: usize, out: *mut u8) -> gv_status {
    if out.is_null() {
        return GV_NULL_POINTER;
    }
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    let input = match unsafe { ffi::bytes(data, len) } {
        Ok(b) => b,
        Err(status) => return status,
    };
    let digest = tree_hash(input);
    // SAFETY: `out` is 32 writable bytes (the caller's guarantee); `input`
    // is no longer used.
    status_of(unsafe { ffi::write(out.cast::<[u8; 32]>(), digest.0) })
}

/// Writes `digest` as 64 lower-case hex digits and a NUL into `out`.
///
/// # Safety
/// `digest` is NULL or points to 32 readable bytes; `out` is NULL or
/// points to 65 writable bytes.
///
/// cbindgen:ptrs-as-arrays=[[digest;32], [out;65]]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_digest_to_hex(digest: *const u8, out: *mut c_char) -> gv_status {
    // SAFETY: `digest` is 32 readable bytes (the caller's guarantee).
    let bytes = match unsafe { ffi::read(digest.cast::<[u8; 32]>()) } {
        Ok(b) => b,
        Err(status) => return status,
    };
    let hex = Digest(bytes).to_hex();
    let mut text = [0u8; 65];
    for (t, h) in text.iter_mut().zip(hex.as_str().bytes()) {
        *t = h;
    }
    // SAFETY: `out` is 65 writable bytes (the caller's guarantee).
    status_of(unsafe { ffi::write(out.cast::<[u8; 65]>(), text) })
}

/// Parses `len` characters at `text` — exactly 64 hex digits, either case,
/// nothing else (no NUL counted, no spaces, no `0x`) — into `out`.
/// Anything else is `GV_INVALID_HEX_DIGEST` and leaves `out` as it was.
///
/// # Safety
/// `text` is NULL or points to `len` readable bytes; `out` is NULL or
/// points to 32 writable bytes.
///
/// cbindgen:ptrs-as-arrays=[[out;32]]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gv_digest_from_hex(
    text: *const c_char,
    len: usize,
    out: *mut u8,
) -> gv_status {
    if out.is_null() {
        return GV_NULL_POINTER;
    }
    if text.is_null() {
        return GV_NULL_POINTER;
    }
    // SAFETY: the caller guarantees `len` readable bytes at `text`.
    let input = match unsafe { ffi::bytes(text.cast::<u8>(), len) } {
        Ok(b) => b,
        Err(status) => return status,
    };
    let digest = match Digest::from_hex(input) {
        Ok(d) => d,
        Err(e) => return e.into(),
    };
    // SAFETY: `out` is 32 writable bytes (the caller's guarantee).
    status_of(unsafe { ffi::write(out.cast::<[u8; 32]>(), digest.0) })
}

pub(crate) fn status_of(result: Result<(), gv_status>) -> gv_status {
    match result {
        Ok(()) => GV_OK,
        Err(status) => status,
    }
}
