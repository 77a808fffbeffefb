//! Byte classes and percent-encoding: SigV4's `UriEncode`, strict `%XX` decoding, and the
//! checks that a path or query is in wire form.

/// SigV4 `UriEncode`: every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~`
/// becomes `%XX` (uppercase hex), `/` included. Use it for a path segment or a query key or
/// value.
///
/// ```
/// use glacier_verify_sigv4::uri_encode;
/// assert_eq!(uri_encode("my.vault-1_x"), "my.vault-1_x");
/// assert_eq!(uri_encode("a b/ሴ"), "a%20b%2F%E1%88%B4");
/// ```
pub fn uri_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    encode_bytes_into(input.as_bytes(), false, &mut out);
    out
}

/// Decodes the `%XX` escapes of `s` (either hex case) to bytes; every other byte is kept,
/// `+` included (RFC 3986, not form encoding). `None` when a `%` is not followed by two
/// hex digits.
///
/// ```
/// use glacier_verify_sigv4::percent_decode;
/// assert_eq!(percent_decode("a%2Fb%20c+d").as_deref(), Some(&b"a/b c+d"[..]));
/// assert_eq!(percent_decode("%e1%88%B4"), Some("ሴ".as_bytes().to_vec()));
/// assert_eq!(percent_decode("%4"), None);
/// assert_eq!(percent_decode("%zz"), None);
/// ```
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(escape_at(b, i)?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// RFC 9110 `tchar`, the characters of a token (method, header name): the
/// core's definition, one for every crate.
pub use glacier_verify_core::is_tchar;

/// RFC 3986 `unreserved`.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// RFC 3986 `pchar` minus `%` (escapes are checked separately).
pub(crate) fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=:@".contains(&b)
}

/// Appends `bytes` to `out`, unreserved bytes (and `/` when `keep_slash`) as they are,
/// every other byte as `%XX`.
pub(crate) fn encode_bytes_into(bytes: &[u8], keep_slash: bool, out: &mut String) {
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

/// Checks `s` uses only bytes accepted by `allowed` plus well-formed `%XX` escapes.
pub(crate) fn check_wire(s: &str, allowed: impl Fn(u8) -> bool) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if escape_at(b, i).is_none() {
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

/// The byte of the `%XX` escape starting at `b[i]`.
fn escape_at(b: &[u8], i: usize) -> Option<u8> {
    let hi = b.get(i + 1).copied().and_then(hex_val)?;
    let lo = b.get(i + 2).copied().and_then(hex_val)?;
    Some((hi << 4) | lo)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
