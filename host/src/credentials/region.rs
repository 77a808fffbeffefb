//! Region names and where the region comes from.

use std::fmt;

use super::files::{Loaded, config_sections, load_config_file};
use super::ini::lookup;
use super::{ConfigError, ENV_DEFAULT_REGION, ENV_REGION, Env, Profile, Source};

/// A syntactically valid AWS region name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// Accepts names shaped like AWS regions: 2–4 lowercase letters, one or more
    /// lowercase-letter parts, and a 1–2 digit number, joined by single hyphens
    /// (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`).
    /// Returns `None` otherwise. This checks shape only; AWS adds regions over time.
    pub fn new(name: &str) -> Option<Region> {
        let parts: Vec<&str> = name.split('-').collect();
        let letters = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
        let ok = parts.len() >= 3
            && (2..=4).contains(&parts[0].len())
            && letters(parts[0])
            && parts[1..parts.len() - 1].iter().all(|p| letters(p))
            && parts.last().is_some_and(|n| {
                (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
            });
        ok.then(|| Region(name.to_string()))
    }

    /// The name, e.g. `us-east-1`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRegion {
    /// The region.
    pub region: Region,
    /// Where it came from.
    pub source: Source,
}

/// Picks the region: `explicit` (`--region`), `AWS_REGION`, `AWS_DEFAULT_REGION`, then
/// `region` in the config file's profile section. The first one found must be valid; a
/// malformed value is an error, not skipped.
pub fn resolve_region(
    env: &Env,
    explicit: Option<&str>,
    profile: &Profile,
) -> Result<ResolvedRegion, ConfigError> {
    let make = |value: &str, source: Source| match Region::new(value) {
        Some(region) => Ok(ResolvedRegion { region, source }),
        None => Err(ConfigError::InvalidRegion {
            value: value.to_string(),
            source,
        }),
    };
    if let Some(value) = explicit {
        return make(value, Source::Flag("--region"));
    }
    for var in [ENV_REGION, ENV_DEFAULT_REGION] {
        if let Some(value) = env.var(var) {
            return make(value, Source::EnvVar(var));
        }
    }
    let mut looked_at = vec![
        "option --region (not given)".to_string(),
        format!("environment variables {ENV_REGION} and {ENV_DEFAULT_REGION} (not set)"),
    ];
    match load_config_file(env)? {
        Loaded::Absent(note) => looked_at.push(note),
        Loaded::File(path, ini) => match lookup(config_sections(&ini, &profile.name), "region") {
            Some((value, section)) => {
                let source = Source::File {
                    path: path.clone(),
                    section: section.to_string(),
                };
                return make(value, source);
            }
            None => looked_at.push(format!(
                "{} (no region in the section of profile '{}')",
                path.display(),
                profile.name
            )),
        },
    }
    Err(ConfigError::NoRegion { looked_at })
}

#[cfg(test)]
mod tests;
