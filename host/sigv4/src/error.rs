//! What can go wrong while signing or canonicalizing a request.

use std::fmt;

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
