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
//! assert_eq!(config.endpoint.endpoint.host_header(), "glacier.eu-central-1.amazonaws.com");
//! # Ok::<(), glacier_verify::credentials::ConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use crate::sigv4::Credentials;

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
    "HOME",
    "USERPROFILE",
];

/// Largest credentials/config file [`Env::from_process`] reads.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// The name under which the endpoint variables and config know Glacier.
const SERVICE: &str = "glacier";

// ---------------------------------------------------------------------------------------
// Environment snapshot
// ---------------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq)]
enum FileState {
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
        let home = self.home();
        match self.var(var) {
            Some(p) => Some(match (p.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => Path::new(home).join(rest),
                (None, Some(home)) if p == "~" => PathBuf::from(home),
                _ => PathBuf::from(p),
            }),
            None => Some(Path::new(home?).join(".aws").join(default_name)),
        }
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

// ---------------------------------------------------------------------------------------
// Sources and errors
// ---------------------------------------------------------------------------------------

/// Where a resolved value came from, for diagnostics (`--verbose`) and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line option, e.g. `--region`.
    Flag(&'static str),
    /// An environment variable.
    EnvVar(&'static str),
    /// A section of a credentials or config file.
    File {
        /// The file.
        path: PathBuf,
        /// The section name as written, e.g. `profile prod`.
        section: String,
    },
    /// Built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "option {flag}"),
            Source::EnvVar(var) => write!(f, "environment variable {var}"),
            Source::File { path, section } => write!(f, "[{section}] in {}", path.display()),
            Source::Default => f.write_str("built-in default"),
        }
    }
}

/// Why configuration could not be resolved. Messages say what was looked at; they never
/// contain secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `--profile ""`.
    EmptyProfileName,
    /// A credentials or config file exists but cannot be read.
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// The OS error or other reason.
        reason: String,
    },
    /// A credentials or config file has a syntax error.
    FileSyntax {
        /// The file.
        path: PathBuf,
        /// What and where.
        error: IniError,
    },
    /// Only one half of a key pair was found.
    PartialCredentials {
        /// Where the half came from.
        source: Source,
        /// The variable or key that is missing.
        missing: &'static str,
    },
    /// Credentials were found but cannot be put in a request (whitespace, control
    /// characters, `/` in the access key id …).
    InvalidCredentials {
        /// Where they came from.
        source: Source,
        /// Which value is bad.
        what: &'static str,
    },
    /// The selected profile obtains credentials in a way this tool does not implement.
    UnsupportedCredentialSource {
        /// The config file section.
        source: Source,
        /// The key that asks for it, e.g. `role_arn`.
        key: &'static str,
    },
    /// No credentials anywhere.
    NoCredentials {
        /// The profile that was looked for.
        profile: String,
        /// What was looked at, in order, and why each did not provide credentials.
        looked_at: Vec<String>,
    },
    /// No region anywhere.
    NoRegion {
        /// What was looked at, in order.
        looked_at: Vec<String>,
    },
    /// A region name that is not shaped like one.
    InvalidRegion {
        /// The value.
        value: String,
        /// Where it came from.
        source: Source,
    },
    /// The region's partition has no default Glacier endpoint known to this tool.
    NoDefaultEndpoint {
        /// The region.
        region: String,
    },
    /// An endpoint URL that cannot be used.
    InvalidEndpoint {
        /// The value.
        value: String,
        /// Where it came from.
        source: Source,
        /// What is wrong with it.
        error: EndpointError,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyProfileName => f.write_str("--profile needs a non-empty name"),
            ConfigError::FileUnreadable { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            ConfigError::FileSyntax { path, error } => {
                write!(f, "syntax error in {}: {error}", path.display())
            }
            ConfigError::PartialCredentials { source, missing } => write!(
                f,
                "incomplete AWS credentials from {source}: {missing} is missing"
            ),
            ConfigError::InvalidCredentials { source, what } => write!(
                f,
                "invalid AWS credentials from {source}: the {what} is empty or contains whitespace or control characters"
            ),
            ConfigError::UnsupportedCredentialSource { source, key } => write!(
                f,
                "{source} obtains credentials via `{key}`, which glacier-verify does not support; \
                 export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN \
                 (e.g. from `aws configure export-credentials --format env`) instead"
            ),
            ConfigError::NoCredentials { profile, looked_at } => write!(
                f,
                "no AWS credentials found for profile '{profile}'; looked at: {}",
                looked_at.join("; ")
            ),
            ConfigError::NoRegion { looked_at } => write!(
                f,
                "no AWS region configured (use --region); looked at: {}",
                looked_at.join("; ")
            ),
            ConfigError::InvalidRegion { value, source } => write!(
                f,
                "invalid region {value:?} from {source}: expected a name like us-east-1, eu-central-2 or us-gov-west-1"
            ),
            ConfigError::NoDefaultEndpoint { region } => write!(
                f,
                "no default Glacier endpoint is known for region {region}; pass --endpoint-url"
            ),
            ConfigError::InvalidEndpoint {
                value,
                source,
                error,
            } => write!(f, "invalid endpoint URL {value:?} from {source}: {error}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::FileSyntax { error, .. } => Some(error),
            ConfigError::InvalidEndpoint { error, .. } => Some(error),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

/// A parsed file and its path, or the notes on why there is none.
enum Loaded {
    File(PathBuf, Ini),
    Absent(String),
}

fn load(env: &Env, path: Option<PathBuf>, what: &str, var: &str) -> Result<Loaded, ConfigError> {
    let Some(path) = path else {
        return Ok(Loaded::Absent(format!(
            "no {what} file (neither {var} nor HOME is set)"
        )));
    };
    match env.files.get(&path) {
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

fn load_credentials_file(env: &Env) -> Result<Loaded, ConfigError> {
    load(
        env,
        env.shared_credentials_path(),
        "shared credentials",
        ENV_SHARED_CREDENTIALS_FILE,
    )
}

fn load_config_file(env: &Env) -> Result<Loaded, ConfigError> {
    load(env, env.config_path(), "config", ENV_CONFIG_FILE)
}

/// The sections of a config file that define `profile`: `[profile NAME]`, and for
/// `default` also `[default]`.
fn config_sections<'a>(
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

/// Looks `key` up in `sections` (later wins); returns the value and the section name.
fn lookup<'a>(
    sections: impl Iterator<Item = &'a IniSection>,
    key: &str,
) -> Option<(&'a str, &'a str)> {
    sections
        .filter_map(|s| s.get(key).map(|v| (v, s.name())))
        .last()
}

// ---------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

/// Credentials and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedCredentials {
    /// The keys (their `Debug` hides the secrets).
    pub credentials: Credentials,
    /// Where they came from.
    pub source: Source,
}

fn checked(credentials: Credentials, source: Source) -> Result<ResolvedCredentials, ConfigError> {
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

/// Config keys that select a credential provider this tool lacks, checked before the
/// shared credentials file (botocore's provider order).
const PROVIDERS_BEFORE_CREDENTIALS_FILE: &[&str] = &[
    "role_arn",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
];
/// … and after it.
const PROVIDERS_AFTER_CREDENTIALS_FILE: &[&str] = &["credential_process"];

fn unsupported_provider(
    config: &Loaded,
    profile: &str,
    keys: &[&'static str],
) -> Result<(), ConfigError> {
    if let Loaded::File(path, ini) = config {
        for &key in keys {
            if let Some((_, section)) = lookup(config_sections(ini, profile), key) {
                return Err(ConfigError::UnsupportedCredentialSource {
                    source: Source::File {
                        path: path.clone(),
                        section: section.to_string(),
                    },
                    key,
                });
            }
        }
    }
    Ok(())
}

/// Finds credentials for `profile` (see the module docs for the order).
pub fn resolve_credentials(
    env: &Env,
    profile: &Profile,
) -> Result<ResolvedCredentials, ConfigError> {
    let mut looked_at = Vec::new();

    // 1. Environment (unless --profile).
    let akid = env.var(ENV_ACCESS_KEY_ID);
    let secret = env.var(ENV_SECRET_ACCESS_KEY);
    if profile.source == Source::Flag("--profile") {
        if akid.is_some() || secret.is_some() {
            looked_at.push(format!(
                "{ENV_ACCESS_KEY_ID}/{ENV_SECRET_ACCESS_KEY} (ignored because --profile was given)"
            ));
        }
    } else {
        match (akid, secret) {
            (Some(a), Some(s)) => {
                let token = env
                    .var(ENV_SESSION_TOKEN)
                    .or_else(|| env.var(ENV_SECURITY_TOKEN));
                let creds = Credentials::new(a, s, token.map(str::to_string));
                return checked(creds, Source::EnvVar(ENV_ACCESS_KEY_ID));
            }
            (Some(_), None) => {
                return Err(ConfigError::PartialCredentials {
                    source: Source::EnvVar(ENV_ACCESS_KEY_ID),
                    missing: ENV_SECRET_ACCESS_KEY,
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::PartialCredentials {
                    source: Source::EnvVar(ENV_SECRET_ACCESS_KEY),
                    missing: ENV_ACCESS_KEY_ID,
                });
            }
            (None, None) => looked_at.push(format!(
                "environment variables {ENV_ACCESS_KEY_ID} and {ENV_SECRET_ACCESS_KEY} (not set)"
            )),
        }
    }

    let config = load_config_file(env)?;
    unsupported_provider(&config, &profile.name, PROVIDERS_BEFORE_CREDENTIALS_FILE)?;

    // 2. Shared credentials file: section named exactly like the profile.
    match load_credentials_file(env)? {
        Loaded::Absent(note) => looked_at.push(note),
        Loaded::File(path, ini) => {
            let sections = ini.sections().iter().filter(|s| s.name() == profile.name);
            if sections.clone().next().is_none() {
                looked_at.push(format!(
                    "{} (no [{}] section)",
                    path.display(),
                    profile.name
                ));
            } else if let Some(found) = credentials_from_sections(&path, sections)? {
                return Ok(found);
            } else {
                looked_at.push(format!(
                    "{} ([{}] has no aws_access_key_id)",
                    path.display(),
                    profile.name
                ));
            }
        }
    }

    unsupported_provider(&config, &profile.name, PROVIDERS_AFTER_CREDENTIALS_FILE)?;

    // 3. Config file: [profile NAME] / [default].
    match &config {
        Loaded::Absent(note) => looked_at.push(note.clone()),
        Loaded::File(path, ini) => {
            let sections = config_sections(ini, &profile.name);
            let wanted = if profile.name == "default" {
                "[default]".to_string()
            } else {
                format!("[profile {}]", profile.name)
            };
            if sections.clone().next().is_none() {
                looked_at.push(format!("{} (no {wanted} section)", path.display()));
            } else if let Some(found) = credentials_from_sections(path, sections)? {
                return Ok(found);
            } else {
                looked_at.push(format!(
                    "{} ({wanted} has no aws_access_key_id)",
                    path.display()
                ));
            }
        }
    }

    Err(ConfigError::NoCredentials {
        profile: profile.name.clone(),
        looked_at,
    })
}

// ---------------------------------------------------------------------------------------
// Region
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Endpoint
// ---------------------------------------------------------------------------------------

/// URL scheme of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (local test endpoints).
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// What is wrong with an endpoint URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// No `scheme://`.
    MissingScheme,
    /// A scheme other than `http`/`https`.
    UnsupportedScheme,
    /// `user:password@` in the URL.
    UserInfo,
    /// No host.
    MissingHost,
    /// A host with characters outside `A-Z a-z 0-9 . - _`, or a malformed `[IPv6]`.
    InvalidHost,
    /// A port that is empty, not a number, or outside 1–65535.
    InvalidPort,
    /// A base path with characters that need percent-encoding, or `%` escapes.
    InvalidPath,
    /// A `?query`.
    Query,
    /// A `#fragment`.
    Fragment,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::MissingScheme => "missing scheme (expected http:// or https://)",
            EndpointError::UnsupportedScheme => "only http:// and https:// are supported",
            EndpointError::UserInfo => "user info (user:password@) is not supported",
            EndpointError::MissingHost => "missing host",
            EndpointError::InvalidHost => "invalid host",
            EndpointError::InvalidPort => "invalid port (expected 1-65535)",
            EndpointError::InvalidPath => {
                "base path may only contain letters, digits and - . _ ~ / characters"
            }
            EndpointError::Query => "a query string is not supported",
            EndpointError::Fragment => "a fragment is not supported",
        })
    }
}

impl std::error::Error for EndpointError {}

/// A parsed endpoint URL: where to connect and what to put in `Host`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: Scheme,
    host: String,
    ipv6: bool,
    port: Option<u16>,
    base_path: String,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/base/path]`. The scheme and host are lowercased; an
    /// IPv6 host is written in brackets (`http://[::1]:8080`); a trailing `/` of the base
    /// path is dropped. User info, queries, fragments and percent-escapes are rejected.
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let (scheme, rest) = url.split_once("://").ok_or(EndpointError::MissingScheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return Err(EndpointError::UnsupportedScheme);
        };
        if rest.contains('#') {
            return Err(EndpointError::Fragment);
        }
        if rest.contains('?') {
            return Err(EndpointError::Query);
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(EndpointError::UserInfo);
        }
        let (host, ipv6, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (addr, after) = bracketed
                .split_once(']')
                .ok_or(EndpointError::InvalidHost)?;
            addr.parse::<Ipv6Addr>()
                .map_err(|_| EndpointError::InvalidHost)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(EndpointError::InvalidHost)?),
            };
            (addr.to_ascii_lowercase(), true, port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if host.is_empty() {
                return Err(EndpointError::MissingHost);
            }
            let valid = host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !valid {
                return Err(EndpointError::InvalidHost);
            }
            (host.to_ascii_lowercase(), false, port)
        };
        let port = match port {
            None => None,
            Some(p) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(EndpointError::InvalidPort);
                }
                match p.parse::<u16>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => return Err(EndpointError::InvalidPort),
                }
            }
        };
        let valid_path = path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'));
        if !valid_path {
            return Err(EndpointError::InvalidPath);
        }
        Ok(Endpoint {
            scheme,
            host,
            ipv6,
            port,
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host name or address to connect to (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port to connect to: the explicit one or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// Path prefix for request paths: empty, or `/something` without a trailing `/`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The `Host` header value (and what SigV4 signs): host, bracketed if IPv6, plus
    /// `:port` unless it is the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.ipv6 {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) if p != self.scheme.default_port() => format!("{host}:{p}"),
            _ => host,
        }
    }

    /// The wire path for `path` (which starts with `/`): base path + `path`.
    pub fn request_path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.host_header(),
            self.base_path
        )
    }
}

/// The built-in Glacier endpoint for `region`: `https://glacier.{region}.amazonaws.com`,
/// or `.amazonaws.com.cn` for `cn-` regions. Isolated (`us-iso*`, `eu-isoe`) and sovereign
/// (`eusc-`) partitions use other DNS suffixes: error, pass `--endpoint-url`.
pub fn default_endpoint(region: &Region) -> Result<Endpoint, ConfigError> {
    let r = region.as_str();
    let suffix = if r.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if r.starts_with("us-iso") || r.starts_with("eu-isoe-") || r.starts_with("eusc-") {
        return Err(ConfigError::NoDefaultEndpoint {
            region: r.to_string(),
        });
    } else {
        "amazonaws.com"
    };
    Ok(Endpoint {
        scheme: Scheme::Https,
        host: format!("{SERVICE}.{r}.{suffix}"),
        ipv6: false,
        port: None,
        base_path: String::new(),
    })
}

/// An endpoint and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Where it came from.
    pub source: Source,
}

/// Picks the endpoint: `explicit` (`--endpoint-url`), `AWS_ENDPOINT_URL_GLACIER`,
/// `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else
/// [`default_endpoint`]. The first URL found must parse; a bad one is an error.
pub fn resolve_endpoint(
    env: &Env,
    explicit: Option<&str>,
    region: &Region,
) -> Result<ResolvedEndpoint, ConfigError> {
    let make = |value: &str, source: Source| match Endpoint::parse(value) {
        Ok(endpoint) => Ok(ResolvedEndpoint { endpoint, source }),
        Err(error) => Err(ConfigError::InvalidEndpoint {
            value: value.to_string(),
            source,
            error,
        }),
    };
    if let Some(value) = explicit {
        return make(value, Source::Flag("--endpoint-url"));
    }
    let ignore = env
        .var(ENV_IGNORE_CONFIGURED_ENDPOINT_URLS)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        for var in [ENV_ENDPOINT_URL_GLACIER, ENV_ENDPOINT_URL] {
            if let Some(value) = env.var(var) {
                return make(value, Source::EnvVar(var));
            }
        }
    }
    Ok(ResolvedEndpoint {
        endpoint: default_endpoint(region)?,
        source: Source::Default,
    })
}

// ---------------------------------------------------------------------------------------
// Everything at once
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// INI
// ---------------------------------------------------------------------------------------

/// A parsed INI file: sections in file order (repeats kept as separate entries).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ini {
    sections: Vec<IniSection>,
}

impl Ini {
    /// All sections in file order.
    pub fn sections(&self) -> &[IniSection] {
        &self.sections
    }

    /// The value of `key` in section `section` (exact name; key case-insensitive). When the
    /// section or key repeats, the last occurrence wins.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        lookup(self.sections.iter().filter(|s| s.name == section), key).map(|(v, _)| v)
    }
}

/// One `[section]` and its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniSection {
    name: String,
    line: usize,
    entries: Vec<IniEntry>,
}

impl IniSection {
    /// The name between the brackets, trimmed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 1-based line of the header.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Entries in file order.
    pub fn entries(&self) -> &[IniEntry] {
        &self.entries
    }

    /// The last value of `key`, compared ASCII-case-insensitively (as `configparser`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }
}

/// One `key = value` entry.
///
/// `Debug` hides the value when the key mentions a secret or token.
#[derive(Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// Key, trimmed (case kept).
    pub key: String,
    /// Value, trimmed, inline comment removed; continuation lines appended after `\n`.
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

impl fmt::Debug for IniEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.key.to_ascii_lowercase();
        let secret = k.contains("secret") || k.contains("token") || k.contains("password");
        f.debug_struct("IniEntry")
            .field("key", &self.key)
            .field("value", if secret { &"***" } else { &self.value })
            .field("line", &self.line)
            .finish()
    }
}

/// A syntax error: where and what. The message never quotes the line (it may hold a secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IniError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: IniErrorKind,
}

/// The kinds of INI syntax errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IniErrorKind {
    /// `[` without a closing `]`.
    UnclosedSectionHeader,
    /// `[]` or `[   ]`.
    EmptySectionName,
    /// Something other than a comment after `]`.
    TrailingCharacters,
    /// A `key = value` line before any `[section]`.
    EntryOutsideSection,
    /// A line that is neither a section, an entry, a comment nor a continuation.
    MissingDelimiter,
    /// `= value` with nothing before the `=`.
    EmptyKey,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            IniErrorKind::UnclosedSectionHeader => "section header without closing ']'",
            IniErrorKind::EmptySectionName => "empty section name",
            IniErrorKind::TrailingCharacters => "unexpected characters after section header",
            IniErrorKind::EntryOutsideSection => "setting before the first [section] header",
            IniErrorKind::MissingDelimiter => "expected 'key = value', a [section] or a comment",
            IniErrorKind::EmptyKey => "setting with an empty name",
        };
        write!(f, "line {}: {what}", self.line)
    }
}

impl std::error::Error for IniError {}

/// Drops an inline comment: `#` or `;` preceded by a space or tab.
fn strip_inline_comment(value: &str) -> &str {
    let b = value.as_bytes();
    for i in 1..b.len() {
        if matches!(b[i], b'#' | b';') && matches!(b[i - 1], b' ' | b'\t') {
            return value[..i].trim_end();
        }
    }
    value
}

/// Parses an AWS credentials/config file (see the module docs for the syntax).
/// Never panics; runs in time linear in the input.
///
/// ```
/// use glacier_verify::credentials::parse_ini;
/// let ini = parse_ini("# comment\n[profile prod]\nregion = eu-west-1 ; inline\n").unwrap();
/// assert_eq!(ini.get("profile prod", "region"), Some("eu-west-1"));
/// assert_eq!(parse_ini("region = x").unwrap_err().to_string(), "line 1: setting before the first [section] header");
/// ```
pub fn parse_ini(text: &str) -> Result<Ini, IniError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<IniSection> = Vec::new();
    // Whether an indented line continues the previous entry's value.
    let mut in_entry = false;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let err = |kind| IniError {
            line: line_no,
            kind,
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            in_entry = false;
            continue;
        }
        if trimmed.starts_with(['#', ';']) {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented
            && in_entry
            && let Some(entry) = sections.last_mut().and_then(|s| s.entries.last_mut())
        {
            entry.value.push('\n');
            entry.value.push_str(strip_inline_comment(trimmed));
            continue;
        }
        if let Some(inner) = trimmed.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or(err(IniErrorKind::UnclosedSectionHeader))?;
            let name = inner[..close].trim();
            if name.is_empty() {
                return Err(err(IniErrorKind::EmptySectionName));
            }
            let rest = inner[close + 1..].trim_start();
            if !rest.is_empty() && !rest.starts_with(['#', ';']) {
                return Err(err(IniErrorKind::TrailingCharacters));
            }
            sections.push(IniSection {
                name: name.to_string(),
                line: line_no,
                entries: Vec::new(),
            });
            in_entry = false;
            continue;
        }
        let section = sections
            .last_mut()
            .ok_or(err(IniErrorKind::EntryOutsideSection))?;
        let delim = trimmed
            .find(['=', ':'])
            .ok_or(err(IniErrorKind::MissingDelimiter))?;
        let key = trimmed[..delim].trim();
        if key.is_empty() {
            return Err(err(IniErrorKind::EmptyKey));
        }
        let value = strip_inline_comment(trimmed[delim + 1..].trim());
        section.entries.push(IniEntry {
            key: key.to_string(),
            value: value.to_string(),
            line: line_no,
        });
        in_entry = true;
    }
    Ok(Ini { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "/home/u";
    const CREDS: &str = "/home/u/.aws/credentials";
    const CONFIG: &str = "/home/u/.aws/config";

    fn home() -> Env {
        Env::new().with_var("HOME", HOME)
    }

    fn creds_file(profile: &str, akid: &str) -> String {
        format!("[{profile}]\naws_access_key_id = {akid}\naws_secret_access_key = secret-{akid}\n")
    }

    fn profile(env: &Env, explicit: Option<&str>) -> Profile {
        resolve_profile(env, explicit).unwrap()
    }

    fn akid(env: &Env, explicit_profile: Option<&str>) -> Result<(String, Source), ConfigError> {
        let p = profile(env, explicit_profile);
        resolve_credentials(env, &p).map(|r| (r.credentials.access_key_id, r.source))
    }

    fn file_source(path: &str, section: &str) -> Source {
        Source::File {
            path: PathBuf::from(path),
            section: section.to_string(),
        }
    }

    // ---- profile -------------------------------------------------------------------

    #[test]
    fn profile_precedence() {
        let env = home();
        assert_eq!(
            profile(&env, None),
            Profile {
                name: "default".into(),
                source: Source::Default
            }
        );
        let env = env.with_var("AWS_PROFILE", "fromenv");
        assert_eq!(profile(&env, None).name, "fromenv");
        assert_eq!(profile(&env, None).source, Source::EnvVar("AWS_PROFILE"));
        assert_eq!(profile(&env, Some("flag")).name, "flag");
        assert_eq!(
            profile(&env, Some("flag")).source,
            Source::Flag("--profile")
        );
        assert_eq!(
            resolve_profile(&env, Some("")),
            Err(ConfigError::EmptyProfileName)
        );
        // Empty variable = unset.
        let env = home().with_var("AWS_PROFILE", "");
        assert_eq!(profile(&env, None).name, "default");
    }

    // ---- credentials ---------------------------------------------------------------

    #[test]
    fn env_credentials_win_over_files() {
        let env = home()
            .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
            .with_var("AWS_SECRET_ACCESS_KEY", "envsecret")
            .with_file(CREDS, creds_file("default", "FILEKEY"));
        let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
        assert_eq!(r.credentials, Credentials::new("ENVKEY", "envsecret", None));
        assert_eq!(r.source, Source::EnvVar("AWS_ACCESS_KEY_ID"));
        // AWS_PROFILE does not disable the environment keys.
        let env = env.with_var("AWS_PROFILE", "other");
        assert_eq!(akid(&env, None).unwrap().0, "ENVKEY");
    }

    #[test]
    fn env_session_token() {
        let base = home()
            .with_var("AWS_ACCESS_KEY_ID", "K")
            .with_var("AWS_SECRET_ACCESS_KEY", "S");
        let token = |env: &Env| {
            resolve_credentials(env, &profile(env, None))
                .unwrap()
                .credentials
                .session_token
        };
        assert_eq!(token(&base), None);
        assert_eq!(
            token(&base.clone().with_var("AWS_SECURITY_TOKEN", "legacy")),
            Some("legacy".into())
        );
        let both = base
            .clone()
            .with_var("AWS_SECURITY_TOKEN", "legacy")
            .with_var("AWS_SESSION_TOKEN", "new");
        assert_eq!(token(&both), Some("new".into()));
        // A token alone is ignored (as botocore): falls through to the files.
        let env = home()
            .with_var("AWS_SESSION_TOKEN", "t")
            .with_file(CREDS, creds_file("default", "FILEKEY"));
        let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
        assert_eq!(r.credentials.session_token, None);
    }

    #[test]
    fn partial_env_credentials_are_an_error() {
        let env = home()
            .with_var("AWS_ACCESS_KEY_ID", "K")
            .with_file(CREDS, creds_file("default", "FILEKEY"));
        assert_eq!(
            akid(&env, None),
            Err(ConfigError::PartialCredentials {
                source: Source::EnvVar("AWS_ACCESS_KEY_ID"),
                missing: "AWS_SECRET_ACCESS_KEY"
            })
        );
        let env = home().with_var("AWS_SECRET_ACCESS_KEY", "S");
        let e = akid(&env, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "incomplete AWS credentials from environment variable AWS_SECRET_ACCESS_KEY: AWS_ACCESS_KEY_ID is missing"
        );
    }

    #[test]
    fn explicit_profile_skips_env_credentials() {
        let env = home()
            .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
            .with_var("AWS_SECRET_ACCESS_KEY", "envsecret")
            .with_file(CREDS, creds_file("prod", "PRODKEY"));
        assert_eq!(
            akid(&env, Some("prod")),
            Ok(("PRODKEY".into(), file_source(CREDS, "prod")))
        );
        // … and if the profile has no credentials, the env keys are still not used.
        let e = akid(&env, Some("missing")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("ignored because --profile was given"), "{msg}");
        assert!(msg.contains("no [missing] section"), "{msg}");
    }

    #[test]
    fn credentials_file_profile_selection() {
        let text = format!(
            "{}{}[profile prod]\naws_access_key_id = LITERAL\naws_secret_access_key = s\n",
            creds_file("default", "DEFKEY"),
            creds_file("prod", "PRODKEY")
        );
        let env = home().with_file(CREDS, text);
        assert_eq!(akid(&env, None).unwrap().0, "DEFKEY");
        let env = env.with_var("AWS_PROFILE", "prod");
        assert_eq!(akid(&env, None).unwrap().0, "PRODKEY");
        // In the credentials file "[profile x]" is just a section named "profile x".
        assert_eq!(akid(&env, Some("profile prod")).unwrap().0, "LITERAL");
    }

    #[test]
    fn credentials_file_location() {
        // AWS_SHARED_CREDENTIALS_FILE, with ~ expansion, replaces ~/.aws/credentials.
        let env = home()
            .with_var("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds")
            .with_file("/home/u/elsewhere/creds", creds_file("default", "OVERRIDE"))
            .with_file(CREDS, creds_file("default", "HOMEFILE"));
        assert_eq!(
            akid(&env, None),
            Ok((
                "OVERRIDE".into(),
                file_source("/home/u/elsewhere/creds", "default")
            ))
        );
        let env = Env::new()
            .with_var("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws-creds")
            .with_file("/etc/aws-creds", creds_file("default", "ABS"));
        assert_eq!(akid(&env, None).unwrap().0, "ABS");
        // USERPROFILE stands in for HOME.
        let env = Env::new()
            .with_var("USERPROFILE", "/win")
            .with_file("/win/.aws/credentials", creds_file("default", "WIN"));
        assert_eq!(akid(&env, None).unwrap().0, "WIN");
        assert_eq!(home().shared_credentials_path(), Some(PathBuf::from(CREDS)));
        assert_eq!(home().config_path(), Some(PathBuf::from(CONFIG)));
        assert_eq!(Env::new().config_path(), None);
    }

    #[test]
    fn config_file_credentials_come_after_credentials_file() {
        let config = "[profile prod]\naws_access_key_id = CFGKEY\naws_secret_access_key = s\n\
                      [default]\naws_access_key_id = CFGDEF\naws_secret_access_key = s\n";
        let env = home().with_file(CONFIG, config);
        assert_eq!(
            akid(&env, Some("prod")),
            Ok(("CFGKEY".into(), file_source(CONFIG, "profile prod")))
        );
        assert_eq!(akid(&env, None).unwrap().0, "CFGDEF");
        let env = env.with_file(CREDS, creds_file("prod", "CREDKEY"));
        assert_eq!(akid(&env, Some("prod")).unwrap().0, "CREDKEY");
        // In the config file only "[profile NAME]" names a profile (except default).
        let env = home().with_file(
            CONFIG,
            "[prod]\naws_access_key_id = X\naws_secret_access_key = s\n",
        );
        assert!(matches!(
            akid(&env, Some("prod")),
            Err(ConfigError::NoCredentials { .. })
        ));
        // "[profile default]" also names the default profile.
        let env = home().with_file(
            CONFIG,
            "[profile default]\naws_access_key_id = PD\naws_secret_access_key = s\n",
        );
        assert_eq!(akid(&env, None).unwrap().0, "PD");
    }

    #[test]
    fn file_session_token_and_partial_keys() {
        let env = home().with_file(
            CREDS,
            "[default]\naws_access_key_id = K\naws_secret_access_key = S\naws_session_token = T\n",
        );
        let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
        assert_eq!(r.credentials, Credentials::new("K", "S", Some("T".into())));
        let env = home().with_file(CREDS, "[default]\naws_access_key_id = K\n");
        assert_eq!(
            akid(&env, None),
            Err(ConfigError::PartialCredentials {
                source: file_source(CREDS, "default"),
                missing: "aws_secret_access_key"
            })
        );
        let env = home().with_file(CREDS, "[default]\naws_secret_access_key = S\n");
        assert!(matches!(
            akid(&env, None),
            Err(ConfigError::PartialCredentials {
                missing: "aws_access_key_id",
                ..
            })
        ));
        // Keys are case-insensitive; repeated sections merge, later values win.
        let env = home().with_file(
            CREDS,
            "[default]\nAWS_ACCESS_KEY_ID = OLD\n[other]\nx=1\n[default]\naws_access_key_id = NEW\naws_secret_access_key = S\n",
        );
        assert_eq!(akid(&env, None).unwrap().0, "NEW");
    }

    #[test]
    fn invalid_credential_values() {
        let env = home()
            .with_var("AWS_ACCESS_KEY_ID", "K K")
            .with_var("AWS_SECRET_ACCESS_KEY", "S");
        assert_eq!(
            akid(&env, None),
            Err(ConfigError::InvalidCredentials {
                source: Source::EnvVar("AWS_ACCESS_KEY_ID"),
                what: "access key id"
            })
        );
        let env = home().with_file(
            CREDS,
            "[default]\naws_access_key_id = K\naws_secret_access_key = S\naws_session_token = a\n  b\n",
        );
        assert!(matches!(
            akid(&env, None),
            Err(ConfigError::InvalidCredentials {
                what: "session token",
                ..
            })
        ));
    }

    #[test]
    fn unsupported_credential_providers() {
        let env = home()
            .with_file(CONFIG, "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n")
            .with_file(CREDS, creds_file("r", "CREDKEY"));
        // role_arn comes before the credentials file in botocore's chain.
        assert_eq!(
            akid(&env, Some("r")),
            Err(ConfigError::UnsupportedCredentialSource {
                source: file_source(CONFIG, "profile r"),
                key: "role_arn"
            })
        );
        // credential_process comes after it.
        let env = home()
            .with_file(CONFIG, "[profile p]\ncredential_process = /bin/get-creds\n")
            .with_file(CREDS, creds_file("p", "CREDKEY"));
        assert_eq!(akid(&env, Some("p")).unwrap().0, "CREDKEY");
        let env = home().with_file(CONFIG, "[profile p]\ncredential_process = /bin/get-creds\n");
        let e = akid(&env, Some("p")).unwrap_err();
        assert!(e.to_string().contains("`credential_process`"), "{e}");
        let env = home().with_file(CONFIG, "[default]\nsso_session = corp\n");
        assert!(matches!(
            akid(&env, None),
            Err(ConfigError::UnsupportedCredentialSource {
                key: "sso_session",
                ..
            })
        ));
        // Environment keys still win over all of that.
        let env = env
            .with_var("AWS_ACCESS_KEY_ID", "E")
            .with_var("AWS_SECRET_ACCESS_KEY", "S");
        assert_eq!(akid(&env, None).unwrap().0, "E");
    }

    #[test]
    fn no_credentials_message_lists_everything() {
        let e = akid(&home(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no AWS credentials found for profile 'default'; looked at: \
             environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set); \
             /home/u/.aws/credentials (does not exist); /home/u/.aws/config (does not exist)"
        );
        let e = akid(&Env::new(), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set"),
            "{e}"
        );
        let env = home()
            .with_file(CREDS, "[default]\nregion = x\n")
            .with_file(CONFIG, "[profile other]\n");
        let e = akid(&env, None).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("[default] has no aws_access_key_id"), "{msg}");
        assert!(msg.contains("no [default] section"), "{msg}");
        let e = akid(&env, Some("x")).unwrap_err();
        assert!(e.to_string().contains("no [profile x] section"), "{e}");
    }

    #[test]
    fn unreadable_and_malformed_files() {
        let env = home().with_unreadable_file(CREDS, "Permission denied (os error 13)");
        assert_eq!(
            akid(&env, None),
            Err(ConfigError::FileUnreadable {
                path: PathBuf::from(CREDS),
                reason: "Permission denied (os error 13)".into()
            })
        );
        let env = home().with_file(CONFIG, "[default\nregion=us-east-1\n");
        let e = akid(&env, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "syntax error in /home/u/.aws/config: line 1: section header without closing ']'"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let env = home()
            .with_var("AWS_SECRET_ACCESS_KEY", "TOPSECRET")
            .with_file(
                CREDS,
                "[default]\naws_secret_access_key = FILESECRET\naws_session_token = TOK\n",
            );
        let dbg = format!("{env:?}");
        assert!(
            !dbg.contains("TOPSECRET") && !dbg.contains("FILESECRET"),
            "{dbg}"
        );
        let ini = parse_ini(
            "[default]\naws_secret_access_key = FILESECRET\naws_session_token = TOK\nregion = r\n",
        )
        .unwrap();
        let dbg = format!("{ini:?}");
        assert!(
            !dbg.contains("FILESECRET") && !dbg.contains("TOK") && dbg.contains("\"r\""),
            "{dbg}"
        );
        let e = akid(&env, None).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("TOPSECRET"));
        let e = parse_ini("[a]\nsecret_without_equals FILESECRET\n").unwrap_err();
        assert!(!e.to_string().contains("FILESECRET"));
    }

    #[test]
    fn from_process_reads_real_files() {
        // Only checks that it runs and picks up nothing unexpected from a bogus HOME.
        let env = Env::from_process();
        let _ = env.shared_credentials_path();
        let dir =
            std::env::temp_dir().join(format!("glacier-verify-cred-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, creds_file("default", "REAL")).unwrap();
        assert_eq!(
            read_file(&file),
            Some(FileState::Text(creds_file("default", "REAL")))
        );
        assert_eq!(read_file(&dir.join("missing")), None);
        assert!(matches!(read_file(&dir), Some(FileState::Unreadable(_))));
        std::fs::write(&file, [0xff, 0xfe, b'x']).unwrap();
        assert_eq!(
            read_file(&file),
            Some(FileState::Unreadable("not valid UTF-8".into()))
        );
        let big = vec![b'#'; (MAX_FILE_SIZE + 1) as usize];
        std::fs::write(&file, big).unwrap();
        assert!(
            matches!(read_file(&file), Some(FileState::Unreadable(r)) if r.starts_with("larger"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // ---- region --------------------------------------------------------------------

    fn region(
        env: &Env,
        explicit: Option<&str>,
        profile_flag: Option<&str>,
    ) -> Result<(String, Source), ConfigError> {
        let p = profile(env, profile_flag);
        resolve_region(env, explicit, &p).map(|r| (r.region.0, r.source))
    }

    #[test]
    fn region_precedence() {
        let env = home().with_file(
            CONFIG,
            "[default]\nregion = eu-west-1\n[profile p]\nregion = ap-south-1\n",
        );
        assert_eq!(
            region(&env, None, None),
            Ok(("eu-west-1".into(), file_source(CONFIG, "default")))
        );
        assert_eq!(region(&env, None, Some("p")).unwrap().0, "ap-south-1");
        let env = env.with_var("AWS_DEFAULT_REGION", "us-west-2");
        assert_eq!(
            region(&env, None, Some("p")),
            Ok(("us-west-2".into(), Source::EnvVar("AWS_DEFAULT_REGION")))
        );
        let env = env.with_var("AWS_REGION", "us-east-2");
        assert_eq!(
            region(&env, None, None),
            Ok(("us-east-2".into(), Source::EnvVar("AWS_REGION")))
        );
        assert_eq!(
            region(&env, Some("cn-north-1"), None),
            Ok(("cn-north-1".into(), Source::Flag("--region")))
        );
        // AWS_CONFIG_FILE replaces ~/.aws/config.
        let env = home()
            .with_var("AWS_CONFIG_FILE", "/etc/aws.conf")
            .with_file("/etc/aws.conf", "[default]\nregion = sa-east-1\n")
            .with_file(CONFIG, "[default]\nregion = eu-west-1\n");
        assert_eq!(region(&env, None, None).unwrap().0, "sa-east-1");
        // The credentials file is not a place for the region.
        let env = home().with_file(CREDS, "[default]\nregion = eu-west-1\n");
        assert!(matches!(
            region(&env, None, None),
            Err(ConfigError::NoRegion { .. })
        ));
    }

    #[test]
    fn region_errors() {
        let e = region(&home(), None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no AWS region configured (use --region); looked at: option --region (not given); \
             environment variables AWS_REGION and AWS_DEFAULT_REGION (not set); \
             /home/u/.aws/config (does not exist)"
        );
        let env = home().with_file(CONFIG, "[profile other]\nregion = eu-west-1\n");
        assert!(
            region(&env, None, None)
                .unwrap_err()
                .to_string()
                .contains("no region in the section of profile 'default'")
        );
        // A bad value is reported, not skipped for the next source.
        let env = home()
            .with_var("AWS_REGION", "US-EAST-1")
            .with_var("AWS_DEFAULT_REGION", "us-east-1");
        assert_eq!(
            region(&env, None, None),
            Err(ConfigError::InvalidRegion {
                value: "US-EAST-1".into(),
                source: Source::EnvVar("AWS_REGION")
            })
        );
        let env = home().with_file(CONFIG, "[default]\nregion = us-east-1 extra\n");
        assert!(matches!(
            region(&env, None, None),
            Err(ConfigError::InvalidRegion { .. })
        ));
        assert!(matches!(
            region(&home(), Some(""), None),
            Err(ConfigError::InvalidRegion { .. })
        ));
    }

    #[test]
    fn region_names() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "ap-southeast-4",
            "il-central-1",
            "us-isob-east-1",
            "eusc-de-east-1",
            "me-south-1",
            "ca-west-1",
            "mx-central-1",
        ] {
            assert_eq!(
                Region::new(good).map(|r| r.to_string()),
                Some(good.to_string()),
                "{good}"
            );
        }
        for bad in [
            "",
            "us",
            "us-east",
            "us-east1",
            "useast1",
            "US-EAST-1",
            "us_east_1",
            "us-east-1 ",
            " us-east-1",
            "us-east-100",
            "us--east-1",
            "-us-east-1",
            "us-east-1-",
            "u-east-1",
            "abcde-east-1",
            "us-3ast-1",
            "us-east-x",
            "global",
            "aws-global",
            "us-east-1\n",
            "ús-east-1",
            "us-east-1.evil.com",
        ] {
            assert_eq!(Region::new(bad), None, "{bad:?}");
        }
    }

    // ---- endpoint ------------------------------------------------------------------

    fn reg(name: &str) -> Region {
        Region::new(name).unwrap()
    }

    #[test]
    fn endpoint_precedence() {
        let r = reg("us-west-2");
        let ep = |env: &Env, explicit| {
            let e = resolve_endpoint(env, explicit, &r).unwrap();
            (e.endpoint.to_string(), e.source)
        };
        let env = home();
        assert_eq!(
            ep(&env, None),
            (
                "https://glacier.us-west-2.amazonaws.com".into(),
                Source::Default
            )
        );
        let env = env.with_var("AWS_ENDPOINT_URL", "http://localhost:9000");
        assert_eq!(
            ep(&env, None),
            (
                "http://localhost:9000".into(),
                Source::EnvVar("AWS_ENDPOINT_URL")
            )
        );
        let env = env.with_var("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:9001");
        assert_eq!(
            ep(&env, None),
            (
                "http://127.0.0.1:9001".into(),
                Source::EnvVar("AWS_ENDPOINT_URL_GLACIER")
            )
        );
        assert_eq!(
            ep(&env, Some("https://flag.example")),
            (
                "https://flag.example".into(),
                Source::Flag("--endpoint-url")
            )
        );
        let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
        assert_eq!(ep(&env, None).1, Source::Default);
        assert_eq!(ep(&env, Some("http://x")).1, Source::Flag("--endpoint-url"));
        let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
        assert_eq!(ep(&env, None).1, Source::EnvVar("AWS_ENDPOINT_URL_GLACIER"));
        // A bad URL is an error naming its source.
        let env = home().with_var("AWS_ENDPOINT_URL", "ftp://x");
        let e = resolve_endpoint(&env, None, &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid endpoint URL \"ftp://x\" from environment variable AWS_ENDPOINT_URL: only http:// and https:// are supported"
        );
    }

    #[test]
    fn default_endpoints_by_partition() {
        let host = |r: &str| default_endpoint(&reg(r)).map(|e| e.host_header());
        assert_eq!(
            host("us-east-1"),
            Ok("glacier.us-east-1.amazonaws.com".into())
        );
        assert_eq!(
            host("us-gov-west-1"),
            Ok("glacier.us-gov-west-1.amazonaws.com".into())
        );
        assert_eq!(
            host("cn-north-1"),
            Ok("glacier.cn-north-1.amazonaws.com.cn".into())
        );
        assert_eq!(
            host("cn-northwest-1"),
            Ok("glacier.cn-northwest-1.amazonaws.com.cn".into())
        );
        for r in [
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            assert_eq!(
                host(r),
                Err(ConfigError::NoDefaultEndpoint { region: r.into() })
            );
        }
        let e = default_endpoint(&reg("eu-west-1")).unwrap();
        assert_eq!(
            (e.scheme(), e.host(), e.port(), e.base_path()),
            (Scheme::Https, "glacier.eu-west-1.amazonaws.com", 443, "")
        );
    }

    #[test]
    fn endpoint_parsing() {
        let p = |s: &str| {
            Endpoint::parse(s).map(|e| {
                (
                    e.scheme(),
                    e.host().to_string(),
                    e.port(),
                    e.base_path().to_string(),
                    e.host_header(),
                )
            })
        };
        assert_eq!(
            p("https://glacier.us-east-1.amazonaws.com"),
            Ok((
                Scheme::Https,
                "glacier.us-east-1.amazonaws.com".into(),
                443,
                "".into(),
                "glacier.us-east-1.amazonaws.com".into()
            ))
        );
        assert_eq!(
            p("HTTP://LocalHost:8080/"),
            Ok((
                Scheme::Http,
                "localhost".into(),
                8080,
                "".into(),
                "localhost:8080".into()
            ))
        );
        assert_eq!(
            p("https://h:443"),
            Ok((Scheme::Https, "h".into(), 443, "".into(), "h".into()))
        );
        assert_eq!(
            p("http://h:80/"),
            Ok((Scheme::Http, "h".into(), 80, "".into(), "h".into()))
        );
        assert_eq!(
            p("http://h:443"),
            Ok((Scheme::Http, "h".into(), 443, "".into(), "h:443".into()))
        );
        assert_eq!(
            p("http://10.0.0.1:9000/base/path/"),
            Ok((
                Scheme::Http,
                "10.0.0.1".into(),
                9000,
                "/base/path".into(),
                "10.0.0.1:9000".into()
            ))
        );
        assert_eq!(
            p("http://[::1]:8080"),
            Ok((
                Scheme::Http,
                "::1".into(),
                8080,
                "".into(),
                "[::1]:8080".into()
            ))
        );
        assert_eq!(
            p("https://[2001:DB8::1]"),
            Ok((
                Scheme::Https,
                "2001:db8::1".into(),
                443,
                "".into(),
                "[2001:db8::1]".into()
            ))
        );
        assert_eq!(
            p("http://my_host.local"),
            Ok((
                Scheme::Http,
                "my_host.local".into(),
                80,
                "".into(),
                "my_host.local".into()
            ))
        );

        let e = Endpoint::parse("http://h:9000/prefix").unwrap();
        assert_eq!(e.request_path("/-/vaults/v"), "/prefix/-/vaults/v");
        assert_eq!(e.to_string(), "http://h:9000/prefix");

        let bad = [
            (
                "glacier.us-east-1.amazonaws.com",
                EndpointError::MissingScheme,
            ),
            ("ftp://h", EndpointError::UnsupportedScheme),
            ("https//h", EndpointError::MissingScheme),
            ("://h", EndpointError::UnsupportedScheme),
            ("http://", EndpointError::MissingHost),
            ("http:///path", EndpointError::MissingHost),
            ("http://:80", EndpointError::MissingHost),
            ("http://user:pw@h", EndpointError::UserInfo),
            ("http://h:", EndpointError::InvalidPort),
            ("http://h:0", EndpointError::InvalidPort),
            ("http://h:65536", EndpointError::InvalidPort),
            ("http://h:+80", EndpointError::InvalidPort),
            ("http://h:8o", EndpointError::InvalidPort),
            ("http://h:1:2", EndpointError::InvalidPort),
            ("http://h?x=1", EndpointError::Query),
            ("http://h/#f", EndpointError::Fragment),
            ("http://h o", EndpointError::InvalidHost),
            ("http://hé", EndpointError::InvalidHost),
            ("http://[::1", EndpointError::InvalidHost),
            ("http://[not-ip]", EndpointError::InvalidHost),
            ("http://[::1]x", EndpointError::InvalidHost),
            ("http://[::1]:", EndpointError::InvalidPort),
            ("http://h/a b", EndpointError::InvalidPath),
            ("http://h/a%20b", EndpointError::InvalidPath),
            ("", EndpointError::MissingScheme),
        ];
        for (url, want) in bad {
            assert_eq!(Endpoint::parse(url), Err(want), "{url:?}");
        }
    }

    #[test]
    fn resolve_all() {
        let env = home()
            .with_var("AWS_PROFILE", "p")
            .with_file(CREDS, creds_file("p", "PKEY"))
            .with_file(CONFIG, "[profile p]\nregion = cn-north-1\n");
        let c = resolve(&env, &Overrides::default()).unwrap();
        assert_eq!(c.profile.name, "p");
        assert_eq!(c.credentials.credentials.access_key_id, "PKEY");
        assert_eq!(c.region.region.as_str(), "cn-north-1");
        assert_eq!(
            c.endpoint.endpoint.host_header(),
            "glacier.cn-north-1.amazonaws.com.cn"
        );
        let o = Overrides {
            profile: Some("p"),
            region: Some("us-east-1"),
            endpoint_url: Some("http://127.0.0.1:1234"),
        };
        let c = resolve(&env, &o).unwrap();
        assert_eq!(c.region.source, Source::Flag("--region"));
        assert_eq!(c.endpoint.endpoint.host_header(), "127.0.0.1:1234");
        assert!(!format!("{c:?}").contains("secret-PKEY"));
    }

    // ---- INI -----------------------------------------------------------------------

    fn entries(ini: &Ini) -> Vec<(String, String, String)> {
        ini.sections()
            .iter()
            .flat_map(|s| {
                s.entries()
                    .iter()
                    .map(|e| (s.name().to_string(), e.key.clone(), e.value.clone()))
            })
            .collect()
    }

    fn t(s: &str, k: &str, v: &str) -> (String, String, String) {
        (s.into(), k.into(), v.into())
    }

    #[test]
    fn ini_basics() {
        let text = "\u{feff}# top comment\r\n; another\r\n\r\n[default]\r\nregion=us-east-1\r\n[ spaced name ]  # c\n\
                    \tindented_first = yes\nkey : colon value\nempty =\nurl = http://h:1/x=y\n";
        let ini = parse_ini(text).unwrap();
        assert_eq!(
            entries(&ini),
            vec![
                t("default", "region", "us-east-1"),
                t("spaced name", "indented_first", "yes"),
                t("spaced name", "key", "colon value"),
                t("spaced name", "empty", ""),
                t("spaced name", "url", "http://h:1/x=y"),
            ]
        );
        assert_eq!(ini.sections()[1].line(), 6);
        assert_eq!(ini.sections()[1].entries()[0].line, 7);
        assert_eq!(ini.get("default", "REGION"), Some("us-east-1"));
        assert_eq!(ini.get("default", "nope"), None);
        assert_eq!(ini.get("nope", "region"), None);
        assert_eq!(parse_ini("").unwrap(), Ini::default());
        assert_eq!(parse_ini("\n\n# only comments\n").unwrap(), Ini::default());
    }

    #[test]
    fn ini_comments_and_values() {
        let ini = parse_ini(
            "[s]\na = v # comment\nb = v ; comment\nc = v#not-comment\nd = #starts-with-hash\n\
             e = base64+/==\nf = a = b\ng = \"quoted\"\n# x = commented\n",
        )
        .unwrap();
        assert_eq!(
            entries(&ini),
            vec![
                t("s", "a", "v"),
                t("s", "b", "v"),
                t("s", "c", "v#not-comment"),
                t("s", "d", "#starts-with-hash"),
                t("s", "e", "base64+/=="),
                t("s", "f", "a = b"),
                t("s", "g", "\"quoted\""),
            ]
        );
    }

    #[test]
    fn ini_continuation_lines() {
        let ini = parse_ini(
            "[profile dev]\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path # c\nregion = us-west-2\n\n  lone = indented after blank\n",
        )
        .unwrap();
        assert_eq!(
            entries(&ini),
            vec![
                t(
                    "profile dev",
                    "s3",
                    "\nmax_concurrent_requests = 20\naddressing_style = path"
                ),
                t("profile dev", "region", "us-west-2"),
                t("profile dev", "lone", "indented after blank"),
            ]
        );
        // An indented line right after a header is an ordinary entry.
        let ini = parse_ini("[a]\n  k = v\n").unwrap();
        assert_eq!(ini.get("a", "k"), Some("v"));
    }

    #[test]
    fn ini_errors() {
        let cases = [
            ("key = value\n", 1, IniErrorKind::EntryOutsideSection),
            ("  indented = x\n", 1, IniErrorKind::EntryOutsideSection),
            ("[a]\njust words\n", 2, IniErrorKind::MissingDelimiter),
            ("[a]\n= v\n", 2, IniErrorKind::EmptyKey),
            ("[a]\n : v\n", 2, IniErrorKind::EmptyKey),
            ("\n\n[unclosed\n", 3, IniErrorKind::UnclosedSectionHeader),
            ("[]\n", 1, IniErrorKind::EmptySectionName),
            ("[  ]\n", 1, IniErrorKind::EmptySectionName),
            ("[a] b\n", 1, IniErrorKind::TrailingCharacters),
            ("[a]]\n", 1, IniErrorKind::TrailingCharacters),
            ("[a]\r\nk\r\n", 2, IniErrorKind::MissingDelimiter),
        ];
        for (text, line, kind) in cases {
            assert_eq!(parse_ini(text), Err(IniError { line, kind }), "{text:?}");
        }
    }

    /// Arbitrary input never panics: every prefix of a tricky text, plus all short strings
    /// over a small alphabet of the characters the parser cares about.
    #[test]
    fn ini_never_panics() {
        let tricky =
            "\u{feff}[a]\r\n k=v # c\n\t;x\n[ b ]  ; c\n=\n:\n[\n]\n[]]\nk\u{0}=\u{1F600}\n\r\r\n";
        for end in (0..=tricky.len()).filter(|&i| tricky.is_char_boundary(i)) {
            let _ = parse_ini(&tricky[..end]);
        }
        let alphabet = [
            '[', ']', '=', ':', '#', ';', ' ', '\t', '\n', '\r', 'k', 'é',
        ];
        let mut buf = String::new();
        fn rec(buf: &mut String, alphabet: &[char], depth: usize) {
            let _ = parse_ini(buf);
            if depth == 0 {
                return;
            }
            for &c in alphabet {
                buf.push(c);
                rec(buf, alphabet, depth - 1);
                buf.pop();
            }
        }
        rec(&mut buf, &alphabet, 5);
    }

    #[test]
    fn strip_inline_comment_rules() {
        assert_eq!(strip_inline_comment("a # b"), "a");
        assert_eq!(strip_inline_comment("a\t;b"), "a");
        assert_eq!(strip_inline_comment("a#b"), "a#b");
        assert_eq!(strip_inline_comment("#a"), "#a");
        assert_eq!(strip_inline_comment(""), "");
        assert_eq!(strip_inline_comment("é #"), "é");
    }
}
