//! The credentials the fakes issued, and [`SessionAuth`]: the Glacier endpoint's check
//! that a request is signed with one of them and that it has not expired.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use glacier_verify_sigv4::{Credentials, SignableRequest, sha256_hex};

use crate::auth::{AuthFailure, Request, RequestAuth};
use crate::server::lock;
use crate::sigv4_check::{VerifyParams, verify};

/// One issued key.
#[derive(Clone, Debug)]
struct Entry {
    credentials: Credentials,
    /// When the endpoint stops accepting it (`None`: a long-term key).
    expires: Option<SystemTime>,
    /// Which fake issued it, e.g. `sts:AssumeRole`.
    issuer: String,
}

/// One request the Glacier endpoint checked against the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedUse {
    /// The service checking: `glacier` (the endpoint) or `sts` (the fake STS).
    pub service: String,
    /// The access key id that signed it.
    pub access_key_id: String,
    /// Which fake issued that key (`long-term` for a given key).
    pub issuer: String,
    /// `None` if accepted, else the error code answered.
    pub refused: Option<String>,
}

#[derive(Default)]
struct Store {
    entries: Mutex<Vec<Entry>>,
    uses: Mutex<Vec<IssuedUse>>,
    counter: AtomicU64,
}

/// Credentials issued by the fakes (and long-term keys), shared by the fakes and the
/// Glacier endpoint's [`SessionAuth`]. Cheap to clone.
#[derive(Clone, Default)]
pub struct Issued(Arc<Store>);

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("count", &lock(&self.0.entries).len())
            .finish()
    }
}

impl Issued {
    /// An empty store.
    pub fn new() -> Self {
        Issued::default()
    }

    /// Adds a long-term key (never expires), e.g. the source of an `AssumeRole`.
    pub fn add_long_term(&self, credentials: Credentials) {
        lock(&self.0.entries).push(Entry {
            credentials,
            expires: None,
            issuer: "long-term".into(),
        });
    }

    /// Mints new session credentials valid until `expires`; `prefix` starts the access
    /// key id (`ASIA…`), `issuer` names the fake.
    pub fn issue(&self, issuer: &str, expires: SystemTime) -> Credentials {
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        let tag: String = issuer
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .take(8)
            .collect();
        let credentials = Credentials::new(
            format!("ASIA{tag}{n:06}"),
            format!("secret-{tag}-{n}-never-shown"),
            Some(format!("session-token-{tag}-{n}-never-shown")),
        );
        lock(&self.0.entries).push(Entry {
            credentials: credentials.clone(),
            expires: Some(expires),
            issuer: issuer.to_string(),
        });
        credentials
    }

    /// The key pair for `access_key_id`, and when it expires.
    pub fn lookup(&self, access_key_id: &str) -> Option<(Credentials, Option<SystemTime>)> {
        lock(&self.0.entries)
            .iter()
            .find(|e| e.credentials.access_key_id == access_key_id)
            .map(|e| (e.credentials.clone(), e.expires))
    }

    fn issuer(&self, access_key_id: &str) -> String {
        lock(&self.0.entries)
            .iter()
            .find(|e| e.credentials.access_key_id == access_key_id)
            .map_or_else(|| "unknown".to_string(), |e| e.issuer.clone())
    }

    /// Every secret the store holds (secret keys and session tokens), for tests that
    /// check none of them is printed.
    pub fn secrets(&self) -> Vec<String> {
        lock(&self.0.entries)
            .iter()
            .flat_map(|e| {
                std::iter::once(e.credentials.secret_access_key.clone())
                    .chain(e.credentials.session_token.clone())
            })
            .collect()
    }

    /// Every request [`SessionAuth`] (the Glacier endpoint) checked, in order.
    pub fn uses(&self) -> Vec<IssuedUse> {
        lock(&self.0.uses)
            .iter()
            .filter(|u| u.service == "glacier")
            .cloned()
            .collect()
    }

    /// An authenticator for the Glacier endpoint (service `glacier`, `region`).
    pub fn auth(&self, region: &str) -> SessionAuth {
        SessionAuth {
            issued: self.clone(),
            region: region.to_string(),
            service: "glacier",
        }
    }

    /// Checks a request signed for `service` in `region` against the store: the
    /// signature, then the expiry (`ExpiredTokenException`, HTTP 403, as Glacier).
    pub(crate) fn check(
        &self,
        req: &Request,
        region: &str,
        service: &str,
        expired_code: &str,
    ) -> Result<String, AuthFailure> {
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let payload = sha256_hex(req.body());
        let signable = SignableRequest {
            method: req.method(),
            path: req.path(),
            query: req.query().unwrap_or(""),
            headers: &headers,
            payload_sha256: &payload,
        };
        let params = VerifyParams::new(region, service, None);
        let verified = verify(&signable, &params, |akid| self.lookup(akid).map(|(c, _)| c));
        let verified = match verified {
            Ok(v) => v,
            Err(e) => {
                return Err(AuthFailure::new(
                    e.http_status(),
                    e.error_code(),
                    e.to_string(),
                ));
            }
        };
        let akid = verified.access_key_id;
        let expired = self
            .lookup(&akid)
            .and_then(|(_, expires)| expires)
            .is_some_and(|t| SystemTime::now() >= t);
        let refused = expired.then(|| expired_code.to_string());
        lock(&self.0.uses).push(IssuedUse {
            service: service.to_string(),
            access_key_id: akid.clone(),
            issuer: self.issuer(&akid),
            refused: refused.clone(),
        });
        if expired {
            return Err(AuthFailure::new(
                403,
                expired_code,
                "The security token included in the request is expired",
            ));
        }
        Ok(akid)
    }
}

/// The Glacier endpoint's [`RequestAuth`] over an [`Issued`] store.
#[derive(Clone, Debug)]
pub struct SessionAuth {
    issued: Issued,
    region: String,
    service: &'static str,
}

impl RequestAuth for SessionAuth {
    fn check(&self, req: &Request) -> Result<(), AuthFailure> {
        self.issued
            .check(req, &self.region, self.service, "ExpiredTokenException")
            .map(|_| ())
    }
}
