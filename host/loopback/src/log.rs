//! What the endpoint served, for tests to assert on ("re-downloaded no
//! more than the parts in flight", "retried exactly twice", …).

#[cfg(feature = "faults")]
use crate::fault::Fault;

/// Which API operation a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /{account}/vaults/{vault}/jobs/{job}`.
    DescribeJob,
    /// `GET /{account}/vaults/{vault}/jobs/{job}/output`.
    GetJobOutput,
    /// `GET /{account}/vaults/{vault}/jobs`.
    ListJobs,
    /// `POST /{account}/vaults/{vault}/jobs`.
    InitiateJob,
    /// `GET /{account}/vaults`.
    ListVaults,
    /// `GET /{account}/vaults/{vault}`.
    DescribeVault,
    /// `GET /{account}/policies/data-retrieval`.
    GetDataRetrievalPolicy,
    /// `GET /{account}/provisioned-capacity`.
    ListProvisionedCapacity,
    /// Anything else: unknown routes and requests refused before routing
    /// (bad HTTP, authentication, missing `x-amz-glacier-version`).
    Other,
}

/// One answered request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedRequest {
    /// Order of arrival on the endpoint (requests are numbered from 0 as
    /// their heads are read).
    pub seq: u64,
    /// The connection it came on (numbered from 1 as accepted): how many
    /// distinct ones a client used shows whether it reuses them.
    pub connection: u64,
    /// What it was routed to.
    pub operation: Operation,
    /// Method (empty when the request could not be parsed).
    pub method: String,
    /// Raw path.
    pub path: String,
    /// Job ID from the path, when routed to a job operation.
    pub job_id: Option<String>,
    /// The `Range` header as received.
    pub range_header: Option<String>,
    /// The job's request number for this operation (1-based; 0 when the
    /// request never reached a job). The `faults` feature's `Attempts` counts
    /// the same.
    pub attempt: u32,
    /// The job-output bytes `[first, last]` the response was for, before
    /// body faults (the whole output for a 200).
    pub served_range: Option<(u64, u64)>,
    /// Status code sent.
    pub status: u16,
    /// `Content-Length` announced.
    pub content_length: u64,
    /// Body bytes handed to the socket.
    pub body_bytes_sent: u64,
    /// Whether the whole announced body was sent.
    pub complete: bool,
    /// The faults that applied.
    #[cfg(feature = "faults")]
    pub faults: Vec<Fault>,
}
