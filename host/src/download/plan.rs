//! What to download and what it must be: the policy that decides which
//! expected hash applies to which request, checked before any byte moves.

use std::path::Path;

use glacier_verify_core::{
    ByteRange, Digest, ExpectedHash, HashSource, JobKind, LEAF_SIZE, RangeRequest,
};

use super::retry::RetryPolicy;
use crate::client::JobLocation;
use crate::error::HostError;
use crate::inventory::Inventory;
use crate::job::JobFacts;

/// An expected tree hash of the bytes saved, and how the report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The hash and its source, for the core.
    pub hash: ExpectedHash,
    /// The source in the report's words (`inventory inv.json`, …).
    pub label: String,
}

impl Expected {
    fn new(source: HashSource, digest: Digest, label: impl Into<String>) -> Self {
        Expected {
            hash: ExpectedHash { source, digest },
            label: label.into(),
        }
    }
}

/// How the output is fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One response (resumed after a cut).
    SingleStream,
    /// Tree-hash-aligned ranged parts in parallel.
    ParallelParts,
}

/// What the user asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `--range`
    pub range: Option<RangeRequest>,
    /// `--expected-tree-hash`
    pub expected_tree_hash: Option<Digest>,
    /// `--inventory`, parsed, with its path.
    pub inventory: Option<(&'a Path, &'a Inventory)>,
    /// The archive's tree hash from an inventory already looked up (by
    /// `vault-exit`), with how the report names it; the same rules as
    /// `inventory` (the whole archive only).
    pub inventory_entry: Option<(&'a str, Digest)>,
    /// `--part-size`
    pub part_size: Option<u64>,
    /// `--parallel`
    pub parallel: usize,
    /// The job's description as a listing already gave it (`vault-exit`
    /// keeps ListJobs' answer, the same object DescribeJob returns): no
    /// DescribeJob call, and the report names ListJobs as the source of
    /// the job's hash.
    pub listed_job: Option<&'a crate::job::JobDescription>,
}

impl Request<'_> {
    /// The call the job's description came from, as the report names it.
    pub fn described_by(&self) -> &'static str {
        if self.listed_job.is_some() {
            "ListJobs"
        } else {
            "DescribeJob"
        }
    }
}

/// What to download and what it must be.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Which job.
    pub loc: JobLocation,
    /// Job kind, archive size and retrieval range (for the header rule).
    pub kind: JobKind,
    /// Length of the whole job output, when known.
    pub output_len: Option<u64>,
    /// The range the user asked for (relative to the output); `None` = all.
    pub range: Option<RangeRequest>,
    /// Expected tree hashes of the bytes saved, in the order compared.
    pub expected: Vec<Expected>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Parallel requests in parts mode.
    pub parallel: usize,
    /// Part size in parts mode (a power-of-two MiB).
    pub part_size: u64,
    /// Things the user should know about the plan.
    pub notes: Vec<String>,
}

/// Picks a part size: at least 16 MiB, and a power of two large enough that
/// the output needs at most 65 536 parts (per-part hashes compose only for
/// power-of-two-MiB parts, docs/protocol.md §4.2).
pub fn default_part_size(output_len: u64) -> u64 {
    let per_part = output_len.div_ceil(65_536).div_ceil(LEAF_SIZE).max(1);
    let mib = per_part.checked_next_power_of_two().unwrap_or(1 << 43);
    mib.saturating_mul(LEAF_SIZE).max(16 * LEAF_SIZE)
}

impl Plan {
    /// The plan for `request` on the job at `loc`, given what DescribeJob
    /// said (`None`: `--no-describe-job`). Refuses, before any download,
    /// what cannot be checked as asked.
    pub fn new(
        loc: JobLocation,
        facts: Option<&JobFacts>,
        request: &Request<'_>,
        retry: RetryPolicy,
    ) -> Result<Plan, HostError> {
        let mut notes = Vec::new();
        let (kind, output_len) = match facts {
            Some(f) => {
                notes.extend(f.notes.iter().cloned());
                (f.kind, f.output_len)
            }
            None => {
                notes.push("DescribeJob skipped (--no-describe-job): checked against the response headers only".into());
                (JobKind::Unknown, None)
            }
        };
        check_range(request.range, output_len)?;
        let mut expected = Vec::new();
        if let Some(d) = request.expected_tree_hash {
            expected.push(Expected::new(
                HashSource::CommandLine,
                d,
                "--expected-tree-hash",
            ));
        }
        if let Some((path, inventory)) = request.inventory {
            expected.push(inventory_hash(path, inventory, facts, kind, request.range)?);
        }
        if let Some((label, digest)) = request.inventory_entry {
            whole_archive_only(kind, request.range)?;
            expected.push(Expected::new(HashSource::Inventory, digest, label));
        }
        if let Some(h) = facts.and_then(|f| f.output_tree_hash) {
            // Of the whole output: it applies only when all of it is saved.
            if request.range.is_none() {
                expected.push(Expected::new(
                    HashSource::DescribeJob,
                    h,
                    format!("{} SHA256TreeHash", request.described_by()),
                ));
            } else {
                notes.push("DescribeJob's SHA256TreeHash covers the whole output, not the --range: not compared".into());
            }
        }
        if request.part_size.is_some() && (request.range.is_some() || output_len.is_none()) {
            notes.push("--part-size ignored: parts need the whole output's length from DescribeJob and no --range; downloaded as one stream".into());
        }
        let part_size = request
            .part_size
            .or(output_len.map(default_part_size))
            .unwrap_or(16 * LEAF_SIZE);
        Ok(Plan {
            loc,
            kind,
            output_len,
            range: request.range,
            expected,
            retry,
            parallel: request.parallel.max(1),
            part_size,
            notes,
        })
    }

    /// Parts when the whole output of known length is larger than one
    /// part; one stream otherwise.
    pub fn mode(&self) -> Mode {
        match (self.range, self.output_len) {
            (None, Some(len)) if len > self.part_size => Mode::ParallelParts,
            _ => Mode::SingleStream,
        }
    }

    /// Bytes the user asked for (the range, or the whole output), when known.
    pub fn target_len(&self) -> Option<u64> {
        match (self.range, self.output_len) {
            (Some(r), Some(len)) => r.resolve(len).ok().map(|r| r.len()),
            (Some(RangeRequest::Closed(r)), None) => Some(r.len()),
            (None, len) => len,
            _ => None,
        }
    }

    /// The expected hashes, for the core.
    pub fn expected_hashes(&self) -> impl Iterator<Item = ExpectedHash> + '_ {
        self.expected.iter().map(|e| e.hash)
    }

    /// How the report names an expected hash's source.
    pub fn label_of(&self, hash: &ExpectedHash) -> String {
        self.expected
            .iter()
            .find(|e| e.hash == *hash)
            .map_or_else(|| hash.source.describe().to_string(), |e| e.label.clone())
    }
}

/// A `--range` must lie inside an output of known length.
fn check_range(range: Option<RangeRequest>, output_len: Option<u64>) -> Result<(), HostError> {
    if let (Some(r), Some(len)) = (range, output_len) {
        r.resolve(len).map_err(|e| {
            HostError::Usage(format!("--range {r}: {e} (the job output is {len} bytes)"))
        })?;
    }
    Ok(())
}

/// An inventory's hash is of the whole archive: it applies only to a
/// download of all of it, from a job that retrieved all of it.
fn inventory_hash(
    path: &Path,
    inventory: &Inventory,
    facts: Option<&JobFacts>,
    kind: JobKind,
    range: Option<RangeRequest>,
) -> Result<Expected, HostError> {
    let id = facts.and_then(|f| f.archive_id.as_deref()).ok_or_else(|| {
        HostError::Usage(
            "--inventory needs the job's ArchiveId from DescribeJob (not with --no-describe-job)"
                .into(),
        )
    })?;
    let entry = inventory.find(id).ok_or_else(|| {
        HostError::Usage(format!(
            "archive {id} is not in the inventory {}",
            path.display()
        ))
    })?;
    whole_archive_only(kind, range)?;
    Ok(Expected::new(
        HashSource::Inventory,
        entry.tree_hash,
        format!("inventory {}", path.display()),
    ))
}

/// An inventory's hash is of the whole archive: refused for a `--range`
/// or a job that retrieved only part of the archive.
fn whole_archive_only(kind: JobKind, range: Option<RangeRequest>) -> Result<(), HostError> {
    if range.is_some() {
        return Err(HostError::Usage(
            "--inventory gives the whole archive's tree hash; it cannot check a --range download"
                .into(),
        ));
    }
    if let JobKind::Archive {
        archive_size,
        retrieval,
    } = kind
        && ByteRange::whole(archive_size) != Some(retrieval)
    {
        return Err(HostError::Usage(format!(
            "--inventory gives the whole archive's tree hash; this job retrieved only bytes {retrieval} of {archive_size}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
