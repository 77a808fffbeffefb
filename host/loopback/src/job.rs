//! Job definitions: what a test registers ([`ArchiveJob`], [`InventoryJob`])
//! and the endpoint's per-job state (attempt counters, faults, cached
//! leaf digests).

#[cfg(feature = "faults")]
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use glacier_verify_core::{ByteRange, Digest};

#[cfg(feature = "faults")]
use crate::fault::{Fault, FaultRule};
use crate::inventory::{InventoryEntry, InventoryFormat};
use crate::payload::{Payload, range_tree_hash};

/// An archive-retrieval job (DescribeJob `Action: ArchiveRetrieval`).
///
/// ```
/// use glacier_verify_loopback::{ArchiveJob, Payload};
/// let job = ArchiveJob::new("examplevault", "job-1", Payload::pattern(8 << 20, 1))
///     .with_description("backup 2024")
///     .with_retrieval_range(2 << 20, (4 << 20) - 1);
/// assert_eq!(job.archive_id, "job-1-archive");
/// ```
#[derive(Clone, Debug)]
pub struct ArchiveJob {
    /// The vault (created on the endpoint if missing).
    pub vault: String,
    /// The job ID in the URL.
    pub job_id: String,
    /// DescribeJob `ArchiveId` and the inventory's; default `<job_id>-archive`.
    /// Jobs sharing an archive ID appear once in a vault inventory.
    pub archive_id: String,
    /// The whole archive.
    pub archive: Payload,
    /// The archive description: `x-amz-archive-description` on GetJobOutput
    /// (docs/protocol.md §2.2) and `ArchiveDescription` in inventories.
    pub description: Option<String>,
    /// InitiateJob's `RetrievalByteRange`, inclusive and absolute in the
    /// archive; `None` retrieves the whole archive. Not required to be
    /// megabyte aligned (real Glacier would refuse that at InitiateJob).
    pub retrieval_range: Option<(u64, u64)>,
    /// `false`: DescribeJob says InProgress and GetJobOutput answers 400
    /// "not currently available" (docs/protocol.md §1).
    pub completed: bool,
    /// DescribeJob `Tier`.
    pub tier: String,
    /// DescribeJob `JobDescription`.
    pub job_description: Option<String>,
    /// When the archive was uploaded: its inventory `CreationDate`, which
    /// range inventory retrievals filter on; `None`: when it is registered.
    pub archive_created: Option<SystemTime>,
    /// Faults, tried in order on every request of the job.
    #[cfg(feature = "faults")]
    pub faults: Vec<FaultRule>,
}

impl ArchiveJob {
    /// A completed whole-archive job with no faults.
    pub fn new(vault: impl Into<String>, job_id: impl Into<String>, archive: Payload) -> Self {
        let job_id = job_id.into();
        ArchiveJob {
            vault: vault.into(),
            archive_id: format!("{job_id}-archive"),
            job_id,
            archive,
            description: None,
            retrieval_range: None,
            completed: true,
            tier: "Standard".into(),
            job_description: None,
            archive_created: None,
            #[cfg(feature = "faults")]
            faults: Vec::new(),
        }
    }

    /// Sets when the archive was uploaded (its inventory `CreationDate`).
    pub fn with_archive_created(mut self, created: SystemTime) -> Self {
        self.archive_created = Some(created);
        self
    }

    /// Sets the archive description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the archive ID.
    pub fn with_archive_id(mut self, archive_id: impl Into<String>) -> Self {
        self.archive_id = archive_id.into();
        self
    }

    /// Retrieves only `[first, last]` of the archive (inclusive, absolute).
    pub fn with_retrieval_range(mut self, first: u64, last: u64) -> Self {
        self.retrieval_range = Some((first, last));
        self
    }

    /// Sets whether the job has completed.
    pub fn with_completed(mut self, completed: bool) -> Self {
        self.completed = completed;
        self
    }

    /// Adds a fault rule.
    ///
    /// ```
    /// use glacier_verify_loopback::{ArchiveJob, Fault, FaultRule, Payload};
    /// // One 500 before the job's output is served.
    /// let job = ArchiveJob::new("examplevault", "job-1", Payload::pattern(8 << 20, 1))
    ///     .with_fault(FaultRule::first(1, Fault::service_unavailable()));
    /// assert_eq!(job.faults.len(), 1);
    /// ```
    #[cfg(feature = "faults")]
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }
}

/// What an inventory job returns.
#[derive(Clone, Debug)]
pub enum InventoryContents {
    /// The archives of the vault's archive jobs registered so far (one
    /// entry per archive ID), with their real sizes and tree hashes.
    Vault,
    /// These entries.
    Entries(Vec<InventoryEntry>),
    /// These exact bytes (for malformed or hand-written inventories).
    Raw(Arc<[u8]>),
}

/// An inventory-retrieval job (DescribeJob `Action: InventoryRetrieval`).
#[derive(Clone, Debug)]
pub struct InventoryJob {
    /// The vault (created on the endpoint if missing).
    pub vault: String,
    /// The job ID in the URL.
    pub job_id: String,
    /// JSON or CSV (docs/protocol.md §5.3).
    pub format: InventoryFormat,
    /// The body.
    pub contents: InventoryContents,
    /// As for [`ArchiveJob::completed`]; DescribeJob's `InventorySizeInBytes`
    /// is null while not completed.
    pub completed: bool,
    /// DescribeJob `Tier`.
    pub tier: String,
    /// DescribeJob `JobDescription`.
    pub job_description: Option<String>,
    /// Faults, tried in order on every request of the job.
    #[cfg(feature = "faults")]
    pub faults: Vec<FaultRule>,
}

impl InventoryJob {
    /// A completed job returning the vault's inventory in `format`.
    pub fn new(
        vault: impl Into<String>,
        job_id: impl Into<String>,
        format: InventoryFormat,
    ) -> Self {
        InventoryJob {
            vault: vault.into(),
            job_id: job_id.into(),
            format,
            contents: InventoryContents::Vault,
            completed: true,
            tier: "Standard".into(),
            job_description: None,
            #[cfg(feature = "faults")]
            faults: Vec::new(),
        }
    }

    /// Sets the contents.
    pub fn with_contents(mut self, contents: InventoryContents) -> Self {
        self.contents = contents;
        self
    }

    /// Sets whether the job has completed.
    pub fn with_completed(mut self, completed: bool) -> Self {
        self.completed = completed;
        self
    }

    /// Adds a fault rule.
    #[cfg(feature = "faults")]
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }
}

/// A lazily computed list of leaf digests, shared by all jobs of a payload.
pub(crate) type LeafCell = Arc<OnceLock<Arc<[Digest]>>>;

/// The output of a registered job.
pub(crate) enum Output {
    Archive {
        payload: Payload,
        leaves: LeafCell,
        archive_id: String,
        description: Option<String>,
        /// Absolute in the archive.
        retrieval: ByteRange,
    },
    Inventory {
        body: Arc<[u8]>,
        format: InventoryFormat,
        range: InventoryRange,
    },
}

/// A range inventory retrieval's `InventoryRetrievalParameters` as
/// DescribeJob shows them (all `None` for a whole inventory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InventoryRange {
    /// `StartDate` as requested.
    pub start_date: Option<String>,
    /// `EndDate` as requested.
    pub end_date: Option<String>,
    /// `Limit` as requested (a string, as in Glacier's model).
    pub limit: Option<String>,
    /// `Marker`: where the next InitiateJob continues, `None` when this
    /// output holds the last archive.
    pub next_marker: Option<String>,
}

/// Mutable per-job state.
pub(crate) struct JobState {
    pub completed: bool,
    /// When the job completed (or failed): the start of its expiry window,
    /// and its DescribeJob `CompletionDate`.
    pub completed_at: Option<(Instant, SystemTime)>,
    /// `Some(StatusMessage)` once the job has failed.
    pub failed: Option<String>,
    pub output_attempts: u32,
    pub describe_attempts: u32,
    #[cfg(feature = "faults")]
    pub faults: Vec<FaultRule>,
    /// GetJobOutput requests per range start.
    #[cfg(feature = "faults")]
    starts: HashMap<u64, u32>,
}

#[cfg(feature = "faults")]
impl JobState {
    /// Counts a request by its range start (`None`: DescribeJob) and returns
    /// the faults of its kind whose rules select it.
    fn faults_for(&mut self, attempt: u32, start: Option<u64>) -> Vec<Fault> {
        let at_start = match start {
            Some(s) => {
                let c = self.starts.entry(s).or_insert(0);
                *c = c.saturating_add(1);
                *c
            }
            None => 0,
        };
        self.faults
            .iter()
            .filter(|r| match start {
                None => r.fault.on_describe(),
                Some(_) => r.fault.on_output(),
            })
            .filter(|r| r.when.matches(attempt, start, at_start))
            .map(|r| r.fault.clone())
            .collect()
    }
}

/// A request as counted by [`Job::begin`].
pub(crate) struct Begun {
    /// Its number among the job's requests of its kind (1-based).
    pub attempt: u32,
    /// Whether the job has completed.
    pub completed: bool,
    /// The faults that apply to it, in rule order.
    #[cfg(feature = "faults")]
    pub faults: Vec<Fault>,
}

/// A registered job.
pub(crate) struct Job {
    pub id: String,
    pub vault: String,
    pub output: Output,
    pub tier: String,
    pub job_description: Option<String>,
    pub created: SystemTime,
    pub state: Mutex<JobState>,
}

impl Job {
    pub fn new(
        id: String,
        vault: String,
        output: Output,
        tier: String,
        job_description: Option<String>,
        completed: bool,
    ) -> Self {
        Job {
            id,
            vault,
            output,
            tier,
            job_description,
            created: SystemTime::now(),
            state: Mutex::new(JobState {
                completed,
                completed_at: completed.then(|| (Instant::now(), SystemTime::now())),
                failed: None,
                output_attempts: 0,
                describe_attempts: 0,
                #[cfg(feature = "faults")]
                faults: Vec::new(),
                #[cfg(feature = "faults")]
                starts: HashMap::new(),
            }),
        }
    }

    /// The job with these fault rules.
    #[cfg(feature = "faults")]
    pub fn with_faults(mut self, faults: Vec<FaultRule>) -> Self {
        self.state
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .faults = faults;
        self
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the job completed (or ended, when it failed) now, unless it
    /// already was.
    pub fn mark_completed(&self) {
        let mut st = self.lock();
        st.completed = st.failed.is_none();
        st.completed_at
            .get_or_insert_with(|| (Instant::now(), SystemTime::now()));
    }

    /// Counts a request and returns its attempt number, whether the job is
    /// completed and the faults that apply. `start` is the requested range
    /// start for GetJobOutput, `None` for DescribeJob.
    pub fn begin(&self, start: Option<u64>) -> Begun {
        let mut st = self.lock();
        let attempt = match start {
            Some(_) => {
                st.output_attempts = st.output_attempts.saturating_add(1);
                st.output_attempts
            }
            None => {
                st.describe_attempts = st.describe_attempts.saturating_add(1);
                st.describe_attempts
            }
        };
        Begun {
            attempt,
            completed: st.completed,
            #[cfg(feature = "faults")]
            faults: st.faults_for(attempt, start),
        }
    }

    /// Length of the job output.
    pub fn output_len(&self) -> u64 {
        match &self.output {
            Output::Archive { retrieval, .. } => retrieval.len(),
            Output::Inventory { body, .. } => body.len() as u64,
        }
    }

    /// Copies job-output bytes from `offset` into `buf`.
    pub fn read_output(&self, offset: u64, buf: &mut [u8]) -> usize {
        match &self.output {
            Output::Archive {
                payload, retrieval, ..
            } => {
                let avail = retrieval.len().saturating_sub(offset);
                let n = buf.len().min(usize::try_from(avail).unwrap_or(usize::MAX));
                payload.read_at(retrieval.first() + offset, &mut buf[..n])
            }
            Output::Inventory { body, .. } => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(body.len());
                let n = buf.len().min(body.len() - start);
                buf[..n].copy_from_slice(&body[start..start + n]);
                n
            }
        }
    }

    /// The tree hash of job-output bytes `[first, end)`.
    pub fn output_tree_hash(&self, first: u64, end: u64) -> Digest {
        match &self.output {
            Output::Archive {
                payload,
                leaves,
                retrieval,
                ..
            } => {
                let leaves = leaves.get_or_init(|| payload.leaf_hashes().into());
                let base = retrieval.first();
                let end = end.min(retrieval.len());
                range_tree_hash(payload, leaves, base + first, base + end)
            }
            Output::Inventory { body, .. } => {
                let len = body.len();
                let a = usize::try_from(first).unwrap_or(usize::MAX).min(len);
                let b = usize::try_from(end).unwrap_or(usize::MAX).clamp(a, len);
                glacier_verify_core::tree_hash(&body[a..b])
            }
        }
    }
}
