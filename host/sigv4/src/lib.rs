//! # glacier-verify-sigv4
//!
//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), signature in the `Authorization` header.
//!
//! S3 Glacier accepts only SigV4 (docs/protocol.md §1, [DG-REQH]). This crate signs a request
//! ([`sign`]) and exposes the steps of the published algorithm on their own
//! ([`canonical_request`], [`string_to_sign`], [`derive_signing_key`], [`signature`]) so a
//! server can check a received request with exactly the same canonicalization:
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
//! * **Canonical URI.** The wire path is percent-encoded once more, so `%` becomes `%25`:
//!   the rule of every service except S3, and what botocore's `SigV4Auth` does for Glacier
//!   (`quote(normalize(path), safe='/~')`). Glacier paths (account id, vault name
//!   `[A-Za-z0-9._-]`, job id `[A-Za-z0-9_-]`) hold no `%` on the wire, so for them the
//!   canonical URI is the path itself.
//!   With [`SigningSettings::normalize_path`] (default on, as botocore and the SigV4 test
//!   suite) `.` and `..` segments are resolved and empty segments (`//`) dropped first.
//! * **Canonical query.** Split on `&`, each `key[=value]` percent-decoded (`+` is a literal
//!   plus, RFC 3986, not a space), re-encoded with [`uri_encode`], sorted by key then value.
//! * **Headers.** Names are lowercased; values trimmed and runs of spaces/tabs collapsed
//!   to one space; repeated names joined with `,` in the order given. Every header passed
//!   in is signed except the ones proxies rewrite ([`UNSIGNED_HEADERS`], as botocore).
//!   A `host` header must be present exactly once. The signer owns `authorization`,
//!   `x-amz-date` and `x-amz-security-token`: passing them in is an error. A request that
//!   carries `x-amz-content-sha256` (Glacier wants it only on uploads) passes it in like
//!   any other header.
//! * **Payload hash.** Lowercase hex SHA-256 of the body; for Glacier GETs
//!   [`EMPTY_PAYLOAD_SHA256`].
//!
//! Secrets never appear in `Debug` output of the types here; use [`redact`] when tracing
//! headers.
//!
//! # Example
//!
//! ```
//! use glacier_verify_sigv4::{
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
//! # Ok::<(), glacier_verify_sigv4::SigV4Error>(())
//! ```

mod canonical;
mod credentials;
mod encode;
mod error;
mod redact;
mod request;
mod sign;
mod time;

pub use canonical::{CanonicalRequest, canonical_request};
pub use credentials::Credentials;
pub use encode::{is_tchar, percent_decode, uri_encode};
pub use error::SigV4Error;
pub use redact::redact;
pub use request::{SignableRequest, SigningOutput, SigningParams, SigningSettings};
pub use sign::{
    ALGORITHM, EMPTY_PAYLOAD_SHA256, SCOPE_TERMINATOR, UNSIGNED_HEADERS, credential_scope,
    derive_signing_key, is_sha256_hex, sha256_hex, sign, signature, string_to_sign,
};
pub use time::{AmzDate, civil_from_days, format_amz_date};
