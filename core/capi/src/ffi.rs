//! The boundary: every `unsafe` of the crate is in this module, each block
//! one operation on a pointer C handed over, after the checks that make it
//! sound (NULL, alignment, lengths, the state's tag).
//!
//! The caller-owned states (`gv_tree_hasher`, `gv_verifier`) are plain byte
//! arrays in C. On this side the same bytes are a [`Slot`]: a 64-bit tag
//! followed by the Rust state, which is valid only while the tag says so.
//! The tag is written after the state, by the `_init` functions only; any
//! other tag (zeroed storage, leftovers, a finished state) makes the call a
//! status instead of a read of bytes that are not a state.

use core::mem::{MaybeUninit, align_of, size_of};

use crate::status::gv_status::{self, *};

/// A state type C holds in an opaque array, and the tags of its slot.
pub(crate) trait State {
    /// The tag of a slot whose state was written by `_init`.
    const LIVE: u64;
    /// The tag of a slot whose state was finished.
    const DONE: u64;
    /// A new state (not inlined: see [`Slot::fill`]).
    fn fresh() -> Self;
}

/// The Rust view of a `gv_tree_hasher` or `gv_verifier`.
#[repr(C)]
pub(crate) struct Slot<T> {
    tag: u64,
    value: MaybeUninit<T>,
}

impl<T: State> Slot<T> {
    /// Writes a new state, marks the slot live, and returns the state.
    ///
    /// The state is built straight into the slot: with `self` a parameter
    /// of a call that is not inlined, the optimiser knows the slot is
    /// valid and unaliased and lets `T::fresh` (not inlined either) return
    /// through it. A construction inlined into the C entry points would
    /// first build the state (4 KB for a verifier) on the stack and copy it.
    #[inline(never)]
    pub(crate) fn fill(&mut self) -> &mut T {
        let state = self.value.write(T::fresh());
        self.tag = T::LIVE;
        state
    }

    /// Marks the slot as holding no state (an `_init` that failed).
    pub(crate) fn clear(&mut self) {
        self.tag = 0;
    }

    /// Marks the slot finished: later calls get `GV_ALREADY_FINISHED`.
    pub(crate) fn retire(&mut self) {
        self.tag = T::DONE;
    }

    /// The state, if `_init` wrote one and it is not finished.
    pub(crate) fn live(&mut self) -> Result<&mut T, gv_status> {
        match self.tag {
            tag if tag == T::LIVE => {
                // SAFETY: only `fill` sets the LIVE tag, after writing the
                // value; C copies a state only as a whole (docs/c-api.md), so
                // a copy holds a written value too. `T` owns no pointers or
                // resources, so any copy of its bytes is a valid `T`.
                Ok(unsafe { self.value.assume_init_mut() })
            }
            tag if tag == T::DONE => Err(GV_ALREADY_FINISHED),
            _ => Err(GV_NOT_INITIALIZED),
        }
    }
}

/// The C storage of a state: a byte array of the size and alignment the
/// header states, at least those of the [`Slot`] (checked at compile time
/// where the storage type is declared).
pub(crate) trait Storage {
    /// The Rust state kept in it.
    type Inner: State;
}

/// Whether the Slot of `S` fits in `S`; used in `const` assertions.
pub(crate) const fn fits<S: Storage>() -> bool {
    size_of::<Slot<S::Inner>>() <= size_of::<S>() && align_of::<Slot<S::Inner>>() <= align_of::<S>()
}

/// The slot in C's storage at `p`.
///
/// # Safety
/// `p` is NULL or points to a whole `S` object, readable and writable,
/// that nothing else reads or writes until the returned reference is
/// dropped (before the calling function returns).
pub(crate) unsafe fn slot<'a, S: Storage>(p: *mut S) -> Result<&'a mut Slot<S::Inner>, gv_status> {
    if p.is_null() {
        return Err(GV_NULL_POINTER);
    }
    let p = p.cast::<Slot<S::Inner>>();
    if !p.is_aligned() {
        return Err(GV_MISALIGNED);
    }
    // SAFETY: non-NULL and aligned (checked above); the object is at least
    // as large as a Slot (`fits`, asserted at compile time) and exclusively
    // ours for the call (the caller's guarantee). Every field of Slot is
    // valid for any initialised bytes: the tag is a u64 and the state
    // is behind MaybeUninit until the tag says it was written.
    Ok(unsafe { &mut *p })
}

/// `len` bytes at `p` that C hands over for reading.
///
/// # Safety
/// When `len` is not 0 and `p` is not NULL, `p` points to `len` readable
/// bytes that nothing writes during the call.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], gv_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(GV_NULL_POINTER);
    }
    // No object is larger than isize::MAX bytes or wraps around the end of
    // the address space: such a length is a mistake, not a buffer.
    if len > isize::MAX.unsigned_abs() || p.addr().checked_add(len).is_none() {
        return Err(GV_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, a length that can be an object's, and the caller
    // guarantees `len` readable bytes at `p` not written during the call;
    // u8 has no alignment or validity requirement beyond initialised bytes.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// Whether `len` bytes at `data` overlap the `S` object at `state`.
pub(crate) fn overlaps<S>(data: &[u8], state: *const S) -> bool {
    let (a, b) = (data.as_ptr().addr(), state.addr());
    let a_end = a.saturating_add(data.len());
    let b_end = b.saturating_add(size_of::<S>());
    !data.is_empty() && a < b_end && b < a_end
}

/// A value of a type that every bit pattern is valid for, read from C.
pub(crate) trait AnyBits: Copy {}
impl AnyBits for [u8; 32] {}

/// Reads a `T` that C hands over.
///
/// # Safety
/// `p` is NULL or points to a whole, initialised `T` object that nothing
/// writes during the call.
pub(crate) unsafe fn read<T: AnyBits>(p: *const T) -> Result<T, gv_status> {
    if p.is_null() {
        return Err(GV_NULL_POINTER);
    }
    if !p.is_aligned() {
        return Err(GV_MISALIGNED);
    }
    // SAFETY: non-NULL, aligned, a whole object not written meanwhile (the
    // caller's guarantee); `T: AnyBits` is valid for any bytes, so no value
    // C stored there is undefined behaviour to read.
    Ok(unsafe { p.read() })
}

/// Writes `value` to where C asked for a result.
///
/// # Safety
/// `p` is NULL or points to a whole, writable `T` object that nothing
/// else accesses during the call.
pub(crate) unsafe fn write<T>(p: *mut T, value: T) -> Result<(), gv_status> {
    if p.is_null() {
        return Err(GV_NULL_POINTER);
    }
    if !p.is_aligned() {
        return Err(GV_MISALIGNED);
    }
    // SAFETY: non-NULL, aligned, writable and not accessed by anyone else
    // (the caller's guarantee); `write` does not read or drop the old bytes.
    unsafe { p.write(value) };
    Ok(())
}
