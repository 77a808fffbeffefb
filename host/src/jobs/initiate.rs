//! `initiate-job` (docs/protocol.md §5.2, §12): the AWS CLI's
//! `--job-parameters JSON|file://F`, or flags for an archive or inventory
//! retrieval; what Glacier would refuse is refused before the request.

use std::path::Path;

use clap::{ArgGroup, Args};
use glacier_verify_core::{ByteRange, MAX_DESCRIPTION_LEN, MIB, is_tree_hash_aligned};
use serde_json::{Map, Value};

use super::{Permission, path, print_json};
use crate::client::Client;
use crate::download::{Log, RetryPolicy};
use crate::error::{HostError, exit};

/// Length of a Glacier archive id (base64url characters).
pub const ARCHIVE_ID_LEN: usize = 138;

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
    #[arg(long, requires = "inventory", value_parser = ["JSON", "CSV"])]
    format: Option<String>,
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
    let out = loop {
        attempt += 1;
        match c.initiate_job(&target, &body) {
            Ok(v) => break v,
            Err(f) => retry
                .after_failure(f, attempt, "InitiateJob ", &unreported)
                .map_err(|e| permission.explain(e))?,
        }
    };
    print_json("InitiateJob", &out)?;
    Ok(exit::OK)
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
    Ok(Value::Object(m))
}

/// What Glacier would refuse, as a usage error; else the warnings.
pub fn check(params: &Value) -> Result<Vec<String>, HostError> {
    let text = |k: &str| params.get(k).and_then(Value::as_str);
    if let Some(d) = text("Description") {
        check_description(d)?;
    }
    if let Some(id) = text("ArchiveId") {
        check_archive_id(id)?;
    }
    match text("RetrievalByteRange") {
        Some(r) => check_range(r),
        None => Ok(Vec::new()),
    }
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

fn check_archive_id(id: &str) -> Result<(), HostError> {
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if id.len() != ARCHIVE_ID_LEN || !id.bytes().all(base64url) {
        return Err(HostError::Usage(format!(
            "malformed archive id {id:?}: Glacier archive ids are {ARCHIVE_ID_LEN} characters of base64url"
        )));
    }
    Ok(())
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
        assert!(params(serde_json::json!({"ArchiveId": "short"})).is_err());
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
}
