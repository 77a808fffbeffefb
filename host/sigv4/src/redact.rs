//! Secrets out of logs: header values and canonical requests with signatures and tokens
//! replaced by `***`.

use std::borrow::Cow;

/// The value of header `name` fit for a debug log: the `Signature=` of an `Authorization`
/// header and the whole value of `x-amz-security-token` (and `proxy-authorization`) become
/// `***`. An `Authorization` value without `Signature=` is replaced entirely. Other headers
/// are returned unchanged.
///
/// ```
/// use glacier_verify_sigv4::redact;
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

/// `creq` with the value of its `x-amz-security-token` line replaced by `***`.
pub(crate) fn redact_canonical_request(creq: &str) -> String {
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

#[cfg(test)]
mod tests;
