//! What is signed ([`SignableRequest`]), by whom and how ([`SigningParams`],
//! [`SigningSettings`]), and what signing produces ([`SigningOutput`]).

use std::borrow::Cow;
use std::fmt;

use crate::credentials::Credentials;
use crate::redact::{redact, redact_canonical_request};
use crate::time::AmzDate;

/// Knobs of the canonicalization; `Default` is right for Glacier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningSettings {
    /// Resolve `.`/`..` and drop empty segments before encoding; default `true`.
    pub normalize_path: bool,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            normalize_path: true,
        }
    }
}

/// The parts of an HTTP request that SigV4 covers, borrowed from the caller.
///
/// `Debug` redacts header values with [`redact`].
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, e.g. `GET` (used verbatim).
    pub method: &'a str,
    /// Path in wire form (percent-encoded, starting with `/`), without the query.
    pub path: &'a str,
    /// Query string in wire form without the leading `?`; empty if none.
    pub query: &'a str,
    /// Header (name, value) pairs as they will be sent; must include `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body ([`EMPTY_PAYLOAD_SHA256`](crate::EMPTY_PAYLOAD_SHA256)
    /// when empty).
    pub payload_sha256: &'a str,
}

impl<'a> SignableRequest<'a> {
    /// A request from its request target (`/path?query`, split at the first `?`).
    pub fn new(
        method: &'a str,
        target: &'a str,
        headers: &'a [(&'a str, &'a str)],
        payload_sha256: &'a str,
    ) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        SignableRequest {
            method,
            path,
            query,
            headers,
            payload_sha256,
        }
    }
}

impl fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, Cow<'_, str>)> = self
            .headers
            .iter()
            .map(|&(n, v)| (n, redact(n, v)))
            .collect();
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("payload_sha256", &self.payload_sha256)
            .finish()
    }
}

/// Who signs, for which region and service, and when.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The key pair (and session token) to sign with.
    pub credentials: &'a Credentials,
    /// Region of the credential scope, e.g. `us-east-1`.
    pub region: &'a str,
    /// Service of the credential scope: `glacier` for S3 Glacier.
    pub service: &'a str,
    /// Signing time; becomes `x-amz-date` and the scope date.
    pub time: AmzDate,
    /// Canonicalization settings.
    pub settings: SigningSettings,
}

/// The result of [`sign`](crate::sign): headers to add to the request, plus the
/// intermediate strings.
pub struct SigningOutput {
    /// Headers to add, lowercase names: `x-amz-date`, then `x-amz-security-token` (if the
    /// credentials have a token), and last `authorization`.
    pub headers: Vec<(&'static str, String)>,
    /// The hex signature (also inside the `authorization` header).
    pub signature: String,
    pub(crate) canonical_request: String,
    pub(crate) string_to_sign: String,
    pub(crate) signed_headers: String,
}

impl SigningOutput {
    /// The `Authorization` header value.
    pub fn authorization(&self) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .map_or("", |(_, v)| v.as_str())
    }

    /// The canonical request that was signed. **Contains the session token** when the
    /// credentials have one; log [`SigningOutput::canonical_request_redacted`] instead.
    pub fn canonical_request(&self) -> &str {
        &self.canonical_request
    }

    /// The canonical request with the `x-amz-security-token` value replaced by `***`.
    pub fn canonical_request_redacted(&self) -> String {
        redact_canonical_request(&self.canonical_request)
    }

    /// The string to sign (no secrets in it).
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The `SignedHeaders` list, e.g. `host;x-amz-date;x-amz-glacier-version`.
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, Cow<'_, str>)> = self
            .headers
            .iter()
            .map(|(n, v)| (*n, redact(n, v)))
            .collect();
        f.debug_struct("SigningOutput")
            .field("headers", &headers)
            .field("signature", &"***")
            .field("canonical_request", &self.canonical_request_redacted())
            .field("string_to_sign", &self.string_to_sign)
            .finish()
    }
}
