//! glacier-verify: download Amazon S3 Glacier job output and verify it.
//!
//! The core crate (`glacier-verify-core`) makes every decision about the
//! bytes; this crate moves them: it signs requests (SigV4), talks to
//! Glacier, retries, resumes, writes files atomically and reports.

pub mod cli;
pub mod client;
pub mod credentials;
pub mod disk;
pub mod download;
pub mod error;
pub mod interrupt;
pub mod inventory;
pub mod job;
pub mod jobs;
pub mod journal;
pub mod locks;
pub mod names;
pub mod offline;
pub mod outfile;
pub mod progress;
pub mod render;
pub mod report;
pub mod selftest;
pub mod transport;
pub mod treehash_cmd;
#[cfg(feature = "vault-exit")]
pub mod vault_exit;

/// SigV4 request signing (the `glacier-verify-sigv4` crate).
pub use glacier_verify_sigv4 as sigv4;
