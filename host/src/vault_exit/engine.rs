//! The loop that runs stages 3–6 until every archive of the shard is
//! verified or failed: InitiateJob at `--initiate-rate` within the byte
//! budgets, ListJobs polled for completed jobs (on the poller's thread),
//! `--parallel` downloads on worker threads, files committed and receipts
//! written (on the committer's thread). Only this thread writes the state
//! database; every change is in a transaction made before the action it
//! allows (`initiating` before InitiateJob) or after the fact it records
//! (the receipt mark after the receipt; `verified` after the verification
//! and before the rename). Changes of several archives that happen at the
//! same point share one transaction: the `initiating` marks of a batch of
//! InitiateJob calls (all committed before the first call), their answers
//! (after the last), the jobs one ListJobs poll found completed, and the
//! downloads that finished since the last turn of the loop.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::committer;
use super::destination::{Destination, LocalDir};
use super::fetch::{self, Done};
use super::jobs::{self, Vault};
use super::poller::{self, Completed, Polled};
use super::receipts::Receipt;
use super::state::{Row, ShardKey, State, Status, now};
use super::{JOB_DESCRIPTION, OUTPUT_VALIDITY, VaultExitArgs};
use crate::client::Client;
use crate::download::RetryPolicy;
use crate::error::HostError;
use crate::locks::lock;
use crate::outfile::{OutputLock, OutputPaths};
use crate::progress::Counters;

/// The stages' shared context.
pub struct Engine<'a> {
    client: &'a Client,
    a: &'a VaultExitArgs,
    key: &'a ShardKey,
    dest: &'a LocalDir,
    /// This shard's lock: no other process writes its staging files.
    shard_lock: &'a OutputLock,
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

/// What InitiateJob answered for one archive of a batch.
enum Answer {
    /// A job, and when it was initiated.
    Job(String, i64),
    /// Not called (a failure before it in the batch, or a signal): planned again.
    NotCalled,
    /// The archive cannot be retrieved (gone, or refused as invalid).
    Failed(String),
}

/// InitiateJob calls recorded `initiating` in one transaction, at most.
const INITIATE_BATCH: usize = 64;

/// The pause before the next ListJobs poll: `--poll-interval-ms` after a
/// poll that found completed jobs (more may be completing: the queue is
/// refilled as soon as the interval allows); after one that found none,
/// [`POLL_SHARE`] times what it took if that is longer. A listing holds
/// every job of the vault (page by page), so at a short interval and with
/// thousands of jobs waiting on the tier, the poller would list nearly all
/// the time: requests to the service, and CPU the downloads share.
fn poll_pause(interval_ms: u64, took: Duration, found: bool) -> Duration {
    let interval = Duration::from_millis(interval_ms);
    if found {
        interval
    } else {
        interval.max(took * POLL_SHARE)
    }
}

/// Whether the ready queue runs low enough to ask for a poll: at most
/// `depth` archives wait, plus as many as the workers take in the time a
/// listing takes (`took`, at `taken_per_s`), so that the next listing's
/// jobs arrive before the workers run out.
fn queue_runs_low(ready: u64, depth: u64, taken_per_s: f64, took: Duration) -> bool {
    let during_a_poll = (taken_per_s * took.as_secs_f64()).ceil();
    ready as f64 <= depth as f64 + during_a_poll
}

/// See [`poll_pause`]: the poller lists at most a fifth of the time.
const POLL_SHARE: u32 = 4;

/// How long the InitiateJob calls due may wait to be made together.
const INITIATE_GATHER: Duration = Duration::from_millis(50);

/// The calls one batch gathers at `rate` per second (within
/// [`INITIATE_GATHER`]), one at least.
fn initiate_batch(rate: f64) -> usize {
    ((rate * INITIATE_GATHER.as_secs_f64()) as usize).clamp(1, INITIATE_BATCH)
}

/// InitiateJob calls of a batch under way at once, at most: the rate is
/// kept by the batch sizes; this only keeps one slow answer from holding
/// up the calls behind it.
const INITIATE_AT_ONCE: usize = 8;

/// Why a batch's InitiateJob calls stopped early.
enum Halt {
    /// Throttled or a transient failure: no job; the row is planned again.
    Later,
    /// PolicyEnforcedException, with the error.
    Policy(String),
    /// An error that stops the run.
    Fatal(HostError),
}

/// One InitiateJob call: a job, an archive that cannot be retrieved,
/// or a reason to stop calling.
fn call_one(c: &Client, vault: &Vault, tier: &str, row: &Row) -> Result<Answer, Halt> {
    match jobs::initiate_archive(c, vault, &row.archive_id, tier) {
        Ok(job_id) => Ok(Answer::Job(job_id, now())),
        Err(f) => {
            let code = match &f.error {
                HostError::Service(s) => s.code.as_str(),
                _ => "",
            };
            match code {
                "ResourceNotFoundException" | "InvalidParameterValueException" => {
                    Ok(Answer::Failed(format!("InitiateJob: {}", f.error)))
                }
                "PolicyEnforcedException" => Err(Halt::Policy(f.error.to_string())),
                _ if f.class != glacier_verify_core::RetryClass::Fatal => Err(Halt::Later),
                _ => Err(Halt::Fatal(f.error)),
            }
        }
    }
}

/// Archives handed out per download worker (running and queued).
const QUEUE_PER_WORKER: usize = 4;

/// Finished downloads recorded together once this many wait …
const RECORD_BATCH: usize = 64;

/// … or once the first of them has waited this long. A crash loses at
/// most these: their rows are still `downloading`, so they are downloaded
/// again, never lost and never recorded twice.
const RECORD_WAIT: Duration = Duration::from_millis(100);

/// The engine's ends of the committer's channels.
pub struct Commits {
    /// Batches to commit; `None` once the run ends (the committer then stops).
    tx: Option<mpsc::Sender<Vec<committer::Work>>>,
    /// What it committed.
    rx: mpsc::Receiver<Result<committer::Committed, HostError>>,
}

/// The engine's ends of the poller's channels.
struct Polls {
    /// The job ids waited for, one set a poll; `None` once the run ends
    /// (the poller then stops).
    ask: Option<mpsc::Sender<HashSet<String>>>,
    /// What each poll found.
    answers: mpsc::Receiver<Result<Polled, HostError>>,
    /// A poll was asked for and has not answered yet.
    asked: bool,
    /// No poll is asked for before this.
    next: Instant,
    /// How long the last poll took.
    took: Duration,
    /// Downloads handed out since `since`: the pace at which the workers
    /// take the ready queue.
    taken: u64,
    since: Instant,
}

impl Polls {
    /// Archives handed to the workers per second, lately.
    fn taken_per_s(&self) -> f64 {
        let secs = self.since.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.taken as f64 / secs
        } else {
            0.0
        }
    }
}

/// Finished downloads not yet recorded.
#[derive(Default)]
struct Pending {
    items: Vec<(Row, Result<Done, HostError>)>,
    /// When the first of `items` arrived.
    since: Option<Instant>,
}

impl Pending {
    fn push(&mut self, row: Row, r: Result<Done, HostError>) {
        self.since.get_or_insert_with(Instant::now);
        self.items.push((row, r));
    }

    /// Whether to record now: enough are waiting, the first has waited
    /// [`RECORD_WAIT`], or nothing else is coming (`in_flight == 0`).
    fn due(&self, in_flight: usize) -> bool {
        !self.items.is_empty()
            && (self.items.len() >= RECORD_BATCH
                || in_flight == 0
                || self.due_in() == Some(Duration::ZERO))
    }

    /// How long until the first waiting one is due.
    fn due_in(&self) -> Option<Duration> {
        self.since.map(|t| RECORD_WAIT.saturating_sub(t.elapsed()))
    }

    fn take(&mut self) -> Vec<(Row, Result<Done, HostError>)> {
        self.since = None;
        std::mem::take(&mut self.items)
    }
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
    shard_lock: &'a OutputLock,
}

impl Worker<'_> {
    fn download(&self, row: &Row, counters: &Counters) -> Result<Done, HostError> {
        let staged = self.dest.staging(&row.archive_id)?;
        fetch::one(
            self.client,
            self.a,
            self.vault,
            row,
            &staged,
            self.shard_lock,
            counters,
        )
    }
}

impl<'a> Engine<'a> {
    /// The engine of one shard.
    pub fn new(
        client: &'a Client,
        a: &'a VaultExitArgs,
        key: &'a ShardKey,
        dest: &'a LocalDir,
        shard_lock: &'a OutputLock,
        st: &'a State,
        quiet: bool,
    ) -> Self {
        Engine {
            client,
            a,
            key,
            dest,
            shard_lock,
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
        // Set when the loop ends: archives still queued are handed back
        // unstarted (ready again), not downloaded after the run stopped.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (commit_tx, commit_rx) = mpsc::channel::<Vec<committer::Work>>();
        let (committed_tx, committed_rx) = mpsc::channel();
        let mut commits = Commits {
            tx: Some(commit_tx),
            rx: committed_rx,
        };
        let (ask_tx, ask_rx) = mpsc::channel();
        let (answer_tx, answer_rx) = mpsc::channel();
        let mut polls = Polls {
            ask: Some(ask_tx),
            answers: answer_rx,
            asked: false,
            next: Instant::now(),
            took: Duration::ZERO,
            taken: 0,
            since: Instant::now(),
        };
        std::thread::scope(|s| {
            let dest: &dyn Destination = self.dest;
            s.spawn(move || committer::run(dest, &commit_rx, &committed_tx));
            let (client, vault, retry, stopped) = (self.client, &self.vault, &self.retry, &stop);
            s.spawn(move || poller::run(client, vault, retry, &ask_rx, &answer_tx, stopped));
            for _ in 0..parallel {
                let done_tx = done_tx.clone();
                let (work_rx, counters, stop) = (&work_rx, &counters, &stop);
                let worker = Worker {
                    client: self.client,
                    a: self.a,
                    vault: &self.key.vault,
                    dest: self.dest,
                    shard_lock: self.shard_lock,
                };
                s.spawn(move || {
                    loop {
                        let next = lock(work_rx).recv();
                        let Ok(row) = next else { break };
                        let started = Instant::now();
                        let r = if stop.load(std::sync::atomic::Ordering::SeqCst) {
                            Err(crate::download::interrupted("not started".into()))
                        } else {
                            worker.download(&row, counters)
                        };
                        if done_tx.send((row, r, started.elapsed())).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut pending = Pending::default();
            let result = self.main_loop(
                &work_tx,
                &done_rx,
                &counters,
                &mut pending,
                &mut commits,
                &mut polls,
            );
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(work_tx);
            // A listing under way ends at its next job; its answer is not
            // needed (what it found is found again by the next run).
            polls.ask = None;
            // Workers finish their archive (or stop at the signal); what
            // finished is recorded, whatever stopped the loop.
            pending
                .items
                .extend(done_rx.iter().map(|(row, r, _)| (row, r)));
            let finished = self.finish_all(pending.take(), &commits);
            // Every batch handed to the committer comes back before the run ends.
            commits.tx = None;
            let committed = self.committed(&mut commits, true);
            result.and_then(|r| finished.and(committed).map(|()| r))
        })
    }

    fn main_loop(
        &self,
        work: &mpsc::Sender<Row>,
        done: &mpsc::Receiver<Result_>,
        counters: &Counters,
        pending: &mut Pending,
        commits: &mut Commits,
        polls: &mut Polls,
    ) -> Result<Option<HostError>, HostError> {
        let mut in_flight = 0usize;
        let mut rate = Rate::default();
        let mut next_initiate = Instant::now();
        let mut throttled = 0u32;
        let mut shown = Instant::now() - Duration::from_secs(10);
        let started = Instant::now();
        let interval = Duration::from_secs_f64(1.0 / self.a.initiate_rate);
        // At a high rate, the calls due are gathered for a while, so that
        // each batch's `initiating` marks share one durable commit.
        let gather =
            (interval * (initiate_batch(self.a.initiate_rate) - 1) as u32).min(INITIATE_GATHER);
        // Archives handed to the workers and not yet back: enough queued
        // that no worker waits while this thread records or initiates.
        let depth = QUEUE_PER_WORKER * usize::from(self.a.parallel);
        // Finished downloads wait in `pending` and are recorded together
        // (one transaction, one sync per directory, one receipt append)
        // once there are enough of them or the first has waited long
        // enough ([`Pending::due`]).
        let take = |first: Option<Result_>,
                    in_flight: &mut usize,
                    rate: &mut Rate,
                    pending: &mut Pending| {
            for (row, r, took) in first
                .into_iter()
                .chain(std::iter::from_fn(|| done.try_recv().ok()))
            {
                *in_flight -= 1;
                if let Ok(d) = &r {
                    rate.bytes += d.bytes;
                    rate.busy += took;
                }
                pending.push(row, r);
            }
        };
        loop {
            take(None, &mut in_flight, &mut rate, pending);
            let stopping = crate::interrupt::requested();
            if stopping || pending.due(in_flight) {
                self.finish_all(pending.take(), commits)?;
            }
            self.committed(commits, false)?;
            if stopping {
                if in_flight == 0 {
                    return Ok(Some(crate::download::interrupted(
                        "every verified archive is kept; the state is in DIR/.glacier-verify"
                            .into(),
                    )));
                }
                if let Ok(first) = done.recv() {
                    take(Some(first), &mut in_flight, &mut rate, pending);
                }
                continue;
            }
            if let Ok(answer) = polls.answers.try_recv() {
                polls.asked = false;
                let polled = answer?;
                self.record_polled(&polled.completed)?;
                let found = !polled.completed.is_empty();
                polls.next =
                    Instant::now() + poll_pause(self.a.poll_interval_ms, polled.took, found);
                polls.took = polled.took;
                (polls.taken, polls.since) = (0, Instant::now());
            }
            let counts = self.st.status_counts()?;
            let open = counts.of(Status::Initiated) + counts.of(Status::Initiating);
            // While enough completed jobs wait for a worker, a listing
            // would find nothing the workers could start sooner: it waits
            // until the queue runs low (jobs stay downloadable for a day).
            let queue_low = queue_runs_low(
                counts.of(Status::Ready),
                depth as u64,
                polls.taken_per_s(),
                polls.took,
            );
            if open > 0 && queue_low && !polls.asked && Instant::now() >= polls.next {
                self.ask_poll(polls)?;
            }
            let now = Instant::now();
            if now >= next_initiate + gather {
                // The calls the rate allows since the last one was due, one
                // at least, recorded `initiating` together before any call.
                let due = now.duration_since(next_initiate).as_secs_f64() * self.a.initiate_rate;
                let allowed = (1 + due as usize).min(INITIATE_BATCH);
                let batch = self.next_batch(&rate, allowed)?;
                if !batch.is_empty() {
                    let (calls, outcome) = self.initiate_batch(&batch)?;
                    match outcome {
                        Initiated::Yes => {
                            throttled = 0;
                            next_initiate += interval * u32::try_from(calls).unwrap_or(u32::MAX);
                            if next_initiate < Instant::now() {
                                next_initiate = Instant::now();
                            }
                        }
                        Initiated::Later => {
                            throttled += 1;
                            next_initiate = Instant::now()
                                + crate::client::backoff(
                                    throttled,
                                    self.retry.base,
                                    self.retry.cap,
                                )
                                .max(self.retry.base);
                        }
                        Initiated::Policy => {
                            next_initiate =
                                Instant::now() + Duration::from_millis(self.a.policy_pause_ms);
                        }
                    }
                }
            }
            let free = depth.saturating_sub(in_flight);
            if free > 0 {
                let rows = self.st.rows(Status::Ready, free as u64)?;
                if !rows.is_empty() {
                    self.st.batch(|| {
                        rows.iter()
                            .try_for_each(|r| self.st.mark_downloading(&r.archive_id))
                    })?;
                }
                for row in rows {
                    in_flight += 1;
                    polls.taken += 1;
                    if work.send(row).is_err() {
                        return Err(HostError::Internal("download workers stopped".into()));
                    }
                }
            }
            let counts = self.st.status_counts()?;
            self.show(counters, started, &mut shown)?;
            let active = counts.of(Status::Initiating)
                + counts.of(Status::Initiated)
                + counts.of(Status::Ready)
                + counts.of(Status::Downloading);
            if active == 0 && in_flight == 0 && pending.items.is_empty() {
                let planned = counts.of(Status::Planned);
                if planned == 0 || self.next_batch(&rate, 1)?.is_empty() {
                    // Done, or only archives the daily budget holds back.
                    self.clear_line();
                    return Ok(None);
                }
            }
            // Wait for a download, or until InitiateJob or the pending
            // records are due.
            let mut wait = if counts.of(Status::Planned) > 0 {
                (next_initiate + gather).saturating_duration_since(Instant::now())
            } else {
                Duration::from_millis(50)
            };
            if let Some(due) = pending.due_in() {
                wait = wait.min(due);
            }
            let wait = wait.clamp(Duration::from_millis(1), Duration::from_millis(50));
            if let Ok(first) = done.recv_timeout(wait) {
                take(Some(first), &mut in_flight, &mut rate, pending);
            }
        }
    }

    /// The next planned archives, at most `max`, in plan order, as far as
    /// the budgets allow their jobs now.
    fn next_batch(&self, rate: &Rate, max: usize) -> Result<Vec<Row>, HostError> {
        let rows = self.st.rows(Status::Planned, max as u64)?;
        if rows.is_empty() {
            return Ok(rows);
        }
        let mut staged = self.st.staged_bytes()?;
        // Never more staged than can be downloaded before the jobs expire.
        let by_rate = rate
            .per_second()
            .map(|r| (r * OUTPUT_VALIDITY.as_secs_f64()) as u64);
        let cap = [self.a.max_staged_bytes, by_rate]
            .into_iter()
            .flatten()
            .min();
        let mut used = match self.a.max_bytes_per_day {
            Some(_) => self.st.bytes_initiated_since(now() - 86_400)?,
            None => 0,
        };
        let mut out = Vec::new();
        for row in rows {
            if let Some(cap) = cap
                && staged > 0
                && staged.saturating_add(row.size) > cap
            {
                break;
            }
            if let Some(day) = self.a.max_bytes_per_day
                && used.saturating_add(row.size) > day
            {
                break;
            }
            staged = staged.saturating_add(row.size);
            used = used.saturating_add(row.size);
            out.push(row);
        }
        Ok(out)
    }

    /// InitiateJob for each of `rows`, in order: all recorded `initiating`
    /// in one transaction before the first call (a crash after any call
    /// finds its job again through ListJobs), the answers recorded in one
    /// transaction after the calls. Stops at the first throttling,
    /// transient failure or policy refusal (the rest are planned again,
    /// never called). Returns the calls that made a job and what the last
    /// answer means.
    fn initiate_batch(&self, rows: &[Row]) -> Result<(usize, Initiated), HostError> {
        self.st.durable(|| {
            rows.iter()
                .try_for_each(|r| self.st.mark_initiating(&r.archive_id))
        })?;
        let (answers, halts) = self.call_all(rows);
        let answers: Vec<(&Row, Answer)> = rows.iter().zip(answers).collect();
        let mut outcome = Initiated::Yes;
        let mut fatal = None;
        for halt in halts {
            match halt {
                Halt::Fatal(e) => {
                    fatal.get_or_insert(e);
                }
                Halt::Policy(why) => {
                    if !matches!(outcome, Initiated::Policy) {
                        self.note(&format!(
                            "InitiateJob refused by the data retrieval policy ({why}); downloads go on, initiating resumes in {} s",
                            self.a.policy_pause_ms / 1000
                        ));
                    }
                    outcome = Initiated::Policy;
                }
                Halt::Later => {
                    if matches!(outcome, Initiated::Yes) {
                        outcome = Initiated::Later;
                    }
                }
            }
        }
        let calls = answers
            .iter()
            .filter(|(_, a)| matches!(a, Answer::Job(..)))
            .count();
        self.st.batch(|| {
            for (row, answer) in &answers {
                match answer {
                    Answer::Job(job_id, at) => {
                        self.st.mark_initiated(&row.archive_id, job_id, *at)?;
                    }
                    Answer::NotCalled => self.st.mark_back(&row.archive_id, Status::Planned)?,
                    Answer::Failed(why) => self.st.mark_failed(&row.archive_id, why)?,
                }
            }
            Ok(())
        })?;
        match fatal {
            Some(e) => Err(e),
            None => Ok((calls, outcome)),
        }
    }

    /// InitiateJob for `rows`, up to [`INITIATE_AT_ONCE`] calls at a time:
    /// each row's answer, and why the calls stopped early, if they did.
    /// Once a call is throttled, fails transiently, is refused by the
    /// policy or fails fatally, or a signal arrives, no further call
    /// starts (the rows not called are [`Answer::NotCalled`]); calls
    /// already under way finish and their answers count.
    fn call_all(&self, rows: &[Row]) -> (Vec<Answer>, Vec<Halt>) {
        let answers: Vec<std::sync::Mutex<Answer>> = rows
            .iter()
            .map(|_| std::sync::Mutex::new(Answer::NotCalled))
            .collect();
        let halts = std::sync::Mutex::new(Vec::new());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let halted = std::sync::atomic::AtomicBool::new(false);
        // Only what the calls need crosses to the threads (never the state).
        let (client, vault, tier) = (self.client, &self.vault, self.a.tier.as_str());
        let caller = || {
            use std::sync::atomic::Ordering::SeqCst;
            while !halted.load(SeqCst) && !crate::interrupt::requested() {
                let i = next.fetch_add(1, SeqCst);
                let Some(row) = rows.get(i) else { break };
                match call_one(client, vault, tier, row) {
                    Ok(a) => *lock(&answers[i]) = a,
                    Err(h) => {
                        halted.store(true, SeqCst);
                        lock(&halts).push(h);
                    }
                }
            }
        };
        let threads = rows.len().min(INITIATE_AT_ONCE);
        if threads <= 1 {
            caller();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(caller);
                }
            });
        }
        let answers = answers
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect();
        let halts = halts
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (answers, halts)
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
                        self.st.mark_ready(&row.archive_id, None)?;
                    }
                }
                None => self.st.mark_back(&row.archive_id, Status::Planned)?,
            }
        }
        Ok(())
    }

    /// Asks the poller for a listing of the jobs now waited for
    /// (`initiated`).
    fn ask_poll(&self, polls: &mut Polls) -> Result<(), HostError> {
        let waiting: HashSet<String> = self.st.initiated_jobs()?.into_keys().collect();
        let sent = polls
            .ask
            .as_ref()
            .is_some_and(|tx| tx.send(waiting).is_ok());
        if !sent {
            return Err(HostError::Internal("the ListJobs poller stopped".into()));
        }
        polls.asked = true;
        Ok(())
    }

    /// What a poll found, recorded against the state as it is now: the
    /// jobs that completed are recorded ready in one transaction, each
    /// with its job description as ListJobs returned it; a failed job is
    /// replaced. A job no longer waited for (the archive moved on while
    /// the listing ran) is left alone.
    fn record_polled(&self, completed: &[Completed]) -> Result<(), HostError> {
        let waiting = self.st.initiated_jobs()?;
        let mut ready = Vec::new();
        for (id, outcome) in completed {
            let Some(archive_id) = waiting.get(id) else {
                continue;
            };
            match outcome {
                Ok(description) => ready.push((archive_id.as_str(), description.as_str())),
                Err(msg) => {
                    if let Some(row) = self.st.by_job(id)? {
                        self.job_lost(&row, &format!("job {id} failed: {msg}"))?;
                    }
                }
            }
        }
        self.st.batch(|| {
            ready
                .iter()
                .try_for_each(|(id, description)| self.st.mark_ready(id, Some(description)))
        })
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

    /// Records the results of downloads that finished together: the
    /// verified ones in one batch, then each failure. Every result is
    /// recorded; the first error (one that stops the run) is returned.
    fn finish_all(
        &self,
        results: Vec<(Row, Result<Done, HostError>)>,
        commits: &Commits,
    ) -> Result<(), HostError> {
        let mut verified = Vec::new();
        let mut others = Vec::new();
        for (row, r) in results {
            match r {
                Ok(done) => verified.push((row, done)),
                Err(e) => others.push((row, e)),
            }
        }
        let mut first = None;
        if !verified.is_empty()
            && let Err(e) = self.verified(verified, commits)
        {
            first = Some(e);
        }
        for (row, e) in others {
            if let Err(e) = self.unverified(row, e) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Records a download that did not verify (verified ones go through
    /// [`Self::verified`]).
    fn unverified(&self, row: Row, e: HostError) -> Result<(), HostError> {
        match e {
            HostError::Interrupted { .. } => self.st.mark_back(&row.archive_id, Status::Ready),
            HostError::Service(s) if s.code == "ResourceNotFoundException" => {
                let why = format!(
                    "the output of job {} has expired (404 ResourceNotFoundException)",
                    row.job_id.as_deref().unwrap_or("?")
                );
                self.job_lost(&row, &why)
            }
            HostError::Job(crate::job::JobError::Failed { message }) => {
                self.job_lost(&row, &format!("job failed: {message}"))
            }
            e @ (HostError::Http { .. }
            | HostError::BodyCut { .. }
            | HostError::Config(_)
            | HostError::Tls { .. }
            | HostError::Transport(_)
            | HostError::ProxyRefused { .. }
            | HostError::Busy { .. }) => {
                // The network or the set-up, not this archive: stop; a rerun resumes.
                self.st.mark_back(&row.archive_id, Status::Ready)?;
                Err(e)
            }
            HostError::Service(s) if s.status == 403 => {
                self.st.mark_back(&row.archive_id, Status::Ready)?;
                Err(HostError::Service(s))
            }
            e => self.st.mark_failed(&row.archive_id, &e.to_string()),
        }
    }

    /// Verified archives: recorded `verified` in one transaction, then
    /// handed to the committer (renames, directory syncs, receipts; see
    /// [`committer`]); their receipt marks follow when it hands them back
    /// ([`Self::committed`]).
    ///
    /// The state says verified before a file moves: a crash between the
    /// two leaves a verified staging file that the next run renames
    /// ([`Self::write_missing_receipts`]) instead of downloading it again.
    fn verified(&self, items: Vec<(Row, Done)>, commits: &Commits) -> Result<(), HostError> {
        let trees: Vec<String> = items.iter().map(|(_, d)| d.tree_hash.to_string()).collect();
        self.st.durable(|| {
            items.iter().zip(&trees).try_for_each(|((row, d), tree)| {
                self.st.mark_verified(&row.archive_id, tree, &d.sha256)
            })
        })?;
        let work = items
            .into_iter()
            .zip(&trees)
            .map(|((row, done), tree)| committer::Work {
                receipt: self.receipt(&row, tree, &done.sha256, &done.level, done.checks),
                archive_id: row.archive_id,
                staged: done.staged,
                journal: done.journal,
                name: row.path,
            })
            .collect();
        match &commits.tx {
            Some(tx) if tx.send(work).is_ok() => Ok(()),
            _ => Err(HostError::Internal("the committing thread stopped".into())),
        }
    }

    /// Records what the committer finished: receipt marks in one
    /// transaction, commit failures as failed. With `all`, waits for every
    /// batch (the sender must be dropped first); else takes what is there.
    fn committed(&self, commits: &mut Commits, all: bool) -> Result<(), HostError> {
        let mut first = None;
        loop {
            let next = if all {
                commits.rx.recv().ok()
            } else {
                commits.rx.try_recv().ok()
            };
            let Some(r) = next else { break };
            match r {
                Ok(c) => {
                    let marked = self.st.batch(|| {
                        c.recorded
                            .iter()
                            .try_for_each(|id| self.st.mark_receipt(id))
                    });
                    if let Err(e) = marked {
                        first.get_or_insert(e);
                    }
                    for (id, e) in c.failed {
                        if let Err(e) = self.st.mark_failed(&id, &e.to_string()) {
                            first.get_or_insert(e);
                        }
                    }
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
            if first.is_some() && !all {
                break;
            }
        }
        first.map_or(Ok(()), Err)
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
            if let Some(staged) = self.dest.staged_verified(&row.archive_id)?
                && let Err(e) = self.dest.commit(&staged, &row.path)
            {
                self.st.mark_failed(&row.archive_id, &e.to_string())?;
                continue;
            }
            let staging = OutputPaths::for_target(&self.dest.staging(&row.archive_id)?);
            let _ = std::fs::remove_file(staging.journal);
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
        counters: &Counters,
        started: Instant,
        shown: &mut Instant,
    ) -> Result<(), HostError> {
        if self.quiet
            || !std::io::stderr().is_terminal()
            || shown.elapsed() < Duration::from_secs(1)
        {
            return Ok(());
        }
        *shown = Instant::now();
        let c = &self.st.counts()?;
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_listing_that_found_nothing_spaces_the_polls_out() {
        let interval = 200;
        assert_eq!(
            poll_pause(interval, Duration::from_millis(10), false),
            Duration::from_millis(200)
        );
        // A listing of 100 ms that found nothing: the poller lists at most
        // a fifth of the time.
        assert_eq!(
            poll_pause(interval, Duration::from_millis(100), false),
            Duration::from_millis(400)
        );
        // One that found completed jobs: again after the interval.
        assert_eq!(
            poll_pause(interval, Duration::from_secs(3), true),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn the_queue_runs_low_early_enough_for_a_listing_to_refill_it() {
        // 32 queued, nothing taken yet: low at 32.
        assert!(queue_runs_low(32, 32, 0.0, Duration::from_secs(1)));
        assert!(!queue_runs_low(33, 32, 0.0, Duration::from_secs(1)));
        // Workers taking 500 a second, listings of 2 s: low at 1,032.
        assert!(queue_runs_low(1032, 32, 500.0, Duration::from_secs(2)));
        assert!(!queue_runs_low(1033, 32, 500.0, Duration::from_secs(2)));
    }

    #[test]
    fn a_high_rate_gathers_its_calls_and_a_low_one_calls_at_once() {
        assert_eq!(initiate_batch(2.0), 1);
        assert_eq!(initiate_batch(100.0), 5);
        assert_eq!(initiate_batch(1000.0), 50);
        assert_eq!(initiate_batch(1_000_000.0), INITIATE_BATCH);
    }

    #[test]
    fn pending_records_are_due_when_enough_wait_or_nothing_else_comes() {
        let row = || super::super::state::planned_row("a", "a");
        let mut p = Pending::default();
        assert!(!p.due(0), "nothing waits");
        p.push(row(), Err(HostError::Internal("x".into())));
        assert!(
            !p.due(8),
            "one waits, more are coming, it has not waited long"
        );
        assert!(p.due(0), "nothing else is coming");
        for _ in 1..RECORD_BATCH {
            p.push(row(), Err(HostError::Internal("x".into())));
        }
        assert!(p.due(8), "a whole batch waits");
        assert_eq!(p.take().len(), RECORD_BATCH);
        assert!(p.due_in().is_none());
    }
}
