//! The host's error type and the process exit codes. The exit code of a
//! failure is derived from its kind here, in one place.

use std::fmt;
use std::path::PathBuf;

use glacier_verify_core::ServiceError;

use crate::credentials::ConfigError;
use crate::job::JobError;
use crate::transport::TransportError;

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
    /// Local I/O failure (disk full, permissions, a link where OUTFILE's
    /// files go).
    pub const IO: i32 = 5;
    /// Another run is writing the same OUTFILE; nothing was touched.
    pub const BUSY: i32 = 6;
    /// `wait` (or `get-job-output --wait`) gave up: the job had not
    /// completed within `--timeout`.
    pub const TIMEOUT: i32 = 7;
    /// `vault-exit` stopped with archives still to do that its byte budget
    /// (`--max-bytes-per-day`) holds back; a later rerun continues.
    pub const INCOMPLETE: i32 = 8;
    /// Stopped by SIGINT (130) or SIGTERM (143): 128 + the signal number,
    /// what was verified kept for a rerun.
    pub const INTERRUPTED_SIGINT: i32 = 130;
}

/// A Glacier error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// HTTP status.
    pub status: u16,
    /// The error code (`ResourceNotFoundException`), or `HTTP <status>`
    /// when the body was not Glacier JSON (moto's plain 404, a proxy page).
    pub code: String,
    /// The service's message, or the start of a non-JSON body.
    pub message: String,
    /// `x-amzn-RequestId`, when sent.
    pub request_id: Option<String>,
}

impl ServiceFailure {
    /// The failure for a parsed Glacier error body.
    pub fn parsed(error: &ServiceError, request_id: Option<String>) -> Self {
        let mut message = error.message.to_string();
        if error.message_truncated {
            message.push('…');
        }
        ServiceFailure {
            status: error.status,
            code: error.code_text.to_string(),
            message,
            request_id,
        }
    }
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.starts_with("HTTP ") {
            // Not Glacier JSON: the code is the status already.
            write!(f, "Glacier error {}", self.code)?;
        } else {
            write!(f, "Glacier error {} (HTTP {})", self.code, self.status)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// A server certificate that did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedCertificate {
    /// The endpoint's host, as the certificate must name it.
    pub host: String,
    /// What is wrong with it, e.g. "it is not signed by a trusted certificate authority".
    pub problem: String,
}

/// Everything the host can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// Bad arguments.
    Usage(String),
    /// AWS configuration that cannot be used (credentials, region, endpoint).
    Config(ConfigError),
    /// Glacier returned an error response.
    Service(ServiceFailure),
    /// The job cannot be downloaded (not complete, failed, unsupported,
    /// a DescribeJob answer that contradicts itself).
    Job(JobError),
    /// A request failed in transport (connect, timeout, reset) after all retries.
    Http {
        /// The request, e.g. `GET https://…/output`.
        request: String,
        /// What ureq said.
        source: ureq::Error,
    },
    /// TLS could not be set up with the server (certificate not trusted,
    /// handshake refused): a configuration problem, never retried.
    Tls {
        /// The request.
        request: String,
        /// What is wrong with the server's certificate, when that is the
        /// trouble (rather than the handshake).
        certificate: Option<Box<UntrustedCertificate>>,
        /// What ureq said.
        source: ureq::Error,
    },
    /// CA bundle, trust store or proxy settings that cannot be used, found
    /// before any request.
    Transport(TransportError),
    /// The proxy answered the tunnel request with a refusal (407 proxy
    /// authentication required, 403 forbidden, …): configuration, never retried.
    ProxyRefused {
        /// The request.
        request: String,
        /// The proxy and the variable it came from (password hidden).
        proxy: String,
        /// What ureq said.
        source: ureq::Error,
    },
    /// A response no Glacier sends: a head that does not parse, or that is
    /// larger than any response head (after the retries that could help).
    Protocol {
        /// The request.
        request: String,
        /// What ureq said.
        source: ureq::Error,
    },
    /// A response body stopped before its end, after all retries.
    BodyCut {
        /// Which body, and after how many bytes.
        what: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The bytes failed verification.
    Verification {
        /// Which piece (`part 3`), when it matters.
        context: Option<String>,
        /// The core's precise reason.
        source: glacier_verify_core::Error,
    },
    /// Local file trouble.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// A signal stopped the run; what was verified is kept for a rerun.
    Interrupted {
        /// SIGINT or SIGTERM.
        signal: i32,
        /// What is kept, e.g. `3 of 10 parts kept in out.bin.part`.
        kept: String,
    },
    /// Another run holds the lock on this OUTFILE.
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// A failure of this program itself (a worker thread that panicked).
    Internal(String),
    /// The job had not completed when `--timeout` ran out.
    WaitTimeout {
        /// The job.
        job_id: String,
        /// How long was waited.
        waited: std::time::Duration,
        /// Its last `StatusCode`.
        status: String,
    },
}

impl HostError {
    /// The exit code for this failure: the one place it is decided.
    pub fn exit_code(&self) -> i32 {
        match self {
            HostError::Usage(_)
            | HostError::Config(_)
            | HostError::Tls { .. }
            | HostError::Transport(_)
            | HostError::ProxyRefused { .. } => exit::USAGE,
            HostError::Service(_) | HostError::Job(_) | HostError::Protocol { .. } => exit::SERVICE,
            HostError::Http { .. } | HostError::BodyCut { .. } => exit::NETWORK,
            HostError::Verification { .. } | HostError::Internal(_) => exit::VERIFICATION_FAILED,
            HostError::Io { .. } => exit::IO,
            HostError::Busy { .. } => exit::BUSY,
            HostError::WaitTimeout { .. } => exit::TIMEOUT,
            HostError::Interrupted { signal, .. } => 128 + signal,
        }
    }

    /// A short machine-readable kind for JSON reports.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Usage(_) => "usage",
            HostError::Config(_) | HostError::Transport(_) => "config",
            HostError::ProxyRefused { .. } => "proxy",
            HostError::Service(_) => "service",
            HostError::Job(_) => "job",
            HostError::Http { .. } | HostError::BodyCut { .. } => "network",
            HostError::Tls { .. } => "tls",
            HostError::Protocol { .. } => "protocol",
            HostError::Verification { .. } => "verification",
            HostError::Io { .. } => "io",
            HostError::Internal(_) => "internal",
            HostError::Busy { .. } => "busy",
            HostError::WaitTimeout { .. } => "timeout",
            HostError::Interrupted { .. } => "interrupted",
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HostError::Io {
            path: path.into(),
            source,
        }
    }

    /// A verification failure of one named piece of the output.
    pub fn in_piece(context: impl Into<String>, source: glacier_verify_core::Error) -> Self {
        HostError::Verification {
            context: Some(context.into()),
            source,
        }
    }

    /// The error for a parsed Glacier error body.
    pub fn service(error: &ServiceError, request_id: Option<String>) -> Self {
        HostError::Service(ServiceFailure::parsed(error, request_id))
    }

    /// The core's reason, when this is a verification failure.
    pub fn verification(&self) -> Option<glacier_verify_core::Error> {
        match self {
            HostError::Verification { source, .. } => Some(*source),
            _ => None,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Usage(m) | HostError::Internal(m) => f.write_str(m),
            HostError::Config(e) => write!(f, "{e}"),
            HostError::Service(s) => write!(f, "{s}"),
            HostError::Job(e) => write!(f, "{e}"),
            HostError::Http { request, source } => {
                write!(f, "network failure: {request}: {source}")
            }
            HostError::Tls {
                request,
                certificate: Some(c),
                ..
            } => write!(
                f,
                "certificate for {} not trusted: {} ({request}); use --ca-bundle FILE or AWS_CA_BUNDLE",
                c.host, c.problem
            ),
            HostError::Tls {
                request, source, ..
            } => write!(
                f,
                "TLS with the server failed: {request}: {source} (a TLS configuration problem; not retried)"
            ),
            HostError::Transport(e) => write!(f, "{e}"),
            HostError::ProxyRefused {
                request,
                proxy,
                source,
            } => write!(f, "{proxy} refused {request}: {source}"),
            HostError::Protocol { request, source } => write!(
                f,
                "protocol error: {request}: the response is not one Glacier sends: {source}"
            ),
            HostError::BodyCut { what, source } => {
                write!(f, "network failure: {what}: {source}")
            }
            HostError::Verification {
                context: Some(c),
                source,
            } => write!(f, "verification failed: {c}: {source}"),
            HostError::Verification {
                context: None,
                source,
            } => write!(f, "verification failed: {source}"),
            HostError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            HostError::Interrupted { kept, .. } => {
                write!(f, "interrupted: {kept}; rerun the same command to resume")
            }
            HostError::Busy { path } => write!(
                f,
                "another glacier-verify run is writing this output (it holds {}); nothing was touched",
                path.display()
            ),
            HostError::WaitTimeout {
                job_id,
                waited,
                status,
            } => write!(
                f,
                "timed out: job {job_id} is still {status} after {}s (--timeout); wait again later",
                waited.as_secs()
            ),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Config(e) => Some(e),
            HostError::Job(e) => Some(e),
            HostError::Http { source, .. }
            | HostError::Tls { source, .. }
            | HostError::ProxyRefused { source, .. }
            | HostError::Protocol { source, .. } => Some(source),
            HostError::Transport(e) => Some(e),
            HostError::BodyCut { source, .. } | HostError::Io { source, .. } => Some(source),
            HostError::Verification { source, .. } => Some(source),
            HostError::Usage(_)
            | HostError::Service(_)
            | HostError::Internal(_)
            | HostError::Busy { .. }
            | HostError::WaitTimeout { .. }
            | HostError::Interrupted { .. } => None,
        }
    }
}

impl From<glacier_verify_core::Error> for HostError {
    fn from(source: glacier_verify_core::Error) -> Self {
        HostError::Verification {
            context: None,
            source,
        }
    }
}

impl From<ConfigError> for HostError {
    fn from(e: ConfigError) -> Self {
        HostError::Config(e)
    }
}

impl From<TransportError> for HostError {
    fn from(e: TransportError) -> Self {
        HostError::Transport(e)
    }
}

impl From<JobError> for HostError {
    fn from(e: JobError) -> Self {
        HostError::Job(e)
    }
}

#[cfg(test)]
mod tests;
