//! Static access keys: from the environment, the credentials file, the config file.
//! [`super::chain`] decides when each is consulted.

use std::path::Path;

use crate::sigv4::Credentials;

use super::ini::lookup;
use super::{
    ConfigError, ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY, ENV_SECURITY_TOKEN, ENV_SESSION_TOKEN,
    Env, IniSection, Profile, Source,
};

/// Credentials and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedCredentials {
    /// The keys (their `Debug` hides the secrets).
    pub credentials: Credentials,
    /// Where they came from.
    pub source: Source,
}

pub(super) fn checked(
    credentials: Credentials,
    source: Source,
) -> Result<ResolvedCredentials, ConfigError> {
    match credentials.validate() {
        Ok(()) => Ok(ResolvedCredentials {
            credentials,
            source,
        }),
        Err(crate::sigv4::SigV4Error::InvalidCredentials(what)) => {
            Err(ConfigError::InvalidCredentials { source, what })
        }
        Err(_) => Err(ConfigError::InvalidCredentials {
            source,
            what: "credentials",
        }),
    }
}

/// Credentials from `section`s of a file, if they have an access key id or secret.
fn credentials_from_sections<'a>(
    path: &Path,
    sections: impl Iterator<Item = &'a IniSection> + Clone,
) -> Result<Option<ResolvedCredentials>, ConfigError> {
    let akid = lookup(sections.clone(), "aws_access_key_id");
    let secret = lookup(sections.clone(), "aws_secret_access_key");
    let token = lookup(sections.clone(), "aws_session_token")
        .or_else(|| lookup(sections.clone(), "aws_security_token"));
    let source = |section: &str| Source::File {
        path: path.to_path_buf(),
        section: section.to_string(),
    };
    match (akid, secret) {
        (Some((a, section)), Some((s, _))) => {
            let creds = Credentials::new(a, s, token.map(|(t, _)| t.to_string()));
            checked(creds, source(section)).map(Some)
        }
        (Some((_, section)), None) => Err(ConfigError::PartialCredentials {
            source: source(section),
            missing: "aws_secret_access_key",
        }),
        (None, Some((_, section))) => Err(ConfigError::PartialCredentials {
            source: source(section),
            missing: "aws_access_key_id",
        }),
        (None, None) => Ok(None),
    }
}

/// The environment keys, unless the profile came from `--profile`; notes in `looked_at`
/// why there are none.
pub(super) fn from_env(
    env: &Env,
    profile: &Profile,
    looked_at: &mut Vec<String>,
) -> Result<Option<ResolvedCredentials>, ConfigError> {
    let akid = env.var(ENV_ACCESS_KEY_ID);
    let secret = env.var(ENV_SECRET_ACCESS_KEY);
    if profile.source == Source::Flag("--profile") {
        if akid.is_some() || secret.is_some() {
            looked_at.push(format!(
                "{ENV_ACCESS_KEY_ID}/{ENV_SECRET_ACCESS_KEY} (ignored because --profile was given)"
            ));
        }
        return Ok(None);
    }
    match (akid, secret) {
        (Some(a), Some(s)) => {
            let token = env
                .var(ENV_SESSION_TOKEN)
                .or_else(|| env.var(ENV_SECURITY_TOKEN));
            let creds = Credentials::new(a, s, token.map(str::to_string));
            checked(creds, Source::EnvVar(ENV_ACCESS_KEY_ID)).map(Some)
        }
        (Some(_), None) => Err(ConfigError::PartialCredentials {
            source: Source::EnvVar(ENV_ACCESS_KEY_ID),
            missing: ENV_SECRET_ACCESS_KEY,
        }),
        (None, Some(_)) => Err(ConfigError::PartialCredentials {
            source: Source::EnvVar(ENV_SECRET_ACCESS_KEY),
            missing: ENV_ACCESS_KEY_ID,
        }),
        (None, None) => {
            looked_at.push(format!(
                "environment variables {ENV_ACCESS_KEY_ID} and {ENV_SECRET_ACCESS_KEY} (not set)"
            ));
            Ok(None)
        }
    }
}

/// Credentials from the profile's `sections` of the file at `path`; notes in `looked_at`
/// why there are none. `wanted` names the sections in those notes, e.g. `[profile prod]`.
pub(super) fn from_file<'a>(
    path: &Path,
    sections: impl Iterator<Item = &'a IniSection> + Clone,
    wanted: &str,
    looked_at: &mut Vec<String>,
) -> Result<Option<ResolvedCredentials>, ConfigError> {
    if sections.clone().next().is_none() {
        looked_at.push(format!("{} (no {wanted} section)", path.display()));
        return Ok(None);
    }
    let found = credentials_from_sections(path, sections)?;
    if found.is_none() {
        looked_at.push(format!(
            "{} ({wanted} has no aws_access_key_id)",
            path.display()
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
