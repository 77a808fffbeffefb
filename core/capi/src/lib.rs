//! # glacier-verify-capi
//!
//! The C ABI of `glacier-verify-core`, for gateway firmware written in C:
//! the SHA-256 tree hash and the verification of a raw GetJobOutput
//! response, in storage the caller owns. The header `glacier_verify.h` is
//! generated from this crate by cbindgen (`core/capi/run.sh` checks that the
//! committed one is current); docs/c-api.md is the guide for C programmers.
//!
//! - `gv_status`, `gv_status_str`: one status per failure of the core, a
//!   few for misuse of the interface.
//! - `gv_tree_hasher` (+ `_init`, `_update`, `_finish`), `gv_tree_hash`,
//!   `gv_digest_to_hex`, `gv_digest_from_hex`.
//! - `gv_verifier` (+ `_init` with a `gv_expectation`, `_feed` with raw
//!   response bytes split anywhere, `_finish` with a `gv_verdict`): the
//!   core's `RawVerifier`.
//!
//! ## What this side guarantees
//! - `#![no_std]`, no allocation, no global or static state: every state is
//!   in the caller's storage, so independent states may be used from
//!   different threads at once.
//! - No panic, and no unwinding into C: the profiles abort, and the code
//!   is written without panics (no indexing, `unwrap`, or unchecked
//!   arithmetic: the same clippy denials as the core). That no path to a
//!   panic is left after optimisation is proven at link time: with the
//!   feature `prove-no-panic` the panic handler calls a function that exists
//!   nowhere, and `run.sh` links the x86-64 and Cortex-M4F archives built so
//!   into its C tests and firmware.
//! - No undefined behaviour on this side for any argument C can pass
//!   without undefined behaviour on its own side: NULL pointers, misaligned
//!   states, lengths that cannot be an object, enum values outside their
//!   enum, `bool` bytes other than 0 or 1, states never initialised or
//!   already finished, and calls out of order are each a status
//!   (docs/c-api.md lists what C must guarantee in turn).
//!
//! ## Unsafe code
//! The core stays `#![forbid(unsafe_code)]`. This crate needs `unsafe` only
//! where C's pointers become Rust references; all of it is in the module
//! `ffi`, one operation per block, each with its `SAFETY` reasoning
//! (`clippy::undocumented_unsafe_blocks` and
//! `clippy::multiple_unsafe_ops_per_block` are denied). The states are
//! placed in C's byte arrays as a tagged slot: the tag says whether the
//! bytes after it hold a state that `_init` wrote, so no call ever reads
//! bytes that are not one.
#![cfg_attr(not(test), no_std)]
#![allow(non_camel_case_types)] // the C names of the header
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod ffi;
mod hash;
mod status;
mod verify;

pub use hash::{
    GV_TREE_HASHER_ALIGN, GV_TREE_HASHER_SIZE, gv_digest_from_hex, gv_digest_to_hex, gv_tree_hash,
    gv_tree_hasher, gv_tree_hasher_finish, gv_tree_hasher_init, gv_tree_hasher_update,
};
pub use status::{gv_status, gv_status_str, gv_status_value};
pub use verify::{
    GV_HEAD_MAX, GV_VERIFIER_ALIGN, GV_VERIFIER_SIZE, gv_bool_value, gv_expectation, gv_job_kind,
    gv_job_kind_value, gv_level, gv_verdict, gv_verifier, gv_verifier_feed, gv_verifier_finish,
    gv_verifier_init,
};

/// Never runs: no code path of this crate panics.
///
/// With the feature `prove-no-panic` it calls a function that exists
/// nowhere, so an image links only if no path to a panic was linked into it
/// (link with `--gc-sections`, which drops the handler when nothing calls
/// it); `run.sh` builds the archives its C tests and firmware link that
/// way. Without the feature (what a gateway links) it calls the C library's
/// `abort()`, never unwinding into C. (In the dev profile the core's bounds
/// checks stay unoptimised, so the proof holds for `--release` builds.)
#[cfg(all(not(test), feature = "prove-no-panic"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        /// Defined nowhere, on purpose.
        fn glacier_verify_capi_has_a_panic_path() -> !;
    }
    // SAFETY: not reachable (see above); a build where it is does not link.
    unsafe { glacier_verify_capi_has_a_panic_path() }
}

/// See above.
#[cfg(all(not(test), not(feature = "prove-no-panic")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        /// The C library's `abort`.
        fn abort() -> !;
    }
    // SAFETY: `abort` has no preconditions; it ends the program.
    unsafe { abort() }
}
