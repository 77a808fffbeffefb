//! [`CredentialsProvider`]: the credentials every request is signed with, shared by the
//! download threads, refreshed before they expire.
//!
//! Static keys (environment, credentials file) are handed out as they are. Temporary
//! credentials (STS, SSO, a `credential_process` with `Expiration`, containers, EC2) carry
//! their expiry; the provider fetches new ones from the same source when fewer than
//! [`ADVISORY_REFRESH`] remain, and must have new ones once fewer than
//! [`MANDATORY_REFRESH`] remain — botocore's two windows. So no request is signed with
//! credentials that expire within ten minutes, which also absorbs clock skew and a slow
//! request. An `ExpiredToken` answer forces one refresh ([`CredentialsProvider::refresh_after_expired`]).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::locks::lock;
use crate::sigv4::Credentials;

use super::ConfigError;

/// Fewer than this left: try to refresh; on failure keep the current credentials.
pub const ADVISORY_REFRESH: Duration = Duration::from_secs(15 * 60);
/// Fewer than this left: refresh, and fail if that fails.
pub const MANDATORY_REFRESH: Duration = Duration::from_secs(10 * 60);

/// Credentials and when they stop working (`None`: never, as long-term keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Expiring {
    /// The keys (their `Debug` hides the secrets).
    pub credentials: Credentials,
    /// The `Expiration` the source announced.
    pub expires: Option<SystemTime>,
}

impl fmt::Debug for Expiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expiring")
            .field("credentials", &self.credentials)
            .field("expires", &self.expires.map(super::expiry::format))
            .finish()
    }
}

/// Fetches a new set of credentials from one source.
pub type Fetcher = dyn Fn() -> Result<Expiring, ConfigError> + Send + Sync;

/// The signing credentials of a client: cheap to clone, shared between threads.
#[derive(Clone)]
pub struct CredentialsProvider(Inner);

#[derive(Clone)]
enum Inner {
    Static(Arc<Credentials>),
    Refreshing(Arc<Refreshing>),
}

struct Refreshing {
    /// Names the source in messages, e.g. `STS AssumeRole for arn:…`.
    source: String,
    fetch: Box<Fetcher>,
    current: Mutex<Expiring>,
}

impl fmt::Debug for CredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Static(c) => f.debug_tuple("Static").field(c).finish(),
            Inner::Refreshing(r) => f
                .debug_struct("Refreshing")
                .field("source", &r.source)
                .field("current", &*lock(&r.current))
                .finish(),
        }
    }
}

/// Time left until `expires` at `now` (zero when past).
fn left(expires: SystemTime, now: SystemTime) -> Duration {
    expires.duration_since(now).unwrap_or(Duration::ZERO)
}

impl CredentialsProvider {
    /// Keys that never change.
    pub fn fixed(credentials: Credentials) -> Self {
        CredentialsProvider(Inner::Static(Arc::new(credentials)))
    }

    /// Credentials from `fetch`, starting with `first` (already fetched, so that a
    /// configuration error shows before the first request), refreshed by `fetch`. First
    /// credentials without an expiry are never refreshed and cost what static ones cost.
    pub fn refreshing(source: impl Into<String>, first: Expiring, fetch: Box<Fetcher>) -> Self {
        if first.expires.is_none() {
            return Self::fixed(first.credentials);
        }
        CredentialsProvider(Inner::Refreshing(Arc::new(Refreshing {
            source: source.into(),
            fetch,
            current: Mutex::new(first),
        })))
    }

    /// Whether these credentials can be refreshed at all.
    pub fn refreshes(&self) -> bool {
        matches!(self.0, Inner::Refreshing(_))
    }

    /// The credentials to sign a request with now.
    pub fn get(&self) -> Result<Arc<Credentials>, ConfigError> {
        self.get_at(SystemTime::now())
    }

    /// [`get`](Self::get) at a given time (for tests).
    pub fn get_at(&self, now: SystemTime) -> Result<Arc<Credentials>, ConfigError> {
        let r = match &self.0 {
            Inner::Static(c) => return Ok(Arc::clone(c)),
            Inner::Refreshing(r) => r,
        };
        // Held while fetching: the other threads wait for the one refresh.
        let mut current = lock(&r.current);
        let Some(expires) = current.expires else {
            return Ok(Arc::new(current.credentials.clone()));
        };
        let remaining = left(expires, now);
        if remaining > ADVISORY_REFRESH {
            return Ok(Arc::new(current.credentials.clone()));
        }
        match (r.fetch)() {
            Ok(fresh) => {
                *current = fresh;
                Ok(Arc::new(current.credentials.clone()))
            }
            Err(_) if remaining > MANDATORY_REFRESH => Ok(Arc::new(current.credentials.clone())),
            Err(e) => Err(ConfigError::RefreshFailed {
                source_name: r.source.clone(),
                error: Box::new(e),
            }),
        }
    }

    /// After the service answered `ExpiredToken` to a request signed with `used`: new
    /// credentials, unless another thread has already replaced `used`. `None` when these
    /// credentials cannot be refreshed (static keys: the error stands).
    pub fn refresh_after_expired(
        &self,
        used: &Credentials,
    ) -> Option<Result<Arc<Credentials>, ConfigError>> {
        let Inner::Refreshing(r) = &self.0 else {
            return None;
        };
        let mut current = lock(&r.current);
        if current.credentials.access_key_id != used.access_key_id
            || current.credentials.session_token != used.session_token
        {
            return Some(Ok(Arc::new(current.credentials.clone())));
        }
        Some(match (r.fetch)() {
            Ok(fresh) => {
                *current = fresh;
                Ok(Arc::new(current.credentials.clone()))
            }
            Err(e) => Err(ConfigError::RefreshFailed {
                source_name: r.source.clone(),
                error: Box::new(e),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
