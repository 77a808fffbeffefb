//! `initiate-job` (docs/protocol.md §5.2, §12): the AWS CLI's
//! `--job-parameters JSON|file://F`, or flags for an archive or inventory
//! retrieval (a range inventory retrieval with dates, a limit and a
//! marker); what Glacier would refuse is refused before the request.

use std::path::Path;

use clap::{ArgGroup, Args};
use glacier_verify_core::{ByteRange, MAX_DESCRIPTION_LEN, MIB, RetryClass, is_tree_hash_aligned};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Permission, path, print_json};
use crate::client::{Client, RequestFailure};
use crate::download::{Log, RetryPolicy};
use crate::error::{HostError, exit};

/// Length of a Glacier archive id (base64url characters).
pub const ARCHIVE_ID_LEN: usize = 138;

/// What the inventory options cannot be used with. (`requires =
/// "inventory"` would not do: a flag's default `false` satisfies clap's
/// `requires`; with neither of these, the `job` group needs `--inventory`.)
const INVENTORY_ONLY: [&str; 2] = ["archive_id", "job_parameters"];

/// `aws glacier initiate-job`'s options, and flags for the common jobs.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("job").required(true).args(["job_parameters", "archive_id", "inventory"])))]
pub struct InitiateJobArgs {
    /// Vault name.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    vault_name: String,
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = crate::cli::parse_account_id)]
    account_id: String,
    /// The JobParameters as JSON, or `file://PATH` to read them from a file (no shorthand syntax).
    #[arg(long, value_name = "JSON|file://PATH")]
    job_parameters: Option<String>,
    /// Retrieve this archive (138 characters of base64url).
    #[arg(long)]
    archive_id: Option<String>,
    /// Retrieval tier of the archive job.
    #[arg(long, requires = "archive_id", value_parser = ["Expedited", "Standard", "Bulk"])]
    tier: Option<String>,
    /// Retrieve only these bytes of the archive: bytes=FIRST-LAST, megabyte aligned.
    #[arg(long, requires = "archive_id")]
    range: Option<String>,
    /// Job description (at most 1024 printable ASCII characters).
    #[arg(long, conflicts_with = "job_parameters")]
    description: Option<String>,
    /// SNS topic ARN to notify when the job completes.
    #[arg(long, conflicts_with = "job_parameters")]
    sns_topic: Option<String>,
    /// Retrieve the vault's inventory instead of an archive.
    #[arg(long, conflicts_with = "archive_id")]
    inventory: bool,
    /// Inventory format.
    #[arg(long, conflicts_with_all = INVENTORY_ONLY, value_parser = ["JSON", "CSV"])]
    format: Option<String>,
    /// Inventory: only archives created at or after this time (ISO 8601 in seconds, e.g. 2013-03-20T17:03:43Z).
    #[arg(long, conflicts_with_all = INVENTORY_ONLY, value_name = "DATE")]
    start_date: Option<String>,
    /// Inventory: only archives created before this time (ISO 8601 in seconds).
    #[arg(long, conflicts_with_all = INVENTORY_ONLY, value_name = "DATE")]
    end_date: Option<String>,
    /// Inventory: at most this many archives; the job's DescribeJob then gives the Marker of the rest.
    #[arg(long, conflicts_with_all = INVENTORY_ONLY, value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Inventory: continue from this Marker (from an earlier inventory job's DescribeJob).
    #[arg(long, conflicts_with_all = INVENTORY_ONLY)]
    marker: Option<String>,
}

/// Runs `initiate-job`.
pub fn run(c: &Client, a: &InitiateJobArgs) -> Result<i32, HostError> {
    let params = job_parameters(a)?;
    for warning in check(&params)? {
        eprintln!("glacier-verify: warning: {warning}");
    }
    let body = serde_json::to_vec(&params).unwrap_or_default();
    let permission = Permission::on_vault(
        "glacier:InitiateJob",
        &c.config().region,
        &a.account_id,
        &a.vault_name,
    );
    let target = path(&a.account_id, &["vaults", &a.vault_name, "jobs"]);
    let retry = RetryPolicy::standard();
    let unreported = Log::default();
    let mut attempt = 0u32;
    // Retried like the SDKs retry it; an attempt that may have started a
    // job is said so, since a retry can then start a second one.
    let mut uncertain = 0u32;
    let outcome = loop {
        attempt += 1;
        match c.initiate_job(&target, &body) {
            Ok(v) => break Ok(v),
            Err(f) => {
                uncertain += u32::from(may_have_started_a_job(&f));
                if let Err(e) = retry.after_failure(f, attempt, "InitiateJob ", &unreported) {
                    break Err(permission.explain(e));
                }
            }
        }
    };
    if uncertain > 0 {
        eprintln!(
            "glacier-verify: warning: {uncertain} InitiateJob attempt(s) failed after the request may have reached Glacier; \
             each may have started a job too: see `list-jobs --vault-name {} --completed false`",
            a.vault_name
        );
    }
    print_json(&outcome?)?;
    Ok(exit::OK)
}

/// Whether a failed InitiateJob may still have started a job: Glacier
/// answered 5xx or 408, or the connection failed once the request could
/// have reached it. A throttled request, a refusal and a connection that
/// was never made started none.
fn may_have_started_a_job(f: &RequestFailure) -> bool {
    if f.class != RetryClass::Transient {
        return false;
    }
    match &f.error {
        HostError::Http { source, .. } => !matches!(
            source,
            ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
                | ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect)
        ),
        _ => true,
    }
}

/// The JobParameters object: given, or built from the flags.
fn job_parameters(a: &InitiateJobArgs) -> Result<Value, HostError> {
    if let Some(text) = &a.job_parameters {
        let text = match text.strip_prefix("file://") {
            Some(p) => std::fs::read_to_string(p).map_err(|e| HostError::io(Path::new(p), e))?,
            None => text.clone(),
        };
        return match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(HostError::Usage(
                "--job-parameters: expected a JSON object (shorthand syntax is not supported)"
                    .into(),
            )),
        };
    }
    let mut m = Map::new();
    let mut set = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::String(v.clone()));
        }
    };
    if a.inventory {
        set("Type", Some(&"inventory-retrieval".to_owned()));
        set("Format", a.format.as_ref());
    } else {
        set("Type", Some(&"archive-retrieval".to_owned()));
        set("ArchiveId", a.archive_id.as_ref());
        set("Tier", a.tier.as_ref());
        let range = a
            .range
            .as_deref()
            .map(|r| r.strip_prefix("bytes=").unwrap_or(r).to_owned());
        set("RetrievalByteRange", range.as_ref());
    }
    set("Description", a.description.as_ref());
    set("SNSTopic", a.sns_topic.as_ref());
    if let Some(range) = inventory_range(a) {
        m.insert("InventoryRetrievalParameters".into(), range);
    }
    Ok(Value::Object(m))
}

/// `InventoryRetrievalParameters` from the flags; `None` when none is set.
/// Every value is a string, as in Glacier's model (`Limit` too).
fn inventory_range(a: &InitiateJobArgs) -> Option<Value> {
    let mut m = Map::new();
    let fields = [
        ("StartDate", a.start_date.clone()),
        ("EndDate", a.end_date.clone()),
        ("Limit", a.limit.map(|l| l.to_string())),
        ("Marker", a.marker.clone()),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::String(v));
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// What Glacier would refuse, as a usage error; else the warnings.
pub fn check(params: &Value) -> Result<Vec<String>, HostError> {
    let text = |k: &str| params.get(k).and_then(Value::as_str);
    let mut warnings = Vec::new();
    if let Some(d) = text("Description") {
        check_description(d)?;
    }
    if let Some(id) = text("ArchiveId") {
        warnings.extend(check_archive_id(id)?);
    }
    if let Some(range) = params.get("InventoryRetrievalParameters") {
        check_inventory_range(range)?;
    }
    if let Some(r) = text("RetrievalByteRange") {
        warnings.extend(check_range(r)?);
    }
    Ok(warnings)
}

fn check_description(d: &str) -> Result<(), HostError> {
    if d.len() > MAX_DESCRIPTION_LEN {
        return Err(HostError::Usage(format!(
            "the description has {} bytes; Glacier takes at most {MAX_DESCRIPTION_LEN}",
            d.len()
        )));
    }
    if !d.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(HostError::Usage(
            "the description must be printable ASCII (space to ~)".into(),
        ));
    }
    Ok(())
}

/// `InventoryRetrievalParameters` (docs/protocol.md §5.2): string fields;
/// `StartDate` and `EndDate` ISO 8601 date-times in seconds with their
/// offset (`2013-03-20T17:03:43Z`), the start before the end (archives
/// created at or after the start and before the end are listed); `Limit`
/// a positive integer.
fn check_inventory_range(range: &Value) -> Result<(), HostError> {
    let Value::Object(fields) = range else {
        return Err(HostError::Usage(
            "InventoryRetrievalParameters must be a JSON object".into(),
        ));
    };
    let text = |k: &str| -> Result<Option<&str>, HostError> {
        match fields.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(HostError::Usage(format!(
                "InventoryRetrievalParameters.{k} must be a string (got {other}); Glacier's model types it so"
            ))),
        }
    };
    let start = text("StartDate")?
        .map(|d| inventory_date("start", d))
        .transpose()?;
    let end = text("EndDate")?
        .map(|d| inventory_date("end", d))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        return Err(HostError::Usage(format!(
            "the inventory's start date {} is not before its end date {}: no archive was created at or after the one and before the other",
            text("StartDate")?.unwrap_or_default(),
            text("EndDate")?.unwrap_or_default()
        )));
    }
    if let Some(l) = text("Limit")?
        && !(l.bytes().all(|b| b.is_ascii_digit()) && l.parse::<u64>().is_ok_and(|n| n >= 1))
    {
        return Err(HostError::Usage(format!(
            "the inventory limit must be a positive integer (got {l:?})"
        )));
    }
    text("Marker")?;
    Ok(())
}

/// One of the inventory's dates; `which` is `start` or `end`.
fn inventory_date(which: &str, text: &str) -> Result<OffsetDateTime, HostError> {
    let bad = || {
        HostError::Usage(format!(
            "the inventory's {which} date {text:?} is not an ISO 8601 date-time in seconds with its offset, such as 2013-03-20T17:03:43Z"
        ))
    };
    // Glacier takes whole seconds ("YYYY-MM-DDThh:mm:ssTZD").
    if text.contains('.') {
        return Err(bad());
    }
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad())
}

/// An archive id is base64url, or no service's (refused); Glacier's are
/// 138 characters long, a Glacier-compatible endpoint's may not be (moto's
/// are 32 hex digits): another length is only warned about.
fn check_archive_id(id: &str) -> Result<Option<String>, HostError> {
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if id.is_empty() || !id.bytes().all(base64url) {
        return Err(HostError::Usage(format!(
            "malformed archive id {id:?}: archive ids are base64url (Glacier's are {ARCHIVE_ID_LEN} characters of it)"
        )));
    }
    Ok((id.len() != ARCHIVE_ID_LEN).then(|| {
        format!(
            "the archive id has {} characters; Glacier's have {ARCHIVE_ID_LEN} (Glacier will not know it, an emulator may)",
            id.len()
        )
    }))
}

/// `FIRST-LAST`: the start must be a multiple of 1 MiB; an end inside a
/// megabyte is only accepted by Glacier as the archive's last byte, which
/// the client cannot know: warned about, like a range that gets no checksum.
fn check_range(text: &str) -> Result<Vec<String>, HostError> {
    let bad = || {
        HostError::Usage(format!(
            "the retrieval range must be FIRST-LAST in bytes, FIRST <= LAST (got {text:?})"
        ))
    };
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let range = ByteRange::new(a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)
        .map_err(|_| bad())?;
    if !range.first().is_multiple_of(MIB) {
        return Err(HostError::Usage(format!(
            "the retrieval range {text} does not start at a multiple of 1 MiB; Glacier refuses it"
        )));
    }
    let mut warnings = Vec::new();
    if !range.end().is_multiple_of(MIB) {
        warnings.push(format!(
            "the retrieval range {text} does not end at a megabyte boundary: Glacier accepts it only if byte {} is the archive's last",
            range.last()
        ));
    } else if !is_tree_hash_aligned(range, u64::MAX) {
        warnings.push(format!(
            "the retrieval range {text} is not tree-hash aligned (unless it runs to the archive's end): Glacier returns no checksum for it"
        ));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Result<Vec<String>, HostError> {
        check(&v)
    }

    #[test]
    fn descriptions_and_archive_ids() {
        let id = "A".repeat(ARCHIVE_ID_LEN);
        assert!(
            params(serde_json::json!({"ArchiveId": id, "Description": "x".repeat(1024)})).is_ok()
        );
        assert!(params(serde_json::json!({"Description": "x".repeat(1025)})).is_err());
        assert!(params(serde_json::json!({"Description": "tab\there"})).is_err());
        assert!(params(serde_json::json!({"Description": "é"})).is_err());
        let short = params(serde_json::json!({"ArchiveId": "0cc175b9c0f1b6a831c399e269772661"}));
        assert!(short.unwrap()[0].contains("138"));
        assert!(params(serde_json::json!({"ArchiveId": ""})).is_err());
        assert!(params(serde_json::json!({"ArchiveId": "with space"})).is_err());
        // `selftest --serve`'s archive, which the README retrieves.
        assert!(
            params(serde_json::json!({"ArchiveId": crate::selftest::SERVED_ARCHIVE_ID})).is_ok()
        );
        let plus = format!("{}+", "A".repeat(ARCHIVE_ID_LEN - 1));
        assert!(params(serde_json::json!({"ArchiveId": plus})).is_err());
    }

    #[test]
    fn ranges() {
        let r = |s: &str| params(serde_json::json!({"RetrievalByteRange": s}));
        assert_eq!(r("0-1048575").unwrap(), Vec::<String>::new());
        assert_eq!(r("2097152-4194303").unwrap(), Vec::<String>::new());
        assert!(r("1048576-3145727").unwrap()[0].contains("tree-hash"));
        assert!(r("1048576-1500000").unwrap()[0].contains("archive's last"));
        assert!(r("1-1048575").is_err());
        assert!(r("5-4").is_err());
        assert!(r("x-4").is_err());
        assert!(r("1048576").is_err());
    }

    #[test]
    fn inventory_ranges() {
        let r = |v: Value| params(serde_json::json!({"InventoryRetrievalParameters": v}));
        assert!(r(serde_json::json!({"StartDate": "2013-03-20T17:03:43Z"})).is_ok());
        assert!(
            r(serde_json::json!({
                "StartDate": "2013-03-20T17:03:43Z",
                "EndDate": "2013-03-20T19:03:43+02:00",
                "Limit": "1",
                "Marker": "opaque"
            }))
            .is_err(),
            "the same instant is not before itself"
        );
        assert!(
            r(serde_json::json!({
                "StartDate": "2013-03-20T17:03:43Z",
                "EndDate": "2013-03-20T17:03:44Z",
                "Limit": "1",
                "Marker": "opaque"
            }))
            .is_ok()
        );
        let refused = |v: Value, needle: &str| {
            let e = r(v).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        refused(
            serde_json::json!({"StartDate": "2013-03-21T00:00:00Z", "EndDate": "2013-03-20T00:00:00Z"}),
            "not before",
        );
        refused(serde_json::json!({"StartDate": "2013-03-20"}), "ISO 8601");
        refused(
            serde_json::json!({"EndDate": "2013-02-30T00:00:00Z"}),
            "ISO 8601",
        );
        refused(
            serde_json::json!({"EndDate": "2013-03-20T17:03:43"}),
            "offset",
        );
        refused(
            serde_json::json!({"EndDate": "2013-03-20T17:03:43.5Z"}),
            "in seconds",
        );
        refused(serde_json::json!({"Limit": 10}), "must be a string");
        refused(serde_json::json!({"Limit": "0"}), "positive integer");
        refused(serde_json::json!({"Limit": "-3"}), "positive integer");
        refused(serde_json::json!({"Limit": "+3"}), "positive integer");
        refused(serde_json::json!({"Marker": 7}), "must be a string");
        refused(serde_json::json!("x"), "JSON object");
    }
}
