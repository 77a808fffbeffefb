//! Stage 1 and 2: the vault's inventory — `--inventory FILE`, or an
//! inventory job (a completed one reused, one of ours adopted after a
//! crash, else initiated), downloaded through the verified path (its size
//! against DescribeJob's `InventorySizeInBytes`) — streamed into the plan:
//! one row per archive of the shard, written in one transaction.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::destination::{LocalDir, STATE_DIR};
use super::jobs::{self, INVENTORY_DESCRIPTION, Vault};
use super::names;
use super::state::{PlanWriter, Row, ShardKey, State};
use super::{Names, VaultExitArgs};
use crate::client::{Client, JobLocation};
use crate::download::{Request, RetryPolicy};
use crate::error::HostError;
use crate::inventory::InventoryArchive;

/// The retry policy of vault-exit's requests.
pub fn retry_policy(a: &VaultExitArgs) -> RetryPolicy {
    RetryPolicy {
        max_attempts: a.max_attempts,
        base: Duration::from_millis(a.retry_base_ms),
        cap: Duration::from_secs(20),
    }
}

/// Writes the plan of shard `key` from the inventory.
pub fn plan(
    c: &Client,
    a: &VaultExitArgs,
    key: &ShardKey,
    dest: &LocalDir,
    st: &mut State,
) -> Result<(), HostError> {
    let file = match &a.inventory {
        Some(p) => p.clone(),
        None => inventory_from_job(c, a, key, dest, st)?,
    };
    let summary = write_plan(&file, a.names, key, st)?;
    st.set_meta("inventory", &file.display().to_string())?;
    st.set_meta("inventory_archives", &summary.0.to_string())?;
    st.set_meta("tier", a.tier.as_str())?;
    Ok(())
}

/// Streams the inventory at `file` into the plan; returns the archives
/// and bytes of the whole inventory.
pub fn write_plan(
    file: &Path,
    names: Names,
    key: &ShardKey,
    st: &mut State,
) -> Result<(u64, u64), HostError> {
    let reader = std::fs::File::open(file).map_err(|e| HostError::io(file, e))?;
    st.write_plan(|w| {
        for reserved in super::receipts::FILES {
            w.claim_name(reserved)?;
        }
        let mut failure = None;
        let summary = stream(std::io::BufReader::new(reader), |arch| {
            match plan_one(w, &arch, names, key) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
        .map_err(|e| HostError::Usage(format!("{}: {e}", file.display())))?;
        if let Some(e) = failure {
            return Err(e);
        }
        let len = std::fs::metadata(file)
            .map_err(|e| HostError::io(file, e))?
            .len();
        if summary.bytes_read != len {
            return Err(HostError::Usage(format!(
                "{}: {len} bytes, of which the inventory parser read {}",
                file.display(),
                summary.bytes_read
            )));
        }
        Ok((summary.archives, summary.total_size))
    })
}

/// The streaming inventory reader (the one place that names it).
pub fn stream<R: std::io::Read>(
    reader: R,
    each: impl FnMut(InventoryArchive) -> ControlFlow<()>,
) -> Result<crate::inventory::InventorySummary, crate::inventory::InventoryError> {
    crate::inventory::for_each_archive(reader, each)
}

/// Names one archive of the inventory (every shard names every archive,
/// so names agree across shards) and adds it if it is in the shard.
fn plan_one(
    w: &mut PlanWriter<'_>,
    arch: &InventoryArchive,
    names: Names,
    key: &ShardKey,
) -> Result<(), HostError> {
    let id = &arch.archive_id;
    let (wanted, format) = match names {
        Names::ArchiveId => (names::archive_id_name(id), "archive-id".to_string()),
        Names::Decoded => {
            let d = names::decode(&arch.description, id);
            (d.path, d.format.as_str().to_string())
        }
    };
    let ours = |p: &str| p == STATE_DIR || p.starts_with(&format!("{STATE_DIR}/"));
    let mut path = wanted.clone();
    if ours(&path) || !w.claim_name(&path)? {
        path = names::disambiguate(&wanted, &arch.creation_date, id);
        if ours(&path) || !w.claim_name(&path)? {
            path = names::archive_id_name(id);
            if !w.claim_name(&path)? {
                return Err(HostError::Usage(format!(
                    "the inventory lists archive {id} twice"
                )));
            }
        }
    }
    if super::shard_of(id, key.count) != key.index {
        return Ok(());
    }
    w.add(&Row::planned(
        id.clone(),
        arch.description.clone(),
        arch.creation_date.clone(),
        arch.size,
        arch.tree_hash.to_string(),
        path,
        format,
    ))
}

/// The inventory through a job: the one recorded in the state, else a
/// completed one of the vault (the newest), else one of ours still in
/// progress, else a new one; waited for, downloaded and verified.
fn inventory_from_job(
    c: &Client,
    a: &VaultExitArgs,
    key: &ShardKey,
    dest: &LocalDir,
    st: &State,
) -> Result<PathBuf, HostError> {
    let v = Vault {
        account: a.account_id.clone(),
        name: key.vault.clone(),
    };
    let retry = retry_policy(a);
    let job_id = match st.meta("inventory_job")? {
        Some(j) => j,
        None => {
            let j = match find_inventory_job(c, &v, &retry)? {
                Some(j) => j,
                None => initiate_with_retry(c, &v, &retry)?,
            };
            st.set_meta("inventory_job", &j)?;
            j
        }
    };
    wait_completed(c, &v, &job_id, a, &retry)?;
    let target = dest.state_dir().join(format!(
        "inventory-{}.json",
        &glacier_verify_core::tree_hash(job_id.as_bytes()).to_string()[..16]
    ));
    if !target.exists() {
        let loc = JobLocation {
            account_id: v.account.clone(),
            vault: v.name.clone(),
            job_id,
        };
        let counters = crate::progress::Counters::default();
        crate::download::fetch_job_output(
            c,
            &loc,
            &target,
            &Request {
                parallel: 1,
                ..Request::default()
            },
            retry,
            &counters,
            |_| Ok(()),
        )?;
    }
    Ok(target)
}

/// InitiateJob for the inventory, retried on throttling and transient
/// failures.
fn initiate_with_retry(c: &Client, v: &Vault, retry: &RetryPolicy) -> Result<String, HostError> {
    let log = crate::download::Log::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match jobs::initiate_inventory(c, v) {
            Ok(id) => return Ok(id),
            Err(f) => retry.after_failure(f, attempt, "InitiateJob (inventory) ", &log)?,
        }
    }
}

/// The newest completed inventory job of the vault, else one of ours in
/// progress (initiated by a run that stopped before recording it).
fn find_inventory_job(
    c: &Client,
    v: &Vault,
    retry: &RetryPolicy,
) -> Result<Option<String>, HostError> {
    let mut done: Option<(String, String)> = None;
    let mut ours: Option<String> = None;
    jobs::list_jobs(c, v, false, retry, |job| {
        if jobs::text(job, "Action") != Some("InventoryRetrieval") {
            return Ok(());
        }
        let id = jobs::text(job, "JobId").unwrap_or_default().to_owned();
        let created = jobs::text(job, "CreationDate")
            .unwrap_or_default()
            .to_owned();
        match jobs::text(job, "StatusCode") {
            Some("Succeeded") if done.as_ref().is_none_or(|(_, d)| created > *d) => {
                done = Some((id, created));
            }
            Some("InProgress")
                if jobs::text(job, "JobDescription") == Some(INVENTORY_DESCRIPTION) =>
            {
                ours = Some(id);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(done.map(|(id, _)| id).or(ours))
}

/// Polls ListJobs (completed only) until the inventory job is there.
fn wait_completed(
    c: &Client,
    v: &Vault,
    job_id: &str,
    a: &VaultExitArgs,
    retry: &RetryPolicy,
) -> Result<(), HostError> {
    loop {
        let mut status = None;
        jobs::list_jobs(c, v, true, retry, |job| {
            if jobs::text(job, "JobId") == Some(job_id) {
                status = Some((
                    jobs::text(job, "StatusCode").unwrap_or_default().to_owned(),
                    jobs::text(job, "StatusMessage")
                        .unwrap_or_default()
                        .to_owned(),
                ));
            }
            Ok(())
        })?;
        match status {
            Some((s, _)) if s == "Succeeded" => return Ok(()),
            // A listing that ignores `completed` (moto) shows it in progress.
            Some((s, message)) if s == "Failed" => {
                return Err(HostError::Job(crate::job::JobError::Failed {
                    message: format!("inventory job {job_id}: {message}"),
                }));
            }
            _ => {}
        }
        if crate::interrupt::requested() {
            return Err(crate::download::interrupted(format!(
                "waiting for inventory job {job_id}"
            )));
        }
        crate::interrupt::sleep(Duration::from_millis(a.poll_interval_ms));
    }
}
