//! ListJobs (docs/protocol.md §12): a vault's jobs, filtered by
//! `completed` and `statuscode`, at most 50 a page.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Reply;
use super::describe::job_fields;
use super::vaults::{Page, Query};
use crate::job::Job;
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
    let jobs: Vec<(Arc<Job>, Value)> = shared
        .jobs_in(vault)
        .into_iter()
        .map(|j| {
            let v = job_fields(shared, &j);
            (j, v)
        })
        .filter(|(_, v)| completed.is_none_or(|c| v["Completed"] == c))
        .filter(|(_, v)| status.is_none_or(|s| v["StatusCode"] == s))
        .collect();
    let page = match Page::of(&jobs, |(j, _)| j.id.as_str(), query, MAX_JOBS_PER_PAGE) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let list: Vec<&Value> = page.items.iter().map(|(_, v)| v).collect();
    Reply::json(200, &json!({ "JobList": list, "Marker": page.marker }))
}

fn invalid(name: &str, value: &str) -> Reply {
    Reply::json_error(
        400,
        "InvalidParameterValueException",
        &format!("Invalid {name} value: {value}"),
    )
}
