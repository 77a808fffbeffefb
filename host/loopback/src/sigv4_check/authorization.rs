//! The `Authorization` header of a SigV4-signed request, taken apart.

use glacier_verify_sigv4::{ALGORITHM, SCOPE_TERMINATOR, is_sha256_hex, is_tchar};

use super::VerifyError;

/// The parts of `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
/// SignedHeaders=…, Signature=…`.
pub(super) struct ParsedAuthorization<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Splits an `Authorization` value into its parts, checking each one's shape.
pub(super) fn parse_authorization(value: &str) -> Result<ParsedAuthorization<'_>, VerifyError> {
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
