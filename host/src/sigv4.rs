//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), signature in the `Authorization` header.
//!
//! S3 Glacier accepts only SigV4 (SPEC §1, [DG-REQH]). This module signs a request
//! ([`sign`]) and checks a received one ([`verify`], used by the local test endpoint),
//! following the published algorithm:
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//!                    CanonicalHeaders \n \n SignedHeaders \n PayloadHash
//! StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CanonicalRequest))
//! Scope            = YYYYMMDD/region/service/aws4_request
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, YYYYMMDD), region), service), "aws4_request")
//! Signature        = hex(HMAC(SigningKey, StringToSign))
//! ```
//!
//! # What the signer expects
//!
//! * **`path` and `query` are in wire form**: exactly the bytes that go on the request line,
//!   already percent-encoded. Build Glacier paths from raw names with [`uri_encode`]:
//!   `/{uri_encode(account)}/vaults/{uri_encode(vault)}/jobs/{uri_encode(job)}/output`.
//!   Characters that cannot appear in a request target (space, non-ASCII, `"`, `#`, …) and
//!   malformed `%` escapes are rejected with [`SigV4Error::InvalidPath`] /
//!   [`SigV4Error::InvalidQuery`] rather than being guessed at.
//! * **Canonical URI.** With the default [`UriEncoding::Double`] (every service except S3;
//!   what botocore's `SigV4Auth` does for Glacier: `quote(normalize(path), safe='/~')`)
//!   the wire path is percent-encoded once more, so `%` becomes `%25`. With
//!   [`UriEncoding::Single`] (S3 style) each segment is decoded and encoded once. For
//!   Glacier paths (account id, vault name `[A-Za-z0-9._-]`, job id `[A-Za-z0-9_-]`) the
//!   two give the same result because the wire path holds no `%`.
//!   With [`SigningSettings::normalize_path`] (default on, as botocore and the SigV4 test
//!   suite) `.` and `..` segments are resolved and empty segments (`//`) dropped first.
//! * **Canonical query.** Split on `&`, each `key[=value]` percent-decoded (`+` is a literal
//!   plus, RFC 3986, not a space), re-encoded with [`uri_encode`], sorted by key then value.
//! * **Headers.** Names are lowercased; values trimmed and runs of spaces/tabs collapsed
//!   to one space; repeated names joined with `,` in the order given. Every header passed
//!   in is signed except the ones proxies rewrite ([`UNSIGNED_HEADERS`], as botocore).
//!   A `host` header must be present exactly once. The signer owns `authorization`,
//!   `x-amz-date`, `x-amz-security-token` (and `x-amz-content-sha256` when
//!   [`SigningSettings::content_sha256_header`] is on): passing them in is an error.
//! * **Payload hash.** Lowercase hex SHA-256 of the body; for Glacier GETs
//!   [`EMPTY_PAYLOAD_SHA256`]. Glacier does not need `x-amz-content-sha256` on GET
//!   (SPEC §1), so it is off by default.
//!
//! Secrets never appear in `Debug` output of the types here; use [`redact`] when tracing
//! headers.
//!
//! # Example
//!
//! ```
//! use glacier_verify::sigv4::{
//!     sign, AmzDate, Credentials, SignableRequest, SigningParams, SigningSettings,
//!     EMPTY_PAYLOAD_SHA256,
//! };
//!
//! let credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None);
//! let headers = [
//!     ("Host", "glacier.us-east-1.amazonaws.com"),
//!     ("x-amz-glacier-version", "2012-06-01"),
//! ];
//! let request = SignableRequest::new("PUT", "/-/vaults/examplevault", &headers, EMPTY_PAYLOAD_SHA256);
//! let params = SigningParams {
//!     credentials: &credentials,
//!     region: "us-east-1",
//!     service: "glacier",
//!     time: "20120525T002453Z".parse::<AmzDate>()?,
//!     settings: SigningSettings::default(),
//! };
//! let signed = sign(&request, &params)?;
//! assert_eq!(signed.signature, "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a");
//! // Add these to the outgoing request:
//! assert_eq!(signed.headers[0], ("x-amz-date", "20120525T002453Z".to_string()));
//! assert_eq!(signed.headers[1].0, "authorization");
//! # Ok::<(), glacier_verify::sigv4::SigV4Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty string: the payload hash of every GET (SPEC §1).
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Clock skew AWS tolerates between the request's `x-amz-date` and its own clock.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Headers that are sent but never signed: intermediaries may add, drop or rewrite them
/// (botocore's `SIGNED_HEADERS_BLACKLIST`, plus hop-by-hop `connection`).
pub const UNSIGNED_HEADERS: &[&str] = &[
    "connection",
    "expect",
    "transfer-encoding",
    "user-agent",
    "x-amzn-trace-id",
];

const TERMINATOR: &str = "aws4_request";

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

/// An AWS access key pair, optionally with the session token of temporary credentials.
///
/// `Debug` prints the access key id (not a secret; it appears in every `Authorization`
/// header) and `***` for the secret key and token. `PartialEq` is not constant-time; use it
/// for configuration, not for authenticating requests (see [`verify`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id, e.g. `AKIAIOSFODNN7EXAMPLE`.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary (STS) credentials; sent and signed as
    /// `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Bundles an access key id, secret access key and optional session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// Checks the values can be put into request headers: a non-empty access key id
    /// without whitespace, `/` or `,` (it is embedded in `Credential=…/…,`), a non-empty
    /// secret and a non-empty token, all free of whitespace and control characters.
    pub fn validate(&self) -> Result<(), SigV4Error> {
        let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control());
        if bad(&self.access_key_id) || self.access_key_id.contains(['/', ',']) {
            return Err(SigV4Error::InvalidCredentials("access key id"));
        }
        if bad(&self.secret_access_key) {
            return Err(SigV4Error::InvalidCredentials("secret access key"));
        }
        if self.session_token.as_deref().is_some_and(bad) {
            return Err(SigV4Error::InvalidCredentials("session token"));
        }
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// A UTC instant with one-second resolution, between 1970-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z: the range the `YYYYMMDD'T'HHMMSS'Z'` form (`x-amz-date`) can express.
///
/// `Display` writes that form; `FromStr` / [`AmzDate::parse`] read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AmzDate {
    unix: u64,
}

/// 9999-12-31T23:59:59Z.
const MAX_UNIX: u64 = 253_402_300_799;

impl AmzDate {
    /// The instant `secs` seconds after the Unix epoch.
    pub fn from_unix_seconds(secs: u64) -> Result<Self, SigV4Error> {
        if secs > MAX_UNIX {
            return Err(SigV4Error::TimeOutOfRange);
        }
        Ok(AmzDate { unix: secs })
    }

    /// `time` truncated to whole seconds. Before 1970 or after year 9999 is an error.
    pub fn from_system_time(time: SystemTime) -> Result<Self, SigV4Error> {
        let secs = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| SigV4Error::TimeOutOfRange)?
            .as_secs();
        Self::from_unix_seconds(secs)
    }

    /// The current time (`SystemTime::now()`).
    pub fn now() -> Result<Self, SigV4Error> {
        Self::from_system_time(SystemTime::now())
    }

    /// Parses `YYYYMMDD'T'HHMMSS'Z'` (e.g. `20120525T002453Z`), checking every field's
    /// range (month length and leap years included; no leap seconds).
    pub fn parse(s: &str) -> Result<Self, SigV4Error> {
        let b = s.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return Err(SigV4Error::InvalidAmzDate);
        }
        let num = |range: std::ops::Range<usize>| -> Result<u64, SigV4Error> {
            let mut v = 0u64;
            for &c in &b[range] {
                if !c.is_ascii_digit() {
                    return Err(SigV4Error::InvalidAmzDate);
                }
                v = v * 10 + u64::from(c - b'0');
            }
            Ok(v)
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
        if year < 1970
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(SigV4Error::InvalidAmzDate);
        }
        let days = days_from_civil(year, month, day);
        Self::from_unix_seconds(days * 86_400 + hour * 3_600 + minute * 60 + second)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> u64 {
        self.unix
    }

    /// The `YYYYMMDD` date stamp used in the credential scope.
    pub fn date_stamp(self) -> String {
        let (y, m, d) = civil_from_days(self.unix / 86_400);
        format!("{y:04}{m:02}{d:02}")
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.unix / 86_400);
        let s = self.unix % 86_400;
        write!(
            f,
            "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
            s / 3_600,
            s / 60 % 60,
            s % 60
        )
    }
}

impl FromStr for AmzDate {
    type Err = SigV4Error;
    fn from_str(s: &str) -> Result<Self, SigV4Error> {
        Self::parse(s)
    }
}

/// Formats `time` as an `x-amz-date` value, `YYYYMMDD'T'HHMMSS'Z'` in UTC.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_337_905_493);
/// assert_eq!(glacier_verify::sigv4::format_amz_date(t).unwrap(), "20120525T002453Z");
/// ```
pub fn format_amz_date(time: SystemTime) -> Result<String, SigV4Error> {
    Ok(AmzDate::from_system_time(time)?.to_string())
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) of day `days` after 1970-01-01, proleptic Gregorian calendar.
/// Howard Hinnant's `civil_from_days`, restricted to non-negative day numbers.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a (March-based) year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of 400-year era, [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of March-based year, [0, 365]
    let mp = (5 * doy + 2) / 153; // March-based month, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Inverse of [`civil_from_days`] for valid dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// Why a request could not be signed (or canonicalized for verification).
///
/// Messages name the offending part but never include header values, which may be secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// The method is empty or not an HTTP token.
    InvalidMethod,
    /// The path is not a valid origin-form path in wire form; the reason says what is wrong.
    InvalidPath(&'static str),
    /// The query string is not valid wire form; the reason says what is wrong.
    InvalidQuery(&'static str),
    /// A header name is empty or contains characters outside the HTTP token set.
    InvalidHeaderName(String),
    /// A header value contains control characters (CR, LF, NUL, …).
    InvalidHeaderValue(String),
    /// No `host` header was given.
    MissingHost,
    /// More than one `host` header was given.
    DuplicateHost,
    /// A header the signer sets itself was passed in.
    ReservedHeader(String),
    /// The payload hash is not 64 lowercase hex digits.
    InvalidPayloadHash,
    /// Region or service name empty or not made of `[A-Za-z0-9._-]`.
    InvalidScope(&'static str),
    /// A credential value is empty or contains characters a header cannot carry.
    InvalidCredentials(&'static str),
    /// A time before 1970 or after 9999.
    TimeOutOfRange,
    /// Not a `YYYYMMDD'T'HHMMSS'Z'` timestamp.
    InvalidAmzDate,
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigV4Error::InvalidMethod => f.write_str("invalid HTTP method"),
            SigV4Error::InvalidPath(why) => write!(f, "invalid request path: {why}"),
            SigV4Error::InvalidQuery(why) => write!(f, "invalid query string: {why}"),
            SigV4Error::InvalidHeaderName(name) => write!(f, "invalid header name {name:?}"),
            SigV4Error::InvalidHeaderValue(name) => {
                write!(f, "header {name:?} has a value with control characters")
            }
            SigV4Error::MissingHost => f.write_str("request has no Host header"),
            SigV4Error::DuplicateHost => f.write_str("request has more than one Host header"),
            SigV4Error::ReservedHeader(name) => {
                write!(
                    f,
                    "header {name:?} is set by the signer and must not be passed in"
                )
            }
            SigV4Error::InvalidPayloadHash => {
                f.write_str("payload hash is not 64 lowercase hexadecimal digits")
            }
            SigV4Error::InvalidScope(what) => {
                write!(f, "invalid {what} name for the credential scope")
            }
            SigV4Error::InvalidCredentials(what) => write!(
                f,
                "the {what} is empty or contains whitespace or other characters a header cannot carry"
            ),
            SigV4Error::TimeOutOfRange => {
                f.write_str("time is outside 1970-01-01T00:00:00Z..=9999-12-31T23:59:59Z")
            }
            SigV4Error::InvalidAmzDate => f.write_str("not a valid YYYYMMDD'T'HHMMSS'Z' timestamp"),
        }
    }
}

impl std::error::Error for SigV4Error {}

// ---------------------------------------------------------------------------------------
// Requests and parameters
// ---------------------------------------------------------------------------------------

/// How the canonical URI is derived from the wire path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UriEncoding {
    /// Percent-encode the wire path once more (`%` → `%25`); every service except S3,
    /// including Glacier.
    #[default]
    Double,
    /// Decode each wire segment, then encode it once (S3).
    Single,
}

/// Knobs of the canonicalization; `Default` is right for Glacier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningSettings {
    /// Canonical URI encoding; default [`UriEncoding::Double`].
    pub uri_encoding: UriEncoding,
    /// Resolve `.`/`..` and drop empty segments before encoding; default `true`.
    pub normalize_path: bool,
    /// Also send and sign `x-amz-content-sha256: <payload hash>`; default `false`
    /// (Glacier requires it only for uploads, SPEC §1).
    pub content_sha256_header: bool,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            uri_encoding: UriEncoding::Double,
            normalize_path: true,
            content_sha256_header: false,
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
    /// Lowercase hex SHA-256 of the body ([`EMPTY_PAYLOAD_SHA256`] when empty).
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

/// The result of [`sign`]: headers to add to the request, plus the intermediate strings.
pub struct SigningOutput {
    /// Headers to add, lowercase names: `x-amz-date`, then `x-amz-content-sha256` (if
    /// enabled), `x-amz-security-token` (if the credentials have a token), and last
    /// `authorization`.
    pub headers: Vec<(&'static str, String)>,
    /// The hex signature (also inside the `authorization` header).
    pub signature: String,
    canonical_request: String,
    string_to_sign: String,
    signed_headers: String,
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

// ---------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------

/// Signs `request`: returns the headers to add (`x-amz-date`, optional
/// `x-amz-content-sha256` and `x-amz-security-token`, and `authorization`).
///
/// All of `request.headers` are signed except [`UNSIGNED_HEADERS`]; send exactly those
/// headers plus the returned ones, unmodified.
pub fn sign(
    request: &SignableRequest<'_>,
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigV4Error> {
    params.credentials.validate()?;
    check_scope_part(params.region, "region")?;
    check_scope_part(params.service, "service")?;
    check_payload_hash(request.payload_sha256)?;

    let settings = &params.settings;
    for &(name, _) in request.headers {
        let reserved = ["authorization", "x-amz-date", "x-amz-security-token"]
            .iter()
            .any(|r| name.eq_ignore_ascii_case(r))
            || (settings.content_sha256_header
                && name.eq_ignore_ascii_case("x-amz-content-sha256"));
        if reserved {
            return Err(SigV4Error::ReservedHeader(name.to_ascii_lowercase()));
        }
    }

    let amz_date = params.time.to_string();
    let mut added: Vec<(&'static str, String)> = vec![("x-amz-date", amz_date.clone())];
    if settings.content_sha256_header {
        added.push(("x-amz-content-sha256", request.payload_sha256.to_string()));
    }
    if let Some(token) = &params.credentials.session_token {
        added.push(("x-amz-security-token", token.clone()));
    }

    let mut to_sign: Vec<(&str, &str)> = request
        .headers
        .iter()
        .copied()
        .filter(|(n, _)| !UNSIGNED_HEADERS.iter().any(|u| n.eq_ignore_ascii_case(u)))
        .collect();
    to_sign.extend(added.iter().map(|(n, v)| (*n, v.as_str())));

    let (canonical_request, signed_headers) = canonicalize(request, &to_sign, settings)?;
    let date_stamp = params.time.date_stamp();
    let scope = format!(
        "{date_stamp}/{}/{}/{TERMINATOR}",
        params.region, params.service
    );
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical_request);
    let key = derive_signing_key(
        &params.credentials.secret_access_key,
        &date_stamp,
        params.region,
        params.service,
    );
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        params.credentials.access_key_id
    );
    added.push(("authorization", authorization));

    Ok(SigningOutput {
        headers: added,
        signature,
        canonical_request,
        string_to_sign,
        signed_headers,
    })
}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`. `date_stamp` is `YYYYMMDD`. The key is valid for that day, region and
/// service, so a caller signing many requests may cache it.
pub fn derive_signing_key(
    secret_access_key: &str,
    date_stamp: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret_access_key.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac_sha256(&k_secret, date_stamp.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// Lowercase hex SHA-256 of `data` (a payload hash).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// SigV4 `UriEncode`: every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~`
/// becomes `%XX` (uppercase hex), `/` included. Use it for a path segment or a query key or
/// value.
///
/// ```
/// use glacier_verify::sigv4::uri_encode;
/// assert_eq!(uri_encode("my.vault-1_x"), "my.vault-1_x");
/// assert_eq!(uri_encode("a b/ሴ"), "a%20b%2F%E1%88%B4");
/// ```
pub fn uri_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    encode_bytes_into(input.as_bytes(), false, &mut out);
    out
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC is defined for keys of any length (longer ones are hashed first), so this
    // constructor cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn check_scope_part(s: &str, what: &'static str) -> Result<(), SigV4Error> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(SigV4Error::InvalidScope(what))
    }
}

fn check_payload_hash(h: &str) -> Result<(), SigV4Error> {
    let ok = h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(SigV4Error::InvalidPayloadHash)
    }
}

// ---------------------------------------------------------------------------------------
// Canonical request
// ---------------------------------------------------------------------------------------

/// Builds the canonical request over `headers` (all of which are signed).
/// Returns (canonical request, signed-headers list).
fn canonicalize(
    request: &SignableRequest<'_>,
    headers: &[(&str, &str)],
    settings: &SigningSettings,
) -> Result<(String, String), SigV4Error> {
    if request.method.is_empty() || !request.method.bytes().all(is_tchar) {
        return Err(SigV4Error::InvalidMethod);
    }
    let uri = canonical_uri(request.path, settings)?;
    let query = canonical_query(request.query)?;

    let mut normalized: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for &(name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(SigV4Error::InvalidHeaderName(name.to_string()));
        }
        let lower = name.to_ascii_lowercase();
        if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
            return Err(SigV4Error::InvalidHeaderValue(lower));
        }
        normalized.push((lower, trim_all(value)));
    }
    match normalized.iter().filter(|(n, _)| n == "host").count() {
        0 => return Err(SigV4Error::MissingHost),
        1 => {}
        _ => return Err(SigV4Error::DuplicateHost),
    }
    // Stable: repeated names keep the order they were given in.
    normalized.sort_by(|a, b| a.0.cmp(&b.0));

    let mut canonical_headers = String::new();
    let mut signed_headers = String::new();
    let mut i = 0;
    while i < normalized.len() {
        let name = &normalized[i].0;
        if !signed_headers.is_empty() {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        let mut j = i;
        while j < normalized.len() && normalized[j].0 == *name {
            if j > i {
                canonical_headers.push(',');
            }
            canonical_headers.push_str(&normalized[j].1);
            j += 1;
        }
        canonical_headers.push('\n');
        i = j;
    }

    let canonical = format!(
        "{}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method, request.payload_sha256
    );
    Ok((canonical, signed_headers))
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// RFC 3986 `pchar` minus `%` (escapes are checked separately).
fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=:@".contains(&b)
}

/// Trims spaces/tabs and collapses inner runs of them to one space.
fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn encode_bytes_into(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` to bytes. `%` escapes must be well-formed (checked beforehand).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            )
        {
            out.push((hi << 4) | lo);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Checks `s` uses only bytes accepted by `allowed` plus well-formed `%XX` escapes.
fn check_wire(s: &str, allowed: impl Fn(u8) -> bool) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).copied().and_then(hex_val).is_some()
                && b.get(i + 2).copied().and_then(hex_val).is_some();
            if !ok {
                return Err("'%' not followed by two hex digits");
            }
            i += 3;
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return Err("character not allowed unencoded (percent-encode it)");
        }
    }
    Ok(())
}

fn canonical_uri(path: &str, settings: &SigningSettings) -> Result<String, SigV4Error> {
    if !path.starts_with('/') {
        return Err(SigV4Error::InvalidPath("must start with '/'"));
    }
    check_wire(path, |b| is_pchar(b) || b == b'/').map_err(SigV4Error::InvalidPath)?;
    let path = if settings.normalize_path {
        Cow::Owned(normalize_path(path))
    } else {
        Cow::Borrowed(path)
    };
    let mut out = String::with_capacity(path.len() + 8);
    match settings.uri_encoding {
        UriEncoding::Double => encode_bytes_into(path.as_bytes(), true, &mut out),
        UriEncoding::Single => {
            for (i, segment) in path.split('/').enumerate() {
                if i > 0 {
                    out.push('/');
                }
                encode_bytes_into(&percent_decode(segment), false, &mut out);
            }
        }
    }
    Ok(out)
}

/// botocore's `remove_dot_segments`: RFC 3986 §5.2.4 plus dropping empty segments.
fn normalize_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    out.push('/');
    out.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    out
}

fn canonical_query(query: &str) -> Result<String, SigV4Error> {
    if query.is_empty() {
        return Ok(String::new());
    }
    check_wire(query, |b| is_pchar(b) || b == b'/' || b == b'?')
        .map_err(SigV4Error::InvalidQuery)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let mut key = String::new();
        let mut value = String::new();
        encode_bytes_into(&percent_decode(k), false, &mut key);
        encode_bytes_into(&percent_decode(v), false, &mut value);
        pairs.push((key, value));
    }
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 8);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------

/// The value of header `name` fit for a debug log: the `Signature=` of an `Authorization`
/// header and the whole value of `x-amz-security-token` (and `proxy-authorization`) become
/// `***`. An `Authorization` value without `Signature=` is replaced entirely. Other headers
/// are returned unchanged.
///
/// ```
/// use glacier_verify::sigv4::redact;
/// assert_eq!(
///     redact("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20120525/us-east-1/glacier/aws4_request, SignedHeaders=host;x-amz-date, Signature=3ce5b2f2"),
///     "AWS4-HMAC-SHA256 Credential=AKID/20120525/us-east-1/glacier/aws4_request, SignedHeaders=host;x-amz-date, Signature=***",
/// );
/// assert_eq!(redact("X-Amz-Security-Token", "FQoGZXIvYXdzE"), "***");
/// assert_eq!(redact("Range", "bytes=0-1048575"), "bytes=0-1048575");
/// ```
pub fn redact<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if name.eq_ignore_ascii_case("authorization") {
        const KEY: &str = "Signature=";
        return match value.find(KEY) {
            Some(at) => {
                let start = at + KEY.len();
                let end = value[start..]
                    .find([',', ' ', '\t'])
                    .map_or(value.len(), |e| start + e);
                Cow::Owned(format!("{}***{}", &value[..start], &value[end..]))
            }
            None => Cow::Borrowed("***"),
        };
    }
    if name.eq_ignore_ascii_case("x-amz-security-token")
        || name.eq_ignore_ascii_case("proxy-authorization")
    {
        return Cow::Borrowed("***");
    }
    Cow::Borrowed(value)
}

fn redact_canonical_request(creq: &str) -> String {
    let mut out = String::with_capacity(creq.len());
    for (i, line) in creq.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.starts_with("x-amz-security-token:") {
            out.push_str("x-amz-security-token:***");
        } else {
            out.push_str(line);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Verification (server side)
// ---------------------------------------------------------------------------------------

/// What a verifying server expects of requests.
#[derive(Clone, Copy, Debug)]
pub struct VerifyParams<'a> {
    /// The region the server serves; the credential scope must name it.
    pub region: &'a str,
    /// The service the server is, e.g. `glacier`.
    pub service: &'a str,
    /// The server's clock, or `None` to skip the clock-skew check.
    pub now: Option<AmzDate>,
    /// Largest accepted difference between the request time and `now`
    /// ([`DEFAULT_MAX_CLOCK_SKEW`] as AWS).
    pub max_clock_skew: Duration,
    /// Canonicalization settings the clients are expected to use.
    pub settings: SigningSettings,
}

impl<'a> VerifyParams<'a> {
    /// Params for `region`/`service` with the default skew and settings, checking skew
    /// against `now`.
    pub fn new(region: &'a str, service: &'a str, now: Option<AmzDate>) -> Self {
        VerifyParams {
            region,
            service,
            now,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            settings: SigningSettings::default(),
        }
    }
}

/// A request whose signature checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The access key id that signed it.
    pub access_key_id: String,
    /// Its `x-amz-date` (or ISO-8601 `Date`).
    pub time: AmzDate,
    /// The lowercase header names it signed, sorted.
    pub signed_headers: Vec<String>,
}

/// Why [`verify`] rejected a request. [`VerifyError::error_code`] and
/// [`VerifyError::http_status`] give the Glacier error a server should answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No `Authorization` header.
    MissingAuthorization,
    /// More than one `Authorization` header.
    DuplicateAuthorization,
    /// The `Authorization` header is not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
    /// Signature=…`; the reason says which part is wrong.
    MalformedAuthorization(&'static str),
    /// No `x-amz-date` header (nor an ISO-8601 basic `Date` header).
    MissingDate,
    /// The date header is not `YYYYMMDD'T'HHMMSS'Z'`, or appears twice.
    MalformedDate,
    /// The scope date differs from the request date's `YYYYMMDD`.
    ScopeDateMismatch,
    /// The scope names another region.
    WrongRegion(String),
    /// The scope names another service.
    WrongService(String),
    /// A header that must be signed (`host`, the date header, `x-amz-security-token`,
    /// `x-amz-content-sha256`) is not in `SignedHeaders`.
    UnsignedRequiredHeader(&'static str),
    /// `SignedHeaders` names a header the request does not have.
    SignedHeaderMissing(String),
    /// The access key id is unknown to the server.
    UnknownAccessKey(String),
    /// The session token is missing, unexpected, or wrong for the access key.
    InvalidSessionToken,
    /// The request time is further than the allowed skew from the server clock.
    ClockSkew {
        /// Request time.
        request: AmzDate,
        /// Server time.
        server: AmzDate,
    },
    /// `x-amz-content-sha256` does not match the hash of the received body.
    PayloadHashMismatch,
    /// The request could not be canonicalized (bad path, query or header).
    Canonicalization(SigV4Error),
    /// The recomputed signature differs.
    SignatureMismatch,
}

impl VerifyError {
    /// The Glacier error code to answer with (SPEC §3 table; codes for malformed
    /// signatures follow AWS's common errors).
    pub fn error_code(&self) -> &'static str {
        match self {
            VerifyError::MissingAuthorization => "MissingAuthenticationTokenException",
            VerifyError::DuplicateAuthorization
            | VerifyError::MalformedAuthorization(_)
            | VerifyError::MissingDate
            | VerifyError::MalformedDate
            | VerifyError::UnsignedRequiredHeader(_)
            | VerifyError::SignedHeaderMissing(_) => "IncompleteSignatureException",
            VerifyError::UnknownAccessKey(_) | VerifyError::InvalidSessionToken => {
                "UnrecognizedClientException"
            }
            VerifyError::Canonicalization(_) => "BadRequest",
            VerifyError::ScopeDateMismatch
            | VerifyError::WrongRegion(_)
            | VerifyError::WrongService(_)
            | VerifyError::ClockSkew { .. }
            | VerifyError::PayloadHashMismatch
            | VerifyError::SignatureMismatch => "InvalidSignatureException",
        }
    }

    /// The HTTP status to answer with: 403 for signature failures, 400 otherwise
    /// (SPEC §3 table).
    pub fn http_status(&self) -> u16 {
        match self.error_code() {
            "InvalidSignatureException" => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingAuthorization => f.write_str("Missing Authentication Token"),
            VerifyError::DuplicateAuthorization => {
                f.write_str("more than one Authorization header")
            }
            VerifyError::MalformedAuthorization(why) => {
                write!(f, "malformed Authorization header: {why}")
            }
            VerifyError::MissingDate => {
                f.write_str("request has neither X-Amz-Date nor an ISO-8601 Date header")
            }
            VerifyError::MalformedDate => {
                f.write_str("X-Amz-Date must be a single YYYYMMDD'T'HHMMSS'Z' value")
            }
            VerifyError::ScopeDateMismatch => f.write_str(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
            ),
            VerifyError::WrongRegion(r) => {
                write!(f, "Credential should be scoped to a valid region, not '{r}'")
            }
            VerifyError::WrongService(s) => {
                write!(f, "Credential should be scoped to correct service, not '{s}'")
            }
            VerifyError::UnsignedRequiredHeader(h) => {
                write!(f, "'{h}' must be a 'SignedHeader' in the AWS Authorization")
            }
            VerifyError::SignedHeaderMissing(h) => {
                write!(f, "signed header '{h}' is not present in the request")
            }
            VerifyError::UnknownAccessKey(k) => {
                write!(f, "The security token included in the request is invalid (access key id {k})")
            }
            VerifyError::InvalidSessionToken => {
                f.write_str("The security token included in the request is invalid")
            }
            VerifyError::ClockSkew { request, server } => write!(
                f,
                "Signature expired: {request} is not within the allowed skew of {server}"
            ),
            VerifyError::PayloadHashMismatch => {
                f.write_str("x-amz-content-sha256 does not match the request body")
            }
            VerifyError::Canonicalization(e) => write!(f, "cannot canonicalize request: {e}"),
            VerifyError::SignatureMismatch => f.write_str(
                "The request signature we calculated does not match the signature you provided",
            ),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Canonicalization(e) => Some(e),
            _ => None,
        }
    }
}

struct ParsedAuthorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<ParsedAuthorization<'_>, VerifyError> {
    use VerifyError::MalformedAuthorization as M;
    let value = value.trim_matches([' ', '\t']);
    let (algorithm, rest) = value
        .split_once(' ')
        .ok_or(M("expected '<algorithm> Credential=…'"))?;
    if algorithm != ALGORITHM {
        return Err(M("algorithm is not AWS4-HMAC-SHA256"));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim_matches([' ', '\t']);
        let (k, v) = part.split_once('=').ok_or(M("component without '='"))?;
        let slot = match k {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(M("unknown component")),
        };
        if slot.replace(v).is_some() {
            return Err(M("repeated component"));
        }
    }
    let credential = credential.ok_or(M("missing Credential"))?;
    let signed_headers_raw = signed.ok_or(M("missing SignedHeaders"))?;
    let signature = signature.ok_or(M("missing Signature"))?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(M("Credential is not AKID/date/region/service/aws4_request"));
    };
    if terminator != TERMINATOR || access_key_id.is_empty() {
        return Err(M("Credential is not AKID/date/region/service/aws4_request"));
    }
    let signed_headers: Vec<&str> = signed_headers_raw.split(';').collect();
    let well_formed = signed_headers
        .iter()
        .all(|h| !h.is_empty() && h.bytes().all(|b| is_tchar(b) && !b.is_ascii_uppercase()))
        && signed_headers.windows(2).all(|w| w[0] < w[1]);
    if !well_formed {
        return Err(M(
            "SignedHeaders is not a sorted list of distinct lowercase names",
        ));
    }
    if signature.len() != 64 || check_payload_hash(signature).is_err() {
        return Err(M("Signature is not 64 lowercase hex digits"));
    }
    Ok(ParsedAuthorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// Checks the SigV4 signature of a received request.
///
/// `request` is the request as received (wire path and query, all headers, and the
/// SHA-256 of the received body as `payload_sha256`). `lookup` maps an access key id to the
/// credentials the server knows for it; if those have a session token, the request must
/// carry the same `x-amz-security-token`, and if they have none it must carry none.
///
/// Checks, in order: the `Authorization` header's shape; the date header; the scope's
/// date, region, service; that `host`, the date header and any `x-amz-security-token` /
/// `x-amz-content-sha256` are signed; the access key and token; clock skew (if
/// `params.now` is set); `x-amz-content-sha256` against `payload_sha256`; and finally the
/// signature, compared in constant time.
pub fn verify<F>(
    request: &SignableRequest<'_>,
    params: &VerifyParams<'_>,
    lookup: F,
) -> Result<VerifiedRequest, VerifyError>
where
    F: FnOnce(&str) -> Option<Credentials>,
{
    /// The only value of header `name`: `Ok(None)` if absent, `Err(())` if repeated.
    fn only_value<'h>(headers: &[(&str, &'h str)], name: &str) -> Result<Option<&'h str>, ()> {
        let mut it = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        match (it.next(), it.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => Ok(Some(v)),
            (Some(_), Some(_)) => Err(()),
        }
    }
    let single = |name: &str| only_value(request.headers, name);

    let auth_value = single("authorization")
        .map_err(|()| VerifyError::DuplicateAuthorization)?
        .ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(auth_value)?;

    // x-amz-date wins over Date [DG-REQH]; Date must then itself be ISO-8601 basic.
    let (date_header, date_value) =
        match single("x-amz-date").map_err(|()| VerifyError::MalformedDate)? {
            Some(v) => ("x-amz-date", v),
            None => match single("date").map_err(|()| VerifyError::MalformedDate)? {
                Some(v) => ("date", v),
                None => return Err(VerifyError::MissingDate),
            },
        };
    let time = AmzDate::parse(date_value.trim_matches([' ', '\t']))
        .map_err(|_| VerifyError::MalformedDate)?;

    if auth.date != time.date_stamp() {
        return Err(VerifyError::ScopeDateMismatch);
    }
    if auth.region != params.region {
        return Err(VerifyError::WrongRegion(auth.region.to_string()));
    }
    if auth.service != params.service {
        return Err(VerifyError::WrongService(auth.service.to_string()));
    }

    let is_signed = |h: &str| auth.signed_headers.contains(&h);
    for required in ["host", date_header] {
        if !is_signed(required) {
            return Err(VerifyError::UnsignedRequiredHeader(required));
        }
    }
    let token = single("x-amz-security-token").map_err(|()| VerifyError::InvalidSessionToken)?;
    if token.is_some() && !is_signed("x-amz-security-token") {
        return Err(VerifyError::UnsignedRequiredHeader("x-amz-security-token"));
    }
    let content_sha =
        single("x-amz-content-sha256").map_err(|()| VerifyError::PayloadHashMismatch)?;
    if content_sha.is_some() && !is_signed("x-amz-content-sha256") {
        return Err(VerifyError::UnsignedRequiredHeader("x-amz-content-sha256"));
    }

    let credentials = lookup(auth.access_key_id)
        .ok_or_else(|| VerifyError::UnknownAccessKey(auth.access_key_id.to_string()))?;
    let token_ok = match (&credentials.session_token, token) {
        (None, None) => true,
        (Some(expected), Some(got)) => constant_time_eq(
            expected.as_bytes(),
            got.trim_matches([' ', '\t']).as_bytes(),
        ),
        _ => false,
    };
    if !token_ok {
        return Err(VerifyError::InvalidSessionToken);
    }

    if let Some(now) = params.now {
        let skew = now.unix_seconds().abs_diff(time.unix_seconds());
        if skew > params.max_clock_skew.as_secs() {
            return Err(VerifyError::ClockSkew {
                request: time,
                server: now,
            });
        }
    }
    if let Some(claimed) = content_sha
        && claimed.trim_matches([' ', '\t']) != request.payload_sha256
    {
        return Err(VerifyError::PayloadHashMismatch);
    }

    let mut signed: Vec<(&str, &str)> = Vec::new();
    for &name in &auth.signed_headers {
        let before = signed.len();
        signed.extend(
            request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name)),
        );
        if signed.len() == before {
            return Err(VerifyError::SignedHeaderMissing(name.to_string()));
        }
    }
    check_payload_hash(request.payload_sha256).map_err(VerifyError::Canonicalization)?;
    let (canonical_request, _) =
        canonicalize(request, &signed, &params.settings).map_err(VerifyError::Canonicalization)?;

    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        auth.date, auth.region, auth.service
    );
    let sts = string_to_sign(&time.to_string(), &scope, &canonical_request);
    let key = derive_signing_key(
        &credentials.secret_access_key,
        auth.date,
        auth.region,
        auth.service,
    );
    let expected = hex(&hmac_sha256(&key, sts.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(VerifiedRequest {
        access_key_id: auth.access_key_id.to_string(),
        time,
        signed_headers: auth.signed_headers.iter().map(|s| s.to_string()).collect(),
    })
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DG_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
    const DG_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const DG_HOST: &str = "glacier.us-east-1.amazonaws.com";

    fn dg_credentials() -> Credentials {
        Credentials::new(DG_AKID, DG_SECRET, None)
    }

    fn params<'a>(creds: &'a Credentials, time: &str) -> SigningParams<'a> {
        SigningParams {
            credentials: creds,
            region: "us-east-1",
            service: "glacier",
            time: time.parse().unwrap(),
            settings: SigningSettings::default(),
        }
    }

    /// [DG-SIGN] "Example Signature Calculation": Create Vault, 2012-05-25, us-east-1.
    #[test]
    fn glacier_developer_guide_put_vault() {
        let creds = dg_credentials();
        let headers = [("Host", DG_HOST), ("x-amz-glacier-version", "2012-06-01")];
        let req = SignableRequest::new(
            "PUT",
            "/-/vaults/examplevault",
            &headers,
            EMPTY_PAYLOAD_SHA256,
        );
        let out = sign(&req, &params(&creds, "20120525T002453Z")).unwrap();
        assert_eq!(
            out.canonical_request(),
            "PUT\n/-/vaults/examplevault\n\nhost:glacier.us-east-1.amazonaws.com\n\
             x-amz-date:20120525T002453Z\nx-amz-glacier-version:2012-06-01\n\n\
             host;x-amz-date;x-amz-glacier-version\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            out.string_to_sign(),
            "AWS4-HMAC-SHA256\n20120525T002453Z\n20120525/us-east-1/glacier/aws4_request\n\
             5f1da1a2d0feb614dd03d71e87928b8e449ac87614479332aced3a701f916743"
        );
        assert_eq!(
            out.signature,
            "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
        );
        assert_eq!(
            out.authorization(),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120525/us-east-1/glacier/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-glacier-version, \
             Signature=3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
        );
        assert_eq!(
            out.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["x-amz-date", "authorization"]
        );
    }

    /// [DG-SIGN] "Example Signature Calculation for Streaming API": Upload Archive with
    /// `x-amz-content-sha256`, 2012-05-07.
    ///
    /// The guide prints the request and canonical request with path
    /// `/-/vaults/examplevault`, but its signature `b0923974…` is that of the real Upload
    /// Archive path `/-/vaults/examplevault/archives` (the printed canonical request signs
    /// to `e8ba379a…`). Both checked independently with Python `hashlib`/`hmac`.
    #[test]
    fn glacier_developer_guide_upload_archive() {
        let creds = dg_credentials();
        let body = b"Welcome to Amazon Glacier.";
        let payload = sha256_hex(body);
        assert_eq!(
            payload,
            "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"
        );
        let headers = [("Host", DG_HOST), ("x-amz-glacier-version", "2012-06-01")];
        let mut p = params(&creds, "20120507T000000Z");
        p.settings.content_sha256_header = true;

        let printed = SignableRequest::new("POST", "/-/vaults/examplevault", &headers, &payload);
        let out = sign(&printed, &p).unwrap();
        assert_eq!(
            out.canonical_request(),
            "POST\n/-/vaults/examplevault\n\nhost:glacier.us-east-1.amazonaws.com\n\
             x-amz-content-sha256:726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628\n\
             x-amz-date:20120507T000000Z\nx-amz-glacier-version:2012-06-01\n\n\
             host;x-amz-content-sha256;x-amz-date;x-amz-glacier-version\n\
             726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"
        );
        assert_eq!(
            out.signature,
            "e8ba379a747bc294584102fd2430f7a563696740882e149c87b15754e7c10a89"
        );
        assert_eq!(
            out.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["x-amz-date", "x-amz-content-sha256", "authorization"]
        );

        let real = SignableRequest::new(
            "POST",
            "/-/vaults/examplevault/archives",
            &headers,
            &payload,
        );
        let out = sign(&real, &p).unwrap();
        assert_eq!(
            out.authorization(),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120507/us-east-1/glacier/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-glacier-version, \
             Signature=b092397439375d59119072764a1e9a144677c43d9906fd98a5742c57a2855de6"
        );
    }

    fn glacier_get_headers() -> [(&'static str, &'static str); 3] {
        [
            ("Host", DG_HOST),
            ("x-amz-glacier-version", "2012-06-01"),
            ("Range", "bytes=0-1048575"),
        ]
    }

    const JOB_PATH: &str = "/-/vaults/my.vault-1_x/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output";

    #[test]
    fn glacier_get_job_output_roundtrip_with_session_token() {
        let creds = Credentials::new(DG_AKID, DG_SECRET, Some("FQoGZXIvYXdzEXAMPLE+/=".into()));
        let headers = glacier_get_headers();
        let req = SignableRequest::new("GET", JOB_PATH, &headers, EMPTY_PAYLOAD_SHA256);
        let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
        assert_eq!(
            out.signed_headers(),
            "host;range;x-amz-date;x-amz-glacier-version;x-amz-security-token"
        );
        assert!(
            out.canonical_request()
                .starts_with(&format!("GET\n{JOB_PATH}\n\n"))
        );
        assert!(!out.canonical_request_redacted().contains("FQoG"));
        assert!(!format!("{out:?}").contains("FQoG"));
        assert!(!format!("{out:?}").contains(&out.signature));

        let mut sent: Vec<(&str, &str)> = headers.to_vec();
        sent.extend(out.headers.iter().map(|(n, v)| (*n, v.as_str())));
        let received = SignableRequest::new("GET", JOB_PATH, &sent, EMPTY_PAYLOAD_SHA256);
        let now = AmzDate::parse("20170210T120500Z").unwrap();
        let vp = VerifyParams::new("us-east-1", "glacier", Some(now));
        let ok = verify(&received, &vp, |akid| {
            (akid == DG_AKID).then(|| creds.clone())
        })
        .unwrap();
        assert_eq!(ok.access_key_id, DG_AKID);
        assert_eq!(ok.time.to_string(), "20170210T120000Z");
        assert_eq!(ok.signed_headers.len(), 5);
    }

    /// Signs a Glacier GET and returns the headers as sent.
    fn signed_get(creds: &Credentials) -> Vec<(&'static str, String)> {
        let headers = glacier_get_headers();
        let req = SignableRequest::new("GET", JOB_PATH, &headers, EMPTY_PAYLOAD_SHA256);
        let out = sign(&req, &params(creds, "20170210T120000Z")).unwrap();
        let mut sent: Vec<(&'static str, String)> =
            headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
        sent.extend(out.headers);
        sent
    }

    fn verify_sent(
        method: &str,
        target: &str,
        sent: &[(&str, String)],
        known: &Credentials,
    ) -> Result<VerifiedRequest, VerifyError> {
        let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = SignableRequest::new(method, target, &hdrs, EMPTY_PAYLOAD_SHA256);
        let now = AmzDate::parse("20170210T120000Z").unwrap();
        let vp = VerifyParams::new("us-east-1", "glacier", Some(now));
        verify(&req, &vp, |akid| {
            (akid == known.access_key_id).then(|| known.clone())
        })
    }

    fn set(sent: &mut [(&str, String)], name: &str, value: &str) {
        for (n, v) in sent.iter_mut() {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_string();
            }
        }
    }

    #[test]
    fn verify_rejects_tampering() {
        let creds = dg_credentials();
        let sent = signed_get(&creds);
        assert!(verify_sent("GET", JOB_PATH, &sent, &creds).is_ok());

        // Another method, path, query or signed header value.
        assert_eq!(
            verify_sent("HEAD", JOB_PATH, &sent, &creds),
            Err(VerifyError::SignatureMismatch)
        );
        let other = JOB_PATH.replace("my.vault", "my.vaulT");
        assert_eq!(
            verify_sent("GET", &other, &sent, &creds),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify_sent("GET", &format!("{JOB_PATH}?x=1"), &sent, &creds),
            Err(VerifyError::SignatureMismatch)
        );
        let mut s = sent.clone();
        set(&mut s, "range", "bytes=0-1048576");
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &creds),
            Err(VerifyError::SignatureMismatch)
        );

        // Wrong secret on the server side.
        let wrong = Credentials::new(DG_AKID, "another secret", None);
        assert_eq!(
            verify_sent("GET", JOB_PATH, &sent, &wrong),
            Err(VerifyError::SignatureMismatch)
        );

        // Unknown key.
        let other_key = Credentials::new("AKIDOTHER", DG_SECRET, None);
        assert_eq!(
            verify_sent("GET", JOB_PATH, &sent, &other_key),
            Err(VerifyError::UnknownAccessKey(DG_AKID.into()))
        );

        // A flipped signature digit.
        let mut s = sent.clone();
        let auth = s
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1
            .clone();
        let flipped = format!(
            "{}{}",
            &auth[..auth.len() - 1],
            if auth.ends_with('0') { '1' } else { '0' }
        );
        set(&mut s, "authorization", &flipped);
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &creds),
            Err(VerifyError::SignatureMismatch)
        );

        // Unsigned extra headers are fine (as on AWS); header-name case does not matter.
        let mut s = sent.clone();
        s.push(("User-Agent", "curl/8".into()));
        s.push(("X-Unsigned", "whatever".into()));
        for (n, _) in s.iter_mut() {
            if *n == "x-amz-date" {
                *n = "X-Amz-Date";
            }
        }
        assert!(verify_sent("GET", JOB_PATH, &s, &creds).is_ok());
    }

    #[test]
    fn verify_session_token_rules() {
        let with_token = Credentials::new(DG_AKID, DG_SECRET, Some("tok1".into()));
        let without = dg_credentials();
        let sent = signed_get(&with_token);
        assert!(verify_sent("GET", JOB_PATH, &sent, &with_token).is_ok());
        // Server expects no token but one was sent, or expects another one.
        assert_eq!(
            verify_sent("GET", JOB_PATH, &sent, &without),
            Err(VerifyError::InvalidSessionToken)
        );
        let other = Credentials::new(DG_AKID, DG_SECRET, Some("tok2".into()));
        assert_eq!(
            verify_sent("GET", JOB_PATH, &sent, &other),
            Err(VerifyError::InvalidSessionToken)
        );
        // Token expected but the request has none.
        let plain = signed_get(&without);
        assert_eq!(
            verify_sent("GET", JOB_PATH, &plain, &with_token),
            Err(VerifyError::InvalidSessionToken)
        );
        // A token sent but not signed.
        let mut s = plain.clone();
        s.push(("x-amz-security-token", "tok1".into()));
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &with_token),
            Err(VerifyError::UnsignedRequiredHeader("x-amz-security-token"))
        );
    }

    #[test]
    fn verify_scope_date_and_skew() {
        let creds = dg_credentials();
        let sent = signed_get(&creds);
        let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let req = SignableRequest::new("GET", JOB_PATH, &hdrs, EMPTY_PAYLOAD_SHA256);
        let lookup = |_: &str| Some(dg_credentials());

        let mut vp = VerifyParams::new("us-west-2", "glacier", None);
        assert_eq!(
            verify(&req, &vp, lookup),
            Err(VerifyError::WrongRegion("us-east-1".into()))
        );
        vp.region = "us-east-1";
        vp.service = "s3";
        assert_eq!(
            verify(&req, &vp, lookup),
            Err(VerifyError::WrongService("glacier".into()))
        );
        vp.service = "glacier";
        assert!(verify(&req, &vp, lookup).is_ok());

        // 15 minutes either way is accepted, 15 minutes and one second is not.
        let t = AmzDate::parse("20170210T120000Z").unwrap().unix_seconds();
        for (delta, ok) in [(900i64, true), (-900, true), (901, false), (-901, false)] {
            vp.now =
                Some(AmzDate::from_unix_seconds(t.checked_add_signed(delta).unwrap()).unwrap());
            assert_eq!(verify(&req, &vp, lookup).is_ok(), ok, "delta {delta}");
            if !ok {
                assert_eq!(
                    verify(&req, &vp, lookup).unwrap_err().error_code(),
                    "InvalidSignatureException"
                );
            }
        }

        // x-amz-date of another day than the scope.
        let mut s = sent.clone();
        set(&mut s, "x-amz-date", "20170211T120000Z");
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &creds),
            Err(VerifyError::ScopeDateMismatch)
        );
        set(&mut s, "x-amz-date", "2017-02-10T12:00:00Z");
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &creds),
            Err(VerifyError::MalformedDate)
        );
    }

    #[test]
    fn verify_date_header_fallback() {
        // A Date header in ISO-8601 basic form may replace x-amz-date [DG-REQH].
        let creds = dg_credentials();
        let headers = [("Host", DG_HOST), ("Date", "20170210T120000Z")];
        let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
        let key = derive_signing_key(DG_SECRET, "20170210", "us-east-1", "glacier");
        let (creq, sh) = canonicalize(&req, &headers, &SigningSettings::default()).unwrap();
        assert_eq!(sh, "date;host");
        let sts = string_to_sign(
            "20170210T120000Z",
            "20170210/us-east-1/glacier/aws4_request",
            &creq,
        );
        let sig = hex(&hmac_sha256(&key, sts.as_bytes()));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={DG_AKID}/20170210/us-east-1/glacier/aws4_request, SignedHeaders=date;host, Signature={sig}"
        );
        let sent = [headers[0], headers[1], ("Authorization", auth.as_str())];
        let req = SignableRequest::new("GET", "/", &sent, EMPTY_PAYLOAD_SHA256);
        let vp = VerifyParams::new("us-east-1", "glacier", None);
        assert!(verify(&req, &vp, |_| Some(creds.clone())).is_ok());
    }

    #[test]
    fn verify_malformed_authorization() {
        let creds = dg_credentials();
        let sent = signed_get(&creds);
        let auth = sent
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1
            .clone();
        let sig = auth.rsplit_once("Signature=").unwrap().1.to_string();
        let cases: Vec<(String, &str)> = vec![
            ("Basic dXNlcjpwYXNz".into(), "algorithm"),
            ("AWS4-HMAC-SHA256".into(), "expected"),
            (auth.replace("Credential=", "Cred="), "unknown"),
            (
                auth.replace(", Signature=", ", Signature=0, Signature="),
                "repeated",
            ),
            (auth.replace("/aws4_request", "/aws5_request"), "Credential"),
            (
                auth.replace(&format!(", Signature={sig}"), ""),
                "missing Signature",
            ),
            (auth.replace(&sig, &sig[..63]), "hex"),
            (auth.replace(&sig, &sig.to_uppercase()), "hex"),
            (auth.replace("host;range", "range;host"), "sorted"),
            (auth.replace("host;range", "Host;range"), "sorted"),
            (auth.replace("host;range", "host;;range"), "sorted"),
            ("AWS4-HMAC-SHA256 ,,,".into(), "without"),
            ("".into(), "expected"),
        ];
        for (value, needle) in cases {
            let mut s = sent.clone();
            set(&mut s, "authorization", &value);
            match verify_sent("GET", JOB_PATH, &s, &creds) {
                Err(VerifyError::MalformedAuthorization(why)) => {
                    assert!(why.contains(needle), "{value:?}: {why}")
                }
                other => panic!("{value:?}: {other:?}"),
            }
        }
        // Missing / duplicated Authorization, missing date, unsigned host.
        let no_auth: Vec<_> = sent
            .iter()
            .filter(|(n, _)| *n != "authorization")
            .cloned()
            .collect();
        let e = verify_sent("GET", JOB_PATH, &no_auth, &creds).unwrap_err();
        assert_eq!(e, VerifyError::MissingAuthorization);
        assert_eq!(
            (e.error_code(), e.http_status()),
            ("MissingAuthenticationTokenException", 400)
        );
        let mut dup = sent.clone();
        dup.push(("Authorization", auth.clone()));
        assert_eq!(
            verify_sent("GET", JOB_PATH, &dup, &creds),
            Err(VerifyError::DuplicateAuthorization)
        );
        let no_date: Vec<_> = sent
            .iter()
            .filter(|(n, _)| *n != "x-amz-date")
            .cloned()
            .collect();
        assert_eq!(
            verify_sent("GET", JOB_PATH, &no_date, &creds),
            Err(VerifyError::MissingDate)
        );
        let mut s = sent.clone();
        set(
            &mut s,
            "authorization",
            &auth.replace("SignedHeaders=host;", "SignedHeaders="),
        );
        assert_eq!(
            verify_sent("GET", JOB_PATH, &s, &creds),
            Err(VerifyError::UnsignedRequiredHeader("host"))
        );
        let no_range: Vec<_> = sent
            .iter()
            .filter(|(n, _)| *n != "Range")
            .cloned()
            .collect();
        assert_eq!(
            verify_sent("GET", JOB_PATH, &no_range, &creds),
            Err(VerifyError::SignedHeaderMissing("range".into()))
        );
        let e = verify_sent("GET", "/bad path", &sent, &creds).unwrap_err();
        assert!(
            matches!(e, VerifyError::Canonicalization(SigV4Error::InvalidPath(_))),
            "{e:?}"
        );
    }

    #[test]
    fn verify_content_sha256() {
        let creds = dg_credentials();
        let headers = [("Host", DG_HOST)];
        let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
        let mut p = params(&creds, "20170210T120000Z");
        p.settings.content_sha256_header = true;
        let out = sign(&req, &p).unwrap();
        let mut sent: Vec<(&str, String)> = vec![("Host", DG_HOST.into())];
        sent.extend(out.headers);
        assert!(verify_sent("GET", "/", &sent, &creds).is_ok());
        let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let body_hash = sha256_hex(b"x");
        let req = SignableRequest::new("GET", "/", &hdrs, &body_hash);
        let vp = VerifyParams::new("us-east-1", "glacier", None);
        assert_eq!(
            verify(&req, &vp, |_| Some(creds.clone())),
            Err(VerifyError::PayloadHashMismatch)
        );
    }

    #[test]
    fn sign_rejects_bad_input() {
        let creds = dg_credentials();
        let p = params(&creds, "20170210T120000Z");
        let host = [("Host", DG_HOST)];
        let try_sign = |method: &str, target: &str, headers: &[(&str, &str)]| {
            sign(
                &SignableRequest::new(method, target, headers, EMPTY_PAYLOAD_SHA256),
                &p,
            )
        };
        assert_eq!(
            try_sign("", "/", &host).unwrap_err(),
            SigV4Error::InvalidMethod
        );
        assert_eq!(
            try_sign("G ET", "/", &host).unwrap_err(),
            SigV4Error::InvalidMethod
        );
        for bad in [
            "", "*", "relative", "/a b", "/a%2", "/a%zz", "/ሴ", "/a#frag", "/a\"b", "/a\\b",
            "/a\nb",
        ] {
            assert!(
                matches!(try_sign("GET", bad, &host), Err(SigV4Error::InvalidPath(_))),
                "{bad:?}"
            );
        }
        for bad in ["/?a b", "/?a=%", "/?a=%G0", "/?a=ሴ", "/?a#b"] {
            assert!(
                matches!(
                    try_sign("GET", bad, &host),
                    Err(SigV4Error::InvalidQuery(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            try_sign("GET", "/", &[]).unwrap_err(),
            SigV4Error::MissingHost
        );
        assert_eq!(
            try_sign("GET", "/", &[("host", "a"), ("HOST", "b")]).unwrap_err(),
            SigV4Error::DuplicateHost
        );
        for reserved in ["Authorization", "X-Amz-Date", "x-amz-security-token"] {
            assert_eq!(
                try_sign("GET", "/", &[host[0], (reserved, "v")]).unwrap_err(),
                SigV4Error::ReservedHeader(reserved.to_ascii_lowercase())
            );
        }
        assert!(matches!(
            try_sign("GET", "/", &[host[0], ("bad name", "v")]),
            Err(SigV4Error::InvalidHeaderName(_))
        ));
        assert!(matches!(
            try_sign("GET", "/", &[host[0], ("", "v")]),
            Err(SigV4Error::InvalidHeaderName(_))
        ));
        for bad_value in ["a\r\nX-Injected: 1", "a\0", "a\x7f"] {
            assert_eq!(
                try_sign("GET", "/", &[host[0], ("x-h", bad_value)]).unwrap_err(),
                SigV4Error::InvalidHeaderValue("x-h".into())
            );
        }
        let req = SignableRequest::new(
            "GET",
            "/",
            &host,
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        );
        assert_eq!(sign(&req, &p).unwrap_err(), SigV4Error::InvalidPayloadHash);
        let req = SignableRequest::new("GET", "/", &host, EMPTY_PAYLOAD_SHA256);
        for (region, service) in [
            ("", "glacier"),
            ("us-east-1", ""),
            ("us/east", "glacier"),
            ("us-east-1", "gla cier"),
        ] {
            let mut p = p;
            p.region = region;
            p.service = service;
            assert!(matches!(sign(&req, &p), Err(SigV4Error::InvalidScope(_))));
        }
        for bad in [
            Credentials::new("", "s", None),
            Credentials::new("AK ID", "s", None),
            Credentials::new("AK/ID", "s", None),
            Credentials::new("AKID", "", None),
            Credentials::new("AKID", "s\n", None),
            Credentials::new("AKID", "s", Some(String::new())),
            Credentials::new("AKID", "s", Some("a\r\nb".into())),
        ] {
            let mut p = p;
            p.credentials = &bad;
            assert!(
                matches!(sign(&req, &p), Err(SigV4Error::InvalidCredentials(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unsigned_headers_are_not_signed() {
        let creds = dg_credentials();
        let headers = [
            ("Host", DG_HOST),
            ("User-Agent", "glacier-verify/0.1"),
            ("Connection", "close"),
            ("Accept", "*/*"),
        ];
        let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
        let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
        assert_eq!(out.signed_headers(), "accept;host;x-amz-date");
    }

    #[test]
    fn canonical_uri_rules() {
        let s = |enc, normalize| SigningSettings {
            uri_encoding: enc,
            normalize_path: normalize,
            content_sha256_header: false,
        };
        let d = s(UriEncoding::Double, true);
        let single = s(UriEncoding::Single, true);
        let raw = s(UriEncoding::Double, false);
        let cases: &[(&str, SigningSettings, &str)] = &[
            (JOB_PATH, d, JOB_PATH),
            (JOB_PATH, single, JOB_PATH),
            ("/", d, "/"),
            ("//", d, "/"),
            ("//example//", d, "/example/"),
            ("/a/./b/../c", d, "/a/c"),
            ("/../..", d, "/"),
            ("/a/..", d, "/"),
            ("/a/b/", d, "/a/b/"),
            ("/a/./b/../c", raw, "/a/./b/../c"),
            ("//", raw, "//"),
            // Double: encode the wire path again; Single: decode then encode once.
            ("/a%20b", d, "/a%2520b"),
            ("/a%20b", single, "/a%20b"),
            ("/a%2fb", single, "/a%2Fb"),
            ("/%7e~", single, "/~~"),
            ("/%7e~", d, "/%257e~"),
            (
                "/@:!$&'()*+,;=",
                d,
                "/%40%3A%21%24%26%27%28%29%2A%2B%2C%3B%3D",
            ),
            ("/%E1%88%B4", single, "/%E1%88%B4"),
            ("/%ff%00", single, "/%FF%00"),
        ];
        for &(path, settings, want) in cases {
            assert_eq!(
                canonical_uri(path, &settings).unwrap(),
                want,
                "{path} {settings:?}"
            );
        }
    }

    #[test]
    fn canonical_query_rules() {
        let cases = [
            ("", ""),
            ("b=2&a=1", "a=1&b=2"),
            ("a=2&a=1&a=10", "a=1&a=10&a=2"),
            ("B=1&a=1", "B=1&a=1"),
            ("flag&x=", "flag=&x="),
            ("&&a=1&", "a=1"),
            ("a=b=c", "a=b%3Dc"),
            ("k=%7e%2f/?", "k=~%2F%2F%3F"),
            ("sp=a+b%20c", "sp=a%2Bb%20c"),
            ("%E1%88%B4=bar", "%E1%88%B4=bar"),
            ("%e1%88%b4=Bar", "%E1%88%B4=Bar"),
        ];
        for (q, want) in cases {
            assert_eq!(canonical_query(q).unwrap(), want, "{q}");
        }
    }

    #[test]
    fn header_value_trimming() {
        assert_eq!(trim_all("  a   b \t c  "), "a b c");
        assert_eq!(trim_all(""), "");
        assert_eq!(trim_all(" \t "), "");
        assert_eq!(trim_all("\"a   b   c\""), "\"a b c\"");
        assert_eq!(trim_all("ünï  cödé"), "ünï cödé");
    }

    #[test]
    fn uri_encode_every_byte() {
        for b in 0u8..=127 {
            let s = char::from(b).to_string();
            let e = uri_encode(&s);
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                assert_eq!(e, s);
            } else {
                assert_eq!(e, format!("%{b:02X}"));
            }
        }
        assert_eq!(uri_encode("é"), "%C3%A9");
    }

    #[test]
    fn amz_date_known_values() {
        // Cross-checked with GNU `date -u -d @SECS +%Y%m%dT%H%M%SZ`.
        let known = [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (1_336_348_800, "20120507T000000Z"),
            (1_337_905_493, "20120525T002453Z"),
            (1_440_938_160, "20150830T123600Z"),
            (1_709_164_800, "20240229T000000Z"),
            (4_102_444_800, "21000101T000000Z"),
            (253_402_300_799, "99991231T235959Z"),
        ];
        for (secs, text) in known {
            let d = AmzDate::from_unix_seconds(secs).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(AmzDate::parse(text).unwrap(), d);
            assert_eq!(d.date_stamp(), &text[..8]);
            let st = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(format_amz_date(st).unwrap(), text);
        }
        assert_eq!(
            format_amz_date(UNIX_EPOCH + Duration::from_millis(1_337_905_493_999)).unwrap(),
            "20120525T002453Z"
        );
        assert_eq!(
            AmzDate::from_unix_seconds(MAX_UNIX + 1),
            Err(SigV4Error::TimeOutOfRange)
        );
        assert_eq!(
            AmzDate::from_system_time(UNIX_EPOCH - Duration::from_secs(1)),
            Err(SigV4Error::TimeOutOfRange)
        );
        assert!(AmzDate::now().is_ok());
    }

    #[test]
    fn amz_date_rejects_malformed() {
        for bad in [
            "",
            "20120525T002453",
            "20120525T002453z",
            "20120525 002453Z",
            "2012-05-25T00:24:53Z",
            "20120525T002453Z ",
            "19691231T235959Z",
            "20120025T002453Z",
            "20121325T002453Z",
            "20120500T002453Z",
            "20120532T002453Z",
            "20120431T000000Z",
            "20130229T000000Z",
            "21000229T000000Z",
            "20120525T242453Z",
            "20120525T006053Z",
            "20120525T002460Z",
            "2012052ET002453Z",
            "+0120525T002453Z",
            "２0120525T00245Z",
        ] {
            assert_eq!(
                AmzDate::parse(bad),
                Err(SigV4Error::InvalidAmzDate),
                "{bad:?}"
            );
        }
        assert!(AmzDate::parse("20000229T000000Z").is_ok());
        assert!(AmzDate::parse("20240229T235959Z").is_ok());
    }

    /// The calendar arithmetic against a naive day-by-day count, for every day from
    /// 1970-01-01 to 9999-12-31 (the BLAKE3-style "obviously correct oracle").
    #[test]
    fn civil_days_match_naive_calendar() {
        let (mut y, mut m, mut d) = (1970u64, 1u64, 1u64);
        let last = MAX_UNIX / 86_400;
        for day in 0..=last {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            assert_eq!(days_from_civil(y, m, d), day);
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!((y, m, d), (10_000, 1, 1));
    }

    #[test]
    fn redaction() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20120525/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=abcdef0123";
        let r = redact("AUTHORIZATION", auth);
        assert!(r.ends_with("Signature=***"));
        assert!(r.contains("Credential=AKID/"));
        assert_eq!(
            redact(
                "authorization",
                "AWS4-HMAC-SHA256 Signature=abc, SignedHeaders=host"
            ),
            "AWS4-HMAC-SHA256 Signature=***, SignedHeaders=host"
        );
        assert_eq!(redact("authorization", "Basic dXNlcjpwYXNz"), "***");
        assert_eq!(redact("Proxy-Authorization", "Basic x"), "***");
        assert_eq!(redact("x-amz-security-token", "tok"), "***");
        assert_eq!(redact("host", "example.com"), "example.com");

        let creds = Credentials::new("AKIDPUBLIC", "SECRETVALUE", Some("TOKENVALUE".into()));
        let dbg = format!("{creds:?}");
        assert!(
            dbg.contains("AKIDPUBLIC")
                && !dbg.contains("SECRETVALUE")
                && !dbg.contains("TOKENVALUE")
        );
        let headers = [("Host", "h"), ("X-Amz-Security-Token", "TOKENVALUE")];
        let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
        assert!(!format!("{req:?}").contains("TOKENVALUE"));
        let p = params(&creds, "20170210T120000Z");
        assert!(!format!("{p:?}").contains("SECRETVALUE"));
    }

    #[test]
    fn signing_key_is_deterministic_and_scoped() {
        let k = derive_signing_key(DG_SECRET, "20120525", "us-east-1", "glacier");
        assert_eq!(
            k,
            derive_signing_key(DG_SECRET, "20120525", "us-east-1", "glacier")
        );
        assert_ne!(
            k,
            derive_signing_key(DG_SECRET, "20120526", "us-east-1", "glacier")
        );
        assert_ne!(
            k,
            derive_signing_key(DG_SECRET, "20120525", "us-east-2", "glacier")
        );
        assert_ne!(
            k,
            derive_signing_key(DG_SECRET, "20120525", "us-east-1", "s3")
        );
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
