//! [`Source`] (where a value came from) and [`ConfigError`].

use std::fmt;
use std::path::PathBuf;

use super::{EndpointError, IniError};

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
    /// The selected profile obtains credentials in a way this tool does not implement
    /// (`mfa_serial`, which needs a prompt).
    UnsupportedCredentialSource {
        /// The config file section.
        source: Source,
        /// The key that asks for it, e.g. `mfa_serial`.
        key: &'static str,
    },
    /// A profile setting that cannot be used: a missing companion key, a bad value.
    InvalidSetting {
        /// Where it is.
        source: Source,
        /// The key.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// `source_profile` settings that lead back to a profile already on the way.
    SourceProfileLoop {
        /// The profiles in the order they were followed, the repeated one last.
        chain: Vec<String>,
    },
    /// A credential source was chosen but did not give credentials: STS, SSO, a
    /// `credential_process`, the container or instance metadata endpoint.
    CredentialSource {
        /// The source, e.g. `STS AssumeRoleWithWebIdentity (web_identity_token_file in [profile x] in …)`.
        source_name: String,
        /// What went wrong (never a secret).
        message: String,
    },
    /// Temporary credentials could not be refreshed during a run.
    RefreshFailed {
        /// The source.
        source_name: String,
        /// Why.
        error: Box<ConfigError>,
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
            ConfigError::InvalidSetting {
                source,
                key,
                problem,
            } => write!(f, "invalid `{key}` in {source}: {problem}"),
            ConfigError::SourceProfileLoop { chain } => write!(
                f,
                "source_profile settings form a loop: {}",
                chain.join(" -> ")
            ),
            ConfigError::CredentialSource {
                source_name,
                message,
            } => write!(f, "no credentials from {source_name}: {message}"),
            ConfigError::RefreshFailed { source_name, error } => write!(
                f,
                "the temporary credentials from {source_name} are about to expire and could not be refreshed: {error}"
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
            ConfigError::RefreshFailed { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}
