//! One job's output into a file, verified, as a library call: the lock,
//! DescribeJob, the [`Plan`], the download ([`download`](super::download):
//! parts, resume, journal) and the move into place — what `get-job-output`
//! does, for callers that fetch many outputs (`vault-exit`).

use std::path::Path;

use super::{Download, Log, Outcome, Plan, Request, RetryPolicy};
use crate::client::{Client, JobLocation};
use crate::error::HostError;
use crate::job::JobFacts;
use crate::outfile::{self, OutputLock, OutputPaths};
use crate::progress::Counters;

/// A verified output at its target.
#[derive(Debug)]
pub struct Fetched {
    /// What DescribeJob said.
    pub facts: JobFacts,
    /// The plan it was downloaded under (its expected hashes, labelled).
    pub plan: Plan,
    /// The core's verdict and the download's details.
    pub outcome: Outcome,
    /// Requests made and retries.
    pub requests: u32,
}

/// Downloads the output of the job at `loc` into `target`, verified:
/// `target.part` and its journal while it runs (a rerun resumes them),
/// renamed to `target` only once the core's verdict is in. `check` sees
/// DescribeJob's facts before any byte is fetched and may refuse them.
pub fn fetch_job_output(
    client: &Client,
    loc: &JobLocation,
    target: &Path,
    request: &Request<'_>,
    retry: RetryPolicy,
    counters: &Counters,
    check: impl FnOnce(&JobFacts) -> Result<(), HostError>,
) -> Result<Fetched, HostError> {
    outfile::check_target(target)?;
    let paths = OutputPaths::for_target(target);
    let lock = OutputLock::acquire(&paths.lock)?;
    let result = fetch_locked(client, loc, &paths, request, retry, counters, check)
        .and_then(|f| outfile::finish(&paths).map(|()| f));
    lock.release();
    result
}

/// Where [`fetch_job_output_staged`] writes, and the lock that makes it
/// the only writer there.
pub struct Staged<'a> {
    /// The output's name: the bytes go to `target.part` (and its journal),
    /// which must be named after what `exclusive` covers.
    pub target: &'a Path,
    /// The caller's lock, held for the call, that keeps every other
    /// process from `target`'s files.
    pub exclusive: &'a OutputLock,
}

/// [`fetch_job_output`] for a caller that owns `target`'s files already
/// and moves the verified bytes itself (`vault-exit`): no lock file of its
/// own (the caller's lock stands for it) and no rename. On success the
/// verified bytes are durable at `target.part`; its journal, if the
/// download made one, is still there, for a crash before the caller
/// records the result (the caller removes it once that is done).
pub fn fetch_job_output_staged(
    client: &Client,
    loc: &JobLocation,
    staged: &Staged<'_>,
    request: &Request<'_>,
    retry: RetryPolicy,
    counters: &Counters,
    check: impl FnOnce(&JobFacts) -> Result<(), HostError>,
) -> Result<Fetched, HostError> {
    let _held = staged.exclusive;
    let paths = OutputPaths::for_target(staged.target);
    fetch_locked(client, loc, &paths, request, retry, counters, check)
}

fn fetch_locked(
    client: &Client,
    loc: &JobLocation,
    paths: &OutputPaths,
    request: &Request<'_>,
    retry: RetryPolicy,
    counters: &Counters,
    check: impl FnOnce(&JobFacts) -> Result<(), HostError>,
) -> Result<Fetched, HostError> {
    let job = match request.listed_job {
        Some(listed) => listed.clone(),
        None => describe_with_retry(client, loc, &retry)?.0,
    };
    let facts = job.facts()?;
    check(&facts)?;
    let plan = Plan::new(loc.clone(), Some(&facts), request, retry)?;
    if let Some(len) = plan.target_len() {
        outfile::check_space(paths, len)?;
    }
    let log = Log::default();
    let outcome = super::download(&Download {
        client,
        plan: &plan,
        paths,
        counters,
        log: &log,
    })?;
    Ok(Fetched {
        facts,
        plan,
        outcome,
        requests: log.requests(),
    })
}

/// DescribeJob, retried like GetJobOutput requests (5xx, 408, throttling
/// and transport failures; never 400/403/404).
pub fn describe_with_retry(
    c: &Client,
    loc: &JobLocation,
    retry: &RetryPolicy,
) -> Result<(crate::job::JobDescription, serde_json::Value), HostError> {
    let unreported = Log::default();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if crate::interrupt::requested() {
            return Err(super::interrupted("nothing downloaded yet".into()));
        }
        match c.describe_job(loc) {
            Ok(done) => return Ok(done),
            Err(f) => retry.after_failure(f, attempt, "DescribeJob ", &unreported)?,
        }
    }
}
