//! The loop that runs stages 3–6 until every archive of the shard is
//! verified or failed: InitiateJob at `--initiate-rate` within the byte
//! budgets, ListJobs polled for completed jobs, `--parallel` downloads on
//! worker threads, receipts written. Only this thread writes the state
//! database; every change is one transaction, made before the action it
//! allows (`initiating` before InitiateJob) or after the fact it records
//! (`verified` after the rename, the receipt mark after the receipt).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::destination::{Destination, LocalDir};
use super::fetch::{self, Done};
use super::jobs::{self, Vault};
use super::receipts::Receipt;
use super::state::{Row, ShardKey, State, Status, now};
use super::{JOB_DESCRIPTION, OUTPUT_VALIDITY, VaultExitArgs};
use crate::client::Client;
use crate::download::RetryPolicy;
use crate::error::HostError;
use crate::progress::Counters;

/// The stages' shared context.
pub struct Engine<'a> {
    client: &'a Client,
    a: &'a VaultExitArgs,
    key: &'a ShardKey,
    dest: &'a LocalDir,
    st: &'a State,
    quiet: bool,
    vault: Vault,
    retry: RetryPolicy,
}

/// What InitiateJob's answer means for the loop.
enum Initiated {
    Yes,
    /// Throttled or a transient failure: the row is planned again.
    Later,
    /// PolicyEnforcedException: no InitiateJob for a while.
    Policy,
}

/// Downloads' byte rate, measured in this run.
#[derive(Default)]
struct Rate {
    bytes: u64,
    busy: Duration,
}

impl Rate {
    /// Bytes per second, once something was measured.
    fn per_second(&self) -> Option<f64> {
        (self.bytes > 0 && self.busy > Duration::from_millis(1))
            .then(|| self.bytes as f64 / self.busy.as_secs_f64())
    }
}

type Result_ = (Row, Result<Done, HostError>, Duration);

/// What a download thread works with (the state stays on the main thread).
#[derive(Clone, Copy)]
struct Worker<'a> {
    client: &'a Client,
    a: &'a VaultExitArgs,
    vault: &'a str,
    dest: &'a LocalDir,
}

impl Worker<'_> {
    fn download(&self, row: &Row, counters: &Counters) -> Result<Done, HostError> {
        let staged = self.dest.staging(&row.archive_id)?;
        fetch::one(self.client, self.a, self.vault, row, &staged, counters)
    }
}

impl<'a> Engine<'a> {
    /// The engine of one shard.
    pub fn new(
        client: &'a Client,
        a: &'a VaultExitArgs,
        key: &'a ShardKey,
        dest: &'a LocalDir,
        st: &'a State,
        quiet: bool,
    ) -> Self {
        Engine {
            client,
            a,
            key,
            dest,
            st,
            quiet,
            vault: Vault {
                account: a.account_id.clone(),
                name: key.vault.clone(),
            },
            retry: super::inventory::retry_policy(a),
        }
    }

    /// Runs until done; `Ok(Some(e))` when stopped by a signal (the state
    /// is consistent and a rerun resumes).
    pub fn run(&self) -> Result<Option<HostError>, HostError> {
        self.write_missing_receipts()?;
        self.recover_initiating()?;
        let parallel = usize::from(self.a.parallel);
        let (work_tx, work_rx) = mpsc::channel::<Row>();
        let work_rx = std::sync::Mutex::new(work_rx);
        let (done_tx, done_rx) = mpsc::channel::<Result_>();
        let counters = Counters::default();
        std::thread::scope(|s| {
            for _ in 0..parallel {
                let done_tx = done_tx.clone();
                let (work_rx, counters) = (&work_rx, &counters);
                let worker = Worker {
                    client: self.client,
                    a: self.a,
                    vault: &self.key.vault,
                    dest: self.dest,
                };
                s.spawn(move || {
                    loop {
                        let next = work_rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok(row) = next else { break };
                        let started = Instant::now();
                        let r = worker.download(&row, counters);
                        if done_tx.send((row, r, started.elapsed())).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let result = self.main_loop(&work_tx, &done_rx, &counters, parallel);
            drop(work_tx);
            // Workers finish their archive (or stop at the signal).
            for (row, r, _) in done_rx.iter() {
                let _ = self.finish(row, r);
            }
            result
        })
    }

    fn main_loop(
        &self,
        work: &mpsc::Sender<Row>,
        done: &mpsc::Receiver<Result_>,
        counters: &Counters,
        parallel: usize,
    ) -> Result<Option<HostError>, HostError> {
        let mut in_flight = 0usize;
        let mut rate = Rate::default();
        let mut next_poll = Instant::now();
        let mut next_initiate = Instant::now();
        let mut throttled = 0u32;
        let mut shown = Instant::now() - Duration::from_secs(10);
        let started = Instant::now();
        loop {
            while let Ok((row, r, took)) = done.try_recv() {
                in_flight -= 1;
                if let Ok(d) = &r {
                    rate.bytes += d.bytes;
                    rate.busy += took;
                }
                self.finish(row, r)?;
            }
            if crate::interrupt::requested() {
                if in_flight == 0 {
                    return Ok(Some(crate::download::interrupted(
                        "every verified archive is kept; the state is in DIR/.glacier-verify"
                            .into(),
                    )));
                }
                if let Ok((row, r, _)) = done.recv() {
                    in_flight -= 1;
                    self.finish(row, r)?;
                }
                continue;
            }
            let counts = self.st.counts()?;
            let open = counts.of(Status::Initiated) + counts.of(Status::Initiating);
            if open > 0 && Instant::now() >= next_poll {
                self.poll()?;
                next_poll = Instant::now() + Duration::from_millis(self.a.poll_interval_ms);
            }
            while Instant::now() >= next_initiate {
                let Some(row) = self.next_to_initiate(&rate)? else {
                    break;
                };
                match self.initiate(&row)? {
                    Initiated::Yes => {
                        throttled = 0;
                        next_initiate += Duration::from_secs_f64(1.0 / self.a.initiate_rate);
                        if next_initiate < Instant::now() {
                            next_initiate = Instant::now();
                        }
                    }
                    Initiated::Later => {
                        throttled += 1;
                        next_initiate = Instant::now()
                            + crate::client::backoff(throttled, self.retry.base, self.retry.cap)
                                .max(self.retry.base);
                        break;
                    }
                    Initiated::Policy => {
                        next_initiate =
                            Instant::now() + Duration::from_millis(self.a.policy_pause_ms);
                        break;
                    }
                }
            }
            while in_flight < parallel {
                let Some(row) = self.st.rows(Status::Ready, 1)?.pop() else {
                    break;
                };
                self.st.mark_downloading(&row.archive_id)?;
                in_flight += 1;
                if work.send(row).is_err() {
                    return Err(HostError::Internal("download workers stopped".into()));
                }
            }
            let counts = self.st.counts()?;
            self.show(&counts, counters, started, &mut shown);
            let active = counts.of(Status::Initiating)
                + counts.of(Status::Initiated)
                + counts.of(Status::Ready)
                + counts.of(Status::Downloading);
            if active == 0 && in_flight == 0 {
                let planned = counts.of(Status::Planned);
                if planned == 0 || self.next_to_initiate(&rate)?.is_none() {
                    // Done, or only archives the daily budget holds back.
                    self.clear_line();
                    return Ok(None);
                }
            }
            if let Ok((row, r, took)) = done.recv_timeout(Duration::from_millis(50)) {
                in_flight -= 1;
                if let Ok(d) = &r {
                    rate.bytes += d.bytes;
                    rate.busy += took;
                }
                self.finish(row, r)?;
            }
        }
    }

    /// The next planned archive, if the budgets allow its job now.
    fn next_to_initiate(&self, rate: &Rate) -> Result<Option<Row>, HostError> {
        let Some(row) = self.st.rows(Status::Planned, 1)?.pop() else {
            return Ok(None);
        };
        let staged = self.st.staged_bytes()?;
        // Never more staged than can be downloaded before the jobs expire.
        let by_rate = rate
            .per_second()
            .map(|r| (r * OUTPUT_VALIDITY.as_secs_f64()) as u64);
        let cap = [self.a.max_staged_bytes, by_rate]
            .into_iter()
            .flatten()
            .min();
        if let Some(cap) = cap
            && staged > 0
            && staged.saturating_add(row.size) > cap
        {
            return Ok(None);
        }
        if let Some(day) = self.a.max_bytes_per_day {
            let used = self.st.bytes_initiated_since(now() - 86_400)?;
            if used.saturating_add(row.size) > day {
                return Ok(None);
            }
        }
        Ok(Some(row))
    }

    /// InitiateJob for `row`, recorded `initiating` first.
    fn initiate(&self, row: &Row) -> Result<Initiated, HostError> {
        self.st.mark_initiating(&row.archive_id)?;
        match jobs::initiate_archive(
            self.client,
            &self.vault,
            &row.archive_id,
            self.a.tier.as_str(),
        ) {
            Ok(job_id) => {
                self.st.mark_initiated(&row.archive_id, &job_id, now())?;
                Ok(Initiated::Yes)
            }
            Err(f) => {
                let code = match &f.error {
                    HostError::Service(s) => s.code.clone(),
                    _ => String::new(),
                };
                // No job was created: planned again.
                self.st.mark_back(&row.archive_id, Status::Planned)?;
                match code.as_str() {
                    "PolicyEnforcedException" => {
                        self.note(&format!(
                            "InitiateJob refused by the data retrieval policy ({}); downloads go on, initiating resumes in {} s",
                            f.error,
                            self.a.policy_pause_ms / 1000
                        ));
                        Ok(Initiated::Policy)
                    }
                    "ResourceNotFoundException" | "InvalidParameterValueException" => {
                        self.st
                            .mark_failed(&row.archive_id, &format!("InitiateJob: {}", f.error))?;
                        Ok(Initiated::Yes)
                    }
                    _ if f.class != glacier_verify_core::RetryClass::Fatal => Ok(Initiated::Later),
                    _ => Err(f.error),
                }
            }
        }
    }

    /// Rows left `initiating` by a crash: their job, if InitiateJob made
    /// one, is in ListJobs with our description — adopted, not initiated
    /// again; else they are planned again.
    fn recover_initiating(&self) -> Result<(), HostError> {
        let rows = self.st.rows(Status::Initiating, u64::MAX >> 1)?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut found: HashMap<String, (String, bool)> = HashMap::new();
        jobs::list_jobs(self.client, &self.vault, false, &self.retry, |job| {
            if jobs::text(job, "JobDescription") != Some(JOB_DESCRIPTION)
                || jobs::text(job, "StatusCode") == Some("Failed")
            {
                return Ok(());
            }
            if let (Some(a), Some(j)) = (jobs::text(job, "ArchiveId"), jobs::text(job, "JobId")) {
                let done = jobs::text(job, "StatusCode") == Some("Succeeded");
                found.insert(a.to_owned(), (j.to_owned(), done));
            }
            Ok(())
        })?;
        for row in rows {
            match found.get(&row.archive_id) {
                Some((job, done)) => {
                    self.st.mark_initiated(&row.archive_id, job, now())?;
                    if *done {
                        self.st.mark_ready(&row.archive_id)?;
                    }
                }
                None => self.st.mark_back(&row.archive_id, Status::Planned)?,
            }
        }
        Ok(())
    }

    /// ListJobs (completed): ready, or failed, for the jobs of this shard.
    fn poll(&self) -> Result<(), HostError> {
        let mut completed: Vec<Value> = Vec::new();
        jobs::list_jobs(self.client, &self.vault, true, &self.retry, |job| {
            completed.push(job.clone());
            Ok(())
        })?;
        for job in completed {
            let Some(id) = jobs::text(&job, "JobId") else {
                continue;
            };
            let Some(row) = self.st.by_job(id)? else {
                continue;
            };
            if row.status != Status::Initiated {
                continue;
            }
            match jobs::text(&job, "StatusCode") {
                Some("Succeeded") => self.st.mark_ready(&row.archive_id)?,
                Some("Failed") => {
                    let msg = jobs::text(&job, "StatusMessage").unwrap_or("(no StatusMessage)");
                    self.job_lost(&row, &format!("job {id} failed: {msg}"))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A job failed or its output expired: a new job, a bounded number of times.
    fn job_lost(&self, row: &Row, why: &str) -> Result<(), HostError> {
        if row.job_failures + 1 >= self.a.max_job_attempts {
            self.st.mark_failed(
                &row.archive_id,
                &format!(
                    "{why} ({} jobs failed or expired; given up)",
                    row.job_failures + 1
                ),
            )
        } else {
            self.st.mark_job_lost(&row.archive_id, why)
        }
    }

    /// Records a download's result.
    fn finish(&self, row: Row, r: Result<Done, HostError>) -> Result<(), HostError> {
        match r {
            Ok(done) => self.verified(&row, done),
            Err(HostError::Interrupted { .. }) => self.st.mark_back(&row.archive_id, Status::Ready),
            Err(HostError::Service(s)) if s.code == "ResourceNotFoundException" => {
                let why = format!(
                    "the output of job {} has expired (404 ResourceNotFoundException)",
                    row.job_id.as_deref().unwrap_or("?")
                );
                self.job_lost(&row, &why)
            }
            Err(HostError::Job(crate::job::JobError::Failed { message })) => {
                self.job_lost(&row, &format!("job failed: {message}"))
            }
            Err(
                e @ (HostError::Http { .. }
                | HostError::BodyCut { .. }
                | HostError::Config(_)
                | HostError::Tls { .. }
                | HostError::Transport(_)
                | HostError::ProxyRefused { .. }
                | HostError::Busy { .. }),
            ) => {
                // The network or the set-up, not this archive: stop; a rerun resumes.
                self.st.mark_back(&row.archive_id, Status::Ready)?;
                Err(e)
            }
            Err(HostError::Service(s)) if s.status == 403 => {
                self.st.mark_back(&row.archive_id, Status::Ready)?;
                Err(HostError::Service(s))
            }
            Err(e) => self.st.mark_failed(&row.archive_id, &e.to_string()),
        }
    }

    /// A verified archive: under its name, recorded, its receipt written.
    ///
    /// The state says verified before the file moves: a crash between the
    /// two leaves a verified staging file that the next run renames
    /// ([`Self::write_missing_receipts`]) instead of downloading it again.
    fn verified(&self, row: &Row, done: Done) -> Result<(), HostError> {
        let tree = done.tree_hash.to_string();
        self.st
            .mark_verified(&row.archive_id, &tree, &done.sha256)?;
        if let Err(e) = self.dest.commit(&done.staged, &row.path) {
            return self.st.mark_failed(&row.archive_id, &e.to_string());
        }
        let receipt = self.receipt(row, &tree, &done.sha256, &done.level, done.checks);
        self.dest.record(&receipt, false)?;
        self.st.mark_receipt(&row.archive_id)
    }

    fn receipt(
        &self,
        row: &Row,
        tree: &str,
        sha: &str,
        level: &str,
        checks: Vec<super::receipts::Check>,
    ) -> Receipt {
        Receipt {
            archive_id: row.archive_id.clone(),
            name: row.path.clone(),
            name_format: row.name_format.clone(),
            description: row.description.clone(),
            size: row.size,
            tree_hash: tree.to_owned(),
            sha256: sha.to_owned(),
            job_id: row.job_id.clone().unwrap_or_default(),
            tier: self.a.tier.as_str().to_owned(),
            level: level.to_owned(),
            checks,
            shard: format!("{}/{}", self.key.index, self.key.count),
            initiated_at: row.initiated_at,
            verified_at: now(),
        }
    }

    /// Archives verified before a crash whose receipt was not recorded:
    /// their lines are written where missing, never twice; one still in
    /// its staging file (the crash came before the rename) is renamed first.
    fn write_missing_receipts(&self) -> Result<(), HostError> {
        for row in self.st.without_receipt()? {
            let Some((tree, sha)) = row.hashes.clone() else {
                continue;
            };
            let staged = self.dest.staging(&row.archive_id)?;
            if std::fs::symlink_metadata(&staged).is_ok_and(|m| m.is_file())
                && let Err(e) = self.dest.commit(&staged, &row.path)
            {
                self.st.mark_failed(&row.archive_id, &e.to_string())?;
                continue;
            }
            let checks = vec![super::receipts::Check {
                check: "tree-hash".into(),
                source: "recorded in the state before a restart".into(),
                expected: tree.clone(),
            }];
            let receipt = self.receipt(&row, &tree, &sha, "recorded", checks);
            self.dest.record(&receipt, true)?;
            self.st.mark_receipt(&row.archive_id)?;
        }
        Ok(())
    }

    fn note(&self, text: &str) {
        if !self.quiet {
            self.clear_line();
            eprintln!("glacier-verify: vault-exit: {text}");
        }
    }

    fn clear_line(&self) {
        if !self.quiet && std::io::stderr().is_terminal() {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }

    /// The progress line, once a second, on a terminal.
    fn show(
        &self,
        c: &super::state::Counts,
        counters: &Counters,
        started: Instant,
        shown: &mut Instant,
    ) {
        if self.quiet
            || !std::io::stderr().is_terminal()
            || shown.elapsed() < Duration::from_secs(1)
        {
            return;
        }
        *shown = Instant::now();
        let bytes = counters.bytes.load(std::sync::atomic::Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(0.001);
        let rate = bytes as f64 / secs;
        let left = c.total_bytes().saturating_sub(c.bytes_of(Status::Verified));
        let eta = if rate > 0.0 {
            format!("{:.0} s", left as f64 / rate)
        } else {
            "?".into()
        };
        let line = format!(
            "planned {} initiated {} ready {} downloading {} verified {} failed {} | {:.1} MiB, {:.1} MiB/s, ETA {eta}",
            c.of(Status::Planned) + c.of(Status::Initiating),
            c.of(Status::Initiated),
            c.of(Status::Ready),
            c.of(Status::Downloading),
            c.of(Status::Verified),
            c.of(Status::Failed),
            bytes as f64 / 1048576.0,
            rate / 1048576.0,
        );
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
    }
}
