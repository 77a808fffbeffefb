//! The [`Env`] snapshot: the environment variables and file contents that resolution
//! reads, taken from the process or built by hand in tests.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Access key id variable.
pub const ENV_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// Secret access key variable.
pub const ENV_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Session token variable.
pub const ENV_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Legacy session token variable (botocore still reads it).
pub const ENV_SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
/// Profile name variable.
pub const ENV_PROFILE: &str = "AWS_PROFILE";
/// Region variable (SDKs).
pub const ENV_REGION: &str = "AWS_REGION";
/// Region variable (AWS CLI).
pub const ENV_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Path of the shared credentials file.
pub const ENV_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// Path of the config file.
pub const ENV_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
/// Service-specific endpoint URL for Glacier.
pub const ENV_ENDPOINT_URL_GLACIER: &str = "AWS_ENDPOINT_URL_GLACIER";
/// Global endpoint URL override.
pub const ENV_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// `true` disables the two endpoint variables.
pub const ENV_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
/// A PEM bundle of extra certificate authorities.
pub const ENV_CA_BUNDLE: &str = "AWS_CA_BUNDLE";
/// The output format (`json`, `text`, `table`) when `--output` is not given.
pub const ENV_DEFAULT_OUTPUT: &str = "AWS_DEFAULT_OUTPUT";

/// Every variable [`Env::from_process`] reads.
pub const ENV_VARS: &[&str] = &[
    ENV_ACCESS_KEY_ID,
    ENV_SECRET_ACCESS_KEY,
    ENV_SESSION_TOKEN,
    ENV_SECURITY_TOKEN,
    ENV_PROFILE,
    ENV_REGION,
    ENV_DEFAULT_REGION,
    ENV_SHARED_CREDENTIALS_FILE,
    ENV_CONFIG_FILE,
    ENV_ENDPOINT_URL_GLACIER,
    ENV_ENDPOINT_URL,
    ENV_IGNORE_CONFIGURED_ENDPOINT_URLS,
    ENV_CA_BUNDLE,
    ENV_DEFAULT_OUTPUT,
    "HOME",
    "USERPROFILE",
];

/// Largest credentials/config file [`Env::from_process`] reads.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// A file in the snapshot: its text, or why it could not be read.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum FileState {
    Text(String),
    Unreadable(String),
}

impl fmt::Debug for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileState::Text(text) => write!(f, "Text(<{} bytes>)", text.len()),
            FileState::Unreadable(reason) => f.debug_tuple("Unreadable").field(reason).finish(),
        }
    }
}

/// A snapshot of environment variables and file contents to resolve configuration from.
///
/// Files not in the snapshot are treated as nonexistent. `Debug` lists variable names and
/// file paths only, never values or contents (they hold secrets).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
    files: BTreeMap<PathBuf, FileState>,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Env {
    /// An empty environment: no variables, no files.
    pub fn new() -> Self {
        Env::default()
    }

    /// Adds (or replaces) a variable.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Adds (or replaces) a readable file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        self.files
            .insert(path.into(), FileState::Text(contents.into()));
        self
    }

    /// Adds a file that exists but cannot be read; `reason` is shown in errors.
    pub fn with_unreadable_file(
        mut self,
        path: impl Into<PathBuf>,
        reason: impl Into<String>,
    ) -> Self {
        self.files
            .insert(path.into(), FileState::Unreadable(reason.into()));
        self
    }

    /// Snapshots the real process: the variables in [`ENV_VARS`] (values that are not
    /// valid Unicode are skipped) and the credentials and config files they point to. A
    /// missing file is left out; one that cannot be read, is larger than
    /// [`MAX_FILE_SIZE`] or is not UTF-8 is recorded as unreadable and reported if needed.
    pub fn from_process() -> Self {
        let mut env = Env::new();
        for &name in ENV_VARS {
            if let Some(Ok(value)) = std::env::var_os(name).map(|v| v.into_string()) {
                env.vars.insert(name.to_string(), value);
            }
        }
        for path in [env.shared_credentials_path(), env.config_path()]
            .into_iter()
            .flatten()
        {
            if let Some(state) = read_file(&path) {
                env.files.insert(path, state);
            }
        }
        env
    }

    /// A variable's value; empty values count as unset.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<&str> {
        self.var("HOME").or_else(|| self.var("USERPROFILE"))
    }

    fn path_from(&self, var: &str, default_name: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(p) => Some(self.expand_home(p)),
            None => Some(Path::new(self.home()?).join(".aws").join(default_name)),
        }
    }

    /// `p` with a leading `~/` (or a lone `~`) replaced by the home directory.
    pub(super) fn expand_home(&self, p: &str) -> PathBuf {
        match (p.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => Path::new(home).join(rest),
            (None, Some(home)) if p == "~" => PathBuf::from(home),
            _ => PathBuf::from(p),
        }
    }

    /// A file's snapshot; `None` when it is not in the snapshot (nonexistent).
    pub(super) fn file(&self, path: &Path) -> Option<&FileState> {
        self.files.get(path)
    }

    /// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`;
    /// `None` when neither that variable nor a home directory is set.
    pub fn shared_credentials_path(&self) -> Option<PathBuf> {
        self.path_from(ENV_SHARED_CREDENTIALS_FILE, "credentials")
    }

    /// The config file: `AWS_CONFIG_FILE` or `~/.aws/config`; `None` when neither that
    /// variable nor a home directory is set.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.path_from(ENV_CONFIG_FILE, "config")
    }
}

fn read_file(path: &Path) -> Option<FileState> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(FileState::Unreadable(e.to_string())),
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes) {
        return Some(FileState::Unreadable(e.to_string()));
    }
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Some(FileState::Unreadable(format!(
            "larger than {MAX_FILE_SIZE} bytes"
        )));
    }
    Some(match String::from_utf8(bytes) {
        Ok(text) => FileState::Text(text),
        Err(_) => FileState::Unreadable("not valid UTF-8".to_string()),
    })
}

#[cfg(test)]
mod tests;
