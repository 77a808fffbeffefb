//! DescribeJob: the job's JSON description.

use std::sync::Arc;
use std::time::Duration;

use glacier_verify_core::{ByteRange, Digest, is_tree_hash_aligned};
use serde_json::{Value, json};

#[cfg(feature = "faults")]
use super::faults::FaultPlan;
use super::{Reply, RouteInfo};
use crate::http;
use crate::inventory::InventoryFormat;
use crate::job::{InventoryRange, Job, LeafCell, Output};
use crate::payload::{Payload, fold_leaves, range_tree_hash};
use crate::server::Shared;

/// The hashes DescribeJob reports for an archive job.
#[derive(Clone, Copy)]
pub(crate) struct ArchiveHashes {
    /// `ArchiveSHA256TreeHash`.
    pub archive: Digest,
    /// `SHA256TreeHash`: null for a retrieval range that is not tree-hash aligned.
    pub range: Option<Digest>,
    /// Whether the whole archive is retrieved.
    #[cfg(feature = "faults")]
    pub whole: bool,
}

impl ArchiveHashes {
    fn of(payload: &Payload, leaves: &LeafCell, retrieval: ByteRange) -> Self {
        let size = payload.len();
        let leaves = leaves.get_or_init(|| payload.leaf_hashes().into());
        // docs/protocol.md §5.1: null for a range that is not tree-hash aligned.
        let range = is_tree_hash_aligned(retrieval, size)
            .then(|| range_tree_hash(payload, leaves, retrieval.first(), retrieval.end()));
        ArchiveHashes {
            archive: fold_leaves(leaves),
            range,
            #[cfg(feature = "faults")]
            whole: retrieval.first() == 0 && retrieval.len() == size,
        }
    }
}

/// DescribeJob (docs/protocol.md §5.1).
pub(super) fn describe_job(shared: &Shared, job: &Arc<Job>, info: &mut RouteInfo) -> Reply {
    let begun = job.begin(None);
    info.attempt = begun.attempt;
    #[cfg(feature = "faults")]
    let plan = FaultPlan::new(&begun.faults);
    #[cfg(feature = "faults")]
    info.faults.clone_from(&begun.faults);
    #[cfg(feature = "faults")]
    if let Some(reply) = plan.describe_error(job) {
        return reply;
    }
    let completed = begun.completed;
    #[cfg(feature = "faults")]
    let completed = completed && !plan.describe_in_progress;
    let mut v = common_fields(shared, job, completed);
    let fields = match &job.output {
        Output::Archive {
            payload,
            leaves,
            archive_id,
            retrieval,
            ..
        } => {
            let hashes = ArchiveHashes::of(payload, leaves, *retrieval);
            #[cfg(feature = "faults")]
            let hashes = plan.apply_to_describe_hashes(hashes);
            archive_fields(payload.len(), archive_id, *retrieval, hashes)
        }
        Output::Inventory {
            body,
            format,
            range,
        } => inventory_fields(completed.then_some(body.len() as u64), *format, range),
    };
    if let Value::Object(map) = &mut v {
        for (k, val) in fields {
            map.insert(k.to_owned(), val);
        }
    }
    #[cfg(feature = "faults")]
    plan.apply_to_describe(&mut v);
    let reply = Reply::json(200, &v);
    #[cfg(feature = "faults")]
    let reply = reply.after_interim(plan.interim);
    reply
}

/// The fields every job has.
fn common_fields(shared: &Shared, job: &Job, completed: bool) -> Value {
    let created = http::iso8601(job.created);
    let (failed, completed_at) = {
        let state = job.lock();
        (state.failed.clone(), state.completed_at)
    };
    let completion =
        http::iso8601(completed_at.map_or(job.created + Duration::from_millis(1), |(_, at)| at));
    let completed = completed || failed.is_some();
    let (status, message) = match &failed {
        Some(m) => ("Failed", m.as_str()),
        None if completed => ("Succeeded", "Succeeded"),
        None => ("InProgress", "Operation in progress."),
    };
    json!({
        "JobId": job.id,
        "JobDescription": job.job_description,
        "Completed": completed,
        "StatusCode": status,
        "StatusMessage": message,
        "CreationDate": created,
        "CompletionDate": if completed { Value::from(completion) } else { Value::Null },
        "Tier": job.tier,
        "VaultARN": shared.vault_arn(&job.vault),
        "SNSTopic": Value::Null,
    })
}

/// The fields of an archive-retrieval job.
fn archive_fields(
    size: u64,
    archive_id: &str,
    retrieval: ByteRange,
    hashes: ArchiveHashes,
) -> Vec<(&'static str, Value)> {
    vec![
        ("Action", "ArchiveRetrieval".into()),
        ("ArchiveId", archive_id.into()),
        ("ArchiveSizeInBytes", size.into()),
        ("ArchiveSHA256TreeHash", hashes.archive.to_string().into()),
        ("RetrievalByteRange", retrieval.to_string().into()),
        (
            "SHA256TreeHash",
            hashes.range.map_or(Value::Null, |h| h.to_string().into()),
        ),
        ("InventorySizeInBytes", Value::Null),
        ("InventoryRetrievalParameters", Value::Null),
    ]
}

/// The fields of an inventory-retrieval job; `size` is `None` until it
/// completes, and so is the next page's `Marker` (Glacier gives it "after
/// a job is complete").
fn inventory_fields(
    size: Option<u64>,
    format: InventoryFormat,
    range: &InventoryRange,
) -> Vec<(&'static str, Value)> {
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
    let marker = size.and(range.next_marker.clone());
    vec![
        ("Action", "InventoryRetrieval".into()),
        ("ArchiveId", Value::Null),
        ("ArchiveSizeInBytes", Value::Null),
        ("ArchiveSHA256TreeHash", Value::Null),
        ("RetrievalByteRange", Value::Null),
        ("SHA256TreeHash", Value::Null),
        (
            "InventorySizeInBytes",
            size.map_or(Value::Null, Value::from),
        ),
        (
            "InventoryRetrievalParameters",
            json!({
                "Format": format.name(),
                "StartDate": text(&range.start_date),
                "EndDate": text(&range.end_date),
                "Limit": text(&range.limit),
                "Marker": marker,
            }),
        ),
    ]
}

/// A job's DescribeJob fields as ListJobs lists them: no attempt counted,
/// no fault applied.
pub(super) fn job_fields(shared: &Shared, job: &Job) -> Value {
    let completed = job.lock().completed;
    let mut v = common_fields(shared, job, completed);
    let fields = match &job.output {
        Output::Archive {
            payload,
            leaves,
            archive_id,
            retrieval,
            ..
        } => {
            let hashes = ArchiveHashes::of(payload, leaves, *retrieval);
            archive_fields(payload.len(), archive_id, *retrieval, hashes)
        }
        Output::Inventory {
            body,
            format,
            range,
        } => inventory_fields(completed.then_some(body.len() as u64), *format, range),
    };
    if let Value::Object(map) = &mut v {
        for (k, val) in fields {
            map.insert(k.to_owned(), val);
        }
    }
    v
}
