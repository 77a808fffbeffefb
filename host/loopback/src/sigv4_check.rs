//! Server-side SigV4: checks the signature of a received request ([`verify`]) by
//! rebuilding its canonical request with `glacier-verify-sigv4`, the same code that signs.

use std::time::Duration;

use glacier_verify_sigv4::{
    AmzDate, Credentials, SigV4Error, SignableRequest, SigningSettings, canonical_request,
    credential_scope, derive_signing_key, is_sha256_hex, signature, string_to_sign,
};

mod authorization;
mod error;

use authorization::{ParsedAuthorization, parse_authorization};
pub use error::VerifyError;

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
///
/// ```
/// use glacier_verify_loopback::{VerifyParams, verify};
/// use glacier_verify_sigv4::{
///     sign, Credentials, SignableRequest, SigningParams, SigningSettings, EMPTY_PAYLOAD_SHA256,
/// };
/// let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
/// let headers = [("Host", "127.0.0.1"), ("x-amz-glacier-version", "2012-06-01")];
/// let request = SignableRequest::new("GET", "/-/vaults/v/jobs/j", &headers, EMPTY_PAYLOAD_SHA256);
/// let params = SigningParams {
///     credentials: &creds,
///     region: "us-east-1",
///     service: "glacier",
///     time: "20240229T120000Z".parse()?,
///     settings: SigningSettings::default(),
/// };
/// let signed = sign(&request, &params)?;
/// let mut sent: Vec<(&str, &str)> = headers.to_vec();
/// sent.extend(signed.headers.iter().map(|(n, v)| (*n, v.as_str())));
/// let received = SignableRequest { headers: &sent, ..request };
/// let ok = verify(&received, &VerifyParams::new("us-east-1", "glacier", None), |_| {
///     Some(creds.clone())
/// })
/// .unwrap();
/// assert_eq!(ok.access_key_id, "AKIDEXAMPLE");
/// # Ok::<(), glacier_verify_sigv4::SigV4Error>(())
/// ```
pub fn verify<F>(
    request: &SignableRequest<'_>,
    params: &VerifyParams<'_>,
    lookup: F,
) -> Result<VerifiedRequest, VerifyError>
where
    F: FnOnce(&str) -> Option<Credentials>,
{
    let headers = request.headers;
    let auth_value = only_value(headers, "authorization")
        .map_err(|()| VerifyError::DuplicateAuthorization)?
        .ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(auth_value)?;
    let (date_header, time) = request_time(headers)?;
    check_scope(&auth, time, params)?;
    let extras = check_required_signed(&auth, headers, date_header)?;
    let credentials = lookup(auth.access_key_id)
        .ok_or_else(|| VerifyError::UnknownAccessKey(auth.access_key_id.to_string()))?;
    check_session_token(&credentials, extras.token)?;
    check_clock(time, params)?;
    if let Some(claimed) = extras.content_sha256
        && claimed.trim_matches([' ', '\t']) != request.payload_sha256
    {
        return Err(VerifyError::PayloadHashMismatch);
    }
    check_signature(request, &auth, time, &credentials, &params.settings)?;
    Ok(VerifiedRequest {
        access_key_id: auth.access_key_id.to_string(),
        time,
        signed_headers: auth.signed_headers.iter().map(|s| s.to_string()).collect(),
    })
}

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

/// The request time and the header it came from: `x-amz-date`, or else an ISO-8601 basic
/// `Date` [DG-REQH].
fn request_time(headers: &[(&str, &str)]) -> Result<(&'static str, AmzDate), VerifyError> {
    let single = |name| only_value(headers, name).map_err(|()| VerifyError::MalformedDate);
    let (date_header, value) = match single("x-amz-date")? {
        Some(v) => ("x-amz-date", v),
        None => match single("date")? {
            Some(v) => ("date", v),
            None => return Err(VerifyError::MissingDate),
        },
    };
    let time =
        AmzDate::parse(value.trim_matches([' ', '\t'])).map_err(|_| VerifyError::MalformedDate)?;
    Ok((date_header, time))
}

/// The credential scope names the request's day and this server's region and service.
fn check_scope(
    auth: &ParsedAuthorization<'_>,
    time: AmzDate,
    params: &VerifyParams<'_>,
) -> Result<(), VerifyError> {
    if auth.date != time.date_stamp() {
        return Err(VerifyError::ScopeDateMismatch);
    }
    if auth.region != params.region {
        return Err(VerifyError::WrongRegion(auth.region.to_string()));
    }
    if auth.service != params.service {
        return Err(VerifyError::WrongService(auth.service.to_string()));
    }
    Ok(())
}

/// The optional headers that, when present, must be signed.
struct SignedExtras<'h> {
    token: Option<&'h str>,
    content_sha256: Option<&'h str>,
}

/// `host`, the date header, and any `x-amz-security-token` / `x-amz-content-sha256` are
/// among the signed headers.
fn check_required_signed<'h>(
    auth: &ParsedAuthorization<'_>,
    headers: &[(&str, &'h str)],
    date_header: &'static str,
) -> Result<SignedExtras<'h>, VerifyError> {
    let is_signed = |h: &str| auth.signed_headers.contains(&h);
    for required in ["host", date_header] {
        if !is_signed(required) {
            return Err(VerifyError::UnsignedRequiredHeader(required));
        }
    }
    let token = only_value(headers, "x-amz-security-token")
        .map_err(|()| VerifyError::InvalidSessionToken)?;
    if token.is_some() && !is_signed("x-amz-security-token") {
        return Err(VerifyError::UnsignedRequiredHeader("x-amz-security-token"));
    }
    let content_sha256 = only_value(headers, "x-amz-content-sha256")
        .map_err(|()| VerifyError::PayloadHashMismatch)?;
    if content_sha256.is_some() && !is_signed("x-amz-content-sha256") {
        return Err(VerifyError::UnsignedRequiredHeader("x-amz-content-sha256"));
    }
    Ok(SignedExtras {
        token,
        content_sha256,
    })
}

/// The request carries exactly the session token the credentials have (or none).
fn check_session_token(credentials: &Credentials, sent: Option<&str>) -> Result<(), VerifyError> {
    let ok = match (&credentials.session_token, sent) {
        (None, None) => true,
        (Some(expected), Some(got)) => constant_time_eq(
            expected.as_bytes(),
            got.trim_matches([' ', '\t']).as_bytes(),
        ),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(VerifyError::InvalidSessionToken)
    }
}

/// The request time is within the allowed skew of the server clock (when there is one).
fn check_clock(time: AmzDate, params: &VerifyParams<'_>) -> Result<(), VerifyError> {
    let Some(now) = params.now else {
        return Ok(());
    };
    let skew = now.unix_seconds().abs_diff(time.unix_seconds());
    if skew > params.max_clock_skew.as_secs() {
        return Err(VerifyError::ClockSkew {
            request: time,
            server: now,
        });
    }
    Ok(())
}

/// Recomputes the signature over the headers `SignedHeaders` names and compares it with the
/// one sent, in constant time.
fn check_signature(
    request: &SignableRequest<'_>,
    auth: &ParsedAuthorization<'_>,
    time: AmzDate,
    credentials: &Credentials,
    settings: &SigningSettings,
) -> Result<(), VerifyError> {
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
    let canonical =
        canonical_request(&signed_request, settings).map_err(VerifyError::Canonicalization)?;
    let scope = credential_scope(auth.date, auth.region, auth.service);
    let sts = string_to_sign(time, &scope, &canonical.text);
    let key = derive_signing_key(
        &credentials.secret_access_key,
        auth.date,
        auth.region,
        auth.service,
    );
    if !constant_time_eq(signature(&key, &sts).as_bytes(), auth.signature.as_bytes()) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(())
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
mod tests;
