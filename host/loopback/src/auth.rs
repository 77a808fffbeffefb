//! Pluggable request authentication: the [`RequestAuth`] seam, the SigV4
//! checker [`SigV4Auth`], and two simple checkers for tests.

use std::fmt;

use glacier_verify_sigv4::{Credentials, SignableRequest, sha256_hex};

use crate::sigv4_check::{VerifyParams, verify};

/// A parsed request as received, for [`RequestAuth`] and the request log.
///
/// Everything is kept as it came over the wire (raw path with its percent
/// escapes, raw query, header names in their original case, values with
/// surrounding whitespace trimmed as HTTP requires), which is what a SigV4
/// canonical request is built from (docs/protocol.md §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) version: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// A request built by hand (for testing a [`RequestAuth`] without a server).
    pub fn new(method: &str, path: &str, query: Option<&str>, headers: &[(&str, &str)]) -> Self {
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            version: "HTTP/1.1".to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path part of the request target, undecoded (`/-/vaults/v/jobs/j/output`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string after `?`, undecoded; `None` when there was no `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The protocol version, `HTTP/1.1` or `HTTP/1.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// All headers in the order received, names in their original case.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the headers named `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request body (empty for the GETs of this API).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Why a request was refused; the endpoint answers with `status` and a
/// docs/protocol.md §3 JSON error `{"code","message","type":"Client"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFailure {
    /// HTTP status: 403 for a bad signature, 400 for a missing one.
    pub status: u16,
    /// Error code, e.g. `InvalidSignatureException`.
    pub code: String,
    /// Error message.
    pub message: String,
}

impl AuthFailure {
    /// 403 InvalidSignatureException with `message`.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        AuthFailure {
            status: 403,
            code: "InvalidSignatureException".into(),
            message: message.into(),
        }
    }

    /// 400 MissingAuthenticationTokenException "Missing Authentication Token".
    pub fn missing_token() -> Self {
        AuthFailure {
            status: 400,
            code: "MissingAuthenticationTokenException".into(),
            message: "Missing Authentication Token".into(),
        }
    }

    /// Any status and code.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        AuthFailure {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// Decides whether a request is authentic. Called once per request, before
/// routing, on the connection's thread.
///
/// Closures implement it too:
/// ```
/// use glacier_verify_loopback::{AuthFailure, Request, RequestAuth};
/// let only_get = |r: &Request| {
///     if r.method() == "GET" { Ok(()) } else { Err(AuthFailure::invalid_signature("no")) }
/// };
/// assert!(only_get.check(&Request::new("GET", "/", None, &[])).is_ok());
/// ```
pub trait RequestAuth: Send + Sync {
    /// `Ok` to serve the request, `Err` to refuse it.
    fn check(&self, req: &Request) -> Result<(), AuthFailure>;
}

impl<F> RequestAuth for F
where
    F: Fn(&Request) -> Result<(), AuthFailure> + Send + Sync,
{
    fn check(&self, req: &Request) -> Result<(), AuthFailure> {
        self(req)
    }
}

/// Accepts every request.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

impl RequestAuth for NoAuth {
    fn check(&self, _req: &Request) -> Result<(), AuthFailure> {
        Ok(())
    }
}

/// SigV4 checking: every request must be signed by `credentials` for
/// `region`/`glacier`, else refused with the Glacier error
/// [`VerifyError`](crate::VerifyError) names (403 InvalidSignatureException
/// for a wrong signature). The clock is not checked, so tests may sign with
/// any time.
#[derive(Clone, Debug)]
pub struct SigV4Auth {
    /// The only accepted key pair.
    pub credentials: Credentials,
    /// Scope region.
    pub region: String,
}

impl RequestAuth for SigV4Auth {
    fn check(&self, req: &Request) -> Result<(), AuthFailure> {
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let payload_sha256 = sha256_hex(req.body());
        let signable = SignableRequest {
            method: req.method(),
            path: req.path(),
            query: req.query().unwrap_or(""),
            headers: &headers,
            payload_sha256: &payload_sha256,
        };
        let params = VerifyParams::new(&self.region, "glacier", None);
        verify(&signable, &params, |akid| {
            (akid == self.credentials.access_key_id).then(|| self.credentials.clone())
        })
        .map(|_| ())
        .map_err(|e| AuthFailure::new(e.http_status(), e.error_code(), e.to_string()))
    }
}

/// A shape check of `Authorization` (no cryptography): missing →
/// 400 MissingAuthenticationTokenException; not
/// `AWS4-HMAC-SHA256 Credential=…/glacier/aws4_request, SignedHeaders=…, Signature=…`
/// → 403 InvalidSignatureException.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequireAuthorizationHeader;

impl RequestAuth for RequireAuthorizationHeader {
    fn check(&self, req: &Request) -> Result<(), AuthFailure> {
        let Some(value) = req.header("authorization") else {
            return Err(AuthFailure::missing_token());
        };
        let well_formed = value.strip_prefix("AWS4-HMAC-SHA256 ").is_some_and(|rest| {
            rest.contains("Credential=")
                && rest.contains("/glacier/aws4_request")
                && rest.contains("SignedHeaders=")
                && rest.contains("Signature=")
        });
        if well_formed {
            Ok(())
        } else {
            Err(AuthFailure::invalid_signature(
                "The request signature we calculated does not match the signature you provided.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = Request::new("GET", "/x", None, &[("X-A", "1"), ("x-a", "2"), ("B", "3")]);
        assert_eq!(r.header("x-A"), Some("1"));
        assert_eq!(r.header_values("X-a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(r.header("c"), None);
    }

    #[test]
    fn require_authorization_header() {
        let auth = RequireAuthorizationHeader;
        let none = Request::new("GET", "/", None, &[]);
        assert_eq!(auth.check(&none).unwrap_err().status, 400);
        let bad = Request::new("GET", "/", None, &[("Authorization", "Basic Zm9v")]);
        let err = auth.check(&bad).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (403, "InvalidSignatureException")
        );
        let good = Request::new(
            "GET",
            "/",
            None,
            &[(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20170210/us-east-1/glacier/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00",
            )],
        );
        assert!(auth.check(&good).is_ok());
    }
}
