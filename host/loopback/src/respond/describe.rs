//! DescribeJob (SPEC §5.1): the job's JSON description.

use std::sync::Arc;
use std::time::Duration;

use glacier_verify_core::{ByteRange, is_tree_hash_aligned};
use serde_json::{Value, json};

use super::faults::{FaultPlan, spoil};
use super::{Reply, RouteInfo};
use crate::http;
use crate::inventory::InventoryFormat;
use crate::job::{Job, LeafCell, Output};
use crate::payload::{Payload, fold_leaves, range_tree_hash};
use crate::server::Shared;

/// DescribeJob (SPEC §5.1).
pub(super) fn describe_job(shared: &Shared, job: &Arc<Job>, info: &mut RouteInfo) -> Reply {
    let begun = job.begin(None);
    info.attempt = begun.attempt;
    let plan = FaultPlan::new(&begun.faults);
    if let Some(reply) = plan.describe_error(job) {
        info.faults = begun.faults;
        return reply;
    }
    let completed = begun.completed && !plan.describe_in_progress;
    let hash_wrong = plan.describe_hash_wrong;
    info.faults = begun.faults;
    let mut v = common_fields(shared, job, completed);
    let fields = match &job.output {
        Output::Archive {
            payload,
            leaves,
            archive_id,
            retrieval,
            ..
        } => archive_fields(payload, leaves, archive_id, *retrieval, hash_wrong),
        Output::Inventory { body, format } => {
            inventory_fields(completed.then_some(body.len() as u64), *format)
        }
    };
    if let Value::Object(map) = &mut v {
        for (k, val) in fields {
            map.insert(k.to_owned(), val);
        }
    }
    Reply::json(200, &v)
}

/// The fields every job has.
fn common_fields(shared: &Shared, job: &Job, completed: bool) -> Value {
    let created = http::iso8601(job.created);
    let completion = http::iso8601(job.created + Duration::from_millis(1));
    json!({
        "JobId": job.id,
        "JobDescription": job.job_description,
        "Completed": completed,
        "StatusCode": if completed { "Succeeded" } else { "InProgress" },
        "StatusMessage": if completed { "Succeeded" } else { "Operation in progress." },
        "CreationDate": created,
        "CompletionDate": if completed { Value::from(completion) } else { Value::Null },
        "Tier": job.tier,
        "VaultARN": shared.vault_arn(&job.vault),
        "SNSTopic": Value::Null,
    })
}

/// The fields of an archive-retrieval job; `hash_wrong` spoils its hashes.
fn archive_fields(
    payload: &Payload,
    leaves: &LeafCell,
    archive_id: &str,
    retrieval: ByteRange,
    hash_wrong: bool,
) -> Vec<(&'static str, Value)> {
    let size = payload.len();
    let leaves = leaves.get_or_init(|| payload.leaf_hashes().into());
    let whole = retrieval.first() == 0 && retrieval.len() == size;
    let mut archive_hash = fold_leaves(leaves);
    // SPEC §5.1: null for a range that is not tree-hash aligned.
    let mut range_hash = is_tree_hash_aligned(retrieval, size)
        .then(|| range_tree_hash(payload, leaves, retrieval.first(), retrieval.end()));
    if hash_wrong {
        range_hash = range_hash.map(spoil);
        if whole {
            archive_hash = spoil(archive_hash);
        }
    }
    vec![
        ("Action", "ArchiveRetrieval".into()),
        ("ArchiveId", archive_id.into()),
        ("ArchiveSizeInBytes", size.into()),
        ("ArchiveSHA256TreeHash", archive_hash.to_string().into()),
        ("RetrievalByteRange", retrieval.to_string().into()),
        (
            "SHA256TreeHash",
            range_hash.map_or(Value::Null, |h| h.to_string().into()),
        ),
        ("InventorySizeInBytes", Value::Null),
        ("InventoryRetrievalParameters", Value::Null),
    ]
}

/// The fields of an inventory-retrieval job; `size` is `None` until it completes.
fn inventory_fields(size: Option<u64>, format: InventoryFormat) -> Vec<(&'static str, Value)> {
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
                "StartDate": Value::Null,
                "EndDate": Value::Null,
                "Limit": Value::Null,
                "Marker": Value::Null,
            }),
        ),
    ]
}
