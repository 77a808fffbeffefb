//! Signing: the credential scope, string to sign, signing key and signature, and [`sign`],
//! which puts them together into the headers of a request.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::canonical::canonical_request;
use crate::error::SigV4Error;
use crate::request::{SignableRequest, SigningOutput, SigningParams};
use crate::time::AmzDate;

/// The algorithm name in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last component of every credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// SHA-256 of the empty string: the payload hash of every GET (docs/protocol.md §1).
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers that are sent but never signed: intermediaries may add, drop or rewrite them
/// (botocore's `SIGNED_HEADERS_BLACKLIST`, plus hop-by-hop `connection`).
pub const UNSIGNED_HEADERS: &[&str] = &[
    "connection",
    "expect",
    "transfer-encoding",
    "user-agent",
    "x-amzn-trace-id",
];

/// Headers [`sign`] sets itself.
const RESERVED_HEADERS: &[&str] = &["authorization", "x-amz-date", "x-amz-security-token"];

/// Signs `request`: returns the headers to add (`x-amz-date`, `x-amz-security-token` when
/// the credentials have a token, and `authorization`).
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
    if !is_sha256_hex(request.payload_sha256) {
        return Err(SigV4Error::InvalidPayloadHash);
    }
    if let Some(&(name, _)) = request
        .headers
        .iter()
        .find(|(n, _)| RESERVED_HEADERS.iter().any(|r| n.eq_ignore_ascii_case(r)))
    {
        return Err(SigV4Error::ReservedHeader(name.to_ascii_lowercase()));
    }

    let mut added: Vec<(&'static str, String)> = vec![("x-amz-date", params.time.to_string())];
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
    let signed_request = SignableRequest {
        headers: &to_sign,
        ..*request
    };
    let canonical = canonical_request(&signed_request, &params.settings)?;

    let date_stamp = params.time.date_stamp();
    let scope = credential_scope(&date_stamp, params.region, params.service);
    let string_to_sign = string_to_sign(params.time, &scope, &canonical.text);
    let key = derive_signing_key(
        &params.credentials.secret_access_key,
        &date_stamp,
        params.region,
        params.service,
    );
    let signature = signature(&key, &string_to_sign);
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.credentials.access_key_id, canonical.signed_headers
    );
    added.push(("authorization", authorization));

    Ok(SigningOutput {
        headers: added,
        signature,
        canonical_request: canonical.text,
        string_to_sign,
        signed_headers: canonical.signed_headers,
    })
}

/// The credential scope `YYYYMMDD/region/service/aws4_request`.
pub fn credential_scope(date_stamp: &str, region: &str, service: &str) -> String {
    format!("{date_stamp}/{region}/{service}/{SCOPE_TERMINATOR}")
}

/// The string to sign: algorithm, request time, credential scope and the hex SHA-256 of the
/// canonical request, one per line.
pub fn string_to_sign(time: AmzDate, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{time}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
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
    hmac_sha256(&k_service, SCOPE_TERMINATOR.as_bytes())
}

/// The signature: lowercase hex `HMAC-SHA256(signing_key, string_to_sign)`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex(&hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// Lowercase hex SHA-256 of `data` (a payload hash).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Whether `s` is 64 lowercase hex digits, the form of a payload hash and a signature.
///
/// ```
/// use glacier_verify_sigv4::{is_sha256_hex, EMPTY_PAYLOAD_SHA256};
/// assert!(is_sha256_hex(EMPTY_PAYLOAD_SHA256));
/// assert!(!is_sha256_hex(&EMPTY_PAYLOAD_SHA256.to_uppercase()));
/// assert!(!is_sha256_hex(&EMPTY_PAYLOAD_SHA256[1..]));
/// ```
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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

#[cfg(test)]
mod tests;
