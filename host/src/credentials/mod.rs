//! Where the AWS credentials, region and endpoint come from, by the usual AWS conventions.
//!
//! Resolution is a pure function of an [`Env`]: a snapshot of the relevant environment
//! variables and the contents of the shared credentials and config files.
//! [`Env::from_process`] takes that snapshot from the real process; tests build one by hand.
//! Only [`provider`] talks to the network (STS, the SSO portal, container and instance
//! metadata endpoints, in `sts.rs`, `sso.rs`, `container.rs`, `imds.rs`) or runs a
//! `credential_process` (`process.rs`).
//!
//! # Precedence
//!
//! **Profile** ([`resolve_profile`]): `--profile`, then `AWS_PROFILE`, then `default`.
//!
//! **Credentials** ([`plan_credentials`], then [`provider`]): botocore's default chain,
//! first source that applies wins (docs/credentials.md has the details and AWS links):
//! 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`, or the legacy
//!    `AWS_SECURITY_TOKEN`). Skipped when the profile came from `--profile`: as in the AWS
//!    CLI, an explicit profile beats keys in the environment (`AWS_PROFILE` does not).
//!    Only one of the two keys set is an error.
//! 2. The profile, whose settings come from the config file (`AWS_CONFIG_FILE`, else
//!    `~/.aws/config`, section `[profile NAME]` or `[default]`) and the shared credentials
//!    file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`, section `[NAME]`,
//!    which wins for a key in both), in this order:
//!    1. `role_arn` with `source_profile` (followed through chained profiles, a loop is an
//!       error) or `credential_source` (`Environment`, `Ec2InstanceMetadata`,
//!       `EcsContainer`): STS `AssumeRole` signed with those credentials, with
//!       `external_id`, `role_session_name`, `duration_seconds`;
//!    2. `web_identity_token_file` (or, for the selected profile, `AWS_WEB_IDENTITY_TOKEN_FILE`)
//!       with `role_arn` (or `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`): STS
//!       `AssumeRoleWithWebIdentity`;
//!    3. `sso_session` (with its `[sso-session NAME]`) or legacy `sso_start_url`, with
//!       `sso_account_id` and `sso_role_name`: the AWS CLI's cached token exchanged at the
//!       SSO portal;
//!    4. static keys in the shared credentials file;
//!    5. `credential_process`;
//!    6. static keys in the config file.
//! 3. Container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS), else
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity, loopback agents) with
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
//! 4. EC2 instance metadata (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`.
//!
//! When none applies, the error lists every source and why it did not. Temporary
//! credentials are refreshed during a run by [`CredentialsProvider`].
//!
//! **Region** ([`resolve_region`]): `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then
//! `region` in the config file's profile section. Names are checked by shape
//! ([`Region::new`]), not against a list that would go stale.
//!
//! **Endpoint** ([`resolve_endpoint`]): `--endpoint-url`, `AWS_ENDPOINT_URL_GLACIER`,
//! `AWS_ENDPOINT_URL` (both env vars ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is
//! `true`), else `https://glacier.{region}.amazonaws.com` (`.amazonaws.com.cn` for `cn-`
//! regions; isolated and sovereign partitions need an explicit endpoint).
//!
//! **CA bundle** ([`resolve_ca_bundle`]): `--ca-bundle`, `AWS_CA_BUNDLE`, then `ca_bundle`
//! in the config file's profile section (docs/protocol.md §13); none means the default roots.
//!
//! **Output format** ([`resolve_output`]): `--output`, `AWS_DEFAULT_OUTPUT`, then `output`
//! in the config file's profile section; none means JSON.
//!
//! Empty environment variables count as unset. `~/` at the start of a file path variable
//! means `$HOME/` (`%USERPROFILE%` when `HOME` is unset).
//!
//! # File syntax
//!
//! [`parse_ini`] reads the subset of INI that botocore's `configparser` accepts and AWS
//! documents: `[section]` headers, `key = value` (or `key: value`) entries, full-line
//! comments starting with `#` or `;`, inline comments after whitespace (` # …`, ` ; …`),
//! indented continuation lines (used for nested settings such as `s3 =`), CRLF line ends
//! and a UTF-8 BOM. Repeated sections are merged; a later key wins.
//!
//! # Example
//!
//! ```
//! use glacier_verify::credentials::{resolve, Chain, Env, Overrides, Plan};
//!
//! let env = Env::new()
//!     .with_var("HOME", "/home/me")
//!     .with_var("AWS_REGION", "eu-central-1")
//!     .with_file("/home/me/.aws/credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n");
//! let config = resolve(&env, &Overrides::default())?;
//! let Chain::Found(Plan::Static(keys)) = &config.credentials else { panic!() };
//! assert_eq!(keys.credentials.access_key_id, "AKID");
//! assert_eq!(config.region.region.as_str(), "eu-central-1");
//! assert_eq!(config.endpoint.url.host_header(), "glacier.eu-central-1.amazonaws.com");
//! # Ok::<(), glacier_verify::credentials::ConfigError>(())
//! ```

mod answer;
mod ca_bundle;
mod chain;
mod container;
mod endpoint;
mod env;
mod error;
mod expiry;
mod fetch;
mod files;
mod imds;
mod ini;
mod keys;
mod net;
mod output;
mod process;
mod profile;
mod provider;
mod region;
mod sso;
mod sts;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use ca_bundle::{CaBundle, resolve_ca_bundle};
pub use chain::{Chain, Plan, plan_credentials};
pub use container::{ContainerAuth, ContainerPlan};
pub use endpoint::{
    EndpointError, EndpointUrl, ResolvedEndpoint, Scheme, default_endpoint, resolve_endpoint,
};
pub use env::*;
pub use error::{ConfigError, Source};
pub use expiry::{format as format_time, parse as parse_time};
pub use fetch::provider;
pub use imds::ImdsPlan;
pub use ini::{Ini, IniEntry, IniError, IniErrorKind, IniSection, parse_ini};
pub use keys::ResolvedCredentials;
pub use net::Net;
pub use output::{OutputSetting, resolve_output};
pub use profile::{Profile, resolve_profile};
pub use provider::{ADVISORY_REFRESH, CredentialsProvider, Expiring, Fetcher, MANDATORY_REFRESH};
pub use region::{Region, ResolvedRegion, resolve_region};
pub use sso::{SsoPlan, cache_key as sso_cache_key};
pub use sts::{RoleParams, STS_VERSION, StsEndpoint, sts_endpoint};

/// Values given on the command line, which beat everything else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides<'a> {
    /// `--profile`.
    pub profile: Option<&'a str>,
    /// `--region`.
    pub region: Option<&'a str>,
    /// `--endpoint-url`.
    pub endpoint_url: Option<&'a str>,
}

/// Everything needed to sign and send Glacier requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    /// Selected profile.
    pub profile: Profile,
    /// Where the credentials come from (fetched by [`provider`]).
    pub credentials: Chain,
    /// Region (also the SigV4 scope region).
    pub region: ResolvedRegion,
    /// Endpoint.
    pub endpoint: ResolvedEndpoint,
}

/// Resolves profile, credentials, region and endpoint; a credentials error is reported
/// before a region error.
pub fn resolve(env: &Env, overrides: &Overrides<'_>) -> Result<AwsConfig, ConfigError> {
    let profile = resolve_profile(env, overrides.profile)?;
    let region = resolve_region(env, overrides.region, &profile);
    let credentials = plan_credentials(env, &profile, region.as_ref().ok().map(|r| &r.region))?;
    let region = region?;
    let endpoint = resolve_endpoint(env, overrides.endpoint_url, &region.region)?;
    Ok(AwsConfig {
        profile,
        credentials,
        region,
        endpoint,
    })
}
