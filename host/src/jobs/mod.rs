//! The commands around a download, shaped like `aws glacier …`: the
//! read-only vault commands ([`vaults`]), `list-jobs` ([`list`]) and
//! `initiate-job` ([`initiate`]) and `wait job-completed` ([`wait`]).
//! Their requests are retried like DescribeJob's ([`describe_job`], also
//! `describe-job`'s and `get-job-output`'s); an AccessDeniedException is
//! explained with the IAM action the command needed ([`Permission`]), for
//! GetJobOutput too.

use std::io::Write;

use serde_json::Value;

use crate::client::{Client, JobLocation};
use crate::download::{Log, RetryPolicy};
use crate::error::HostError;
use crate::sigv4;

pub mod initiate;
pub mod list;
pub mod vaults;
pub mod wait;

/// The IAM permission a request needs, named when it is denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// `glacier:ListJobs`, …
    pub action: &'static str,
    /// The vault ARN, or `None` for an action on no particular vault
    /// (its policy statement has `"Resource": "*"`).
    pub vault_arn: Option<String>,
}

impl Permission {
    /// An action on one vault. `account` is the 12-digit id or `-` (the
    /// credentials' account, which the client does not know: `*` then).
    pub fn on_vault(action: &'static str, region: &str, account: &str, vault: &str) -> Self {
        let account = if account == "-" { "*" } else { account };
        Permission {
            action,
            vault_arn: Some(format!("arn:aws:glacier:{region}:{account}:vaults/{vault}")),
        }
    }

    /// An action on the vault of a job, in the client's region.
    pub fn on_job(action: &'static str, c: &Client, loc: &JobLocation) -> Self {
        Self::on_vault(action, &c.config().region, &loc.account_id, &loc.vault)
    }

    /// An action on no particular vault.
    pub fn account_wide(action: &'static str) -> Self {
        Permission {
            action,
            vault_arn: None,
        }
    }

    /// `error`, with the permission named when it is an AccessDeniedException
    /// and the other errors of these operations explained in words.
    pub fn explain(&self, error: HostError) -> HostError {
        match error {
            HostError::Service(mut f) if f.code == "AccessDeniedException" => {
                let needed = match &self.vault_arn {
                    Some(arn) => format!("{} on {arn}", self.action),
                    None => format!("{} (Resource \"*\")", self.action),
                };
                f.message = format!("{} (this command needs {needed})", f.message);
                HostError::Service(f)
            }
            HostError::Service(mut f) => {
                if let Some(hint) = hint(&f.code) {
                    f.message = format!("{} ({hint})", f.message);
                }
                HostError::Service(f)
            }
            other => other,
        }
    }
}

/// What an error code of the job operations means for the user.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "PolicyEnforcedException" => {
            "the retrieval exceeds the account's data retrieval policy (see get-data-retrieval-policy): retrieve less at a time, or change the policy"
        }
        "InsufficientCapacityException" => {
            "Glacier has no capacity for an Expedited retrieval now: try again later, use the Standard tier, or buy provisioned capacity (see list-provisioned-capacity)"
        }
        "LimitExceededException" => {
            "a Glacier limit was reached, e.g. too many retrievals in progress; retried, then given up"
        }
        "MissingParameterValueException" => {
            "the request lacked a parameter Glacier requires, e.g. Type in --job-parameters"
        }
        _ => return None,
    })
}

/// DescribeJob (docs/protocol.md §5.1): the parsed fields and the raw JSON,
/// retried like GetJobOutput requests (docs/protocol.md §9.5: 5xx, 408,
/// throttling and transport failures; never 400/403/404); an
/// AccessDeniedException names `glacier:DescribeJob` and the vault. Stops
/// before a request once SIGINT/SIGTERM asked the run to stop.
pub fn describe_job(
    c: &Client,
    loc: &JobLocation,
    retry: &RetryPolicy,
) -> Result<(crate::job::JobDescription, Value), HostError> {
    let permission = Permission::on_job("glacier:DescribeJob", c, loc);
    // DescribeJob's retries are not part of a download's report.
    let unreported = Log::default();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if crate::interrupt::requested() {
            return Err(crate::download::interrupted(
                "nothing downloaded yet".into(),
            ));
        }
        match c.describe_job(loc) {
            Ok(done) => return Ok(done),
            Err(f) => retry
                .after_failure(f, attempt, "DescribeJob ", &unreported)
                .map_err(|e| permission.explain(e))?,
        }
    }
}

/// One read-only request, retried like DescribeJob (throttling, 5xx,
/// timeouts and cut connections; never other 4xx).
pub fn fetch(
    c: &Client,
    target: &str,
    operation: &str,
    permission: &Permission,
    retry: &RetryPolicy,
) -> Result<Value, HostError> {
    let unreported = Log::default();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match c.get_json(target, operation) {
            Ok(v) => return Ok(v),
            Err(f) => retry
                .after_failure(f, attempt, &format!("{operation} "), &unreported)
                .map_err(|e| permission.explain(e))?,
        }
    }
}

/// `/{account}/…` with each segment percent-encoded.
pub fn path(account: &str, segments: &[&str]) -> String {
    let mut p = format!("/{}", sigv4::uri_encode(account));
    for s in segments {
        p.push('/');
        p.push_str(&sigv4::uri_encode(s));
    }
    p
}

/// `path` with the query parameters that are set, sorted by name and
/// encoded as SigV4's canonical query has them.
pub fn with_query(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut set: Vec<(&str, &str)> = params
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    set.sort();
    let query: Vec<String> = set
        .iter()
        .map(|(k, v)| format!("{}={}", sigv4::uri_encode(k), sigv4::uri_encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Prints an answer on stdout as the AWS CLI does: indented, and without
/// the members Glacier sent as `null` (botocore leaves a member whose value
/// is null out of the parsed response, so `aws glacier describe-job` never
/// prints `"SNSTopic": null`).
pub fn print_json(v: &Value) -> Result<(), HostError> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&without_nulls(v)).unwrap_or_default()
    )
    .map_err(|e| HostError::io("<stdout>", e))
}

/// `v` with every object member whose value is `null` removed, at any depth.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Follows a list operation's markers: requests pages from `first_marker`
/// on until a page has no `Marker` (or only one page with `no_paginate`),
/// and returns the AWS CLI's output: the `list_key` items of every page,
/// plus the last `Marker` when one is left.
pub fn paginate(
    list_key: &str,
    first_marker: Option<&str>,
    no_paginate: bool,
    mut page: impl FnMut(Option<&str>) -> Result<Value, HostError>,
) -> Result<Value, HostError> {
    let mut items = Vec::new();
    let mut marker = first_marker.map(str::to_owned);
    loop {
        let v = page(marker.as_deref())?;
        match v.get(list_key).and_then(Value::as_array) {
            Some(list) => items.extend(list.iter().cloned()),
            None => {
                return Err(HostError::Protocol {
                    request: list_key.to_owned(),
                    source: ureq::Error::Other(format!("the answer has no {list_key} list").into()),
                });
            }
        }
        let next = v.get("Marker").and_then(Value::as_str).map(str::to_owned);
        match next {
            Some(m) if !no_paginate && marker.as_deref() != Some(m.as_str()) => marker = Some(m),
            left => {
                let mut out = serde_json::Map::new();
                out.insert(list_key.to_owned(), Value::Array(items));
                if let Some(m) = left {
                    out.insert("Marker".into(), Value::String(m));
                }
                return Ok(Value::Object(out));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceFailure;

    #[test]
    fn queries_are_sorted_and_encoded() {
        let p = path("-", &["my vault", "jobs"]);
        assert_eq!(p, "/-/my%20vault/jobs");
        assert_eq!(
            with_query(
                &p,
                &[
                    ("statuscode", Some("Failed")),
                    ("marker", Some("a/b")),
                    ("limit", None)
                ]
            ),
            "/-/my%20vault/jobs?marker=a%2Fb&statuscode=Failed"
        );
        assert_eq!(with_query("/x", &[("limit", None)]), "/x");
    }

    #[test]
    fn access_denied_names_the_action_and_vault() {
        let denied = |code: &str| {
            HostError::Service(ServiceFailure {
                status: 403,
                code: code.into(),
                message: "no".into(),
                request_id: None,
            })
        };
        let p = Permission::on_vault("glacier:ListJobs", "eu-west-1", "012345678901", "v");
        let text = p.explain(denied("AccessDeniedException")).to_string();
        assert!(
            text.contains("glacier:ListJobs on arn:aws:glacier:eu-west-1:012345678901:vaults/v"),
            "{text}"
        );
        let any = Permission::on_vault("glacier:DescribeVault", "us-east-1", "-", "v");
        assert_eq!(
            any.vault_arn.as_deref(),
            Some("arn:aws:glacier:us-east-1:*:vaults/v")
        );
        let wide = Permission::account_wide("glacier:ListVaults");
        assert!(
            wide.explain(denied("AccessDeniedException"))
                .to_string()
                .contains("Resource \"*\"")
        );
        assert!(
            !p.explain(denied("ThrottlingException"))
                .to_string()
                .contains("needs")
        );
    }

    #[test]
    fn null_members_are_left_out_like_the_aws_cli_does() {
        let v = serde_json::json!({
            "JobList": [{"JobId": "j", "SNSTopic": null, "InventoryRetrievalParameters": {"Format": "CSV", "Limit": null}}],
            "Marker": null,
            "Rules": [null, 1]
        });
        assert_eq!(
            without_nulls(&v),
            serde_json::json!({
                "JobList": [{"JobId": "j", "InventoryRetrievalParameters": {"Format": "CSV"}}],
                "Rules": [null, 1]
            })
        );
    }

    #[test]
    fn pagination_follows_markers_unless_told_not_to() {
        let pages = |m: Option<&str>| -> Result<Value, HostError> {
            Ok(match m {
                None => serde_json::json!({"L": [1, 2], "Marker": "b"}),
                Some("b") => serde_json::json!({"L": [3], "Marker": "c"}),
                _ => serde_json::json!({"L": [4], "Marker": null}),
            })
        };
        let all = paginate("L", None, false, pages).unwrap();
        assert_eq!(all, serde_json::json!({"L": [1, 2, 3, 4]}));
        let one = paginate("L", None, true, pages).unwrap();
        assert_eq!(one, serde_json::json!({"L": [1, 2], "Marker": "b"}));
        let from = paginate("L", Some("c"), false, pages).unwrap();
        assert_eq!(from, serde_json::json!({"L": [4]}));
        assert!(paginate("X", None, false, pages).is_err());
    }
}
