//! Range inventory retrieval (docs/protocol.md §5.2): InitiateJob's
//! `InventoryRetrievalParameters` select the archives created on or after
//! `StartDate` and before `EndDate`, at most `Limit` of them from `Marker`
//! on; once the job completes, DescribeJob's `Marker` is where the next
//! InitiateJob continues ("Range Inventory Retrieval",
//! <https://docs.aws.amazon.com/amazonglacier/latest/dev/api-initiate-job-post.html>).

use std::time::SystemTime;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Reply;
use super::vaults::{Page, Query};
use crate::inventory::InventoryEntry;
use crate::job::InventoryRange;
use crate::server::Shared;

/// The inventory entries an inventory retrieval of `vault` lists, in the
/// vault's order, and its parameters as DescribeJob shows them; a 400
/// InvalidParameterValueException for parameters Glacier would refuse.
pub(super) fn select(
    shared: &Shared,
    vault: &str,
    job_parameters: &Value,
) -> Result<(Vec<InventoryEntry>, InventoryRange), Reply> {
    let params = match job_parameters.get("InventoryRetrievalParameters") {
        None | Some(Value::Null) => &Value::Null,
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(invalid("InventoryRetrievalParameters must be an object")),
    };
    let start_date = text(params, "StartDate")?;
    let end_date = text(params, "EndDate")?;
    let limit = text(params, "Limit")?;
    let marker = text(params, "Marker")?;
    let start = start_date
        .as_deref()
        .map(|d| instant("StartDate", d))
        .transpose()?;
    let end = end_date
        .as_deref()
        .map(|d| instant("EndDate", d))
        .transpose()?;
    let archives: Vec<InventoryEntry> = shared
        .vault_archives(vault)
        .into_iter()
        .filter(|(created, _)| start.is_none_or(|s| *created >= s))
        .filter(|(created, _)| end.is_none_or(|e| *created < e))
        .map(|(_, entry)| entry)
        .collect();
    let query = Query {
        limit: limit.clone(),
        marker,
        ..Query::default()
    };
    let page = Page::of(&archives, |e| e.archive_id.as_str(), &query, usize::MAX)?;
    let range = InventoryRange {
        start_date,
        end_date,
        limit,
        next_marker: page.marker,
    };
    Ok((page.items.to_vec(), range))
}

/// A string field of the parameters (Glacier's model types them all as strings).
fn text(params: &Value, name: &str) -> Result<Option<String>, Reply> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(&format!(
            "Invalid {name}: {other} (a string is expected)"
        ))),
    }
}

/// An ISO 8601 date-time with its offset (`2013-03-20T17:03:43Z`).
fn instant(name: &str, value: &str) -> Result<SystemTime, Reply> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| {
            invalid(&format!(
                "Invalid {name}: {value} (expected ISO 8601 such as 2013-03-20T17:03:43Z)"
            ))
        })
}

fn invalid(message: &str) -> Reply {
    Reply::json_error(400, "InvalidParameterValueException", message)
}
