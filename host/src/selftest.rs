//! `glacier-verify selftest`: the power-on check an operator runs after
//! installing or updating a gateway. No AWS account needed.
//!
//! 1. Known answers: published tree-hash vectors (SPEC §7), subtree
//!    composition (§4.2), the Glacier SigV4 example (§1), and a
//!    GetJobOutput response whose body has one bit flipped under the true
//!    `x-amz-sha256-tree-hash`: verifying it must fail with a tree-hash
//!    mismatch against that header.
//! 2. A complete parallel download of a generated multi-part archive from
//!    the built-in loopback endpoint (the `glacier-verify-loopback` crate,
//!    the same code the end-to-end tests run against), with SigV4 checked on
//!    every request: every part must match its header hash on the first
//!    try, and the composed hash must match.
//! 3. A request signed with the wrong secret must be refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use glacier_verify_core::{
    DrainError, Error, Expectation, HashSource, LEAF_SIZE, Level, TreeHasher, tree_hash,
    verify_response,
};
use glacier_verify_loopback::{ArchiveJob, Config, Endpoint, Payload, SigV4Auth};

use crate::client::{Client, ClientConfig, JobLocation};
use crate::credentials::EndpointUrl;
use crate::download::{self, Download, OutputPaths, Plan, RetryPolicy};
use crate::error::{HostError, exit};
use crate::progress::Counters;
use crate::sigv4::{self, AmzDate, Credentials, SignableRequest, SigningParams, SigningSettings};

struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String, String>) {
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

fn expect_hash(data: &[u8], hex: &str) -> Result<String, String> {
    let got = tree_hash(data);
    if got.matches_hex(hex.as_bytes()) {
        Ok(String::new())
    } else {
        Err(format!("got {got}, want {hex}"))
    }
}

fn known_answers(r: &mut Report) {
    println!("known answers");
    let a = |n: usize| vec![b'a'; n];
    let mib = LEAF_SIZE as usize;
    let vectors: [(&str, Vec<u8>, &str); 9] = [
        (
            "empty input",
            vec![],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "'a' x 1024",
            a(1024),
            "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a",
        ),
        (
            "'a' x 1 MiB",
            a(mib),
            "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360",
        ),
        (
            "'a' x 2 MiB",
            a(2 * mib),
            "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa",
        ),
        (
            "'a' x 4 MiB",
            a(4 * mib),
            "9491cb2ed1d4e7cd53215f4017c23ec4ad21d7050a1e6bb636c4f67e8cddb844",
        ),
        (
            "'a' x (4 MiB + 20)",
            a(4 * mib + 20),
            "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f",
        ),
        (
            "'0' x 5.5 MiB",
            vec![b'0'; 5 * mib + mib / 2],
            "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a",
        ),
        (
            "'hello world'",
            b"hello world".to_vec(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
        (
            "'Welcome to Amazon Glacier.'",
            b"Welcome to Amazon Glacier.".to_vec(),
            "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628",
        ),
    ];
    for (name, data, hex) in &vectors {
        r.check(
            &format!("tree hash of {name} (SPEC §7)"),
            expect_hash(data, hex),
        );
    }
    // 6.5 MiB of bytes(i % 251): whole and composed from [0,4 MiB) + [4 MiB, end).
    let data: Vec<u8> = (0..(6 * mib + mib / 2)).map(|i| (i % 251) as u8).collect();
    r.check(
        "tree hash of 6.5 MiB bytes(i % 251) (SPEC §7)",
        expect_hash(
            &data,
            "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f",
        ),
    );
    let composed = (|| {
        let mut h = TreeHasher::new();
        h.push_subtree(tree_hash(&data[..4 * mib]), 4 * LEAF_SIZE)
            .map_err(|e| e.to_string())?;
        h.finish_with(tree_hash(&data[4 * mib..]), (data.len() - 4 * mib) as u64)
            .map_err(|e| e.to_string())
    })();
    r.check(
        "composition of 4 MiB + 2.5 MiB part hashes (SPEC §4.2)",
        match composed {
            Ok(d) if d == tree_hash(&data) => Ok(String::new()),
            Ok(d) => Err(format!("composed {d} differs from direct")),
            Err(e) => Err(e),
        },
    );
    let mut refused = TreeHasher::new();
    let misaligned = refused
        .push_subtree(tree_hash(&data[..mib]), LEAF_SIZE)
        .and_then(|()| refused.push_subtree(tree_hash(&data[mib..3 * mib]), 2 * LEAF_SIZE));
    r.check(
        "a misaligned composition (1 MiB then 2 MiB) is refused",
        if misaligned.is_err() {
            Ok(String::new())
        } else {
            Err("accepted".into())
        },
    );
    r.check("SigV4 Glacier example (SPEC §1)", sigv4_example());
    r.check(
        "a flipped bit under a correct x-amz-sha256-tree-hash is caught",
        flipped_bit_is_caught(),
    );
}

/// Verifies an in-memory GetJobOutput response whose head carries the tree hash of the
/// true bytes and whose body has one bit flipped; only a tree-hash mismatch against the
/// header passes.
fn flipped_bit_is_caught() -> Result<String, String> {
    let mut body: Vec<u8> = (0..(3 * LEAF_SIZE as usize + 777))
        .map(|i| (i % 251) as u8)
        .collect();
    let truth = tree_hash(&body);
    body[LEAF_SIZE as usize + 12_345] ^= 1 << 3;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nx-amz-sha256-tree-hash: {truth}\r\n\r\n",
        body.len()
    );
    let response = [head.as_bytes(), &body].concat();
    let mut reader: &[u8] = &response;
    let mut buf = [0u8; 4096];
    match verify_response(&mut reader, Expectation::unknown(None), &mut buf) {
        Err(DrainError::Verify(Error::TreeHashMismatch {
            source: HashSource::Header,
            computed,
            expected,
        })) if expected == truth && computed != truth => Ok(format!("computed {computed}")),
        Err(e) => Err(format!("failed for another reason: {e}")),
        Ok(v) => Err(format!("accepted at level {:?}", v.level())),
    }
}

fn sigv4_example() -> Result<String, String> {
    let creds = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    );
    let headers = [
        ("host", "glacier.us-east-1.amazonaws.com"),
        ("x-amz-glacier-version", "2012-06-01"),
    ];
    let out = sigv4::sign(
        &SignableRequest::new(
            "PUT",
            "/-/vaults/examplevault",
            &headers,
            sigv4::EMPTY_PAYLOAD_SHA256,
        ),
        &SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "glacier",
            time: AmzDate::parse("20120525T002453Z").map_err(|e| e.to_string())?,
            settings: SigningSettings::default(),
        },
    )
    .map_err(|e| e.to_string())?;
    let want = "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a";
    if out.signature == want {
        Ok(String::new())
    } else {
        Err(format!("signature {} != {want}", out.signature))
    }
}

fn client(ep: &Endpoint, creds: Credentials) -> Result<Client, HostError> {
    Ok(Client::new(ClientConfig {
        endpoint: EndpointUrl::parse(&ep.url()).map_err(|e| HostError::Usage(e.to_string()))?,
        region: ep.region().to_string(),
        credentials: creds,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(20),
        debug: false,
    }))
}

fn loopback(r: &mut Report, size: u64, quiet: bool) -> Result<(), HostError> {
    println!("loopback download");
    let creds = Credentials::new(
        "AKIDSELFTEST0000000",
        "selftest/secret/key/not/a/real/one0000",
        None,
    );
    let ep = Endpoint::start(
        Config {
            region: "us-east-1".into(),
            ..Config::default()
        }
        .with_auth(SigV4Auth {
            credentials: creds.clone(),
            region: "us-east-1".into(),
        })
        .with_max_lifetime(Duration::from_secs(600)),
    )
    .map_err(|e| HostError::Internal(format!("cannot start the loopback endpoint: {e}")))?;
    let part_size = 4 * LEAF_SIZE;
    // An odd tail so the last part is not a power of two.
    let len = size.max(2 * part_size) + 12_345;
    let parts = len.div_ceil(part_size);
    let job = ArchiveJob::new(
        "selftest-vault",
        "selftest-job",
        Payload::pattern(len, 0x5e1f_7e57),
    )
    .with_description("glacier-verify selftest archive");
    ep.add_archive_job(job)
        .map_err(|e| HostError::Usage(e.to_string()))?;
    let truth = ep
        .job_tree_hash("selftest-job")
        .ok_or_else(|| HostError::Usage("endpoint lost the job".into()))?;

    let dir = std::env::temp_dir().join(format!("glacier-verify-selftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| HostError::io(&dir, e))?;
    let out = dir.join("archive.bin");
    let c = client(&ep, creds.clone())?;
    let loc = JobLocation {
        account_id: "-".into(),
        vault: "selftest-vault".into(),
        job_id: "selftest-job".into(),
    };
    let (job, _) = c.describe_job(&loc).map_err(|f| f.error)?;
    let facts = job.facts()?;
    r.check(
        "DescribeJob over signed HTTP",
        match (facts.output_len, facts.output_tree_hash) {
            (Some(l), Some(h)) if l == len && h == truth => {
                Ok(format!("{len} bytes, SHA256TreeHash {h}"))
            }
            other => Err(format!("unexpected facts {other:?}")),
        },
    );
    let request = download::Request {
        part_size: Some(part_size),
        parallel: 4,
        ..download::Request::default()
    };
    let retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
    };
    let plan = Plan::new(loc, Some(&facts), &request, retry)?;
    let progress = crate::progress::Progress::start(!quiet);
    let counters: Arc<Counters> = progress.counters();
    let started = Instant::now();
    let log = download::Log::default();
    let paths = OutputPaths::for_target(&out);
    let result = download::download(&Download {
        client: &c,
        plan: &plan,
        paths: &paths,
        counters: &counters,
        log: &log,
    });
    let elapsed = started.elapsed();
    drop(progress);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            r.check("parallel download", Err(e.to_string()));
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(());
        }
    };
    let parts_info = outcome.parts.clone().unwrap_or_default();
    r.check(
        "parallel download verified end to end",
        if outcome.verdict.level == Level::HeaderAndExpectedHash && outcome.verdict.tree_hash == truth {
            Ok(format!(
                "{len} bytes in {parts} parts of {} MiB, {} requests, {:.2} s, composed tree hash {}",
                part_size >> 20,
                log.requests(),
                elapsed.as_secs_f64(),
                outcome.verdict.tree_hash
            ))
        } else {
            Err(format!("level {}, hash {}", outcome.verdict.level, outcome.verdict.tree_hash))
        },
    );
    r.check(
        "every part matched its x-amz-sha256-tree-hash",
        if parts_info.header_verified == parts {
            Ok(format!("{parts} of {parts}"))
        } else {
            Err(format!("{} of {parts}", parts_info.header_verified))
        },
    );
    let retries = log.retries();
    let requests = log.requests();
    r.check(
        "every part was fetched once, without retries",
        if retries.is_empty() && u64::from(requests) == parts {
            Ok(format!("{parts} requests"))
        } else {
            Err(format!("retries {retries:?}, requests {requests}"))
        },
    );
    // The bytes on disk, read back, have the same tree hash.
    let part_file = dir.join("archive.bin.part");
    let on_disk = std::fs::File::open(&part_file)
        .and_then(|f| crate::treehash_cmd::hash_file(&f, len, 2))
        .map_err(|e| HostError::io(&part_file, e))?;
    r.check(
        "the file on disk has the archive's tree hash",
        if on_disk == truth {
            Ok(String::new())
        } else {
            Err(format!("{on_disk}"))
        },
    );
    let _ = std::fs::rename(&part_file, &out);
    let _ = std::fs::remove_dir_all(&dir);

    // A wrong secret must be refused.
    let wrong = client(
        &ep,
        Credentials::new(creds.access_key_id.clone(), "wrong-secret", None),
    )?;
    let refused = wrong.describe_job(&JobLocation {
        account_id: "-".into(),
        vault: "selftest-vault".into(),
        job_id: "selftest-job".into(),
    });
    r.check(
        "a request signed with the wrong secret is refused",
        match refused {
            Err(f) => match &f.error {
                HostError::Service(s)
                    if s.status == 403 && s.code == "InvalidSignatureException" =>
                {
                    Ok(format!("403 {}", s.code))
                }
                other => Err(format!("refused, but with {other}")),
            },
            Ok(_) => Err("accepted".into()),
        },
    );
    ep.shutdown();
    Ok(())
}

/// Key pair the loopback endpoint accepts.
fn loopback_credentials() -> Credentials {
    Credentials::new(
        "AKIDSELFTEST0000000",
        "selftest/secret/key/not/a/real/one0000",
        None,
    )
}

fn start_loopback(lifetime: Duration) -> Result<Endpoint, HostError> {
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

/// Serves the loopback endpoint with one generated archive job of `size`
/// bytes for `lifetime`, for manual tests and benchmarks.
pub fn serve(size: u64, lifetime: Duration) -> Result<i32, HostError> {
    let ep = start_loopback(lifetime)?;
    let job = ArchiveJob::new(
        "selftest-vault",
        "selftest-job",
        Payload::pattern(size, 0x5e1f_7e57),
    );
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
    known_answers(&mut r);
    loopback(&mut r, size, quiet)?;
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
