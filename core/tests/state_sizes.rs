//! The fixed memory the crate docs promise (lib.rs "## Memory"): printed
//! with `cargo test -p glacier-verify-core --test state_sizes -- --nocapture`
//! and bounded, so growth is a decision rather than an accident.

use core::mem::size_of;

use glacier_verify_core::MAX_DEPTH;
use glacier_verify_core::{Error, ResponseHead, ServiceError, TreeHasher, Verifier};

#[test]
fn state_sizes() {
    let hasher = size_of::<TreeHasher>();
    let verifier = size_of::<Verifier>();
    let error = size_of::<Error>();
    let head = size_of::<ResponseHead<'static>>();
    let service_error = size_of::<ServiceError>();
    println!("size_of::<TreeHasher>()   = {hasher}");
    println!("size_of::<Verifier>()     = {verifier}");
    println!("size_of::<Error>()        = {error}");
    println!("size_of::<ResponseHead>() = {head}");
    println!("size_of::<ServiceError>() = {service_error}");

    // TreeHasher: MAX_DEPTH pending 32-byte roots plus one SHA-256 state;
    // the goal is at most 1.6 KiB.
    assert_eq!(MAX_DEPTH, 44);
    assert!(hasher >= MAX_DEPTH * 32, "{hasher}");
    assert!(hasher <= 1638, "TreeHasher is {hasher} bytes, over 1.6 KiB");
    // The verifier is a hasher plus a few hundred bytes of bookkeeping.
    assert!(verifier > hasher);
    assert!(verifier <= hasher + 512, "Verifier is {verifier} bytes");
    // Small enough to return by value everywhere.
    assert!(error <= 96, "Error is {error} bytes");
    assert!(head <= 192, "ResponseHead is {head} bytes");
    // Code and message buffers inline (64 + 256) plus a little.
    assert!(
        service_error <= 400,
        "ServiceError is {service_error} bytes"
    );
}

/// The crate docs state the measured numbers; keep them true.
#[cfg(target_arch = "x86_64")]
#[test]
fn crate_docs_state_the_measured_sizes() {
    let lib = include_str!("../src/lib.rs");
    let tree = include_str!("../src/tree.rs");
    let spaced = |n: usize| {
        let s = n.to_string();
        if s.len() > 3 {
            format!("{} {}", &s[..s.len() - 3], &s[s.len() - 3..])
        } else {
            s
        }
    };
    for (name, size) in [
        ("[`TreeHasher`]", size_of::<TreeHasher>()),
        ("[`Verifier`]", size_of::<Verifier>()),
        ("[`ResponseHead`]", size_of::<ResponseHead<'static>>()),
        ("[`ServiceError`]", size_of::<ServiceError>()),
        ("[`Error`]", size_of::<Error>()),
    ] {
        let row = format!("//! | {name} | {}", spaced(size));
        assert!(lib.contains(&row), "lib.rs \"## Memory\" lacks {row:?}");
    }
    let stated = format!("is {} bytes on", spaced(size_of::<TreeHasher>()));
    assert!(tree.contains(&stated), "tree_hash.rs lacks {stated:?}");
}
