//! Stage 5 for one archive: its job's output downloaded through the
//! verified `get-job-output` path ([`crate::download::fetch_job_output`]:
//! parts, resume, journal) into a staging file, with the core's
//! `Assembly` given one expected hash per source — the job's
//! `SHA256TreeHash` and the inventory's — and the sizes of the inventory
//! and the job compared before any byte moves. The job's description is
//! the one the poll kept from ListJobs (the same object DescribeJob
//! returns), or DescribeJob's when the state has none (a job adopted
//! after a crash). The linear SHA-256 of an archive of at most 1 MiB is
//! its tree hash (one leaf); a larger one's is read back from the
//! verified file (parts arrive out of order).

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};

use glacier_verify_core::Digest;
use sha2::Digest as _;

use super::VaultExitArgs;
use super::receipts::Check;
use super::state::Row;
use crate::client::{Client, JobLocation};
use crate::download::{Fetched, Request};
use crate::error::HostError;
use crate::job::{JobDescription, JobError, JobFacts};
use crate::outfile::{OutputLock, OutputPaths};
use crate::progress::Counters;

/// How the report names the inventory's hash.
pub const INVENTORY_LABEL: &str = "inventory SHA256TreeHash";

/// A verified archive in its staging file.
#[derive(Debug)]
pub struct Done {
    /// The staging file: the download's `.part`, durable.
    pub staged: PathBuf,
    /// Its journal, when the download made one (a large archive).
    pub journal: Option<PathBuf>,
    /// Its tree hash, as the core composed it.
    pub tree_hash: Digest,
    /// Its plain SHA-256.
    pub sha256: String,
    /// The core's level.
    pub level: String,
    /// Every comparison that passed.
    pub checks: Vec<Check>,
    /// Its bytes.
    pub bytes: u64,
}

/// Downloads and verifies `row`'s current job into `staged`'s `.part`
/// (left there, durable, for the caller to commit); `shard_lock` keeps
/// every other run from `staged`'s files.
pub fn one(
    c: &Client,
    a: &VaultExitArgs,
    vault: &str,
    row: &Row,
    staged: &Path,
    shard_lock: &OutputLock,
    counters: &Counters,
) -> Result<Done, HostError> {
    let job_id = row.job_id.clone().unwrap_or_default();
    let loc = JobLocation {
        account_id: a.account_id.clone(),
        vault: vault.to_owned(),
        job_id,
    };
    let inventory_hash = Digest::from_hex(row.inventory_hash.as_bytes())
        .map_err(|_| HostError::Usage(format!("bad inventory hash of {}", row.archive_id)))?;
    let listed = listed_job(row);
    let request = Request {
        inventory_entry: Some((INVENTORY_LABEL, inventory_hash)),
        part_size: a.part_size,
        parallel: usize::from(a.part_parallel),
        listed_job: listed.as_ref(),
        ..Request::default()
    };
    let described_by = request.described_by();
    let seen: RefCell<Option<JobFacts>> = RefCell::new(None);
    let fetched = crate::download::fetch_job_output_staged(
        c,
        &loc,
        &crate::download::Staged {
            target: staged,
            exclusive: shard_lock,
        },
        &request,
        super::inventory::retry_policy(a),
        counters,
        |facts| {
            *seen.borrow_mut() = Some(facts.clone());
            same_archive(row, facts, described_by)
        },
    )
    .map_err(|e| with_all_values(e, row, seen.borrow().as_ref(), described_by))?;
    let paths = OutputPaths::for_target(staged);
    finish(row, &paths, fetched, described_by)
}

/// The job's description the poll kept from ListJobs, if the state has
/// one that parses (the state is untrusted input: anything else means
/// asking DescribeJob, as for a job adopted after a crash).
fn listed_job(row: &Row) -> Option<JobDescription> {
    let text = row.job_description.as_deref()?;
    let (job, _) = JobDescription::parse(text.as_bytes()).ok()?;
    Some(job)
}

/// The job's description (from `described_by`) must be of this archive,
/// and of the inventory's size.
fn same_archive(row: &Row, facts: &JobFacts, described_by: &str) -> Result<(), HostError> {
    if let Some(id) = &facts.archive_id
        && *id != row.archive_id
    {
        return Err(HostError::Job(JobError::Inconsistent(format!(
            "the job is of archive {id}, not {}",
            row.archive_id
        ))));
    }
    if let glacier_verify_core::JobKind::Archive { archive_size, .. } = facts.kind
        && archive_size != row.size
    {
        return Err(size_mismatch(
            row.size,
            &format!("{described_by} ArchiveSizeInBytes"),
            archive_size,
        ));
    }
    Ok(())
}

fn size_mismatch(inventory: u64, what: &str, found: u64) -> HostError {
    HostError::Job(JobError::Inconsistent(format!(
        "inventory Size {inventory}, {what} {found}: they must agree"
    )))
}

/// A verification failure names every value: the inventory's hash and
/// the job's besides what the core said.
fn with_all_values(
    e: HostError,
    row: &Row,
    facts: Option<&JobFacts>,
    described_by: &str,
) -> HostError {
    if e.verification().is_none() {
        return e;
    }
    let describe = facts
        .and_then(|f| f.output_tree_hash)
        .map_or_else(|| "(none)".to_string(), |d| d.to_string());
    HostError::Usage(format!(
        "{e}; {INVENTORY_LABEL} {}, {described_by} SHA256TreeHash {describe}",
        row.inventory_hash
    ))
}

fn finish(
    row: &Row,
    paths: &OutputPaths,
    f: Fetched,
    described_by: &str,
) -> Result<Done, HostError> {
    let v = &f.outcome.verdict;
    if v.bytes != row.size {
        return Err(size_mismatch(row.size, "downloaded bytes", v.bytes));
    }
    let mut checks = Vec::new();
    checks.push(Check {
        check: "response-headers".into(),
        source: format!(
            "x-amz-sha256-tree-hash of {} of {} responses",
            v.header_matched, v.parts
        ),
        expected: "each response's own bytes".into(),
    });
    for m in v.matched() {
        checks.push(Check {
            check: "tree-hash".into(),
            source: f.plan.label_of(m),
            expected: m.digest.to_string(),
        });
    }
    checks.push(Check {
        check: "size".into(),
        source: match f.facts.kind {
            glacier_verify_core::JobKind::Archive { .. } => {
                format!("inventory Size, {described_by} ArchiveSizeInBytes")
            }
            _ => "inventory Size".into(),
        },
        expected: row.size.to_string(),
    });
    let journal = std::fs::symlink_metadata(&paths.journal)
        .is_ok()
        .then(|| paths.journal.clone());
    Ok(Done {
        staged: paths.part.clone(),
        journal,
        tree_hash: v.tree_hash,
        sha256: linear_sha256(v.bytes, &v.tree_hash, &paths.part)?,
        level: v.level.to_string(),
        checks,
        bytes: v.bytes,
    })
}

/// The plain SHA-256 of `bytes` verified bytes at `path` whose tree hash
/// is `tree_hash`. Up to one leaf (1 MiB) the two are the same hash, so
/// only a larger file is read back (the read-back was a tenth of the CPU
/// of a vault of small archives).
fn linear_sha256(bytes: u64, tree_hash: &Digest, path: &Path) -> Result<String, HostError> {
    if bytes <= glacier_verify_core::LEAF_SIZE {
        return Ok(tree_hash.to_string());
    }
    sha256_of(path)
}

/// The SHA-256 of a file, read back.
fn sha256_of(path: &Path) -> Result<String, HostError> {
    let Some(mut f) = crate::disk::open_read(path)? else {
        return Err(HostError::io(path, std::io::ErrorKind::NotFound.into()));
    };
    let mut h = sha2::Sha256::new();
    let mut buf = crate::disk::Buffer::new();
    loop {
        let n = f.read(&mut buf).map_err(|e| HostError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Digest(h.finalize().into()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glacier_verify_core::{LEAF_SIZE, tree_hash};

    fn plain(data: &[u8]) -> String {
        Digest(sha2::Sha256::digest(data).into()).to_string()
    }

    #[test]
    fn up_to_one_leaf_the_linear_hash_is_the_tree_hash_and_nothing_is_read() {
        let never_there = std::env::temp_dir().join("gv-fetch-no-such-file");
        for len in [0, 1, 4096, LEAF_SIZE] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let tree = tree_hash(&data);
            let linear = linear_sha256(len, &tree, &never_there).unwrap();
            assert_eq!(linear, plain(&data), "{len} bytes");
        }
    }

    #[test]
    fn beyond_one_leaf_the_file_is_read_back() {
        let path = std::env::temp_dir().join(format!("gv-fetch-{}", std::process::id()));
        let data: Vec<u8> = (0..LEAF_SIZE + 1).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let tree = tree_hash(&data);
        assert_ne!(
            tree.to_string(),
            plain(&data),
            "two leaves: the hashes differ"
        );
        let linear = linear_sha256(LEAF_SIZE + 1, &tree, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(linear, plain(&data));
    }
}
