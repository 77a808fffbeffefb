//! The canonical request: method, canonical URI, canonical query, canonical headers,
//! signed-headers list and payload hash, one per line.

use std::borrow::Cow;

use crate::encode::{check_wire, encode_bytes_into, is_pchar, is_tchar, percent_decode};
use crate::error::SigV4Error;
use crate::request::{SignableRequest, SigningSettings};

/// A canonical request and the headers it covers.
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    /// The canonical request text. **Contains the session token** when the request carries
    /// `x-amz-security-token`.
    pub text: String,
    /// The `SignedHeaders` list: lowercase names, sorted, `;`-separated.
    pub signed_headers: String,
}

/// Builds the canonical request of `request`, signing **every** header in
/// `request.headers` (the caller chooses which: [`sign`](crate::sign) leaves out
/// [`UNSIGNED_HEADERS`](crate::UNSIGNED_HEADERS); a verifier passes exactly the headers a
/// received `SignedHeaders` names).
///
/// ```
/// use glacier_verify_sigv4::{canonical_request, SignableRequest, SigningSettings, EMPTY_PAYLOAD_SHA256};
/// let headers = [("Host", "example.com"), ("X-Amz-Date", "20150830T123600Z")];
/// let request = SignableRequest::new("GET", "/a/./b?z=1&a=2", &headers, EMPTY_PAYLOAD_SHA256);
/// let canonical = canonical_request(&request, &SigningSettings::default())?;
/// assert_eq!(canonical.signed_headers, "host;x-amz-date");
/// assert!(canonical.text.starts_with("GET\n/a/b\na=2&z=1\nhost:example.com\n"));
/// # Ok::<(), glacier_verify_sigv4::SigV4Error>(())
/// ```
pub fn canonical_request(
    request: &SignableRequest<'_>,
    settings: &SigningSettings,
) -> Result<CanonicalRequest, SigV4Error> {
    if request.method.is_empty() || !request.method.bytes().all(is_tchar) {
        return Err(SigV4Error::InvalidMethod);
    }
    let uri = canonical_uri(request.path, settings)?;
    let query = canonical_query(request.query)?;
    let (headers, signed_headers) = canonical_headers(request.headers)?;
    let text = format!(
        "{}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{}",
        request.method, request.payload_sha256
    );
    Ok(CanonicalRequest {
        text,
        signed_headers,
    })
}

/// (canonical headers block, signed-headers list) of `headers`, all of which are signed.
fn canonical_headers(headers: &[(&str, &str)]) -> Result<(String, String), SigV4Error> {
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

    let mut block = String::new();
    let mut signed = String::new();
    for (i, (name, value)) in normalized.iter().enumerate() {
        let repeated = i > 0 && normalized[i - 1].0 == *name;
        if repeated {
            block.pop(); // the previous value's '\n'
            block.push(',');
        } else {
            if !signed.is_empty() {
                signed.push(';');
            }
            signed.push_str(name);
            block.push_str(name);
            block.push(':');
        }
        block.push_str(value);
        block.push('\n');
    }
    Ok((block, signed))
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

/// The wire path, checked, optionally normalized, and percent-encoded once more.
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
    encode_bytes_into(path.as_bytes(), true, &mut out);
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

/// The wire query, checked, each key and value decoded and re-encoded, sorted.
fn canonical_query(query: &str) -> Result<String, SigV4Error> {
    if query.is_empty() {
        return Ok(String::new());
    }
    check_wire(query, |b| is_pchar(b) || b == b'/' || b == b'?')
        .map_err(SigV4Error::InvalidQuery)?;
    let reencode = |s: &str| {
        let bytes = percent_decode(s).ok_or(SigV4Error::InvalidQuery("malformed '%' escape"))?;
        let mut out = String::new();
        encode_bytes_into(&bytes, false, &mut out);
        Ok::<_, SigV4Error>(out)
    };
    let mut pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((reencode(k)?, reencode(v)?))
        })
        .collect::<Result<Vec<(String, String)>, SigV4Error>>()?;
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

#[cfg(test)]
mod tests;
