//! ListJobs (docs/protocol.md §12): a vault's jobs, filtered by
//! `completed` and `statuscode`, at most 50 a page; and InitiateJob, whose
//! inventory retrievals may be ranged ([`inventory_range`]).

use std::time::Instant;

use glacier_verify_core::{ByteRange, is_megabyte_aligned};
use serde_json::{Value, json};

use super::describe::job_fields;
use super::vaults::{Query, invalid_marker, marker_key, marker_of, page_limit};
use super::{Reply, inventory_range};
use crate::inventory::InventoryFormat;
use crate::job::{Job, Output};
use crate::server::Shared;

/// ListJobs' page size when the request sets no `limit`, and its largest
/// (a larger `limit` is served this many).
pub(crate) const MAX_JOBS_PER_PAGE: usize = 50;

/// ListJobs for a vault that exists.
pub(super) fn list_jobs(shared: &Shared, vault: &str, query: &Query) -> Reply {
    let completed = match query.completed.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return invalid("completed", other),
    };
    let status = query.statuscode.as_deref();
    if let Some(s) = status
        && !["InProgress", "Succeeded", "Failed"].contains(&s)
    {
        return invalid("statuscode", s);
    }
    let (limit, marker) = match (page_limit(query, MAX_JOBS_PER_PAGE), marker_key(query)) {
        (Ok(l), Ok(m)) => (l, m),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    // Filtered on the job's state, from the marker's job on, and only
    // the page rendered: a page costs its own jobs, not a pass over every
    // job of the vault.
    let keep = |j: &Job| {
        let (c, s) = listed_status(j);
        completed.is_none_or(|want| c == want) && status.is_none_or(|want| s == want)
    };
    let Some((jobs, next)) = shared.jobs_page(vault, marker.as_deref(), limit, keep) else {
        return invalid_marker(query.marker.as_deref().unwrap_or_default());
    };
    let list: Vec<Value> = jobs.iter().map(|j| job_fields(shared, j)).collect();
    let marker = next.map(|id| marker_of(&id));
    Reply::json(200, &json!({ "JobList": list, "Marker": marker }))
}

/// `Completed` and `StatusCode` as [`job_fields`] gives them.
fn listed_status(job: &Job) -> (bool, &'static str) {
    let state = job.lock();
    let failed = state.failed.is_some();
    let completed = state.completed || failed;
    let status = if failed {
        "Failed"
    } else if completed {
        "Succeeded"
    } else {
        "InProgress"
    };
    (completed, status)
}

fn invalid(name: &str, value: &str) -> Reply {
    Reply::json_error(
        400,
        "InvalidParameterValueException",
        &format!("Invalid {name} value: {value}"),
    )
}

/// InitiateJob (docs/protocol.md §5.2) for a vault that exists: an
/// archive retrieval of one of its archives or an inventory retrieval,
/// completing after the tier's delay ([`crate::Endpoint::set_tier_delay`]).
pub(super) fn initiate_job(shared: &Shared, vault: &str, body: &[u8]) -> Reply {
    let params: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return invalid_body("the body is not a JSON object"),
    };
    let text = |k: &str| params.get(k).and_then(Value::as_str);
    let tier = text("Tier").unwrap_or("Standard");
    if !["Expedited", "Standard", "Bulk"].contains(&tier) {
        return invalid("Tier", tier);
    }
    let description = text("Description").map(str::to_owned);
    let output = match text("Type") {
        Some("archive-retrieval") => match archive_output(shared, vault, &params) {
            Ok(o) => o,
            Err(reply) => return reply,
        },
        Some("inventory-retrieval") => {
            let format = match text("Format").unwrap_or("JSON") {
                "JSON" => InventoryFormat::Json,
                "CSV" => InventoryFormat::Csv,
                other => return invalid("Format", other),
            };
            let (entries, range) = match inventory_range::select(shared, vault, &params) {
                Ok(selected) => selected,
                Err(reply) => return reply,
            };
            Output::Inventory {
                body: shared.vault_inventory(vault, format, &entries),
                format,
                range,
            }
        }
        Some(other) => return invalid("Type", other),
        None => {
            return Reply::json_error(
                400,
                "MissingParameterValueException",
                "Required parameter Type is missing",
            );
        }
    };
    let id = shared.next_job_id();
    let delay = shared.tier_delay(tier);
    let job = Job::new(
        id.clone(),
        vault.to_owned(),
        output,
        tier.to_owned(),
        description,
        false,
    );
    let job = shared.initiate_book.on_initiated(job);
    shared.insert_initiated(job, Instant::now() + delay);
    let location = format!(
        "/{}/vaults/{}/jobs/{id}",
        shared.account_id,
        glacier_verify_sigv4::uri_encode(vault)
    );
    Reply::Simple {
        status: 202,
        headers: vec![("Location".into(), location), ("x-amz-job-id".into(), id)],
        body: Vec::new(),
        interim: false,
    }
}

/// The output of an archive retrieval: the archive, or the megabyte-aligned
/// `RetrievalByteRange` of it.
fn archive_output(shared: &Shared, vault: &str, params: &Value) -> Result<Output, Reply> {
    let Some(archive_id) = params.get("ArchiveId").and_then(Value::as_str) else {
        return Err(Reply::json_error(
            400,
            "MissingParameterValueException",
            "Required parameter ArchiveId is missing",
        ));
    };
    let (payload, leaves, description) = shared.archive(vault, archive_id).ok_or_else(|| {
        Reply::json_error(
            404,
            "ResourceNotFoundException",
            &format!("Archive not found: {archive_id}"),
        )
    })?;
    let size = payload.len();
    let whole = ByteRange::whole(size).ok_or_else(|| invalid("ArchiveId", archive_id))?;
    let retrieval = match params.get("RetrievalByteRange").and_then(Value::as_str) {
        None => whole,
        Some(text) => text
            .split_once('-')
            .and_then(|(a, b)| ByteRange::new(a.parse().ok()?, b.parse().ok()?).ok())
            .filter(|r| is_megabyte_aligned(*r, size))
            .ok_or_else(|| invalid("RetrievalByteRange", text))?,
    };
    Ok(Output::Archive {
        payload,
        leaves,
        archive_id: archive_id.to_owned(),
        description,
        retrieval,
    })
}

fn invalid_body(why: &str) -> Reply {
    Reply::json_error(400, "InvalidParameterValueException", why)
}
