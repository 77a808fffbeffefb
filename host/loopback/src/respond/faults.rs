//! What the faults of one request do, read once from the fault list into a
//! [`FaultPlan`], and how the plan changes a response.
//!
//! Combination rules: the first error fault (`Status`, `RawResponse`,
//! `NotReady`; or `DescribeStatus`) replaces the response; the last
//! `MalformedHashHeader`, `SlowDrip` and `StallBeforeHead` win;
//! `WrongContentRange` shifts add up; `ContentLengthTooLarge` /
//! `ContentLengthTooSmall` amounts add up, and the body sent is the
//! shortest of the range, the announced length and every `Truncate` /
//! `ResetMidBody` cut; a reset wins over a clean close.

use std::time::Duration;

use glacier_verify_core::Digest;

use super::describe::ArchiveHashes;
use super::output::{BodyEnd, BodyFaults, BodyPlan, OutputHead, Served};
use super::{Reply, not_ready};
use crate::fault::{Fault, MalformedHash, Offset};
use crate::job::Job;

/// The response that replaces the normal one.
#[derive(Clone, Copy)]
enum ErrorFault<'a> {
    Json {
        status: u16,
        code: &'a str,
        message: &'a str,
    },
    Raw {
        status: u16,
        content_type: &'a str,
        body: &'a str,
    },
    NotReady,
}

/// How `x-amz-sha256-tree-hash` is spoilt.
#[derive(Default)]
struct HashFaults {
    missing: bool,
    unexpected: bool,
    wrong: bool,
    malformed: Option<MalformedHash>,
    duplicate: bool,
    uppercase: bool,
}

/// Everything the faults of one request ask for.
#[derive(Default)]
pub(crate) struct FaultPlan<'a> {
    error: Option<ErrorFault<'a>>,
    describe_error: Option<ErrorFault<'a>>,
    pub describe_in_progress: bool,
    describe_hash_wrong: bool,
    pub ignore_range: bool,
    content_range_shift: (i64, i64),
    hash: HashFaults,
    flips: Vec<(Offset, u8)>,
    cut: Option<u64>,
    extra: Option<u64>,
    less: u64,
    reset: bool,
    drip: Option<(usize, Duration)>,
    stall: Option<Duration>,
    describe_fields: Vec<(&'a str, &'a serde_json::Value)>,
    describe_oversized: Option<usize>,
    /// Send `100 Continue` before the response.
    pub interim: bool,
    raw_lines: Vec<&'a str>,
}

impl<'a> FaultPlan<'a> {
    /// Reads `faults` once, in order.
    pub fn new(faults: &'a [Fault]) -> Self {
        let mut plan = FaultPlan::default();
        for fault in faults {
            plan.add(fault);
        }
        plan
    }

    fn add(&mut self, fault: &'a Fault) {
        let first_error = |slot: &mut Option<ErrorFault<'a>>, e| {
            slot.get_or_insert(e);
        };
        let cut = |c: &mut Option<u64>, after: u64| *c = Some(c.map_or(after, |c| c.min(after)));
        match fault {
            Fault::Status {
                status,
                code,
                message,
            } => first_error(&mut self.error, json_error(*status, code, message)),
            Fault::RawResponse {
                status,
                content_type,
                body,
            } => first_error(
                &mut self.error,
                ErrorFault::Raw {
                    status: *status,
                    content_type,
                    body,
                },
            ),
            Fault::NotReady => first_error(&mut self.error, ErrorFault::NotReady),
            Fault::IgnoreRange => self.ignore_range = true,
            Fault::WrongContentRange {
                first_delta,
                last_delta,
            } => {
                let (a, b) = self.content_range_shift;
                self.content_range_shift = (
                    a.saturating_add(*first_delta),
                    b.saturating_add(*last_delta),
                );
            }
            Fault::MissingHashHeader => self.hash.missing = true,
            Fault::WrongHashHeader => self.hash.wrong = true,
            Fault::MalformedHashHeader(kind) => self.hash.malformed = Some(*kind),
            Fault::UppercaseHashHeader => self.hash.uppercase = true,
            Fault::UnexpectedHashHeader => self.hash.unexpected = true,
            Fault::DuplicateHashHeader => self.hash.duplicate = true,
            Fault::StallBeforeHead(d) => self.stall = Some(*d),
            Fault::FlipBit { at, bit } => self.flips.push((*at, bit % 8)),
            Fault::Truncate { after } => cut(&mut self.cut, *after),
            Fault::ContentLengthTooLarge { extra } => {
                self.extra = Some(self.extra.unwrap_or(0).saturating_add(*extra));
            }
            Fault::ContentLengthTooSmall { less } => self.less = self.less.saturating_add(*less),
            Fault::SlowDrip {
                bytes_per_chunk,
                delay,
            } => self.drip = Some(((*bytes_per_chunk).max(1), *delay)),
            Fault::ResetMidBody { after } => {
                cut(&mut self.cut, *after);
                self.reset = true;
            }
            Fault::DescribeStatus {
                status,
                code,
                message,
            } => first_error(&mut self.describe_error, json_error(*status, code, message)),
            Fault::DescribeHashWrong => self.describe_hash_wrong = true,
            Fault::DescribeInProgress => self.describe_in_progress = true,
            Fault::DescribeField { name, value } => self.describe_fields.push((name, value)),
            Fault::DescribeOversized { bytes } => self.describe_oversized = Some(*bytes),
            Fault::InterimContinue => self.interim = true,
            Fault::RawHeaderLine(line) => self.raw_lines.push(line),
        }
    }

    /// The GetJobOutput response an error fault puts in place of the normal one.
    pub fn output_error(&self, job: &Job) -> Option<Reply> {
        self.error.map(|e| e.reply(job))
    }

    /// The DescribeJob response a `DescribeStatus` fault puts in place of the normal one.
    pub fn describe_error(&self, job: &Job) -> Option<Reply> {
        self.describe_error.map(|e| e.reply(job))
    }

    /// DescribeJob's hashes, spoilt by `DescribeHashWrong`: the retrieval's, and the
    /// archive's when the whole archive is retrieved.
    /// Overrides and padding of the DescribeJob JSON.
    pub fn apply_to_describe(&self, v: &mut serde_json::Value) {
        let Some(map) = v.as_object_mut() else {
            return;
        };
        for (name, value) in &self.describe_fields {
            map.insert((*name).to_owned(), (*value).clone());
        }
        if let Some(bytes) = self.describe_oversized {
            map.insert(
                "Padding".into(),
                serde_json::Value::String("x".repeat(bytes)),
            );
        }
    }

    pub fn apply_to_describe_hashes(&self, hashes: ArchiveHashes) -> ArchiveHashes {
        if !self.describe_hash_wrong {
            return hashes;
        }
        ArchiveHashes {
            archive: if hashes.whole {
                spoil(hashes.archive)
            } else {
                hashes.archive
            },
            range: hashes.range.map(spoil),
            ..hashes
        }
    }

    /// Shifts `Content-Range` and rewrites `x-amz-sha256-tree-hash`; `true_hash` is the
    /// tree hash of the bytes served.
    pub fn apply_to_head(
        &self,
        mut head: OutputHead,
        true_hash: impl Fn() -> Digest,
    ) -> OutputHead {
        if let Some((a, b, _)) = &mut head.content_range {
            let (da, db) = self.content_range_shift;
            *a = a.saturating_add_signed(da);
            *b = b.saturating_add_signed(db);
        }
        self.hash.rewrite(&mut head.tree_hashes, true_hash);
        head
    }

    /// Changes what is announced and sent of the body, and how.
    pub fn apply_to_body(&self, body: BodyPlan, served: &Served) -> BodyPlan {
        let len = served.len;
        let announced = len
            .saturating_add(self.extra.unwrap_or(0))
            .saturating_sub(self.less);
        let send = [Some(body.send), Some(announced), self.cut]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(len);
        let end = if self.reset {
            Some(BodyEnd::Reset)
        } else if self.cut.is_some() || self.extra.is_some() {
            Some(BodyEnd::Close)
        } else {
            None
        };
        let flips = self
            .flips
            .iter()
            .filter_map(|&(at, bit)| {
                let offset = match at {
                    Offset::InBody(o) => Some(o),
                    Offset::InOutput(o) => o.checked_sub(served.first).filter(|o| *o < len),
                };
                offset.map(|o| (o, bit))
            })
            .collect();
        BodyPlan {
            announced,
            send,
            faults: BodyFaults {
                end,
                flips,
                drip: self.drip,
                stall: self.stall,
                interim: self.interim,
                raw_lines: self.raw_lines.iter().map(|l| (*l).to_owned()).collect(),
            },
        }
    }
}

fn json_error<'a>(status: u16, code: &'a str, message: &'a str) -> ErrorFault<'a> {
    ErrorFault::Json {
        status,
        code,
        message,
    }
}

impl ErrorFault<'_> {
    fn reply(self, job: &Job) -> Reply {
        match self {
            ErrorFault::Json {
                status,
                code,
                message,
            } => Reply::json_error(status, code, message),
            ErrorFault::Raw {
                status,
                content_type,
                body,
            } => Reply::Simple {
                status,
                headers: vec![("Content-Type".into(), content_type.into())],
                body: body.as_bytes().to_vec(),
                interim: false,
            },
            ErrorFault::NotReady => not_ready(job),
        }
    }
}

impl HashFaults {
    /// Rewrites the header values the response would carry without faults (the true hash
    /// where one is due, else none). Precedence, lowest first: unexpected, wrong,
    /// malformed, duplicate, uppercase; missing overrides them all.
    fn rewrite(&self, values: &mut Vec<String>, true_hash: impl Fn() -> Digest) {
        if self.missing {
            values.clear();
            return;
        }
        if self.unexpected && values.is_empty() {
            values.push(true_hash().to_string());
        }
        if self.wrong {
            *values = vec![spoil(true_hash()).to_string()];
        }
        if let Some(kind) = self.malformed {
            let hex = true_hash().to_string();
            *values = vec![match kind {
                MalformedHash::Truncated => hex[..63].to_owned(),
                MalformedHash::NonHex => format!("{}g", &hex[..63]),
                MalformedHash::TooLong => format!("{hex}0"),
                MalformedHash::Empty => String::new(),
            }];
        }
        if self.duplicate {
            *values = vec![true_hash().to_string(), spoil(true_hash()).to_string()];
        }
        if self.uppercase {
            for v in values.iter_mut() {
                *v = v.to_ascii_uppercase();
            }
        }
    }
}

/// A digest that is valid hex but wrong: the last bit flipped.
pub(crate) fn spoil(d: Digest) -> Digest {
    let mut d = d;
    d.0[31] ^= 1;
    d
}
