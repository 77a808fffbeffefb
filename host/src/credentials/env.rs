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

/// Web identity token file (EKS IRSA).
pub const ENV_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
/// Role to assume with the web identity token.
pub const ENV_ROLE_ARN: &str = "AWS_ROLE_ARN";
/// Session name for that role.
pub const ENV_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
/// Container credentials path on 169.254.170.2 (ECS).
pub const ENV_CONTAINER_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// Container credentials URL (EKS Pod Identity, local agents).
pub const ENV_CONTAINER_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// `Authorization` value for the container credentials URL.
pub const ENV_CONTAINER_AUTH_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// File holding that value (read on every fetch; it rotates).
pub const ENV_CONTAINER_AUTH_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// `true` turns the EC2 instance metadata source off.
pub const ENV_EC2_METADATA_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
/// The instance metadata endpoint.
pub const ENV_EC2_METADATA_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// `IPv4` or `IPv6`: which default instance metadata address.
pub const ENV_EC2_METADATA_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
/// Seconds per instance metadata request.
pub const ENV_METADATA_TIMEOUT: &str = "AWS_METADATA_SERVICE_TIMEOUT";
/// Attempts per instance metadata request.
pub const ENV_METADATA_ATTEMPTS: &str = "AWS_METADATA_SERVICE_NUM_ATTEMPTS";
/// Service-specific endpoint URL for STS.
pub const ENV_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
/// Service-specific endpoint URL for the SSO portal.
pub const ENV_ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";

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
    ENV_WEB_IDENTITY_TOKEN_FILE,
    ENV_ROLE_ARN,
    ENV_ROLE_SESSION_NAME,
    ENV_CONTAINER_RELATIVE_URI,
    ENV_CONTAINER_FULL_URI,
    ENV_CONTAINER_AUTH_TOKEN,
    ENV_CONTAINER_AUTH_TOKEN_FILE,
    ENV_EC2_METADATA_DISABLED,
    ENV_EC2_METADATA_ENDPOINT,
    ENV_EC2_METADATA_ENDPOINT_MODE,
    ENV_METADATA_TIMEOUT,
    ENV_METADATA_ATTEMPTS,
    ENV_ENDPOINT_URL_STS,
    ENV_ENDPOINT_URL_SSO,
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

    /// Whether a variable is set to `true` (any case).
    pub(super) fn is_true(&self, name: &str) -> bool {
        self.var(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub(super) fn home(&self) -> Option<&str> {
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
