//! `vault-exit`: every archive of a vault (or of one shard of it) into a
//! destination, each verified three ways — every response against its
//! headers, the whole archive against DescribeJob's `SHA256TreeHash` and
//! against the inventory's `SHA256TreeHash` and `Size` — resumable after
//! a crash at any instant, and shardable over processes or machines.
//!
//! | stage | file |
//! |---|---|
//! | inventory (streamed) and the plan | [`inventory`] |
//! | the state database, one row per archive | [`state`] |
//! | InitiateJob at a rate, ListJobs polling, lost jobs | [`jobs`] |
//! | one archive's verified download (the `get-job-output` path) | [`fetch`] |
//! | the loop that runs the stages | [`engine`] |
//! | receipts (`SHA256SUMS`, `TREEHASHSUMS`, `NAMES.tsv`, `RECEIPTS.jsonl`) | [`receipts`] |
//! | where archives go | [`destination`] |
//! | `--status`, `--dry-run`, the summary | [`status`] |
//!
//! docs/vault-exit.md describes the stages, the schema and the receipts.

pub mod committer;
pub mod destination;
pub mod engine;
pub mod fetch;
pub mod inventory;
pub mod jobs;
pub mod poller;
pub mod receipts;
pub mod state;
pub mod status;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sha2::Digest as _;

use crate::client::Client;
use crate::error::{HostError, exit};
use destination::LocalDir;
use state::{ShardKey, State};

/// Archive descriptions into safe relative paths.
use crate::names;

/// The `JobDescription` of every job vault-exit initiates: how a job
/// initiated just before a crash is recognised in ListJobs.
pub const JOB_DESCRIPTION: &str = "glacier-verify vault-exit";

/// The retrieval tier.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// 5–12 hours, the cheapest.
    #[value(name = "Bulk")]
    Bulk,
    /// 3–5 hours.
    #[value(name = "Standard")]
    Standard,
    /// 1–5 minutes, the dearest; may be refused without provisioned capacity.
    #[value(name = "Expedited")]
    Expedited,
}

impl Tier {
    /// The name Glacier uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Bulk => "Bulk",
            Tier::Standard => "Standard",
            Tier::Expedited => "Expedited",
        }
    }
}

/// `--names`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    /// The file name the description encodes (FastGlacier, CloudBerry, …), made safe.
    Decoded,
    /// The archive id.
    ArchiveId,
}

/// `vault-exit`'s options.
#[derive(Args, Debug, Clone)]
pub struct VaultExitArgs {
    /// Vault name (not needed with --status).
    #[arg(long, required_unless_present = "status", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub vault_name: Option<String>,
    /// Directory the archives go to; its `.glacier-verify/` holds the state of each shard.
    #[arg(long, value_name = "DIR")]
    pub dest: PathBuf,
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = crate::cli::parse_account_id)]
    pub account_id: String,
    /// A saved inventory (JSON or CSV) instead of an inventory-retrieval job.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Retrieval tier of the archive jobs.
    #[arg(long, value_enum, default_value_t = Tier::Bulk)]
    pub tier: Tier,
    /// InitiateJob calls per second at most.
    #[arg(long, default_value_t = 2.0, value_parser = parse_rate)]
    pub initiate_rate: f64,
    /// Archive bytes whose jobs may be initiated in any 24 hours (e.g. 10TiB).
    #[arg(long, value_parser = crate::cli::parse_bytes, value_name = "BYTES")]
    pub max_bytes_per_day: Option<u64>,
    /// Archive bytes initiated but not yet downloaded, at most.
    #[arg(long, value_parser = crate::cli::parse_bytes, value_name = "BYTES")]
    pub max_staged_bytes: Option<u64>,
    /// Archives downloaded at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Part size for parallel ranged downloads of one archive: a power-of-two MiB.
    #[arg(long, value_parser = crate::cli::parse_part_size)]
    pub part_size: Option<u64>,
    /// Parallel part requests within one archive.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub part_parallel: u16,
    /// Attempts per request before giving up (as get-job-output).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Longest silence from the server, in seconds, before a request counts as failed.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,
    /// Jobs per archive that may fail or expire before the archive is given up.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_job_attempts: u32,
    /// This shard, from 0 (else JOB_COMPLETION_INDEX, else AWS_BATCH_JOB_ARRAY_INDEX, else 0).
    #[arg(long)]
    pub shard_index: Option<u64>,
    /// Number of shards: an archive is in shard (first 8 bytes of SHA-256(archive id), big-endian) mod N.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_count: u64,
    /// File names: decoded from the descriptions, or the archive ids.
    #[arg(long, value_enum, default_value_t = Names::Decoded)]
    pub names: Names,
    /// Print the plan (archives, bytes, requests, what exists already); change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the merged state of every shard in DIR; needs only --dest.
    #[arg(long)]
    pub status: bool,
    /// --status, --dry-run and the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// How often ListJobs is polled for completed jobs, in milliseconds.
    #[arg(long, default_value_t = 300_000)]
    pub poll_interval_ms: u64,
    /// How long InitiateJob waits after a PolicyEnforcedException (ms).
    #[arg(long, default_value_t = 900_000, hide = true)]
    pub policy_pause_ms: u64,
    /// First retry backoff in milliseconds.
    #[arg(long, default_value_t = 1000, hide = true)]
    pub retry_base_ms: u64,
}

/// Exit codes of `vault-exit` beyond the common ones.
pub const VAULT_EXIT_CODES: &str = "\
Exit codes of vault-exit:
  0    every archive of the shard is in DIR, verified (or, with --status /
       --dry-run, the report was printed)
  1    some archives failed (verification, or their jobs failed too often);
       the summary and --status say which and why
  8    stopped with archives still to do (--max-bytes-per-day reached);
       rerun later to continue
  2, 3, 4, 5  usage, Glacier error, network, local I/O (as for every command)
  6    another run holds this shard's state (DIR/.glacier-verify/state-I-of-N.lock)
  130, 143  stopped by SIGINT / SIGTERM; rerun to resume";

/// The highest `--initiate-rate`: a bound on typing mistakes, not a
/// promise (Glacier throttles InitiateJob well below it, and throttled
/// calls back off). A local endpoint or a benchmark may go that fast.
const MAX_INITIATE_RATE: f64 = 100_000.0;

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= MAX_INITIATE_RATE => Ok(r),
        _ => Err(format!(
            "{s:?}: a rate in calls per second, above 0 and at most {MAX_INITIATE_RATE}"
        )),
    }
}

/// The shard an archive is in: the first 8 bytes of the SHA-256 of its
/// id, big-endian, modulo `count`.
pub fn shard_of(archive_id: &str, count: u64) -> u64 {
    let h = sha2::Sha256::digest(archive_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_be_bytes(first) % count.max(1)
}

/// `--shard-index`, else the index an orchestrator gives the process.
fn shard_index(a: &VaultExitArgs, env: impl Fn(&str) -> Option<String>) -> Result<u64, HostError> {
    let (index, from) = match a.shard_index {
        Some(i) => (i, "--shard-index".to_string()),
        None => match ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
            .into_iter()
            .find_map(|k| env(k).map(|v| (k, v)))
        {
            Some((k, v)) => (
                v.trim().parse().map_err(|_| {
                    HostError::Usage(format!("{k}={v:?} is not a shard index (a number from 0)"))
                })?,
                k.to_string(),
            ),
            None => (0, "the default".into()),
        },
    };
    if index >= a.shard_count {
        return Err(HostError::Usage(format!(
            "shard index {index} (from {from}) is not below --shard-count {}",
            a.shard_count
        )));
    }
    Ok(index)
}

/// Runs `vault-exit`; `client` is made only when Glacier is needed.
pub fn run(
    a: &VaultExitArgs,
    quiet: bool,
    client: impl FnOnce() -> Result<Client, HostError>,
) -> Result<i32, HostError> {
    if a.status {
        return status::print_status(&a.dest, a.json);
    }
    let vault = a.vault_name.clone().unwrap_or_default();
    let key = ShardKey {
        vault,
        index: shard_index(a, |k| std::env::var(k).ok())?,
        count: a.shard_count,
    };
    let dest = LocalDir::open(&a.dest, &key)?;
    let state_path = key.state_path(&dest.state_dir());
    if a.dry_run {
        return status::dry_run(a, &key, &state_path, client);
    }
    let lock_path = state_path.with_extension("lock");
    let lock = crate::outfile::OutputLock::acquire(&lock_path)?;
    crate::interrupt::install()
        .map_err(|e| HostError::Internal(format!("signal handlers: {e}")))?;
    let result = run_locked(a, quiet, &key, &dest, &state_path, &lock, client);
    lock.release();
    result
}

fn run_locked(
    a: &VaultExitArgs,
    quiet: bool,
    key: &ShardKey,
    dest: &LocalDir,
    state_path: &std::path::Path,
    shard_lock: &crate::outfile::OutputLock,
    client: impl FnOnce() -> Result<Client, HostError>,
) -> Result<i32, HostError> {
    let mut st = State::open(state_path, key)?;
    st.recover_downloads()?;
    let client = client()?;
    if !st.is_planned()? {
        inventory::plan(&client, a, key, dest, &mut st)?;
    }
    let counts = st.counts()?;
    if counts.of(state::Status::Verified) == counts.total() && st.without_receipt()?.is_empty() {
        if !quiet {
            eprintln!(
                "glacier-verify: vault-exit: all {} archives of shard {} of {} are verified in {}; nothing to do",
                counts.total(),
                key.index,
                key.count,
                dest.root().display()
            );
        }
        status::print_summary(&st, key, a.json)?;
        return Ok(exit::OK);
    }
    let engine = engine::Engine::new(&client, a, key, dest, shard_lock, &st, quiet);
    let stopped = engine.run()?;
    status::print_summary(&st, key, a.json)?;
    let counts = st.counts()?;
    if let Some(e) = stopped {
        return Err(e);
    }
    Ok(if counts.of(state::Status::Failed) > 0 {
        exit::VERIFICATION_FAILED
    } else if counts.of(state::Status::Verified) == counts.total() {
        exit::OK
    } else {
        exit::INCOMPLETE
    })
}

/// How long a completed job's output stays downloadable, at least.
pub const OUTPUT_VALIDITY: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests;
