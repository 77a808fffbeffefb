//! Which CA bundle, if any, is added to the trusted roots.

use std::path::PathBuf;

use super::files::{Loaded, config_sections, load_config_file};
use super::ini::lookup;
use super::{ConfigError, ENV_CA_BUNDLE, Env, Profile, Source};

/// A CA bundle file and where its path came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    /// The PEM file (`~/` expanded).
    pub path: PathBuf,
    /// `--ca-bundle`, `AWS_CA_BUNDLE`, or the profile's section.
    pub source: Source,
}

/// Picks the CA bundle as the AWS CLI does: `explicit` (`--ca-bundle`), then
/// `AWS_CA_BUNDLE`, then `ca_bundle` in the config file's profile section;
/// `None` when none is set. The file itself is read later, before any request.
pub fn resolve_ca_bundle(
    env: &Env,
    explicit: Option<&str>,
    profile: &Profile,
) -> Result<Option<CaBundle>, ConfigError> {
    let make = |value: &str, source: Source| {
        Some(CaBundle {
            path: env.expand_home(value),
            source,
        })
    };
    if let Some(value) = explicit.filter(|v| !v.is_empty()) {
        return Ok(make(value, Source::Flag("--ca-bundle")));
    }
    if let Some(value) = env.var(ENV_CA_BUNDLE) {
        return Ok(make(value, Source::EnvVar(ENV_CA_BUNDLE)));
    }
    if let Loaded::File(path, ini) = load_config_file(env)?
        && let Some((value, section)) = lookup(config_sections(&ini, &profile.name), "ca_bundle")
        && !value.is_empty()
    {
        let source = Source::File {
            path: path.clone(),
            section: section.to_string(),
        };
        return Ok(make(value, source));
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
