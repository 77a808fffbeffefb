//! Where the AWS credentials, region and endpoint come from, by the usual AWS conventions.
//!
//! Everything here is a pure function of an [`Env`]: a snapshot of the relevant
//! environment variables and the contents of the shared credentials and config files.
//! [`Env::from_process`] takes that snapshot from the real process; tests build one by hand.
//!
//! # Precedence
//!
//! **Profile** ([`resolve_profile`]): `--profile`, then `AWS_PROFILE`, then `default`.
//!
//! **Credentials** ([`resolve_credentials`]), first match wins:
//! 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`, or the legacy
//!    `AWS_SECURITY_TOKEN`). Skipped when the profile came from `--profile`: as in the AWS
//!    CLI, an explicit profile beats keys in the environment (`AWS_PROFILE` does not).
//!    Only one of the two keys set is an error.
//! 2. The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
//!    `~/.aws/credentials`), section `[NAME]`: `aws_access_key_id`,
//!    `aws_secret_access_key`, optional `aws_session_token`.
//! 3. The config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), section `[profile NAME]`
//!    (`[default]` for `default`), same keys.
//!
//!    A config profile that gets its credentials in a way this tool does not implement
//!    (`role_arn`, `web_identity_token_file`, `sso_*`, `credential_process`) is an error
//!    rather than silently using other keys: botocore would consult those before the
//!    credentials file (`credential_process` after it), and so does this order.
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
//! use glacier_verify::credentials::{resolve, Env, Overrides};
//!
//! let env = Env::new()
//!     .with_var("HOME", "/home/me")
//!     .with_var("AWS_REGION", "eu-central-1")
//!     .with_file("/home/me/.aws/credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n");
//! let config = resolve(&env, &Overrides::default())?;
//! assert_eq!(config.credentials.credentials.access_key_id, "AKID");
//! assert_eq!(config.region.region.as_str(), "eu-central-1");
//! assert_eq!(config.endpoint.url.host_header(), "glacier.eu-central-1.amazonaws.com");
//! # Ok::<(), glacier_verify::credentials::ConfigError>(())
//! ```

mod ca_bundle;
mod endpoint;
mod env;
mod error;
mod files;
mod ini;
mod keys;
mod output;
mod profile;
mod region;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use ca_bundle::{CaBundle, resolve_ca_bundle};
pub use endpoint::{
    EndpointError, EndpointUrl, ResolvedEndpoint, Scheme, default_endpoint, resolve_endpoint,
};
pub use env::{
    ENV_ACCESS_KEY_ID, ENV_CA_BUNDLE, ENV_CONFIG_FILE, ENV_DEFAULT_OUTPUT, ENV_DEFAULT_REGION,
    ENV_ENDPOINT_URL, ENV_ENDPOINT_URL_GLACIER, ENV_IGNORE_CONFIGURED_ENDPOINT_URLS, ENV_PROFILE,
    ENV_REGION, ENV_SECRET_ACCESS_KEY, ENV_SECURITY_TOKEN, ENV_SESSION_TOKEN,
    ENV_SHARED_CREDENTIALS_FILE, ENV_VARS, Env, MAX_FILE_SIZE,
};
pub use error::{ConfigError, Source};
pub use ini::{Ini, IniEntry, IniError, IniErrorKind, IniSection, parse_ini};
pub use keys::{ResolvedCredentials, resolve_credentials};
pub use output::{OutputSetting, resolve_output};
pub use profile::{Profile, resolve_profile};
pub use region::{Region, ResolvedRegion, resolve_region};

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
    /// Credentials.
    pub credentials: ResolvedCredentials,
    /// Region (also the SigV4 scope region).
    pub region: ResolvedRegion,
    /// Endpoint.
    pub endpoint: ResolvedEndpoint,
}

/// Resolves profile, credentials, region and endpoint, in that order.
pub fn resolve(env: &Env, overrides: &Overrides<'_>) -> Result<AwsConfig, ConfigError> {
    let profile = resolve_profile(env, overrides.profile)?;
    let credentials = resolve_credentials(env, &profile)?;
    let region = resolve_region(env, overrides.region, &profile)?;
    let endpoint = resolve_endpoint(env, overrides.endpoint_url, &region.region)?;
    Ok(AwsConfig {
        profile,
        credentials,
        region,
        endpoint,
    })
}
