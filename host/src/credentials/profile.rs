//! Which profile is selected.

use super::{ConfigError, ENV_PROFILE, Env, Source};

/// The selected profile name and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Profile name.
    pub name: String,
    /// `Flag("--profile")`, `EnvVar("AWS_PROFILE")` or `Default`.
    pub source: Source,
}

/// Picks the profile: `explicit` (`--profile`), then `AWS_PROFILE`, then `default`.
pub fn resolve_profile(env: &Env, explicit: Option<&str>) -> Result<Profile, ConfigError> {
    if let Some(name) = explicit {
        if name.is_empty() {
            return Err(ConfigError::EmptyProfileName);
        }
        return Ok(Profile {
            name: name.to_string(),
            source: Source::Flag("--profile"),
        });
    }
    Ok(match env.var(ENV_PROFILE) {
        Some(name) => Profile {
            name: name.to_string(),
            source: Source::EnvVar(ENV_PROFILE),
        },
        None => Profile {
            name: "default".to_string(),
            source: Source::Default,
        },
    })
}

#[cfg(test)]
mod tests;
