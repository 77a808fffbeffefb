//! The endpoint: lifecycle (start, accept loop, connection threads,
//! shutdown), its registry of vaults and jobs, and the request log.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use glacier_verify_core::{ByteRange, Digest};

use crate::auth::{NoAuth, Request, RequestAuth};
#[cfg(feature = "faults")]
use crate::fault::FaultRule;
use crate::http::{self, ReadError};
use crate::inventory::{InventoryEntry, InventoryFormat, inventory_csv, inventory_json};
use crate::job::{
    ArchiveJob, InventoryContents, InventoryJob, InventoryRange, Job, LeafCell, Output,
};
use crate::log::{Operation, ServedRequest};
use crate::payload::Payload;
use crate::respond::{self, After, Reply};

/// Body bytes per socket write.
pub(crate) const CHUNK: usize = 256 * 1024;

/// The account ID [`Config::default`] uses (the 12-digit example of docs/protocol.md §3).
pub const DEFAULT_ACCOUNT_ID: &str = "012345678901";

/// How an [`Endpoint`] is set up.
pub struct Config {
    /// Checks every request before routing ([`SigV4Auth`](crate::SigV4Auth)
    /// for SigV4; [`NoAuth`] by default).
    pub auth: Box<dyn RequestAuth>,
    /// The account ID accepted in paths besides `-` (docs/protocol.md §1); any other
    /// is 403 AccessDeniedException.
    pub account_id: String,
    /// Region, used in `VaultARN`s.
    pub region: String,
    /// Vaults that exist from the start (adding a job also creates its vault).
    pub vaults: Vec<String>,
    /// A connection idle this long between requests, or whose peer stops
    /// reading for this long, is closed.
    pub idle_timeout: Duration,
    /// If set, the endpoint stops by itself after this long (a hard cap
    /// for tests that leak it).
    pub max_lifetime: Option<Duration>,
    /// Connections beyond this many are answered 503 and closed.
    pub max_connections: usize,
    /// Serve HTTPS with this certificate instead of plain HTTP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsIdentity>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            auth: Box::new(NoAuth),
            account_id: DEFAULT_ACCOUNT_ID.into(),
            region: "us-east-1".into(),
            vaults: vec!["examplevault".into()],
            idle_timeout: Duration::from_secs(30),
            max_lifetime: None,
            max_connections: 64,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl Config {
    /// Sets the authentication checker.
    pub fn with_auth(mut self, auth: impl RequestAuth + 'static) -> Self {
        self.auth = Box::new(auth);
        self
    }

    /// Serves HTTPS with `identity` (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, identity: crate::tls::TlsIdentity) -> Self {
        self.tls = Some(identity);
        self
    }

    /// Sets the hard lifetime cap.
    pub fn with_max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }
}

impl Config {
    fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("account_id", &self.account_id)
            .field("region", &self.region)
            .field("vaults", &self.vaults)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("max_connections", &self.max_connections)
            .field("tls", &self.is_tls())
            .finish_non_exhaustive()
    }
}

/// A job could not be registered or found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// The retrieval range is reversed or reaches past the archive.
    BadRetrievalRange {
        /// First byte asked for.
        first: u64,
        /// Last byte asked for.
        last: u64,
        /// Archive size.
        archive_size: u64,
    },
    /// Archives cannot be empty (Glacier refuses them, docs/protocol.md §10.10).
    EmptyArchive,
    /// No job with this ID.
    UnknownJob(String),
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::BadRetrievalRange {
                first,
                last,
                archive_size,
            } => write!(
                f,
                "retrieval range {first}-{last} is not within an archive of {archive_size} bytes"
            ),
            EndpointError::EmptyArchive => f.write_str("an archive cannot be empty"),
            EndpointError::UnknownJob(id) => write!(f, "no job with ID {id}"),
        }
    }
}

impl std::error::Error for EndpointError {}

/// Identity of a payload for the leaf-digest cache. A `Bytes` payload is
/// identified by its allocation, which the cache keeps alive (so the
/// address cannot be reused by other data).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum PayloadKey {
    Pattern(u64, u64),
    Bytes(usize, usize),
}

fn payload_key(p: &Payload) -> PayloadKey {
    match p {
        Payload::Pattern { len, seed } => PayloadKey::Pattern(*len, *seed),
        Payload::Bytes(b) => PayloadKey::Bytes(b.as_ptr() as usize, b.len()),
    }
}

/// An archive as an inventory lists it.
struct ArchiveRecord {
    archive_id: String,
    description: Option<String>,
    created: SystemTime,
    payload: Payload,
    leaves: LeafCell,
}

/// The jobs, by id and, for ListJobs, by vault in ListJobs' order.
#[derive(Default)]
struct Jobs {
    by_id: HashMap<String, Arc<Job>>,
    /// vault name → its jobs, oldest first (ties by job id). Kept in order
    /// as jobs come and go, so a page of a listing is not a sort of every
    /// job (with 10,000 jobs, listing them 50 a page cost more CPU than
    /// serving their outputs).
    by_vault: HashMap<String, Vec<Arc<Job>>>,
}

impl Jobs {
    fn insert(&mut self, job: Arc<Job>) {
        if let Some(old) = self.by_id.insert(job.id.clone(), Arc::clone(&job))
            && let Some(list) = self.by_vault.get_mut(&old.vault)
        {
            list.retain(|j| !Arc::ptr_eq(j, &old));
        }
        let list = self.by_vault.entry(job.vault.clone()).or_default();
        let at = list.partition_point(|j| (j.created, &j.id) <= (job.created, &job.id));
        list.insert(at, job);
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Job>> {
        let job = self.by_id.remove(id)?;
        if let Some(list) = self.by_vault.get_mut(&job.vault) {
            list.retain(|j| !Arc::ptr_eq(j, &job));
        }
        Some(job)
    }

    /// Keeps the jobs `keep` admits: it is asked once a job, and the
    /// vault lists follow what `by_id` kept.
    fn retain(&mut self, keep: impl Fn(&Job) -> bool) {
        self.by_id.retain(|_, j| keep(j));
        let by_id = &self.by_id;
        for list in self.by_vault.values_mut() {
            list.retain(|j| by_id.get(&j.id).is_some_and(|kept| Arc::ptr_eq(kept, j)));
        }
    }
}

/// State shared by the endpoint handle and its threads.
pub(crate) struct Shared {
    pub auth: Box<dyn RequestAuth>,
    pub account_id: String,
    pub region: String,
    idle_timeout: Duration,
    max_connections: usize,
    addr: SocketAddr,
    /// vault name → archives registered through archive jobs.
    vaults: Mutex<BTreeMap<String, Vec<ArchiveRecord>>>,
    jobs: Mutex<Jobs>,
    hash_cache: Mutex<HashMap<PayloadKey, (Payload, LeafCell)>>,
    log: Mutex<Vec<ServedRequest>>,
    next_seq: AtomicU64,
    next_request_id: AtomicU64,
    pub body_bytes: AtomicU64,
    in_flight: AtomicUsize,
    stopping: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Wakes the lifetime watchdog on shutdown.
    stop_signal: (Mutex<bool>, Condvar),
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsIdentity>,
    /// Jobs InitiateJob created and when they complete.
    due: Mutex<Vec<(String, Instant)>>,
    /// InitiateJob's completion delay per tier.
    tier_delays: Mutex<HashMap<String, Duration>>,
    /// InitiateJob calls per archive, and rules for the jobs they create.
    pub initiate_book: crate::preload::InitiateBook,
    /// How long a job stays after it completed ([`Endpoint::set_expire_after`]).
    expire_after: Mutex<Option<Duration>>,
    /// When the endpoint started: every vault's `CreationDate`.
    pub started: SystemTime,
    /// Errors the vault operations answer before their real answer.
    #[cfg(feature = "faults")]
    pub operation_faults: Mutex<Vec<crate::respond::OperationFault>>,
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not
/// take the endpoint down with it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Whether connections speak TLS (a plain-text 503 would be noise to them).
    fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Sleeps for `d`, returning early when the endpoint stops.
    #[cfg(feature = "faults")]
    pub fn nap(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// A fresh `x-amzn-RequestId` value.
    pub fn next_request_id(&self) -> String {
        let n = self.next_request_id.fetch_add(1, Ordering::SeqCst);
        format!("LOCALENDPOINT{:010}-{:04X}", n, self.addr.port())
    }

    pub fn vault_exists(&self, vault: &str) -> bool {
        lock(&self.vaults).contains_key(vault)
    }

    pub fn job(&self, id: &str) -> Option<Arc<Job>> {
        lock(&self.jobs).by_id.get(id).cloned()
    }

    pub fn vault_arn(&self, vault: &str) -> String {
        format!(
            "arn:aws:glacier:{}:{}:vaults/{vault}",
            self.region, self.account_id
        )
    }

    /// The inventory entries of a vault's registered archives, in
    /// registration order.
    pub fn vault_entries(&self, vault: &str) -> Vec<InventoryEntry> {
        self.vault_archives(vault)
            .into_iter()
            .map(|(_, entry)| entry)
            .collect()
    }

    /// [`vault_entries`](Self::vault_entries) with each archive's creation time.
    pub fn vault_archives(&self, vault: &str) -> Vec<(SystemTime, InventoryEntry)> {
        let records: Vec<_> = lock(&self.vaults)
            .get(vault)
            .map(|archives| {
                archives
                    .iter()
                    .map(|a| {
                        (
                            a.archive_id.clone(),
                            a.description.clone(),
                            a.created,
                            a.payload.clone(),
                            Arc::clone(&a.leaves),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        records
            .into_iter()
            .map(|(archive_id, description, created, payload, leaves)| {
                let leaves = leaves.get_or_init(|| payload.leaf_hashes().into());
                let entry = InventoryEntry {
                    archive_id,
                    description: description.unwrap_or_default(),
                    creation_date: http::iso8601(created),
                    size: payload.len(),
                    tree_hash: crate::payload::fold_leaves(leaves).to_string(),
                };
                (created, entry)
            })
            .collect()
    }

    /// An inventory of `entries` of a vault, dated now.
    pub fn vault_inventory(
        &self,
        vault: &str,
        format: InventoryFormat,
        entries: &[InventoryEntry],
    ) -> Arc<[u8]> {
        let text = match format {
            InventoryFormat::Json => inventory_json(
                &self.vault_arn(vault),
                &http::iso8601(SystemTime::now()),
                entries,
            ),
            InventoryFormat::Csv => inventory_csv(entries),
        };
        Arc::from(text.into_bytes())
    }

    /// An archive of a vault: its payload and the cell of its leaf digests.
    pub fn archive(
        &self,
        vault: &str,
        archive_id: &str,
    ) -> Option<(Payload, LeafCell, Option<String>)> {
        lock(&self.vaults)
            .get(vault)?
            .iter()
            .find(|a| a.archive_id == archive_id)
            .map(|a| {
                (
                    a.payload.clone(),
                    Arc::clone(&a.leaves),
                    a.description.clone(),
                )
            })
    }

    /// Registers a job InitiateJob created; it completes once `due` has passed.
    pub fn insert_initiated(&self, job: Job, due: Instant) {
        let id = job.id.clone();
        lock(&self.jobs).insert(Arc::new(job));
        lock(&self.due).push((id, due));
    }

    /// Lets time pass for the jobs: completes the initiated jobs whose
    /// delay has passed, then forgets those whose expiry window has.
    pub fn advance_jobs(&self) {
        self.complete_due_jobs();
        self.expire_jobs();
    }

    /// Marks completed the initiated jobs whose delay has passed.
    fn complete_due_jobs(&self) {
        let now = Instant::now();
        let mut due = lock(&self.due);
        due.retain(|(id, at)| {
            if *at > now {
                return true;
            }
            if let Some(job) = self.job(id) {
                job.mark_completed();
            }
            false
        });
    }

    /// Forgets the jobs that completed (or failed) longer than the expiry
    /// window ago, as Glacier does once a job's output is no longer
    /// available: every request for them is then 404.
    fn expire_jobs(&self) {
        let Some(window) = *lock(&self.expire_after) else {
            return;
        };
        let now = Instant::now();
        lock(&self.jobs).retain(|job| {
            job.lock()
                .completed_at
                .is_none_or(|(at, _)| now.saturating_duration_since(at) < window)
        });
    }

    /// How long InitiateJob's jobs of `tier` take (none unless set).
    pub fn tier_delay(&self, tier: &str) -> Duration {
        lock(&self.tier_delays)
            .get(tier)
            .copied()
            .unwrap_or_default()
    }

    /// A fresh job id for InitiateJob.
    pub fn next_job_id(&self) -> String {
        let n = self.next_request_id.fetch_add(1, Ordering::SeqCst);
        format!("INITIATED{n:06}{:04X}", self.addr.port())
    }

    /// The vault names, sorted (ListVaults' order).
    pub fn vault_names(&self) -> Vec<String> {
        lock(&self.vaults).keys().cloned().collect()
    }

    /// A vault's number of archives and their total size; `None` for an unknown vault.
    pub fn vault_totals(&self, vault: &str) -> Option<(u64, u64)> {
        lock(&self.vaults).get(vault).map(|archives| {
            let size = archives.iter().map(|a| a.payload.len()).sum();
            (archives.len() as u64, size)
        })
    }

    /// One page of a vault's jobs in ListJobs' order (oldest first, ties
    /// by job id): from the job `marker` names (the first without one),
    /// the next `limit` that `keep` admits, and the id of the job that
    /// starts the page after, if any. `None` if `marker` names no job of
    /// the vault.
    pub fn jobs_page(
        &self,
        vault: &str,
        marker: Option<&str>,
        limit: usize,
        keep: impl Fn(&Job) -> bool,
    ) -> Option<(Vec<Arc<Job>>, Option<String>)> {
        let jobs = lock(&self.jobs);
        let list = jobs.by_vault.get(vault).map_or(&[][..], Vec::as_slice);
        let start = match marker {
            None => 0,
            Some(id) => {
                let from = jobs.by_id.get(id).filter(|j| j.vault == vault)?;
                list.partition_point(|j| (j.created, &j.id) < (from.created, &from.id))
            }
        };
        let mut page = Vec::new();
        for job in list[start..].iter().filter(|j| keep(j)) {
            if page.len() == limit {
                return Some((page, Some(job.id.clone())));
            }
            page.push(Arc::clone(job));
        }
        Some((page, None))
    }

    /// Records an archive in a vault (created if missing) for inventories
    /// and InitiateJob, created at `created` (default now); the same
    /// archive id is replaced in place, keeping its creation date unless a
    /// new one is given. Returns the cell of its leaf digests.
    pub fn register_archive(
        &self,
        vault: &str,
        archive_id: &str,
        description: Option<String>,
        payload: &Payload,
        created: Option<SystemTime>,
    ) -> LeafCell {
        let leaves = self.leaf_cell(payload);
        let mut vaults = lock(&self.vaults);
        let archives = vaults.entry(vault.to_owned()).or_default();
        let record = ArchiveRecord {
            archive_id: archive_id.to_owned(),
            description,
            created: created.unwrap_or_else(SystemTime::now),
            payload: payload.clone(),
            leaves: Arc::clone(&leaves),
        };
        match archives.iter_mut().find(|a| a.archive_id == archive_id) {
            Some(a) => {
                let created = created.unwrap_or(a.created);
                *a = ArchiveRecord { created, ..record };
            }
            None => archives.push(record),
        }
        leaves
    }

    fn leaf_cell(&self, payload: &Payload) -> LeafCell {
        let mut cache = lock(&self.hash_cache);
        cache
            .entry(payload_key(payload))
            .or_insert_with(|| (payload.clone(), Arc::new(OnceLock::new())))
            .1
            .clone()
    }

    /// Stops accepting, aborts every connection, wakes the watchdog.
    fn stop(&self) {
        {
            let conns = lock(&self.conns);
            if self.stopping.swap(true, Ordering::SeqCst) {
                return;
            }
            for c in conns.values() {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
        // Wake the accept loop, which is blocked in accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let (flag, cv) = &self.stop_signal;
        *lock(flag) = true;
        cv.notify_all();
    }
}

/// A running local Glacier endpoint on `127.0.0.1`, random port.
///
/// Dropping it (or [`shutdown`](Self::shutdown)) stops the accept loop,
/// aborts open connections and joins every thread.
///
/// ```
/// use glacier_verify_loopback::{ArchiveJob, Config, Endpoint, Payload};
/// let ep = Endpoint::start(Config::default()).unwrap();
/// ep.add_archive_job(ArchiveJob::new("examplevault", "job-1", Payload::pattern(3 << 20, 7)))
///     .unwrap();
/// assert!(ep.url().starts_with("http://127.0.0.1:"));
/// let path = ep.output_path("examplevault", "job-1");
/// assert_eq!(path, "/012345678901/vaults/examplevault/jobs/job-1/output");
/// ep.shutdown();
/// ```
pub struct Endpoint {
    pub(crate) shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    watchdog: Option<JoinHandle<()>>,
    tls: bool,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Binds `127.0.0.1:0` and starts serving.
    pub fn start(config: Config) -> io::Result<Endpoint> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let tls = config.is_tls();
        let vaults = config
            .vaults
            .iter()
            .map(|v| (v.clone(), Vec::new()))
            .collect();
        let shared = Arc::new(Shared {
            auth: config.auth,
            account_id: config.account_id,
            region: config.region,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections.max(1),
            addr,
            vaults: Mutex::new(vaults),
            jobs: Mutex::new(Jobs::default()),
            hash_cache: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            next_seq: AtomicU64::new(0),
            next_request_id: AtomicU64::new(1),
            body_bytes: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            handles: Mutex::new(Vec::new()),
            stop_signal: (Mutex::new(false), Condvar::new()),
            #[cfg(feature = "tls")]
            tls: config.tls,
            due: Mutex::new(Vec::new()),
            tier_delays: Mutex::new(HashMap::new()),
            initiate_book: crate::preload::InitiateBook::default(),
            expire_after: Mutex::new(None),
            started: SystemTime::now(),
            #[cfg(feature = "faults")]
            operation_faults: Mutex::new(Vec::new()),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("glacier-endpoint-accept".into())
                .spawn(move || accept_loop(&shared, &listener))?
        };
        let watchdog = match config.max_lifetime {
            Some(lifetime) => {
                let shared = Arc::clone(&shared);
                Some(
                    thread::Builder::new()
                        .name("glacier-endpoint-watchdog".into())
                        .spawn(move || {
                            let (flag, cv) = &shared.stop_signal;
                            let guard = lock(flag);
                            let (guard, _) = cv
                                .wait_timeout_while(guard, lifetime, |stopped| !*stopped)
                                .unwrap_or_else(PoisonError::into_inner);
                            drop(guard);
                            shared.stop();
                        })?,
                )
            }
            None => None,
        };
        Ok(Endpoint {
            shared,
            accept: Some(accept),
            watchdog,
            tls,
        })
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when serving TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.shared.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The configured account ID.
    pub fn account_id(&self) -> &str {
        &self.shared.account_id
    }

    /// The configured region.
    pub fn region(&self) -> &str {
        &self.shared.region
    }

    /// `arn:aws:glacier:{region}:{account}:vaults/{vault}`.
    pub fn vault_arn(&self, vault: &str) -> String {
        self.shared.vault_arn(vault)
    }

    /// The DescribeJob path, `/{account}/vaults/{vault}/jobs/{job}`.
    pub fn job_path(&self, vault: &str, job_id: &str) -> String {
        format!("/{}/vaults/{vault}/jobs/{job_id}", self.shared.account_id)
    }

    /// The GetJobOutput path, `/{account}/vaults/{vault}/jobs/{job}/output`.
    pub fn output_path(&self, vault: &str, job_id: &str) -> String {
        format!("{}/output", self.job_path(vault, job_id))
    }

    /// Whether the endpoint has stopped (by [`shutdown`](Self::shutdown)'s
    /// start, or by [`Config::max_lifetime`]).
    pub fn is_stopped(&self) -> bool {
        self.shared.stopping()
    }

    /// Makes the next `times` requests routed to `operation` (a vault
    /// operation — ListJobs, ListVaults, … — or DescribeJob or GetJobOutput
    /// of any job) answer a JSON error `status` `code` instead, e.g. 400
    /// ThrottlingException or 403 AccessDeniedException.
    #[cfg(feature = "faults")]
    pub fn fail_operation(&self, operation: Operation, times: u32, status: u16, code: &str) {
        lock(&self.shared.operation_faults).push(crate::respond::OperationFault {
            operation,
            remaining: times,
            status,
            code: code.to_owned(),
            after: false,
        });
    }

    /// Like [`fail_operation`](Self::fail_operation) for a vault operation,
    /// but the error is answered after the operation took effect: an
    /// InitiateJob that started its job although its client saw a 503.
    #[cfg(feature = "faults")]
    pub fn fail_operation_after(&self, operation: Operation, times: u32, status: u16, code: &str) {
        lock(&self.shared.operation_faults).push(crate::respond::OperationFault {
            operation,
            remaining: times,
            status,
            code: code.to_owned(),
            after: true,
        });
    }

    /// Makes InitiateJob's jobs of `tier` (`Expedited`, `Standard`, `Bulk`)
    /// complete `delay` after they were initiated (default: at once).
    pub fn set_tier_delay(&self, tier: &str, delay: Duration) {
        lock(&self.shared.tier_delays).insert(tier.to_owned(), delay);
    }

    /// Makes every job — registered or initiated — expire `window` after
    /// it completed or failed: from then on DescribeJob, GetJobOutput and
    /// ListJobs know it no more (404 ResourceNotFoundException), as
    /// Glacier forgets a job some 24 hours after it completed (default:
    /// never; [`expire_job`](Self::expire_job) expires one at once).
    pub fn set_expire_after(&self, window: Duration) {
        *lock(&self.shared.expire_after) = Some(window);
    }

    /// Creates a vault (no-op if it exists).
    pub fn add_vault(&self, name: &str) {
        lock(&self.shared.vaults)
            .entry(name.to_owned())
            .or_default();
    }

    /// Registers an archive-retrieval job, replacing any job with the same
    /// ID, and records its archive in the vault (for inventories). Hashes
    /// are computed on first use (see [`warm_up`](Self::warm_up)).
    pub fn add_archive_job(&self, spec: ArchiveJob) -> Result<(), EndpointError> {
        let size = spec.archive.len();
        let retrieval = match spec.retrieval_range {
            None => ByteRange::whole(size).ok_or(EndpointError::EmptyArchive)?,
            Some((first, last)) => ByteRange::new(first, last)
                .ok()
                .filter(|r| r.last() < size)
                .ok_or(EndpointError::BadRetrievalRange {
                    first,
                    last,
                    archive_size: size,
                })?,
        };
        let leaves = self.shared.register_archive(
            &spec.vault,
            &spec.archive_id,
            spec.description.clone(),
            &spec.archive,
            spec.archive_created,
        );
        let output = Output::Archive {
            payload: spec.archive,
            leaves,
            archive_id: spec.archive_id,
            description: spec.description,
            retrieval,
        };
        let job = Job::new(
            spec.job_id.clone(),
            spec.vault,
            output,
            spec.tier,
            spec.job_description,
            spec.completed,
        );
        #[cfg(feature = "faults")]
        let job = job.with_faults(spec.faults);
        lock(&self.shared.jobs).insert(Arc::new(job));
        Ok(())
    }

    /// Registers an inventory-retrieval job, replacing any job with the
    /// same ID. [`InventoryContents::Vault`] lists the vault's archives as
    /// registered now (computing their tree hashes).
    pub fn add_inventory_job(&self, spec: InventoryJob) {
        self.add_vault(&spec.vault);
        let body: Arc<[u8]> = match spec.contents {
            InventoryContents::Raw(bytes) => bytes,
            InventoryContents::Entries(entries) => {
                self.render_inventory(&spec.vault, spec.format, &entries)
            }
            InventoryContents::Vault => {
                let entries = self.vault_entries(&spec.vault);
                self.render_inventory(&spec.vault, spec.format, &entries)
            }
        };
        let output = Output::Inventory {
            body,
            format: spec.format,
            range: InventoryRange::default(),
        };
        let job = Job::new(
            spec.job_id.clone(),
            spec.vault,
            output,
            spec.tier,
            spec.job_description,
            spec.completed,
        );
        #[cfg(feature = "faults")]
        let job = job.with_faults(spec.faults);
        lock(&self.shared.jobs).insert(Arc::new(job));
    }

    /// The inventory entries of a vault's registered archives, in
    /// registration order.
    pub fn vault_entries(&self, vault: &str) -> Vec<InventoryEntry> {
        self.shared.vault_entries(vault)
    }

    fn render_inventory(
        &self,
        vault: &str,
        format: InventoryFormat,
        entries: &[InventoryEntry],
    ) -> Arc<[u8]> {
        let text = match format {
            InventoryFormat::Json => inventory_json(
                &self.shared.vault_arn(vault),
                &http::iso8601(SystemTime::now()),
                entries,
            ),
            InventoryFormat::Csv => inventory_csv(entries),
        };
        Arc::from(text.into_bytes())
    }

    /// Replaces a job's fault rules (attempt counters keep counting).
    #[cfg(feature = "faults")]
    pub fn set_faults(&self, job_id: &str, faults: Vec<FaultRule>) -> Result<(), EndpointError> {
        let job = self
            .shared
            .job(job_id)
            .ok_or_else(|| EndpointError::UnknownJob(job_id.into()))?;
        job.lock().faults = faults;
        Ok(())
    }

    /// Makes a job fail: DescribeJob says `Completed: true`, `StatusCode:
    /// Failed` with `message`; its output is never available.
    pub fn set_failed(&self, job_id: &str, message: &str) -> Result<(), EndpointError> {
        let job = self
            .shared
            .job(job_id)
            .ok_or_else(|| EndpointError::UnknownJob(job_id.into()))?;
        {
            let mut state = job.lock();
            state.completed = false;
            state.failed = Some(message.to_owned());
        }
        job.mark_completed();
        Ok(())
    }

    /// Forgets a job as Glacier does once its output expired: every
    /// request for it is then 404 ResourceNotFoundException.
    pub fn expire_job(&self, job_id: &str) -> Result<(), EndpointError> {
        lock(&self.shared.jobs)
            .remove(job_id)
            .map(|_| ())
            .ok_or_else(|| EndpointError::UnknownJob(job_id.into()))
    }

    /// Marks a job completed or not.
    pub fn set_completed(&self, job_id: &str, completed: bool) -> Result<(), EndpointError> {
        let job = self
            .shared
            .job(job_id)
            .ok_or_else(|| EndpointError::UnknownJob(job_id.into()))?;
        if completed {
            job.mark_completed();
        } else {
            let mut state = job.lock();
            state.completed = false;
            state.completed_at = None;
        }
        Ok(())
    }

    /// The tree hash of a job's whole output (for an archive job, of the
    /// retrieved range, whether or not it is tree-hash aligned).
    pub fn job_tree_hash(&self, job_id: &str) -> Option<Digest> {
        let job = self.shared.job(job_id)?;
        Some(job.output_tree_hash(0, job.output_len()))
    }

    /// The length of a job's output.
    pub fn job_output_len(&self, job_id: &str) -> Option<u64> {
        self.shared.job(job_id).map(|j| j.output_len())
    }

    /// Computes every archive's leaf digests now, so no request waits for
    /// them (a multi-GiB pattern takes seconds).
    pub fn warm_up(&self) {
        let cells: Vec<_> = lock(&self.shared.hash_cache).values().cloned().collect();
        for (payload, cell) in cells {
            cell.get_or_init(|| payload.leaf_hashes().into());
        }
    }

    /// Every answered request so far, in order of arrival.
    pub fn requests(&self) -> Vec<ServedRequest> {
        let mut log = lock(&self.shared.log).clone();
        log.sort_by_key(|r| r.seq);
        log
    }

    /// The answered GetJobOutput requests of one job.
    pub fn output_requests(&self, job_id: &str) -> Vec<ServedRequest> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| {
                r.operation == Operation::GetJobOutput && r.job_id.as_deref() == Some(job_id)
            })
            .cloned()
            .collect()
    }

    /// Total GetJobOutput body bytes handed to sockets (updated as they are
    /// written, so it also shows the progress of a running download).
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared.body_bytes.load(Ordering::SeqCst)
    }

    /// Forgets the request log and the byte counter (not the jobs' attempt
    /// counters).
    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
        self.shared.body_bytes.store(0, Ordering::SeqCst);
    }

    /// Waits until no request is being answered (so the log holds every
    /// response a client has seen); `false` on timeout.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            if self.shared.in_flight.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Stops the endpoint and joins its threads.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.shared.stop();
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        if let Some(h) = self.watchdog.take() {
            let _ = h.join();
        }
        let handles = std::mem::take(&mut *lock(&self.shared.handles));
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut next_id: u64 = 0;
    for conn in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = conn else {
            // EMFILE and friends: don't spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        lock(&shared.handles).retain(|h| !h.is_finished());
        let mut conns = lock(&shared.conns);
        if shared.stopping() {
            break;
        }
        if conns.len() >= shared.max_connections {
            drop(conns);
            if !shared.is_tls() {
                let _ = refuse(stream);
            }
            continue;
        }
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        next_id += 1;
        let id = next_id;
        conns.insert(id, registered);
        drop(conns);
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("glacier-endpoint-conn-{id}"))
            .spawn(move || serve_connection(&worker, stream, id));
        match spawned {
            Ok(h) => lock(&shared.handles).push(h),
            Err(_) => {
                lock(&shared.conns).remove(&id);
            }
        }
    }
}

/// Answers a connection over the limit with 503 and closes it.
fn refuse(mut stream: TcpStream) -> io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    let body = respond::error_body(
        503,
        "ServiceUnavailableException",
        "Too many connections to the local endpoint",
    );
    write!(
        stream,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.shutdown(Shutdown::Write)
}

/// Decrements the in-flight count when a request is fully answered and logged.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether the client lets the connection stay open (RFC 9112 §9.3).
fn client_keeps_alive(req: &Request) -> bool {
    let has = |token: &str| {
        req.header_values("connection")
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if req.version() == "HTTP/1.0" {
        has("keep-alive")
    } else {
        !has("close")
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream, id: u64) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(shared.idle_timeout));
    let _ = stream.set_write_timeout(Some(shared.idle_timeout));
    #[cfg(feature = "tls")]
    if let Some(identity) = &shared.tls {
        // The handshake runs on the first read; a client that refuses the
        // certificate ends it there, before any request is logged.
        let mut tls = identity.stream(stream);
        let after = serve_requests(shared, &mut tls, id);
        if matches!(after, After::KeepAlive | After::Close) {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        finish(shared, id, tls.sock, after);
        return;
    }
    let mut stream = stream;
    let after = serve_requests(shared, &mut stream, id);
    finish(shared, id, stream, after);
}

/// Closes a connection the way `after` says.
fn finish(shared: &Shared, id: u64, stream: TcpStream, after: After) {
    // Drop the registry's handle first so the socket closes with ours.
    let registered = lock(&shared.conns).remove(&id);
    match after {
        After::KeepAlive | After::Close => {
            let _ = stream.shutdown(Shutdown::Write);
        }
        // SO_LINGER 0: closing the socket sends a TCP reset, not a FIN.
        #[cfg(feature = "faults")]
        After::Reset => {
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
    }
    drop(registered);
    drop(stream);
}

/// Answers requests until the connection is to end; returns how it ends.
fn serve_requests(shared: &Shared, stream: &mut (impl Read + Write), connection: u64) -> After {
    let mut buf = Vec::new();
    let mut body_buf = vec![0u8; CHUNK];
    while !shared.stopping() {
        let parsed = match http::read_request(stream, &mut buf) {
            Ok(Some(req)) => Ok(req),
            Ok(None) | Err(ReadError::Io) => break,
            Err(ReadError::Bad(why)) => Err(why),
        };
        let guard = InFlight::new(shared);
        let seq = shared.next_seq.fetch_add(1, Ordering::SeqCst);
        let (routed, keep, http10, req) = match parsed {
            Ok(req) => (
                respond::route(shared, &req),
                client_keeps_alive(&req) && !shared.stopping(),
                req.version() == "HTTP/1.0",
                Some(req),
            ),
            Err(why) => (
                respond::Routed::other(Reply::json_error(400, "BadRequest", why)),
                false,
                false,
                None,
            ),
        };
        let sent = respond::send(shared, stream, &mut body_buf, routed.reply, keep, http10);
        log(shared, seq, connection, req.as_ref(), routed.info, &sent);
        drop(guard);
        if sent.after != After::KeepAlive {
            return sent.after;
        }
    }
    After::Close
}

fn log(
    shared: &Shared,
    seq: u64,
    connection: u64,
    req: Option<&Request>,
    info: respond::RouteInfo,
    sent: &respond::Sent,
) {
    let entry = ServedRequest {
        seq,
        connection,
        operation: info.operation,
        method: req.map(|r| r.method().to_owned()).unwrap_or_default(),
        path: req.map(|r| r.path().to_owned()).unwrap_or_default(),
        job_id: info.job_id,
        range_header: req.and_then(|r| r.header("range")).map(str::to_owned),
        attempt: info.attempt,
        served_range: info.served_range,
        status: sent.status,
        content_length: sent.content_length,
        body_bytes_sent: sent.body_bytes,
        complete: sent.complete,
        #[cfg(feature = "faults")]
        faults: info.faults,
    };
    lock(&shared.log).push(entry);
}
