//! Loading the shared credentials and config files, and finding a profile's sections.

use std::path::PathBuf;

use super::env::FileState;
use super::{
    ConfigError, ENV_CONFIG_FILE, ENV_SHARED_CREDENTIALS_FILE, Env, Ini, IniSection, parse_ini,
};

/// A parsed file and its path, or the notes on why there is none.
pub(super) enum Loaded {
    File(PathBuf, Ini),
    Absent(String),
}

fn load(env: &Env, path: Option<PathBuf>, what: &str, var: &str) -> Result<Loaded, ConfigError> {
    let Some(path) = path else {
        return Ok(Loaded::Absent(format!(
            "no {what} file (neither {var} nor HOME is set)"
        )));
    };
    match env.file(&path) {
        None => Ok(Loaded::Absent(format!(
            "{} (does not exist)",
            path.display()
        ))),
        Some(FileState::Unreadable(reason)) => Err(ConfigError::FileUnreadable {
            path,
            reason: reason.clone(),
        }),
        Some(FileState::Text(text)) => match parse_ini(text) {
            Ok(ini) => Ok(Loaded::File(path, ini)),
            Err(error) => Err(ConfigError::FileSyntax { path, error }),
        },
    }
}

pub(super) fn load_credentials_file(env: &Env) -> Result<Loaded, ConfigError> {
    load(
        env,
        env.shared_credentials_path(),
        "shared credentials",
        ENV_SHARED_CREDENTIALS_FILE,
    )
}

pub(super) fn load_config_file(env: &Env) -> Result<Loaded, ConfigError> {
    load(env, env.config_path(), "config", ENV_CONFIG_FILE)
}

/// The sections of a config file that define `profile`: `[profile NAME]`, and for
/// `default` also `[default]`.
pub(super) fn config_sections<'a>(
    ini: &'a Ini,
    profile: &'a str,
) -> impl Iterator<Item = &'a IniSection> + Clone {
    ini.sections().iter().filter(move |s| {
        let name = s.name();
        (profile == "default" && name == "default")
            || name
                .strip_prefix("profile")
                .filter(|rest| rest.starts_with([' ', '\t']))
                .is_some_and(|rest| rest.trim() == profile)
    })
}
