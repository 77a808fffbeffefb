//! `glacier-verify selftest`: the power-on check an operator runs after
//! installing or updating a gateway. No AWS account needed.
//!
//! 1. Known answers: published tree-hash vectors, subtree
//!    composition, the Glacier SigV4 example, and a
//!    GetJobOutput response whose body has one bit flipped under the true
//!    `x-amz-sha256-tree-hash`: verifying it must fail with a tree-hash
//!    mismatch against that header.
//! 2. A complete parallel download of a generated multi-part archive from
//!    the built-in loopback endpoint (the `glacier-verify-loopback` crate,
//!    the same code the end-to-end tests run against), with SigV4 checked on
//!    every request: every part must match its header hash on the first
//!    try, and the composed hash must match.
//! 3. A request signed with the wrong secret must be refused.

mod known;
mod loopback;

use std::time::Duration;

use glacier_verify_loopback::{ArchiveJob, Config, Endpoint, Payload, SigV4Auth};

use crate::client::{Client, ClientConfig};
use crate::credentials::EndpointUrl;
use crate::error::{HostError, exit};
use crate::sigv4::Credentials;

/// The checks' tally, printed as they run.
pub(crate) struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    /// Prints one check's outcome and counts it.
    pub(crate) fn check(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                println!(
                    "  ok    {name}{}",
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" — {detail}")
                    }
                );
            }
            Err(why) => {
                self.failed += 1;
                println!("  FAIL  {name} — {why}");
            }
        }
    }
}

/// A client of the loopback endpoint signing with `creds`.
pub(crate) fn client(ep: &Endpoint, creds: Credentials) -> Result<Client, HostError> {
    Ok(Client::new(ClientConfig {
        endpoint: EndpointUrl::parse(&ep.url()).map_err(|e| HostError::Usage(e.to_string()))?,
        region: ep.region().to_string(),
        credentials: crate::credentials::CredentialsProvider::fixed(creds),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(20),
        debug: false,
        // The endpoint is on 127.0.0.1: never through a proxy.
        transport: crate::transport::Transport::direct(),
    }))
}

/// Key pair the loopback endpoint accepts.
pub(crate) fn loopback_credentials() -> Credentials {
    Credentials::new(
        "AKIDSELFTEST0000000",
        "selftest/secret/key/not/a/real/one0000",
        None,
    )
}

/// The loopback endpoint, checking every signature, stopping by itself
/// after `lifetime`.
pub(crate) fn start_loopback(lifetime: Duration) -> Result<Endpoint, HostError> {
    Endpoint::start(
        Config {
            region: "us-east-1".into(),
            ..Config::default()
        }
        .with_auth(SigV4Auth {
            credentials: loopback_credentials(),
            region: "us-east-1".into(),
        })
        .with_max_lifetime(lifetime),
    )
    .map_err(|e| HostError::Internal(format!("cannot start the loopback endpoint: {e}")))
}

/// The archive `selftest --serve` holds: 138 characters of base64url like
/// a Glacier archive id, so that `initiate-job --archive-id` takes it.
pub const SERVED_ARCHIVE_ID: &str = concat!(
    "selftest-archive-",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000"
);

/// Serves the loopback endpoint with one generated archive of `size` bytes
/// and a completed job of it for `lifetime`, for manual tests, benchmarks
/// and the README's job lifecycle (InitiateJob, ListJobs, … work too).
pub fn serve(size: u64, lifetime: Duration) -> Result<i32, HostError> {
    let ep = start_loopback(lifetime)?;
    let job = ArchiveJob::new(
        "selftest-vault",
        "selftest-job",
        Payload::pattern(size, 0x5e1f_7e57),
    )
    .with_archive_id(SERVED_ARCHIVE_ID);
    ep.add_archive_job(job)
        .map_err(|e| HostError::Usage(e.to_string()))?;
    ep.warm_up();
    let creds = loopback_credentials();
    println!(
        "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_REGION=us-east-1 glacier-verify --endpoint-url {} get-job-output --vault-name selftest-vault --job-id selftest-job OUTFILE",
        creds.access_key_id,
        creds.secret_access_key,
        ep.url()
    );
    println!("archive id in selftest-vault: {SERVED_ARCHIVE_ID}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    while !ep.is_stopped() {
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(exit::OK)
}

/// Runs the self-test; exit 0 only when every check passed.
pub fn run(size: u64, quiet: bool) -> Result<i32, HostError> {
    println!("glacier-verify {} selftest", env!("CARGO_PKG_VERSION"));
    let mut r = Report {
        passed: 0,
        failed: 0,
    };
    known::check(&mut r);
    loopback::check(&mut r, size, quiet)?;
    println!();
    if r.failed == 0 {
        println!("selftest: {} checks passed", r.passed);
        Ok(exit::OK)
    } else {
        println!(
            "selftest: {} of {} checks FAILED",
            r.failed,
            r.passed + r.failed
        );
        Ok(exit::VERIFICATION_FAILED)
    }
}
