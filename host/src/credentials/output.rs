//! Which output format the profile asks for, as the AWS CLI looks it up
//! (<https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html#cli-config-output>):
//! `--output`, then `AWS_DEFAULT_OUTPUT`, then `output` in the config file's
//! profile section. The name itself is checked by the caller.

use super::files::{Loaded, config_sections, load_config_file};
use super::ini::lookup;
use super::{ConfigError, ENV_DEFAULT_OUTPUT, Env, Profile, Source};

/// An output format name and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSetting {
    /// The name as given (`json`, `text`, `table`, or anything else).
    pub name: String,
    /// `--output`, `AWS_DEFAULT_OUTPUT`, or the profile's section.
    pub source: Source,
}

/// Picks the output format setting: `explicit` (`--output`), then
/// `AWS_DEFAULT_OUTPUT`, then `output` in the config file's profile section;
/// `None` when none is set (JSON then).
pub fn resolve_output(
    env: &Env,
    explicit: Option<&str>,
    profile: &Profile,
) -> Result<Option<OutputSetting>, ConfigError> {
    let make = |name: &str, source: Source| {
        Some(OutputSetting {
            name: name.to_owned(),
            source,
        })
    };
    if let Some(name) = explicit {
        return Ok(make(name, Source::Flag("--output")));
    }
    if let Some(name) = env.var(ENV_DEFAULT_OUTPUT) {
        return Ok(make(name, Source::EnvVar(ENV_DEFAULT_OUTPUT)));
    }
    if let Loaded::File(path, ini) = load_config_file(env)?
        && let Some((name, section)) = lookup(config_sections(&ini, &profile.name), "output")
        && !name.is_empty()
    {
        let source = Source::File {
            path: path.clone(),
            section: section.to_string(),
        };
        return Ok(make(name, source));
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
