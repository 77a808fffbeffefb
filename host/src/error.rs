//! The host's error type and the process exit codes.

use std::fmt;
use std::path::PathBuf;

use glacier_verify_core::ServiceError;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// Verified (or, for commands that verify nothing, succeeded).
    pub const OK: i32 = 0;
    /// The data failed verification (sizes, ranges, tree hash).
    pub const VERIFICATION_FAILED: i32 = 1;
    /// Bad command line, arguments or configuration (credentials, region).
    pub const USAGE: i32 = 2;
    /// Glacier answered with an error (or the job is not ready / failed).
    pub const SERVICE: i32 = 3;
    /// Network failure that retries did not overcome.
    pub const NETWORK: i32 = 4;
    /// Local I/O failure (disk full, permissions).
    pub const IO: i32 = 5;
}

/// Everything the host can fail with.
#[derive(Debug)]
pub enum HostError {
    /// Bad arguments or configuration.
    Usage(String),
    /// Glacier returned an error response.
    Service {
        /// HTTP status.
        status: u16,
        /// The error code (`ResourceNotFoundException`), or `HTTP <status>`
        /// when the body was not Glacier JSON (moto's plain 404, a proxy page).
        code: String,
        /// The service's message, or the start of a non-JSON body.
        message: String,
        /// `x-amzn-RequestId`, when sent.
        request_id: Option<String>,
    },
    /// The job cannot be downloaded (not complete, failed, unsupported).
    Job(String),
    /// Transport failure after all retries.
    Network(String),
    /// The bytes failed verification.
    Verification(glacier_verify_core::Error),
    /// Verification-level failure described in words (e.g. composed hash).
    VerificationText(String),
    /// Local file trouble.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
}

impl HostError {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            HostError::Usage(_) => exit::USAGE,
            HostError::Service { .. } | HostError::Job(_) => exit::SERVICE,
            HostError::Network(_) => exit::NETWORK,
            HostError::Verification(_) | HostError::VerificationText(_) => {
                exit::VERIFICATION_FAILED
            }
            HostError::Io { .. } => exit::IO,
        }
    }

    /// A short machine-readable kind for JSON reports.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Usage(_) => "usage",
            HostError::Service { .. } => "service",
            HostError::Job(_) => "job",
            HostError::Network(_) => "network",
            HostError::Verification(_) | HostError::VerificationText(_) => "verification",
            HostError::Io { .. } => "io",
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HostError::Io {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Usage(m) => f.write_str(m),
            HostError::Service {
                status,
                code,
                message,
                request_id,
            } => {
                if code.starts_with("HTTP ") {
                    // Not Glacier JSON: the code is the status already.
                    write!(f, "Glacier error {code}")?;
                } else {
                    write!(f, "Glacier error {code} (HTTP {status})")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(id) = request_id {
                    write!(f, " [request id {id}]")?;
                }
                Ok(())
            }
            HostError::Job(m) => f.write_str(m),
            HostError::Network(m) => write!(f, "network failure: {m}"),
            HostError::Verification(e) => write!(f, "verification failed: {e}"),
            HostError::VerificationText(m) => write!(f, "verification failed: {m}"),
            HostError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for HostError {}

impl HostError {
    /// The error for a parsed Glacier error body.
    pub fn service(error: &ServiceError, request_id: Option<String>) -> Self {
        let mut message = error.message.to_string();
        if error.message_truncated {
            message.push('…');
        }
        HostError::Service {
            status: error.status,
            code: error.code_text.to_string(),
            message,
            request_id,
        }
    }
}

impl From<glacier_verify_core::Error> for HostError {
    fn from(e: glacier_verify_core::Error) -> Self {
        HostError::Verification(e)
    }
}
