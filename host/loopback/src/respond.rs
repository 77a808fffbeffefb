//! Routing and answering: the Glacier operations (DescribeJob docs/protocol.md §5.1,
//! GetJobOutput docs/protocol.md §1–§2), docs/protocol.md §3 error bodies, and the streaming
//! response writer.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::auth::Request;
#[cfg(feature = "faults")]
use crate::fault::Fault;
use crate::http;
use crate::job::Job;
use crate::log::Operation;
use crate::server::Shared;

mod describe;
#[cfg(feature = "faults")]
mod faults;
mod inventory_range;
mod jobs;
mod output;
mod send;
mod vaults;

use output::OutputPlan;
pub(crate) use send::{After, Sent, send};
#[cfg(feature = "faults")]
pub(crate) use vaults::OperationFault;

/// The API version every request must carry: the core's.
pub use glacier_verify_core::GLACIER_VERSION;

/// What the request log records about routing.
pub(crate) struct RouteInfo {
    pub operation: Operation,
    pub job_id: Option<String>,
    pub attempt: u32,
    pub served_range: Option<(u64, u64)>,
    #[cfg(feature = "faults")]
    pub faults: Vec<Fault>,
}

/// A reply and what routing learnt.
pub(crate) struct Routed {
    pub reply: Reply,
    pub info: RouteInfo,
}

impl Routed {
    /// A reply to a request that reached no job.
    pub fn other(reply: Reply) -> Self {
        Routed {
            reply,
            info: RouteInfo {
                operation: Operation::Other,
                job_id: None,
                attempt: 0,
                served_range: None,
                #[cfg(feature = "faults")]
                faults: Vec::new(),
            },
        }
    }
}

/// A response.
pub(crate) enum Reply {
    /// A body held in memory.
    Simple {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Preceded by an interim `100 Continue` (a fault).
        interim: bool,
    },
    /// Job output, streamed.
    Output(Box<OutputPlan>),
}

/// The docs/protocol.md §3 error body.
pub(crate) fn error_body(status: u16, code: &str, message: &str) -> String {
    let kind = if status >= 500 { "Server" } else { "Client" };
    json!({ "code": code, "message": message, "type": kind }).to_string()
}

impl Reply {
    /// A docs/protocol.md §3 JSON error.
    pub fn json_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::Simple {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: error_body(status, code, message).into_bytes(),
            interim: false,
        }
    }

    fn json(status: u16, value: &Value) -> Reply {
        Reply::Simple {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
            interim: false,
        }
    }

    /// The same reply after an interim `100 Continue`.
    #[cfg(feature = "faults")]
    fn after_interim(mut self, interim: bool) -> Reply {
        if let Reply::Simple { interim: i, .. } = &mut self {
            *i = interim;
        }
        self
    }
}

/// 400 "The job is not currently available for download".
fn not_ready(job: &Job) -> Reply {
    Reply::json_error(
        400,
        "InvalidParameterValueException",
        &format!(
            "The job is not currently available for download: {}",
            job.id
        ),
    )
}

fn unknown_operation(req: &Request) -> Reply {
    Reply::json_error(
        404,
        "UnknownOperationException",
        &format!("Unsupported operation: {} {}", req.method(), req.path()),
    )
}

/// Authenticates, validates and routes a request.
pub(crate) fn route(shared: &Shared, req: &Request) -> Routed {
    if let Err(reply) = check_request(shared, req) {
        return Routed::other(reply);
    }
    if let Some(routed) = vaults::route(shared, req) {
        return routed;
    }
    shared.advance_jobs();
    let target = match JobTarget::parse(req) {
        Ok(t) => t,
        Err(reply) => return Routed::other(reply),
    };
    if target.account != "-" && target.account != shared.account_id {
        return Routed::other(Reply::json_error(
            403,
            "AccessDeniedException",
            &format!("Access denied to account {}", target.account),
        ));
    }
    let mut info = RouteInfo {
        operation: target.operation,
        job_id: Some(target.job_id.clone()),
        attempt: 0,
        served_range: None,
        #[cfg(feature = "faults")]
        faults: Vec::new(),
    };
    #[cfg(feature = "faults")]
    if let Some(reply) = vaults::injected_error(shared, target.operation, false) {
        return Routed { reply, info };
    }
    let reply = match find_job(shared, &target) {
        Err(reply) => reply,
        Ok(job) if target.operation == Operation::DescribeJob => {
            describe::describe_job(shared, &job, &mut info)
        }
        Ok(job) => output::get_job_output(req, &job, &mut info),
    };
    Routed { reply, info }
}

/// Authentication, then the `x-amz-glacier-version` header.
fn check_request(shared: &Shared, req: &Request) -> Result<(), Reply> {
    if let Err(f) = shared.auth.check(req) {
        return Err(Reply::json_error(f.status, &f.code, &f.message));
    }
    match req.header("x-amz-glacier-version") {
        None => Err(Reply::json_error(
            400,
            "MissingParameterValueException",
            "Required header x-amz-glacier-version is missing",
        )),
        Some(GLACIER_VERSION) => Ok(()),
        Some(other) => Err(Reply::json_error(
            400,
            "InvalidParameterValueException",
            &format!("Invalid x-amz-glacier-version: {other}"),
        )),
    }
}

/// A request path naming a job operation, percent-decoded.
struct JobTarget {
    account: String,
    vault: String,
    job_id: String,
    operation: Operation,
}

impl JobTarget {
    /// `/{account}/vaults/{vault}/jobs/{job}[/output]` with `GET`, else the error reply.
    fn parse(req: &Request) -> Result<JobTarget, Reply> {
        let segments = req.path().strip_prefix('/').map(|p| {
            p.split('/')
                .map(http::percent_decode)
                .collect::<Option<Vec<_>>>()
        });
        let Some(Some(segments)) = segments else {
            return Err(Reply::json_error(
                400,
                "BadRequest",
                "Invalid percent-encoding in the request path",
            ));
        };
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let (account, vault, job_id, operation) = match segs.as_slice() {
            [account, "vaults", vault, "jobs", job] => {
                (*account, *vault, *job, Operation::DescribeJob)
            }
            [account, "vaults", vault, "jobs", job, "output"] => {
                (*account, *vault, *job, Operation::GetJobOutput)
            }
            _ => return Err(unknown_operation(req)),
        };
        if req.method() != "GET" || vault.is_empty() || job_id.is_empty() {
            return Err(unknown_operation(req));
        }
        Ok(JobTarget {
            account: account.to_owned(),
            vault: vault.to_owned(),
            job_id: job_id.to_owned(),
            operation,
        })
    }
}

/// The job `target` names, in the vault it names; else 404 ResourceNotFoundException.
fn find_job(shared: &Shared, target: &JobTarget) -> Result<Arc<Job>, Reply> {
    if !shared.vault_exists(&target.vault) {
        return Err(Reply::json_error(
            404,
            "ResourceNotFoundException",
            &format!(
                "Vault not found for ARN: {}",
                shared.vault_arn(&target.vault)
            ),
        ));
    }
    shared
        .job(&target.job_id)
        .filter(|j| j.vault == target.vault)
        .ok_or_else(|| {
            Reply::json_error(
                404,
                "ResourceNotFoundException",
                &format!("The job ID was not found: {}", target.job_id),
            )
        })
}
