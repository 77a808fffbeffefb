//! The default credential chain: which source gives the credentials, decided from an
//! [`Env`] alone ([`plan_credentials`]); the network is used only when the plan is
//! fetched ([`super::fetch`]).
//!
//! The order is botocore's (<https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-authentication.html>,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html>); see
//! the module docs of [`super`] for the list.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::container::{self, ContainerPlan};
use super::files::{Loaded, config_sections, load_config_file, load_credentials_file};
use super::imds::{self, IMDS_IPV4, IMDS_IPV6, ImdsPlan};
use super::ini::lookup;
use super::keys::{from_env, from_file};
use super::sso::{SsoPlan, cache_key, default_portal};
use super::sts::{RoleParams, StsEndpoint, sts_endpoint};
use super::{
    ConfigError, ENV_EC2_METADATA_DISABLED, ENV_EC2_METADATA_ENDPOINT,
    ENV_EC2_METADATA_ENDPOINT_MODE, ENV_ENDPOINT_URL, ENV_ENDPOINT_URL_SSO,
    ENV_IGNORE_CONFIGURED_ENDPOINT_URLS, ENV_METADATA_ATTEMPTS, ENV_METADATA_TIMEOUT, ENV_ROLE_ARN,
    ENV_ROLE_SESSION_NAME, ENV_WEB_IDENTITY_TOKEN_FILE, EndpointUrl, Env, Profile, Region,
    ResolvedCredentials, Source,
};

/// One credential source, ready to be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Long-term (or exported temporary) keys: no network, no refresh.
    Static(ResolvedCredentials),
    /// STS `AssumeRole`, signed with the credentials of `source`.
    AssumeRole {
        /// The role.
        role: RoleParams,
        /// STS.
        sts: StsEndpoint,
        /// Where the signing credentials come from.
        source: Box<Plan>,
        /// The profile section with `role_arn`.
        from: Source,
    },
    /// STS `AssumeRoleWithWebIdentity` with the token in `token_file` (read on every fetch).
    WebIdentity {
        /// The token file.
        token_file: PathBuf,
        /// The role.
        role_arn: String,
        /// The session name.
        session_name: String,
        /// `duration_seconds`.
        duration_seconds: Option<u32>,
        /// STS.
        sts: StsEndpoint,
        /// Where the token file setting came from.
        from: Source,
    },
    /// `credential_process`.
    Process {
        /// The command line.
        command: String,
        /// The profile section.
        from: Source,
    },
    /// IAM Identity Center.
    Sso(SsoPlan),
    /// The container credentials endpoint.
    Container(ContainerPlan),
    /// EC2 instance metadata.
    Imds(ImdsPlan),
}

/// What the chain found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chain {
    /// A source that applies; its failure is an error.
    Found(Plan),
    /// Nothing in the environment or the profile: the instance metadata service is
    /// tried last; if it fails too, [`ConfigError::NoCredentials`] lists `looked_at`
    /// and why it failed.
    LastResort {
        /// The instance metadata service.
        imds: ImdsPlan,
        /// The profile looked for.
        profile: String,
        /// Every source looked at before, and why each did not apply.
        looked_at: Vec<String>,
    },
}

/// The files and environment of one resolution.
struct Ctx<'a> {
    env: &'a Env,
    creds: Loaded,
    config: Loaded,
    region: Option<&'a Region>,
}

/// A profile setting and where it was found.
struct Setting<'a> {
    value: &'a str,
    source: Source,
}

fn section_source(path: &std::path::Path, section: &str) -> Source {
    Source::File {
        path: path.to_path_buf(),
        section: section.to_string(),
    }
}

impl<'a> Ctx<'a> {
    /// `key` of `profile`: the credentials file's `[NAME]` wins over the config file's
    /// section (botocore merges the two, the credentials file last).
    fn setting<'s>(&'s self, profile: &'s str, key: &str) -> Option<Setting<'s>> {
        if let Loaded::File(path, ini) = &self.creds {
            let sections = ini.sections().iter().filter(|s| s.name() == profile);
            if let Some((value, section)) = lookup(sections, key) {
                return Some(Setting {
                    value,
                    source: section_source(path, section),
                });
            }
        }
        if let Loaded::File(path, ini) = &self.config
            && let Some((value, section)) = lookup(config_sections(ini, profile), key)
        {
            return Some(Setting {
                value,
                source: section_source(path, section),
            });
        }
        None
    }

    /// A key of the config file's `[sso-session NAME]`.
    fn sso_session_setting(&self, session: &str, key: &str) -> Option<Setting<'_>> {
        let Loaded::File(path, ini) = &self.config else {
            return None;
        };
        let sections = ini.sections().iter().filter(|s| {
            s.name()
                .strip_prefix("sso-session")
                .filter(|rest| rest.starts_with([' ', '\t']))
                .is_some_and(|rest| rest.trim() == session)
        });
        lookup(sections, key).map(|(value, section)| Setting {
            value,
            source: section_source(path, section),
        })
    }

    fn sts(&self) -> Result<StsEndpoint, ConfigError> {
        sts_endpoint(self.env, self.region)
    }

    /// Static keys of `profile`: the credentials file, then the config file. Notes in
    /// `looked_at` when there are none.
    fn static_keys(
        &self,
        profile: &str,
        looked_at: &mut Vec<String>,
        which: Which,
    ) -> Result<Option<ResolvedCredentials>, ConfigError> {
        let loaded = match which {
            Which::Credentials => &self.creds,
            Which::Config => &self.config,
        };
        match loaded {
            Loaded::Absent(note) => {
                looked_at.push(note.clone());
                Ok(None)
            }
            Loaded::File(path, ini) => match which {
                Which::Credentials => {
                    let sections = ini.sections().iter().filter(|s| s.name() == profile);
                    from_file(path, sections, &format!("[{profile}]"), looked_at)
                }
                Which::Config => {
                    let wanted = if profile == "default" {
                        "[default]".to_string()
                    } else {
                        format!("[profile {profile}]")
                    };
                    from_file(path, config_sections(ini, profile), &wanted, looked_at)
                }
            },
        }
    }

    fn has_static_keys(&self, profile: &str) -> bool {
        self.setting(profile, "aws_access_key_id").is_some()
    }
}

#[derive(Clone, Copy)]
enum Which {
    Credentials,
    Config,
}

/// Decides where the credentials of `profile` come from. `region` is the run's region
/// (for STS); `None` when none is configured (STS's global endpoint then).
pub fn plan_credentials(
    env: &Env,
    profile: &Profile,
    region: Option<&Region>,
) -> Result<Chain, ConfigError> {
    let mut looked_at = Vec::new();
    if let Some(found) = from_env(env, profile, &mut looked_at)? {
        return Ok(Chain::Found(Plan::Static(found)));
    }
    let ctx = Ctx {
        env,
        creds: load_credentials_file(env)?,
        config: load_config_file(env)?,
        region,
    };
    let mut visited = vec![profile.name.clone()];
    if let Some(plan) = profile_plan(&ctx, &profile.name, &mut visited, true, &mut looked_at)? {
        return Ok(Chain::Found(plan));
    }
    if let Some(plan) = container::plan(env)? {
        return Ok(Chain::Found(Plan::Container(plan)));
    }
    looked_at.push(
        "container credentials (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor \
         AWS_CONTAINER_CREDENTIALS_FULL_URI is set)"
            .to_string(),
    );
    if env.is_true(ENV_EC2_METADATA_DISABLED) {
        looked_at.push(format!(
            "EC2 instance metadata (disabled by {ENV_EC2_METADATA_DISABLED})"
        ));
        return Err(ConfigError::NoCredentials {
            profile: profile.name.clone(),
            looked_at,
        });
    }
    Ok(Chain::LastResort {
        imds: imds_plan(&ctx, &profile.name)?,
        profile: profile.name.clone(),
        looked_at,
    })
}

/// The providers of one profile, in botocore's order: `role_arn` with `source_profile`
/// or `credential_source`; `web_identity_token_file`; SSO; the credentials file;
/// `credential_process`; the config file. `selected`: the run's profile (its web
/// identity may come from the environment), else a `source_profile`.
fn profile_plan(
    ctx: &Ctx<'_>,
    name: &str,
    visited: &mut Vec<String>,
    selected: bool,
    looked_at: &mut Vec<String>,
) -> Result<Option<Plan>, ConfigError> {
    let web_token_in_profile = ctx.setting(name, "web_identity_token_file").is_some();
    if let Some(role_arn) = ctx.setting(name, "role_arn")
        && !web_token_in_profile
    {
        return assume_role_plan(ctx, name, role_arn, visited).map(Some);
    }
    if let Some(plan) = web_identity_plan(ctx, name, selected)? {
        return Ok(Some(plan));
    }
    if let Some(plan) = sso_plan(ctx, name)? {
        return Ok(Some(plan));
    }
    if let Some(found) = ctx.static_keys(name, looked_at, Which::Credentials)? {
        return Ok(Some(Plan::Static(found)));
    }
    if let Some(cmd) = ctx.setting(name, "credential_process") {
        return Ok(Some(Plan::Process {
            command: cmd.value.to_string(),
            from: cmd.source,
        }));
    }
    if let Some(found) = ctx.static_keys(name, looked_at, Which::Config)? {
        return Ok(Some(Plan::Static(found)));
    }
    Ok(None)
}

fn assume_role_plan(
    ctx: &Ctx<'_>,
    name: &str,
    role_arn: Setting<'_>,
    visited: &mut Vec<String>,
) -> Result<Plan, ConfigError> {
    let from = role_arn.source.clone();
    if ctx.setting(name, "mfa_serial").is_some() {
        return Err(ConfigError::UnsupportedCredentialSource {
            source: from,
            key: "mfa_serial",
        });
    }
    let source_profile = ctx.setting(name, "source_profile");
    let credential_source = ctx.setting(name, "credential_source");
    let source = match (source_profile, credential_source) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::InvalidSetting {
                source: from,
                key: "role_arn",
                problem: "both source_profile and credential_source are set; use one".into(),
            });
        }
        (None, None) => {
            return Err(ConfigError::InvalidSetting {
                source: from,
                key: "role_arn",
                problem: "needs source_profile, credential_source or web_identity_token_file"
                    .into(),
            });
        }
        (Some(sp), None) => source_profile_plan(ctx, name, sp, visited)?,
        (None, Some(cs)) => credential_source_plan(ctx, name, cs)?,
    };
    let session_name = ctx
        .setting(name, "role_session_name")
        .map(|s| s.value.to_string())
        .unwrap_or_else(default_session_name);
    let role = RoleParams {
        role_arn: role_arn.value.to_string(),
        session_name,
        external_id: ctx
            .setting(name, "external_id")
            .map(|s| s.value.to_string()),
        duration_seconds: duration(ctx, name)?,
    };
    Ok(Plan::AssumeRole {
        role,
        sts: ctx.sts()?,
        source: Box::new(source),
        from,
    })
}

/// The credentials of `source_profile`, as botocore resolves them: its static keys if it
/// has any (so a profile may name itself), else its own role, else its other providers.
fn source_profile_plan(
    ctx: &Ctx<'_>,
    name: &str,
    sp: Setting<'_>,
    visited: &mut Vec<String>,
) -> Result<Plan, ConfigError> {
    let target = sp.value.to_string();
    let mut notes = Vec::new();
    if ctx.has_static_keys(&target) {
        for which in [Which::Credentials, Which::Config] {
            if let Some(found) = ctx.static_keys(&target, &mut notes, which)? {
                return Ok(Plan::Static(found));
            }
        }
    }
    if visited.contains(&target) {
        let mut chain = visited.clone();
        chain.push(target);
        return Err(ConfigError::SourceProfileLoop { chain });
    }
    visited.push(target.clone());
    match profile_plan(ctx, &target, visited, false, &mut notes)? {
        Some(plan) => Ok(plan),
        None => Err(ConfigError::InvalidSetting {
            source: sp.source,
            key: "source_profile",
            problem: format!(
                "profile '{target}' (the source of profile '{name}') has no credentials; looked at: {}",
                notes.join("; ")
            ),
        }),
    }
}

fn credential_source_plan(ctx: &Ctx<'_>, name: &str, cs: Setting<'_>) -> Result<Plan, ConfigError> {
    let invalid = |problem: String| ConfigError::InvalidSetting {
        source: cs.source.clone(),
        key: "credential_source",
        problem,
    };
    match cs.value {
        "Environment" => {
            let anyone = Profile {
                name: name.to_string(),
                source: Source::Default,
            };
            let mut notes = Vec::new();
            from_env(ctx.env, &anyone, &mut notes)?
                .map(Plan::Static)
                .ok_or_else(|| invalid(format!("Environment: {}", notes.join("; "))))
        }
        "Ec2InstanceMetadata" => Ok(Plan::Imds(imds_plan(ctx, name)?)),
        "EcsContainer" => container::plan(ctx.env)?
            .map(Plan::Container)
            .ok_or_else(|| {
                invalid(
                    "EcsContainer: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor \
                     AWS_CONTAINER_CREDENTIALS_FULL_URI is set"
                        .into(),
                )
            }),
        other => Err(invalid(format!(
            "{other:?} is not one of Environment, Ec2InstanceMetadata, EcsContainer"
        ))),
    }
}

/// Web identity: the profile's `web_identity_token_file`, or (for the selected profile)
/// `AWS_WEB_IDENTITY_TOKEN_FILE`; the role from the profile or `AWS_ROLE_ARN`.
fn web_identity_plan(
    ctx: &Ctx<'_>,
    name: &str,
    selected: bool,
) -> Result<Option<Plan>, ConfigError> {
    let env = ctx.env;
    let env_var = |var: &'static str| {
        selected
            .then(|| env.var(var))
            .flatten()
            .map(|value| Setting {
                value,
                source: Source::EnvVar(var),
            })
    };
    let Some(token_file) = ctx
        .setting(name, "web_identity_token_file")
        .or_else(|| env_var(ENV_WEB_IDENTITY_TOKEN_FILE))
    else {
        return Ok(None);
    };
    let Some(role_arn) = ctx
        .setting(name, "role_arn")
        .or_else(|| env_var(ENV_ROLE_ARN))
    else {
        return Err(ConfigError::InvalidSetting {
            source: token_file.source,
            key: "web_identity_token_file",
            problem: format!("no role to assume: set role_arn or {ENV_ROLE_ARN}"),
        });
    };
    let session_name = ctx
        .setting(name, "role_session_name")
        .or_else(|| env_var(ENV_ROLE_SESSION_NAME))
        .map(|s| s.value.to_string())
        .unwrap_or_else(default_session_name);
    Ok(Some(Plan::WebIdentity {
        token_file: env.expand_home(token_file.value),
        role_arn: role_arn.value.to_string(),
        session_name,
        duration_seconds: duration(ctx, name)?,
        sts: ctx.sts()?,
        from: token_file.source,
    }))
}

/// SSO: `sso_session` (with its `[sso-session NAME]`) or the legacy `sso_start_url`.
fn sso_plan(ctx: &Ctx<'_>, name: &str) -> Result<Option<Plan>, ConfigError> {
    let session = ctx.setting(name, "sso_session");
    let legacy_url = ctx.setting(name, "sso_start_url");
    let from = match (&session, &legacy_url) {
        (Some(s), _) => s.source.clone(),
        (None, Some(u)) => u.source.clone(),
        (None, None) => return Ok(None),
    };
    let missing = |key: &'static str, source: Source| ConfigError::InvalidSetting {
        source,
        key,
        problem: "is needed for SSO credentials".into(),
    };
    let (session_name, start_url, sso_region) = match &session {
        Some(s) => {
            let sess = s.value;
            let in_session = |key: &'static str| {
                ctx.sso_session_setting(sess, key)
                    .map(|v| v.value.to_string())
                    .ok_or_else(|| ConfigError::InvalidSetting {
                        source: s.source.clone(),
                        key,
                        problem: format!("is missing in [sso-session {sess}]"),
                    })
            };
            (
                Some(sess.to_string()),
                in_session("sso_start_url")?,
                in_session("sso_region")?,
            )
        }
        None => (
            None,
            legacy_url.map(|u| u.value.to_string()).unwrap_or_default(),
            ctx.setting(name, "sso_region")
                .map(|v| v.value.to_string())
                .ok_or_else(|| missing("sso_region", from.clone()))?,
        ),
    };
    let account_id = ctx
        .setting(name, "sso_account_id")
        .ok_or_else(|| missing("sso_account_id", from.clone()))?
        .value
        .to_string();
    let role_name = ctx
        .setting(name, "sso_role_name")
        .ok_or_else(|| missing("sso_role_name", from.clone()))?
        .value
        .to_string();
    let key = cache_key(session_name.as_deref().unwrap_or(&start_url));
    let home = ctx.env.home().ok_or_else(|| ConfigError::InvalidSetting {
        source: from.clone(),
        key: "sso_session",
        problem: "the SSO token cache is in ~/.aws/sso/cache, but HOME is not set".into(),
    })?;
    let cache_file = PathBuf::from(home)
        .join(".aws/sso/cache")
        .join(format!("{key}.json"));
    let portal = portal(ctx.env, &sso_region, &from)?;
    Ok(Some(Plan::Sso(SsoPlan {
        session: session_name,
        profile: name.to_string(),
        start_url,
        account_id,
        role_name,
        cache_file,
        portal,
    })))
}

fn portal(env: &Env, sso_region: &str, from: &Source) -> Result<EndpointUrl, ConfigError> {
    if !env.is_true(ENV_IGNORE_CONFIGURED_ENDPOINT_URLS) {
        for var in [ENV_ENDPOINT_URL_SSO, ENV_ENDPOINT_URL] {
            if let Some(value) = env.var(var) {
                return EndpointUrl::parse(value).map_err(|error| ConfigError::InvalidEndpoint {
                    value: value.to_string(),
                    source: Source::EnvVar(var),
                    error,
                });
            }
        }
    }
    if Region::new(sso_region).is_none() {
        return Err(ConfigError::InvalidRegion {
            value: sso_region.to_string(),
            source: from.clone(),
        });
    }
    let url = default_portal(sso_region);
    EndpointUrl::parse(&url).map_err(|error| ConfigError::InvalidEndpoint {
        value: url,
        source: Source::Default,
        error,
    })
}

/// `duration_seconds`: 900 to 43 200 (STS's limits).
fn duration(ctx: &Ctx<'_>, name: &str) -> Result<Option<u32>, ConfigError> {
    let Some(s) = ctx.setting(name, "duration_seconds") else {
        return Ok(None);
    };
    match s.value.parse::<u32>() {
        Ok(d) if (900..=43_200).contains(&d) => Ok(Some(d)),
        _ => Err(ConfigError::InvalidSetting {
            source: s.source,
            key: "duration_seconds",
            problem: format!("{:?} is not a number of seconds from 900 to 43200", s.value),
        }),
    }
}

/// `glacier-verify-<unix seconds>`, like botocore's `botocore-session-<seconds>`.
fn default_session_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("glacier-verify-{secs}")
}

/// The instance metadata endpoint and patience, from the environment or the profile.
fn imds_plan(ctx: &Ctx<'_>, profile: &str) -> Result<ImdsPlan, ConfigError> {
    let env = ctx.env;
    let pick = |var: &'static str, key: &str| {
        env.var(var)
            .map(|value| Setting {
                value,
                source: Source::EnvVar(var),
            })
            .or_else(|| ctx.setting(profile, key))
    };
    let (endpoint, source) = match pick(ENV_EC2_METADATA_ENDPOINT, "ec2_metadata_service_endpoint")
    {
        Some(s) => (imds::endpoint(s.value, s.source.clone())?, s.source),
        None => {
            let mode = pick(
                ENV_EC2_METADATA_ENDPOINT_MODE,
                "ec2_metadata_service_endpoint_mode",
            );
            let (url, source) = match &mode {
                None => (IMDS_IPV4, Source::Default),
                Some(m) if m.value.eq_ignore_ascii_case("ipv4") => (IMDS_IPV4, m.source.clone()),
                Some(m) if m.value.eq_ignore_ascii_case("ipv6") => (IMDS_IPV6, m.source.clone()),
                Some(m) => {
                    return Err(ConfigError::InvalidSetting {
                        source: m.source.clone(),
                        key: "ec2_metadata_service_endpoint_mode",
                        problem: format!("{:?} is neither IPv4 nor IPv6", m.value),
                    });
                }
            };
            (imds::endpoint(url, source.clone())?, source)
        }
    };
    let number = |var: &'static str, key: &'static str, default: u32| match pick(var, key) {
        None => Ok(default),
        Some(s) => match s.value.parse::<u32>() {
            Ok(n) if (1..=60).contains(&n) => Ok(n),
            _ => Err(ConfigError::InvalidSetting {
                source: s.source,
                key,
                problem: format!("{:?} is not a whole number from 1 to 60", s.value),
            }),
        },
    };
    Ok(ImdsPlan {
        endpoint,
        source,
        timeout: Duration::from_secs(u64::from(number(
            ENV_METADATA_TIMEOUT,
            "metadata_service_timeout",
            1,
        )?)),
        attempts: number(ENV_METADATA_ATTEMPTS, "metadata_service_num_attempts", 2)?,
    })
}

#[cfg(test)]
mod tests;
