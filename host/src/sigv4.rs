//! AWS Signature Version 4: the signer is the `glacier-verify-sigv4` crate, re-exported
//! here; this module adds the server-side check the local test endpoint uses ([`verify`]).

use std::fmt;
use std::time::Duration;

pub use glacier_verify_sigv4::*;

/// Clock skew AWS tolerates between the request's `x-amz-date` and its own clock.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

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
    if terminator != SCOPE_TERMINATOR || access_key_id.is_empty() {
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
    if !is_sha256_hex(signature) {
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
    if !is_sha256_hex(request.payload_sha256) {
        return Err(VerifyError::Canonicalization(
            SigV4Error::InvalidPayloadHash,
        ));
    }
    let signed_request = SignableRequest {
        headers: &signed,
        ..*request
    };
    let canonical = canonical_request(&signed_request, &params.settings)
        .map_err(VerifyError::Canonicalization)?;

    let scope = credential_scope(auth.date, auth.region, auth.service);
    let sts = string_to_sign(time, &scope, &canonical.text);
    let key = derive_signing_key(
        &credentials.secret_access_key,
        auth.date,
        auth.region,
        auth.service,
    );
    let expected = signature(&key, &sts);
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

    fn glacier_get_headers() -> [(&'static str, &'static str); 3] {
        [
            ("Host", DG_HOST),
            ("x-amz-glacier-version", "2012-06-01"),
            ("Range", "bytes=0-1048575"),
        ]
    }

    const JOB_PATH: &str = "/-/vaults/my.vault-1_x/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output";

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
        let canonical = canonical_request(&req, &SigningSettings::default()).unwrap();
        assert_eq!(canonical.signed_headers, "date;host");
        let sts = string_to_sign(
            "20170210T120000Z".parse().unwrap(),
            "20170210/us-east-1/glacier/aws4_request",
            &canonical.text,
        );
        let sig = signature(&key, &sts);
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
        let headers = [
            ("Host", DG_HOST),
            ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
        ];
        let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
        let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
        let mut sent: Vec<(&str, String)> =
            headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
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
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
