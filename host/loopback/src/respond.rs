//! Routing and answering: the Glacier operations (DescribeJob SPEC §5.1,
//! GetJobOutput SPEC §1–§2), SPEC §3 error bodies, fault application, and
//! the streaming response writer.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use glacier_verify_core::{
    ByteRange, Digest, JobKind, RangeRequest, is_tree_hash_aligned, tree_hash_header_expected,
};
use serde_json::{Value, json};

use crate::auth::Request;
use crate::fault::{Fault, MalformedHash, Offset};
use crate::http;
use crate::job::{Job, Output};
use crate::log::Operation;
use crate::payload::{fold_leaves, range_tree_hash};
use crate::server::Shared;

/// The API version every request must carry (SPEC §1).
pub const GLACIER_VERSION: &str = "2012-06-01";

/// What happens to the connection after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    KeepAlive,
    /// Close cleanly (FIN).
    Close,
    /// Abort with a TCP reset.
    Reset,
}

/// What the request log records about routing.
pub(crate) struct RouteInfo {
    pub operation: Operation,
    pub job_id: Option<String>,
    pub attempt: u32,
    pub served_range: Option<(u64, u64)>,
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
                faults: Vec::new(),
            },
        }
    }
}

/// How a GetJobOutput body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyEnd {
    Normal,
    Close,
    Reset,
}

/// A streamed GetJobOutput response.
pub(crate) struct OutputPlan {
    status: u16,
    headers: Vec<(String, String)>,
    job: Arc<Job>,
    /// Job-output offset of the first body byte.
    first: u64,
    /// `Content-Length`.
    announced: u64,
    /// Body bytes actually sent.
    send: u64,
    /// (body offset, bit) to flip.
    flips: Vec<(u64, u8)>,
    drip: Option<(usize, Duration)>,
    stall: Option<Duration>,
    end: BodyEnd,
}

/// A response.
pub(crate) enum Reply {
    /// A body held in memory.
    Simple {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Job output, streamed.
    Output(Box<OutputPlan>),
}

/// The SPEC §3 error body.
pub(crate) fn error_body(status: u16, code: &str, message: &str) -> String {
    let kind = if status >= 500 { "Server" } else { "Client" };
    json!({ "code": code, "message": message, "type": kind }).to_string()
}

impl Reply {
    /// A SPEC §3 JSON error.
    pub fn json_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::Simple {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: error_body(status, code, message).into_bytes(),
        }
    }

    fn json(status: u16, value: &Value) -> Reply {
        Reply::Simple {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }
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
    if let Err(f) = shared.auth.check(req) {
        return Routed::other(Reply::json_error(f.status, &f.code, &f.message));
    }
    match req.header("x-amz-glacier-version") {
        None => {
            return Routed::other(Reply::json_error(
                400,
                "MissingParameterValueException",
                "Required header x-amz-glacier-version is missing",
            ));
        }
        Some(GLACIER_VERSION) => {}
        Some(other) => {
            return Routed::other(Reply::json_error(
                400,
                "InvalidParameterValueException",
                &format!("Invalid x-amz-glacier-version: {other}"),
            ));
        }
    }
    let segments = req.path().strip_prefix('/').map(|p| {
        p.split('/')
            .map(http::percent_decode)
            .collect::<Option<Vec<_>>>()
    });
    let Some(Some(segments)) = segments else {
        return Routed::other(Reply::json_error(
            400,
            "BadRequest",
            "Invalid percent-encoding in the request path",
        ));
    };
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (account, vault, job_id, operation) = match segs.as_slice() {
        [account, "vaults", vault, "jobs", job] => (*account, *vault, *job, Operation::DescribeJob),
        [account, "vaults", vault, "jobs", job, "output"] => {
            (*account, *vault, *job, Operation::GetJobOutput)
        }
        _ => return Routed::other(unknown_operation(req)),
    };
    if req.method() != "GET" || vault.is_empty() || job_id.is_empty() {
        return Routed::other(unknown_operation(req));
    }
    if account != "-" && account != shared.account_id {
        return Routed::other(Reply::json_error(
            403,
            "AccessDeniedException",
            &format!("Access denied to account {account}"),
        ));
    }
    let mut info = RouteInfo {
        operation,
        job_id: Some(job_id.to_owned()),
        attempt: 0,
        served_range: None,
        faults: Vec::new(),
    };
    if !shared.vault_exists(vault) {
        let reply = Reply::json_error(
            404,
            "ResourceNotFoundException",
            &format!("Vault not found for ARN: {}", shared.vault_arn(vault)),
        );
        return Routed { reply, info };
    }
    let Some(job) = shared.job(job_id).filter(|j| j.vault == vault) else {
        let reply = Reply::json_error(
            404,
            "ResourceNotFoundException",
            &format!("The job ID was not found: {job_id}"),
        );
        return Routed { reply, info };
    };
    let reply = match operation {
        Operation::DescribeJob => describe_job(shared, &job, &mut info),
        _ => get_job_output(req, &job, &mut info),
    };
    Routed { reply, info }
}

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

/// A digest that is valid hex but wrong: the last bit flipped.
fn spoil(d: Digest) -> Digest {
    let mut d = d;
    d.0[31] ^= 1;
    d
}

/// DescribeJob (SPEC §5.1).
fn describe_job(shared: &Shared, job: &Arc<Job>, info: &mut RouteInfo) -> Reply {
    let (attempt, completed, faults) = job.begin(None);
    info.attempt = attempt;
    info.faults.clone_from(&faults);
    for f in &faults {
        if let Fault::DescribeStatus {
            status,
            code,
            message,
        } = f
        {
            return Reply::json_error(*status, code, message);
        }
    }
    let completed = completed && !faults.contains(&Fault::DescribeInProgress);
    let hash_wrong = faults.contains(&Fault::DescribeHashWrong);
    let created = http::iso8601(job.created);
    let completion = http::iso8601(job.created + Duration::from_millis(1));
    let mut v = json!({
        "JobId": job.id,
        "JobDescription": job.job_description,
        "Completed": completed,
        "StatusCode": if completed { "Succeeded" } else { "InProgress" },
        "StatusMessage": if completed { "Succeeded" } else { "Operation in progress." },
        "CreationDate": created,
        "CompletionDate": if completed { Value::from(completion) } else { Value::Null },
        "Tier": job.tier,
        "VaultARN": shared.vault_arn(&job.vault),
        "SNSTopic": Value::Null,
    });
    let fields: Vec<(&str, Value)> = match &job.output {
        Output::Archive {
            payload,
            leaves,
            archive_id,
            retrieval,
            ..
        } => {
            let size = payload.len();
            let leaves = leaves.get_or_init(|| payload.leaf_hashes().into());
            let whole = retrieval.first() == 0 && retrieval.len() == size;
            let mut archive_hash = fold_leaves(leaves);
            // SPEC §5.1: null for a range that is not tree-hash aligned.
            let mut range_hash = is_tree_hash_aligned(*retrieval, size)
                .then(|| range_tree_hash(payload, leaves, retrieval.first(), retrieval.end()));
            if hash_wrong {
                range_hash = range_hash.map(spoil);
                if whole {
                    archive_hash = spoil(archive_hash);
                }
            }
            vec![
                ("Action", "ArchiveRetrieval".into()),
                ("ArchiveId", archive_id.as_str().into()),
                ("ArchiveSizeInBytes", size.into()),
                ("ArchiveSHA256TreeHash", archive_hash.to_string().into()),
                ("RetrievalByteRange", retrieval.to_string().into()),
                (
                    "SHA256TreeHash",
                    range_hash.map_or(Value::Null, |h| h.to_string().into()),
                ),
                ("InventorySizeInBytes", Value::Null),
                ("InventoryRetrievalParameters", Value::Null),
            ]
        }
        Output::Inventory { body, format } => vec![
            ("Action", "InventoryRetrieval".into()),
            ("ArchiveId", Value::Null),
            ("ArchiveSizeInBytes", Value::Null),
            ("ArchiveSHA256TreeHash", Value::Null),
            ("RetrievalByteRange", Value::Null),
            ("SHA256TreeHash", Value::Null),
            (
                "InventorySizeInBytes",
                if completed {
                    Value::from(body.len() as u64)
                } else {
                    Value::Null
                },
            ),
            (
                "InventoryRetrievalParameters",
                json!({
                    "Format": format.name(),
                    "StartDate": Value::Null,
                    "EndDate": Value::Null,
                    "Limit": Value::Null,
                    "Marker": Value::Null,
                }),
            ),
        ],
    };
    if let Value::Object(map) = &mut v {
        for (k, val) in fields {
            map.insert(k.to_owned(), val);
        }
    }
    Reply::json(200, &v)
}

/// The `x-amz-sha256-tree-hash` values to send, given the faults.
fn hash_header_values(
    expected: bool,
    faults: &[Fault],
    true_hash: impl Fn() -> Digest,
) -> Vec<String> {
    let wants = |f: &Fault| faults.contains(f);
    if wants(&Fault::MissingHashHeader) {
        return Vec::new();
    }
    let mut values = Vec::new();
    if expected || wants(&Fault::UnexpectedHashHeader) {
        values.push(true_hash().to_string());
    }
    if wants(&Fault::WrongHashHeader) {
        values = vec![spoil(true_hash()).to_string()];
    }
    for f in faults {
        if let Fault::MalformedHashHeader(kind) = f {
            let hex = true_hash().to_string();
            values = vec![match kind {
                MalformedHash::Truncated => hex[..63].to_owned(),
                MalformedHash::NonHex => format!("{}g", &hex[..63]),
                MalformedHash::TooLong => format!("{hex}0"),
                MalformedHash::Empty => String::new(),
            }];
        }
    }
    if wants(&Fault::DuplicateHashHeader) {
        values = vec![true_hash().to_string(), spoil(true_hash()).to_string()];
    }
    if wants(&Fault::UppercaseHashHeader) {
        values = values.iter().map(|v| v.to_ascii_uppercase()).collect();
    }
    values
}

fn shift(value: u64, delta: i64) -> u64 {
    value.saturating_add_signed(delta)
}

/// GetJobOutput (SPEC §1, §2).
fn get_job_output(req: &Request, job: &Arc<Job>, info: &mut RouteInfo) -> Reply {
    let range_header = req.header("range");
    // SPEC §1: a malformed Range is silently ignored (whole output, 200).
    let range = range_header.and_then(|v| RangeRequest::parse(v.as_bytes()).ok());
    let (attempt, completed, faults) = job.begin(Some(range.map_or(0, |r| r.first())));
    info.attempt = attempt;
    info.faults.clone_from(&faults);
    for f in &faults {
        match f {
            Fault::Status {
                status,
                code,
                message,
            } => return Reply::json_error(*status, code, message),
            Fault::RawResponse {
                status,
                content_type,
                body,
            } => {
                return Reply::Simple {
                    status: *status,
                    headers: vec![("Content-Type".into(), content_type.clone())],
                    body: body.clone().into_bytes(),
                };
            }
            Fault::NotReady => return not_ready(job),
            _ => {}
        }
    }
    if !completed {
        return not_ready(job);
    }
    let total = job.output_len();
    let range = range.filter(|_| !faults.contains(&Fault::IgnoreRange));
    let (status, first, len) = match range {
        Some(r) => {
            if r.first() >= total {
                return Reply::json_error(
                    400,
                    "InvalidParameterValueException",
                    &format!(
                        "The start of the range is larger than size of retrieved data: {}",
                        range_header.unwrap_or_default()
                    ),
                );
            }
            // SPEC §10.6: an end past the output is clamped.
            let last = match r {
                RangeRequest::Closed(b) => b.last().min(total - 1),
                RangeRequest::From(_) => total - 1,
            };
            (206, r.first(), last - r.first() + 1)
        }
        None => (200, 0, total),
    };
    let served = (len > 0).then(|| (first, first + len - 1));
    info.served_range = served;

    let mut headers: Vec<(String, String)> = Vec::new();
    let content_type = match &job.output {
        Output::Archive { .. } => "application/octet-stream",
        Output::Inventory { format, .. } => format.content_type(),
    };
    headers.push(("Content-Type".into(), content_type.into()));
    if let (206, Some((a, b))) = (status, served) {
        let (mut a, mut b) = (a, b);
        for f in &faults {
            if let Fault::WrongContentRange {
                first_delta,
                last_delta,
            } = f
            {
                a = shift(a, *first_delta);
                b = shift(b, *last_delta);
            }
        }
        headers.push(("Content-Range".into(), format!("bytes {a}-{b}/{total}")));
    }
    // SPEC §2.3 formal rule, via the core's implementation of it.
    let expected = match (&job.output, served) {
        (
            Output::Archive {
                payload, retrieval, ..
            },
            Some((a, b)),
        ) => ByteRange::new(a, b).is_ok_and(|download| {
            tree_hash_header_expected(
                JobKind::Archive {
                    archive_size: payload.len(),
                    retrieval: *retrieval,
                },
                download,
            )
        }),
        _ => false,
    };
    let hash_cache = std::cell::OnceCell::new();
    let true_hash = || *hash_cache.get_or_init(|| job.output_tree_hash(first, first + len));
    for value in hash_header_values(expected, &faults, true_hash) {
        headers.push(("x-amz-sha256-tree-hash".into(), value));
    }
    headers.push(("Accept-Ranges".into(), "bytes".into()));
    if let Output::Archive {
        description: Some(d),
        ..
    } = &job.output
    {
        headers.push(("x-amz-archive-description".into(), d.clone()));
    }

    let mut announced = len;
    let mut send = len;
    let mut end = BodyEnd::Normal;
    let mut flips = Vec::new();
    let mut drip = None;
    let mut stall = None;
    for f in &faults {
        match *f {
            Fault::Truncate { after } => {
                send = send.min(after);
                end = BodyEnd::Close;
            }
            Fault::ContentLengthTooLarge { extra } => {
                announced = announced.saturating_add(extra);
                end = BodyEnd::Close;
            }
            Fault::ContentLengthTooSmall { less } => {
                announced = announced.saturating_sub(less);
                send = send.min(announced);
            }
            Fault::ResetMidBody { after } => {
                send = send.min(after);
                end = BodyEnd::Reset;
            }
            Fault::FlipBit { at, bit } => {
                let offset = match at {
                    Offset::InBody(o) => Some(o),
                    Offset::InOutput(o) => o.checked_sub(first).filter(|o| *o < len),
                };
                if let Some(o) = offset {
                    flips.push((o, bit % 8));
                }
            }
            Fault::SlowDrip {
                bytes_per_chunk,
                delay,
            } => drip = Some((bytes_per_chunk.max(1), delay)),
            Fault::StallBeforeHead(d) => stall = Some(d),
            _ => {}
        }
    }
    // A reset wins over a clean close.
    if faults
        .iter()
        .any(|f| matches!(f, Fault::ResetMidBody { .. }))
    {
        end = BodyEnd::Reset;
    }
    Reply::Output(Box::new(OutputPlan {
        status,
        headers,
        job: Arc::clone(job),
        first,
        announced,
        send,
        flips,
        drip,
        stall,
        end,
    }))
}

/// What was sent.
pub(crate) struct Sent {
    pub status: u16,
    pub content_length: u64,
    pub body_bytes: u64,
    pub complete: bool,
    pub after: After,
}

fn head_text(
    shared: &Shared,
    status: u16,
    headers: &[(String, String)],
    content_length: u64,
    connection: Option<&str>,
) -> String {
    let request_id = shared.next_request_id();
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nx-amzn-RequestId: {request_id}\r\nDate: {}\r\n",
        http::reason(status),
        http::http_date(SystemTime::now())
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {content_length}\r\n"));
    if let Some(c) = connection {
        head.push_str(&format!("Connection: {c}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Writes `data`, counting what the socket took even when it fails.
fn write_counted(
    stream: &mut TcpStream,
    data: &[u8],
    counter: &mut u64,
    shared: &Shared,
) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        match stream.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                *counter += n as u64;
                shared.body_bytes.fetch_add(n as u64, Ordering::SeqCst);
                rest = &rest[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends a reply. `keep` is whether the client allows keep-alive; `http10`
/// whether it spoke HTTP/1.0 (which needs an explicit `keep-alive`).
pub(crate) fn send(
    shared: &Shared,
    stream: &mut TcpStream,
    buf: &mut [u8],
    reply: Reply,
    keep: bool,
    http10: bool,
) -> Sent {
    let connection = match (keep, http10) {
        (false, _) => Some("close"),
        (true, true) => Some("keep-alive"),
        (true, false) => None,
    };
    let after_ok = if keep { After::KeepAlive } else { After::Close };
    match reply {
        Reply::Simple {
            status,
            headers,
            body,
        } => {
            let mut bytes =
                head_text(shared, status, &headers, body.len() as u64, connection).into_bytes();
            bytes.extend_from_slice(&body);
            let ok = stream.write_all(&bytes).is_ok();
            Sent {
                status,
                content_length: body.len() as u64,
                body_bytes: if ok { body.len() as u64 } else { 0 },
                complete: ok,
                after: if ok { after_ok } else { After::Close },
            }
        }
        Reply::Output(plan) => {
            if let Some(d) = plan.stall {
                shared.nap(d);
            }
            let head = head_text(
                shared,
                plan.status,
                &plan.headers,
                plan.announced,
                connection,
            );
            let mut sent = Sent {
                status: plan.status,
                content_length: plan.announced,
                body_bytes: 0,
                complete: false,
                after: After::Close,
            };
            if stream.write_all(head.as_bytes()).is_err() {
                return sent;
            }
            let chunk = plan.drip.map_or(buf.len(), |(n, _)| n.min(buf.len()));
            let mut pos = 0u64;
            while pos < plan.send {
                let want = usize::try_from(plan.send - pos)
                    .unwrap_or(usize::MAX)
                    .min(chunk);
                let n = plan.job.read_output(plan.first + pos, &mut buf[..want]);
                if n == 0 {
                    break;
                }
                let piece = &mut buf[..n];
                for &(at, bit) in &plan.flips {
                    if let Some(i) = at.checked_sub(pos).filter(|i| *i < n as u64) {
                        piece[i as usize] ^= 1 << bit;
                    }
                }
                if write_counted(stream, piece, &mut sent.body_bytes, shared).is_err() {
                    return sent;
                }
                pos += n as u64;
                if let Some((_, delay)) = plan.drip {
                    shared.nap(delay);
                    if shared.stopping() {
                        return sent;
                    }
                }
            }
            sent.complete = sent.body_bytes == plan.announced;
            sent.after = match plan.end {
                BodyEnd::Reset => After::Reset,
                BodyEnd::Close => After::Close,
                BodyEnd::Normal if sent.complete => after_ok,
                BodyEnd::Normal => After::Close,
            };
            sent
        }
    }
}
