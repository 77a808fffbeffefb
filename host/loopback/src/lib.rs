//! # glacier-verify-loopback
//!
//! A local Amazon S3 Glacier endpoint for `glacier-verify selftest` and the
//! end-to-end tests: DescribeJob and GetJobOutput over a hand-written
//! HTTP/1.1 server on `127.0.0.1` (random port). With the `faults` feature
//! (for tests; off by default, so the shipped binary has none of it) faults
//! are chosen per job and per request; the server is hand-written so that it
//! can lie: announce a `Content-Length` it does not send, reset a connection
//! mid-body, ignore a `Range`.
//!
//! ## What it follows from docs/protocol.md
//! - **Requests (§1).** `GET /{accountId}/vaults/{vault}/jobs/{jobId}`
//!   (DescribeJob) and `…/output` (GetJobOutput). `accountId` is `-` or the
//!   configured 12-digit ID (another → 403 AccessDeniedException).
//!   `x-amz-glacier-version: 2012-06-01` is required (missing → 400
//!   MissingParameterValueException). Authentication is the pluggable
//!   [`RequestAuth`]; [`SigV4Auth`] checks SigV4 signatures ([`verify`]).
//! - **Ranges (§1).** `Range: bytes=a-b` / `bytes=a-`, relative to the job
//!   output → 206 with `Content-Range: bytes a-b/total`; an end past the
//!   output is clamped (§10.6); a start at or past it → 400
//!   InvalidParameterValueException "The start of the range is larger than
//!   size of retrieved data: bytes=…"; a malformed value is silently
//!   ignored (200, whole output) like real Glacier. No `Range` → 200.
//! - **Headers (§2.2).** `Content-Length`; `Content-Type`
//!   `application/octet-stream` (archives), `application/json` or `text/csv`
//!   (inventories); `Accept-Ranges: bytes`; `x-amzn-RequestId`; `Date`;
//!   `x-amz-archive-description` when the archive has one.
//! - **`x-amz-sha256-tree-hash` (§2.3).** Present exactly under the formal
//!   rule — archive job, tree-hash-aligned retrieval range, tree-hash-aligned
//!   absolute download range — decided by the core's
//!   [`tree_hash_header_expected`](glacier_verify_core::tree_hash_header_expected);
//!   its value is the tree hash (§4.1) of exactly the body bytes. Never on
//!   inventories.
//! - **Errors (§3).** JSON `{"code","message","type"}`: unknown job → 404
//!   ResourceNotFoundException "The job ID was not found: `<id>`"; job not
//!   completed → 400 InvalidParameterValueException "The job is not
//!   currently available for download: `<id>`"; unknown vault → 404
//!   "Vault not found for ARN: …"; malformed HTTP → 400 BadRequest.
//! - **DescribeJob (§5.1).** JobId, Action, ArchiveId, ArchiveSizeInBytes
//!   (whole archive even for ranged retrievals), ArchiveSHA256TreeHash,
//!   RetrievalByteRange, SHA256TreeHash (null for a retrieval range that is
//!   not tree-hash aligned), InventorySizeInBytes, Completed, StatusCode,
//!   StatusMessage, CreationDate, CompletionDate, Tier, VaultARN,
//!   InventoryRetrievalParameters.
//! - **Vault operations (§12).** ListJobs
//!   (`GET /{account}/vaults/{vault}/jobs`, `completed`, `statuscode`,
//!   `limit`, at most 50 a page, opaque `marker`), ListVaults (at most 10),
//!   DescribeVault (archive count and size from the registered archives;
//!   `CreationDate` is the endpoint's start), GetDataRetrievalPolicy
//!   (`FreeTier`) and ListProvisionedCapacity (empty); InitiateJob (202,
//!   `Location`, `x-amz-job-id`) for an archive registered in the vault or
//!   its inventory — whole, or ranged by `InventoryRetrievalParameters`
//!   (archives created at or after `StartDate` and before `EndDate`, at
//!   most `Limit` from `Marker`; DescribeJob gives the next `Marker` once
//!   the job completed; [`ArchiveJob::with_archive_created`] dates an
//!   archive) — completing after [`Endpoint::set_tier_delay`]; a job
//!   can be made to fail ([`Endpoint::set_failed`]) or expire, at once
//!   ([`Endpoint::expire_job`]) or by itself a window after it completed
//!   ([`Endpoint::set_expire_after`]): 404 afterwards. With `faults`,
//!   `Endpoint::fail_operation` makes them, DescribeJob and GetJobOutput
//!   answer errors first (e.g. 403 AccessDeniedException).
//! - **Inventories (§5.3).** JSON, or CSV with Glacier's backslash escaping
//!   ([`csv_field`]), generated from the vault's archives or given.
//!
//! ## Server
//! A thread per connection, keep-alive (clients pool connections),
//! `Connection: close` honoured, pipelining tolerated; request heads are
//! bounded ([`MAX_HEAD_BYTES`], [`MAX_HEADERS`]) and strictly parsed, and
//! anything malformed is a 400 that closes the connection — never a panic.
//! Idle connections close after [`Config::idle_timeout`]; the endpoint stops
//! by itself after [`Config::max_lifetime`] if set, and always on
//! [`Endpoint::shutdown`] or drop, which join every thread. Bodies stream
//! from the [`Payload`] through a 256 KiB buffer (a [`Payload::Pattern`] of
//! any size takes no memory); leaf digests are computed once per payload
//! (on all cores) and reused for every aligned range.
//!
//! ## TLS
//! With the `tls` feature (for tests), [`Config::with_tls`] serves HTTPS
//! with a caller-made certificate ([`TlsIdentity`], rustls with ring);
//! everything else is the same server. A client that refuses the
//! certificate fails in the handshake, so no request of it is logged.
//!
//! ## Credential sources
//! With the `identity` feature (for tests), [`identity`] has local fakes of STS, EC2
//! instance metadata, the container credentials endpoint and the SSO portal; the
//! credentials they issue are what [`identity::Issued::auth`] makes this endpoint accept.
//!
//! ## Observability
//! [`Endpoint::requests`] / [`Endpoint::output_requests`] list every
//! answered request ([`ServedRequest`]: job, `Range`, attempt number, range
//! served, status, bytes announced and sent, and with `faults` the faults
//! applied);
//! [`Endpoint::body_bytes_sent`] totals GetJobOutput body bytes;
//! [`Endpoint::wait_idle`] waits for in-progress responses to be logged.
//!
//! ## Example
//! ```
//! use std::io::{Read, Write};
//! use glacier_verify_loopback::*;
//!
//! let ep = Endpoint::start(Config::default()).unwrap();
//! let archive = Payload::pattern(5 << 20, 1);
//! ep.add_archive_job(ArchiveJob::new("examplevault", "job-1", archive.clone()))
//!     .unwrap();
//!
//! let mut s = std::net::TcpStream::connect(ep.addr()).unwrap();
//! write!(
//!     s,
//!     "GET {} HTTP/1.1\r\nHost: x\r\nx-amz-glacier-version: 2012-06-01\r\n\
//!      Range: bytes=4194304-\r\nConnection: close\r\n\r\n",
//!     ep.output_path("examplevault", "job-1")
//! )
//! .unwrap();
//! let mut response = Vec::new();
//! s.read_to_end(&mut response).unwrap();
//! let text = String::from_utf8_lossy(&response);
//! assert!(text.starts_with("HTTP/1.1 206"));
//! assert!(text.contains("Content-Range: bytes 4194304-5242879/5242880"));
//! let hash = archive.tree_hash_of_range(4 << 20, 5 << 20);
//! assert!(text.contains(&format!("x-amz-sha256-tree-hash: {hash}")));
//! assert!(response.ends_with(&archive.range_to_vec(4 << 20, 5 << 20)));
//!
//! ep.wait_idle(std::time::Duration::from_secs(5));
//! let log = ep.output_requests("job-1");
//! assert_eq!(log[0].served_range, Some((4 << 20, (5 << 20) - 1)));
//! assert_eq!(log[0].body_bytes_sent, 1 << 20);
//! ```

#![cfg_attr(
    feature = "faults",
    doc = r#"
## Fault catalogue ([`Fault`], applied by [`FaultRule`]s per job)
Which requests: [`Attempts`] — all, the first *n*, the *n*-th, or the
first *n* whose range starts at an offset (one part of a parallel
download, on first delivery only). GetJobOutput faults:
- whole-response errors: `Status` (JSON error: 500/503
  ServiceUnavailableException, 400 ThrottlingException, 408
  RequestTimeoutException, …), `RawResponse` (any body, e.g. moto's HTML
  500), `NotReady`;
- head: `IgnoreRange` (200 + everything, like moto, §11),
  `WrongContentRange`, `MissingHashHeader`, `WrongHashHeader`,
  `MalformedHashHeader` (63 chars, non-hex, 65 chars, empty),
  `UppercaseHashHeader` (valid), `UnexpectedHashHeader` (correct but
  where none is due), `DuplicateHashHeader`, `StallBeforeHead`;
- body: `FlipBit` (body or output offset; header hash unchanged),
  `Truncate` (full `Content-Length`, then FIN), `ContentLengthTooLarge`,
  `ContentLengthTooSmall`, `SlowDrip`, `ResetMidBody` (TCP RST).

DescribeJob faults: `DescribeStatus`, `DescribeHashWrong`,
`DescribeInProgress`. A job registered with `completed: false` is
"not ready" on every request; an unknown job ID is a 404.

## Example with a fault
```
use std::io::{Read, Write};
use glacier_verify_loopback::*;

let ep = Endpoint::start(Config::default()).unwrap();
let archive = Payload::pattern(5 << 20, 1);
ep.add_archive_job(
    ArchiveJob::new("examplevault", "job-1", archive.clone())
        // The first delivery of the part at 4 MiB has one bit flipped.
        .with_fault(FaultRule::once_at(4 << 20, Fault::FlipBit { at: Offset::InBody(0), bit: 0 })),
)
.unwrap();

let mut s = std::net::TcpStream::connect(ep.addr()).unwrap();
write!(
    s,
    "GET {} HTTP/1.1\r\nHost: x\r\nx-amz-glacier-version: 2012-06-01\r\n\
     Range: bytes=4194304-\r\nConnection: close\r\n\r\n",
    ep.output_path("examplevault", "job-1")
)
.unwrap();
let mut response = Vec::new();
s.read_to_end(&mut response).unwrap();
let text = String::from_utf8_lossy(&response);
assert!(text.starts_with("HTTP/1.1 206"));
assert!(text.contains("Content-Range: bytes 4194304-5242879/5242880"));
// The header carries the hash of the true data; the body is corrupted.
let good = archive.tree_hash_of_range(4 << 20, 5 << 20);
assert!(text.contains(&format!("x-amz-sha256-tree-hash: {good}")));
assert!(!response.ends_with(&archive.range_to_vec(4 << 20, 5 << 20)));

ep.wait_idle(std::time::Duration::from_secs(5));
let log = ep.output_requests("job-1");
assert_eq!(log[0].served_range, Some((4 << 20, (5 << 20) - 1)));
assert_eq!(log[0].body_bytes_sent, 1 << 20);
```
"#
)]

mod auth;
#[cfg(feature = "faults")]
mod fault;
mod http;
#[cfg(feature = "identity")]
pub mod identity;
mod inventory;
mod job;
mod log;
mod payload;
mod preload;
mod respond;
mod server;
mod sigv4_check;
#[cfg(feature = "tls")]
mod tls;

pub use auth::{AuthFailure, NoAuth, Request, RequestAuth, RequireAuthorizationHeader, SigV4Auth};
#[cfg(feature = "faults")]
pub use fault::{Attempts, Fault, FaultRule, MalformedHash, Offset};
pub use http::{MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS, iso8601};
pub use inventory::{InventoryEntry, InventoryFormat, csv_field, inventory_csv, inventory_json};
pub use job::{ArchiveJob, InventoryContents, InventoryJob};
pub use log::{Operation, ServedRequest};
pub use payload::{Payload, fold_leaves, range_tree_hash};
#[cfg(feature = "faults")]
pub use preload::InitiateRule;
pub use preload::{PreloadedArchive, generated_archives};
pub use respond::GLACIER_VERSION;
pub use server::{Config, DEFAULT_ACCOUNT_ID, Endpoint, EndpointError};
pub use sigv4_check::{DEFAULT_MAX_CLOCK_SKEW, VerifiedRequest, VerifyError, VerifyParams, verify};
#[cfg(feature = "tls")]
pub use tls::{TlsIdentity, TlsIdentityError};

/// Re-exported so users need not depend on the core for digests.
pub use glacier_verify_core::Digest;
