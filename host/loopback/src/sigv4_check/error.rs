//! Why a received request's signature was refused, and the Glacier error that says so.

use std::fmt;

use glacier_verify_sigv4::{AmzDate, SigV4Error};

/// Why [`verify`](super::verify) rejected a request. [`VerifyError::error_code`] and
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
    /// The Glacier error code to answer with (docs/protocol.md §3 table; codes for malformed
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
    /// (docs/protocol.md §3 table).
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
