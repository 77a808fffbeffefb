//! A real download from the built-in loopback endpoint: DescribeJob over
//! signed HTTP, a parallel parts download verified end to end, the bytes on
//! disk read back, and a request signed with the wrong secret refused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use glacier_verify_core::{Digest, LEAF_SIZE, Level};
use glacier_verify_loopback::{ArchiveJob, Endpoint, Payload};

use super::{Report, client, loopback_credentials, start_loopback};
use crate::client::{Client, JobLocation};
use crate::download::{self, Download, Log, Outcome, OutputPaths, Plan, RetryPolicy};
use crate::error::HostError;
use crate::job::JobFacts;
use crate::sigv4::Credentials;

const VAULT: &str = "selftest-vault";
const JOB: &str = "selftest-job";
const PART_SIZE: u64 = 4 * LEAF_SIZE;

/// The generated archive and where its download goes.
struct Archive {
    /// Stops (joining its threads) when dropped.
    ep: Endpoint,
    len: u64,
    parts: u64,
    truth: Digest,
    dir: PathBuf,
}

impl Archive {
    /// Starts the endpoint with one archive of about `size` bytes (an odd
    /// tail, so the last part is not a power of two).
    fn start(size: u64) -> Result<Self, HostError> {
        let ep = start_loopback(Duration::from_secs(600))?;
        let len = size.max(2 * PART_SIZE) + 12_345;
        let job = ArchiveJob::new(VAULT, JOB, Payload::pattern(len, 0x5e1f_7e57))
            .with_description("glacier-verify selftest archive");
        ep.add_archive_job(job)
            .map_err(|e| HostError::Usage(e.to_string()))?;
        let truth = ep
            .job_tree_hash(JOB)
            .ok_or_else(|| HostError::Internal("the endpoint lost the job".into()))?;
        let dir =
            std::env::temp_dir().join(format!("glacier-verify-selftest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| HostError::io(&dir, e))?;
        Ok(Archive {
            ep,
            len,
            parts: len.div_ceil(PART_SIZE),
            truth,
            dir,
        })
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn location() -> JobLocation {
    JobLocation {
        account_id: "-".into(),
        vault: VAULT.into(),
        job_id: JOB.into(),
    }
}

/// Runs the loopback checks.
pub(super) fn check(r: &mut Report, size: u64, quiet: bool) -> Result<(), HostError> {
    println!("loopback download");
    let a = Archive::start(size)?;
    let c = client(&a.ep, loopback_credentials())?;
    let facts = describe(r, &a, &c)?;
    let log = Log::default();
    let started = Instant::now();
    match fetch(&a, &c, &facts, &log, quiet) {
        Ok(outcome) => {
            check_outcome(r, &a, &outcome, &log, started.elapsed());
            check_on_disk(r, &a)?;
        }
        Err(e) => r.check("parallel download", Err(e.to_string())),
    }
    wrong_secret(r, &a)
}

fn describe(r: &mut Report, a: &Archive, c: &Client) -> Result<JobFacts, HostError> {
    let (job, _) = c.describe_job(&location()).map_err(|f| f.error)?;
    let facts = job.facts()?;
    r.check(
        "DescribeJob over signed HTTP",
        match (facts.output_len, facts.output_tree_hash) {
            (Some(l), Some(h)) if l == a.len && h == a.truth => {
                Ok(format!("{} bytes, SHA256TreeHash {h}", a.len))
            }
            other => Err(format!("unexpected facts {other:?}")),
        },
    );
    Ok(facts)
}

fn fetch(
    a: &Archive,
    c: &Client,
    facts: &JobFacts,
    log: &Log,
    quiet: bool,
) -> Result<Outcome, HostError> {
    let request = download::Request {
        part_size: Some(PART_SIZE),
        parallel: 4,
        ..download::Request::default()
    };
    let retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
    };
    let plan = Plan::new(location(), Some(facts), &request, retry)?;
    let progress = crate::progress::Progress::start(!quiet);
    let paths = OutputPaths::for_target(&a.dir.join("archive.bin"));
    download::download(&Download {
        client: c,
        plan: &plan,
        paths: &paths,
        counters: &progress.counters(),
        log,
    })
}

fn check_outcome(r: &mut Report, a: &Archive, o: &Outcome, log: &Log, elapsed: Duration) {
    let v = &o.verdict;
    r.check(
        "parallel download verified end to end",
        if v.level == Level::HeaderAndExpectedHash && v.tree_hash == a.truth {
            Ok(format!(
                "{} bytes in {} parts of {} MiB, {} requests, {:.2} s, composed tree hash {}",
                a.len,
                a.parts,
                PART_SIZE >> 20,
                log.requests(),
                elapsed.as_secs_f64(),
                v.tree_hash
            ))
        } else {
            Err(format!("level {}, hash {}", v.level, v.tree_hash))
        },
    );
    r.check(
        "every part matched its x-amz-sha256-tree-hash",
        if v.header_matched == a.parts {
            Ok(format!("{} of {}", a.parts, a.parts))
        } else {
            Err(format!("{} of {}", v.header_matched, a.parts))
        },
    );
    let (retries, requests) = (log.retries(), log.requests());
    r.check(
        "every part was fetched once, without retries",
        if retries.is_empty() && u64::from(requests) == a.parts {
            Ok(format!("{} requests", a.parts))
        } else {
            Err(format!("retries {retries:?}, requests {requests}"))
        },
    );
}

/// The bytes on disk, read back, have the archive's tree hash.
fn check_on_disk(r: &mut Report, a: &Archive) -> Result<(), HostError> {
    let part_file = a.dir.join("archive.bin.part");
    let on_disk = std::fs::File::open(&part_file)
        .and_then(|f| crate::treehash_cmd::hash_file(&f, a.len, 2))
        .map_err(|e| HostError::io(&part_file, e))?;
    r.check(
        "the file on disk has the archive's tree hash",
        if on_disk == a.truth {
            Ok(String::new())
        } else {
            Err(format!("{on_disk}"))
        },
    );
    Ok(())
}

fn wrong_secret(r: &mut Report, a: &Archive) -> Result<(), HostError> {
    let akid = loopback_credentials().access_key_id;
    let wrong = client(&a.ep, Credentials::new(akid, "wrong-secret", None))?;
    r.check(
        "a request signed with the wrong secret is refused",
        match wrong.describe_job(&location()) {
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
    Ok(())
}
