//! `list-vaults`, `describe-vault`, `get-data-retrieval-policy` and
//! `list-provisioned-capacity` (docs/protocol.md §12): each prints the
//! operation's answer as the AWS CLI does.

use clap::Args;

use super::{Permission, fetch, paginate, path, print_json, with_query};
use crate::client::Client;
use crate::download::RetryPolicy;
use crate::error::{HostError, exit};

/// The account option every vault command has.
#[derive(Args, Debug)]
pub struct AccountArgs {
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = crate::cli::parse_account_id)]
    account_id: String,
}

/// `aws glacier list-vaults`'s options.
#[derive(Args, Debug)]
pub struct ListVaultsArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Vaults per request (Glacier sends at most 10).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    /// Start from this marker of an earlier listing.
    #[arg(long)]
    marker: Option<String>,
    /// The global `--no-paginate`: one request only; its `Marker` is
    /// printed when more vaults follow.
    #[arg(skip)]
    pub(crate) no_paginate: bool,
}

/// `aws glacier describe-vault`'s options.
#[derive(Args, Debug)]
pub struct DescribeVaultArgs {
    /// Vault name.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    vault_name: String,
    #[command(flatten)]
    account: AccountArgs,
}

/// Runs `list-vaults`.
pub fn list_vaults(c: &Client, a: &ListVaultsArgs) -> Result<i32, HostError> {
    let permission = Permission::account_wide("glacier:ListVaults");
    let base = path(&a.account.account_id, &["vaults"]);
    let limit = a.limit.map(|l| l.to_string());
    let retry = RetryPolicy::standard();
    let out = paginate("VaultList", a.marker.as_deref(), a.no_paginate, |marker| {
        let target = with_query(&base, &[("limit", limit.as_deref()), ("marker", marker)]);
        fetch(c, &target, "ListVaults", &permission, &retry)
    })?;
    print_json("ListVaults", &out)?;
    Ok(exit::OK)
}

/// Runs `describe-vault`.
pub fn describe_vault(c: &Client, a: &DescribeVaultArgs) -> Result<i32, HostError> {
    let account = &a.account.account_id;
    let permission = Permission::on_vault(
        "glacier:DescribeVault",
        &c.config().region,
        account,
        &a.vault_name,
    );
    let target = path(account, &["vaults", &a.vault_name]);
    let v = fetch(
        c,
        &target,
        "DescribeVault",
        &permission,
        &RetryPolicy::standard(),
    )?;
    print_json("DescribeVault", &v)?;
    Ok(exit::OK)
}

/// Runs `get-data-retrieval-policy`.
pub fn data_retrieval_policy(c: &Client, a: &AccountArgs) -> Result<i32, HostError> {
    let permission = Permission::account_wide("glacier:GetDataRetrievalPolicy");
    let target = path(&a.account_id, &["policies", "data-retrieval"]);
    let v = fetch(
        c,
        &target,
        "GetDataRetrievalPolicy",
        &permission,
        &RetryPolicy::standard(),
    )?;
    print_json("GetDataRetrievalPolicy", &v)?;
    Ok(exit::OK)
}

/// Runs `list-provisioned-capacity`.
pub fn provisioned_capacity(c: &Client, a: &AccountArgs) -> Result<i32, HostError> {
    let permission = Permission::account_wide("glacier:ListProvisionedCapacity");
    let target = path(&a.account_id, &["provisioned-capacity"]);
    let v = fetch(
        c,
        &target,
        "ListProvisionedCapacity",
        &permission,
        &RetryPolicy::standard(),
    )?;
    print_json("ListProvisionedCapacity", &v)?;
    Ok(exit::OK)
}
