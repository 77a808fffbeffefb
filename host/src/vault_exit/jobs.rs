//! The Glacier calls of vault-exit's job stages: InitiateJob for an
//! archive (tagged with [`JOB_DESCRIPTION`](super::JOB_DESCRIPTION)) and
//! ListJobs page by page (one listing answers for every job, where
//! DescribeJob would cost a request per archive).

use serde_json::{Value, json};

use crate::client::{Client, RequestFailure};
use crate::download::RetryPolicy;
use crate::error::HostError;
use crate::jobs::{Permission, fetch, path, with_query};

/// A vault of an account.
#[derive(Clone, Debug)]
pub struct Vault {
    /// `-` or the 12-digit id.
    pub account: String,
    /// Its name.
    pub name: String,
}

/// Calls InitiateJob for an archive retrieval; returns the job id.
pub fn initiate_archive(
    c: &Client,
    v: &Vault,
    archive_id: &str,
    tier: &str,
) -> Result<String, RequestFailure> {
    let body = json!({
        "Type": "archive-retrieval",
        "ArchiveId": archive_id,
        "Tier": tier,
        "Description": super::JOB_DESCRIPTION,
    });
    initiate(c, v, &body)
}

/// Calls InitiateJob for a JSON inventory; returns the job id.
pub fn initiate_inventory(c: &Client, v: &Vault) -> Result<String, RequestFailure> {
    let body = json!({
        "Type": "inventory-retrieval",
        "Format": "JSON",
        "Description": INVENTORY_DESCRIPTION,
    });
    initiate(c, v, &body)
}

/// The `JobDescription` of the inventory jobs vault-exit initiates.
pub const INVENTORY_DESCRIPTION: &str = "glacier-verify vault-exit inventory";

fn initiate(c: &Client, v: &Vault, body: &Value) -> Result<String, RequestFailure> {
    let target = path(&v.account, &["vaults", &v.name, "jobs"]);
    let out = c.initiate_job(&target, body.to_string().as_bytes())?;
    Ok(out["jobId"].as_str().unwrap_or_default().to_owned())
}

/// Every job of the vault (only the completed ones with `completed`),
/// page by page, each page retried like any read-only request; `each`
/// sees every job description.
pub fn list_jobs(
    c: &Client,
    v: &Vault,
    completed: bool,
    retry: &RetryPolicy,
    mut each: impl FnMut(&Value) -> Result<(), HostError>,
) -> Result<(), HostError> {
    let base = path(&v.account, &["vaults", &v.name, "jobs"]);
    let permission =
        Permission::on_vault("glacier:ListJobs", &c.config().region, &v.account, &v.name);
    let mut marker: Option<String> = None;
    loop {
        let target = with_query(
            &base,
            &[
                ("completed", completed.then_some("true")),
                ("marker", marker.as_deref()),
            ],
        );
        let page = fetch(c, &target, "ListJobs", &permission, retry)?;
        let Some(list) = page.get("JobList").and_then(Value::as_array) else {
            return Err(HostError::Protocol {
                request: "ListJobs".into(),
                source: ureq::Error::Other("the answer has no JobList".into()),
            });
        };
        for job in list {
            each(job)?;
        }
        match page.get("Marker").and_then(Value::as_str) {
            Some(m) if marker.as_deref() != Some(m) => marker = Some(m.to_owned()),
            _ => return Ok(()),
        }
    }
}

/// A text field of a job description.
pub fn text<'a>(job: &'a Value, key: &str) -> Option<&'a str> {
    job.get(key).and_then(Value::as_str)
}
