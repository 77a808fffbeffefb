//! GetJobOutput: which bytes a request gets, the head that
//! describes them, and the plan for streaming them.

use std::cell::OnceCell;
use std::sync::Arc;
#[cfg(feature = "faults")]
use std::time::Duration;

use glacier_verify_core::{ByteRange, Digest, JobKind, RangeRequest, tree_hash_header_expected};

#[cfg(feature = "faults")]
use super::faults::FaultPlan;
use super::{Reply, RouteInfo, not_ready};
use crate::auth::Request;
use crate::job::{Job, Output};

/// How a GetJobOutput connection ends after a faulty body.
#[cfg(feature = "faults")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyEnd {
    /// Close cleanly (FIN).
    Close,
    /// Abort with a TCP reset.
    Reset,
}

/// The job-output bytes a response is for.
pub(crate) struct Served {
    /// 200 for the whole output, 206 for a range.
    pub status: u16,
    /// Job-output offset of the first byte.
    pub first: u64,
    /// How many bytes.
    pub len: u64,
    /// Length of the whole job output.
    pub total: u64,
}

impl Served {
    /// `[first, last]`, or `None` for an empty output.
    pub fn range(&self) -> Option<(u64, u64)> {
        (self.len > 0).then(|| (self.first, self.first + self.len - 1))
    }
}

/// The headers of a GetJobOutput response, before they are written out.
pub(crate) struct OutputHead {
    content_type: &'static str,
    /// (first, last, total) of `Content-Range`, on a 206.
    pub content_range: Option<(u64, u64, u64)>,
    /// The `x-amz-sha256-tree-hash` values, in order.
    pub tree_hashes: Vec<String>,
    description: Option<String>,
}

/// How the body is sent.
pub(crate) struct BodyPlan {
    /// `Content-Length`.
    pub announced: u64,
    /// Body bytes actually sent.
    pub send: u64,
    /// What faults do to the bytes and their pacing.
    #[cfg(feature = "faults")]
    pub faults: BodyFaults,
}

/// What faults do to a body as it is sent.
#[cfg(feature = "faults")]
#[derive(Default)]
pub(crate) struct BodyFaults {
    /// How the connection ends regardless of the client (`None`: as usual).
    pub end: Option<BodyEnd>,
    /// (body offset, bit) to flip.
    pub flips: Vec<(u64, u8)>,
    /// Bytes per write and the pause after each.
    pub drip: Option<(usize, Duration)>,
    /// Pause before the head.
    pub stall: Option<Duration>,
    /// An interim `100 Continue` before the head.
    pub interim: bool,
    /// Extra head lines, verbatim.
    pub raw_lines: Vec<String>,
}

/// A streamed GetJobOutput response.
pub(crate) struct OutputPlan {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub job: Arc<Job>,
    /// Job-output offset of the first body byte.
    pub first: u64,
    pub body: BodyPlan,
}

/// GetJobOutput (docs/protocol.md §1, §2).
pub(super) fn get_job_output(req: &Request, job: &Arc<Job>, info: &mut RouteInfo) -> Reply {
    let range_header = req.header("range");
    // docs/protocol.md §1: a malformed Range is silently ignored (whole output, 200).
    let range = range_header.and_then(|v| RangeRequest::parse(v.as_bytes()).ok());
    let begun = job.begin(Some(range.map_or(0, |r| r.first())));
    info.attempt = begun.attempt;
    #[cfg(feature = "faults")]
    let plan = FaultPlan::new(&begun.faults);
    #[cfg(feature = "faults")]
    info.faults.clone_from(&begun.faults);
    #[cfg(feature = "faults")]
    if let Some(reply) = plan.output_error(job) {
        return reply;
    }
    if !begun.completed {
        return not_ready(job);
    }
    #[cfg(feature = "faults")]
    let range = range.filter(|_| !plan.ignore_range);
    let Some(served) = serve(range, job.output_len()) else {
        return Reply::json_error(
            400,
            "InvalidParameterValueException",
            &format!(
                "The start of the range is larger than size of retrieved data: {}",
                range_header.unwrap_or_default()
            ),
        );
    };
    info.served_range = served.range();
    let hash_cache = OnceCell::new();
    let true_hash = || {
        *hash_cache.get_or_init(|| job.output_tree_hash(served.first, served.first + served.len))
    };
    let head = OutputHead::new(job, &served, true_hash);
    #[cfg(feature = "faults")]
    let head = plan.apply_to_head(head, true_hash);
    let body = BodyPlan::whole(served.len);
    #[cfg(feature = "faults")]
    let body = plan.apply_to_body(body, &served);
    Reply::Output(Box::new(OutputPlan {
        status: served.status,
        headers: head.render(),
        job: Arc::clone(job),
        first: served.first,
        body,
    }))
}

/// The bytes a (usable) `Range` asks of an output of `total` bytes; `None` when it starts
/// at or past the end.
fn serve(range: Option<RangeRequest>, total: u64) -> Option<Served> {
    let Some(r) = range else {
        return Some(Served {
            status: 200,
            first: 0,
            len: total,
            total,
        });
    };
    if r.first() >= total {
        return None;
    }
    // docs/protocol.md §10.6: an end past the output is clamped.
    let last = match r {
        RangeRequest::Closed(b) => b.last().min(total - 1),
        RangeRequest::From(_) => total - 1,
    };
    Some(Served {
        status: 206,
        first: r.first(),
        len: last - r.first() + 1,
        total,
    })
}

impl OutputHead {
    /// The head Glacier sends for `served`; `true_hash` is the tree hash of those bytes.
    fn new(job: &Job, served: &Served, true_hash: impl Fn() -> Digest) -> Self {
        let (content_type, description) = match &job.output {
            Output::Archive { description, .. } => {
                ("application/octet-stream", description.clone())
            }
            Output::Inventory { format, .. } => (format.content_type(), None),
        };
        let content_range = match (served.status, served.range()) {
            (206, Some((a, b))) => Some((a, b, served.total)),
            _ => None,
        };
        let tree_hashes = if hash_expected(job, served) {
            vec![true_hash().to_string()]
        } else {
            Vec::new()
        };
        OutputHead {
            content_type,
            content_range,
            tree_hashes,
            description,
        }
    }

    /// The header lines, in the order they are sent.
    fn render(self) -> Vec<(String, String)> {
        let mut headers = vec![("Content-Type".to_owned(), self.content_type.to_owned())];
        if let Some((a, b, total)) = self.content_range {
            headers.push(("Content-Range".into(), format!("bytes {a}-{b}/{total}")));
        }
        for value in self.tree_hashes {
            headers.push(("x-amz-sha256-tree-hash".into(), value));
        }
        headers.push(("Accept-Ranges".into(), "bytes".into()));
        if let Some(d) = self.description {
            headers.push(("x-amz-archive-description".into(), d));
        }
        headers
    }
}

/// Whether `x-amz-sha256-tree-hash` is due, decided by the core's implementation of
/// the formal rule.
fn hash_expected(job: &Job, served: &Served) -> bool {
    match (&job.output, served.range()) {
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
    }
}

impl BodyPlan {
    /// All `len` bytes, announced and sent as they are.
    fn whole(len: u64) -> Self {
        BodyPlan {
            announced: len,
            send: len,
            #[cfg(feature = "faults")]
            faults: BodyFaults::default(),
        }
    }
}
