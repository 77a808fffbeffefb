//! The C memory functions LLVM calls (`memcpy`, `memmove`, `memset`,
//! `memcmp`, `bcmp`). A freestanding binary has no libc; on the thumb
//! targets `compiler_builtins` provides these (its `mem` feature), but for
//! `x86_64-unknown-linux-gnu` it expects libc. Providing them here keeps the
//! proof free of libc as well as of `std` and `alloc`.
//!
//! Volatile byte accesses stop LLVM from recognising the loops as the very
//! functions they implement (which would recurse). They are slow, which does
//! not matter for a link proof hashing a few MiB.

use core::ptr::{read_volatile, write_volatile};

#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees `n` valid, non-overlapping bytes.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) {
        for i in 0..n {
            // SAFETY: forward copy is correct when dst precedes src.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: backward copy is correct when dst follows src.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees `n` valid bytes.
        unsafe { write_volatile(dst.add(i), c as u8) };
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees `n` valid bytes on both sides.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
