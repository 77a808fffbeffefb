//! `list-jobs`: ListJobs (docs/protocol.md §12), following markers to the
//! end like the AWS CLI unless `--no-paginate`.

use clap::Args;

use super::{Permission, fetch, paginate, path, print_json, with_query};
use crate::client::Client;
use crate::download::RetryPolicy;
use crate::error::{HostError, exit};

/// `aws glacier list-jobs`'s options.
#[derive(Args, Debug)]
pub struct ListJobsArgs {
    /// Vault name.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    vault_name: String,
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = crate::cli::parse_account_id)]
    account_id: String,
    /// Only completed jobs (`true`) or only jobs still running (`false`).
    #[arg(long, value_parser = ["true", "false"])]
    completed: Option<String>,
    /// Only jobs with this status.
    #[arg(long, value_parser = ["InProgress", "Succeeded", "Failed"])]
    statuscode: Option<String>,
    /// Jobs per request (Glacier sends at most 50).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    /// Start from this marker of an earlier listing.
    #[arg(long)]
    marker: Option<String>,
    /// The global `--no-paginate`: one request only; its `Marker` is
    /// printed when more jobs follow.
    #[arg(skip)]
    pub(crate) no_paginate: bool,
}

/// Runs `list-jobs`.
pub fn run(c: &Client, a: &ListJobsArgs) -> Result<i32, HostError> {
    let permission = Permission::on_vault(
        "glacier:ListJobs",
        &c.config().region,
        &a.account_id,
        &a.vault_name,
    );
    let base = path(&a.account_id, &["vaults", &a.vault_name, "jobs"]);
    let limit = a.limit.map(|l| l.to_string());
    let retry = RetryPolicy::standard();
    let out = paginate("JobList", a.marker.as_deref(), a.no_paginate, |marker| {
        let target = with_query(
            &base,
            &[
                ("completed", a.completed.as_deref()),
                ("limit", limit.as_deref()),
                ("marker", marker),
                ("statuscode", a.statuscode.as_deref()),
            ],
        );
        fetch(c, &target, "ListJobs", &permission, &retry)
    })?;
    print_json("ListJobs", &out)?;
    Ok(exit::OK)
}
