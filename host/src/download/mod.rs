//! Downloading a job's output into `OUTFILE.part` with every byte checked
//! by the core: one stream ([`stream`], resumed mid-body after a cut), or
//! tree-hash-aligned parts fetched in parallel ([`parts`]), each verified
//! against its own `x-amz-sha256-tree-hash` and recorded in a crash-safe
//! journal. Either way the pieces conclude in the core's
//! [`Assembly`](glacier_verify_core::Assembly): this module moves bytes
//! and holds no rule about hashes, headers or levels.

mod job_output;
mod parts;
mod plan;
mod retry;
mod stream;

use glacier_verify_core::{ByteRange, Digest, HeaderHash, Level, OutputVerdict, ResponseHead};
use serde::Serialize;

use crate::client::{Client, RequestFailure};
use crate::error::HostError;
use crate::jobs::Permission;
use crate::progress::Counters;

pub use crate::outfile::OutputPaths;
pub use job_output::{
    Fetched, Staged, describe_with_retry, fetch_job_output, fetch_job_output_staged,
};
pub use plan::{Expected, Mode, Plan, Request, default_part_size};
pub use retry::{Log, RetryPolicy};

/// Everything a download works with.
pub struct Download<'a> {
    /// The signed client.
    pub client: &'a Client,
    /// What to fetch and what it must be.
    pub plan: &'a Plan,
    /// Where the bytes go.
    pub paths: &'a OutputPaths,
    /// Progress counters.
    pub counters: &'a Counters,
    /// Requests and retries, for the report.
    pub log: &'a Log,
}

impl Download<'_> {
    /// A failed GetJobOutput request, an AccessDeniedException naming
    /// `glacier:GetJobOutput` and the vault (its retry class unchanged).
    fn explained(&self, f: RequestFailure) -> RequestFailure {
        let permission = Permission::on_job("glacier:GetJobOutput", self.client, &self.plan.loc);
        RequestFailure {
            error: permission.explain(f.error),
            class: f.class,
        }
    }
}

/// Response fields that describe the job's output, the same in every
/// response (the AWS CLI prints them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputFields {
    /// `Content-Type`
    pub content_type: Option<String>,
    /// `Accept-Ranges`
    pub accept_ranges: Option<String>,
    /// `x-amz-archive-description`
    pub archive_description: Option<String>,
}

impl OutputFields {
    fn of(head: &ResponseHead<'_>) -> Self {
        OutputFields {
            content_type: head.content_type.map(str::to_owned),
            accept_ranges: head.accept_ranges.map(str::to_owned),
            archive_description: head.archive_description.map(str::to_owned),
        }
    }
}

/// One part, as the report lists it: about 64 bytes, so that a list of
/// tens of thousands stays small (its text is made only as it is printed).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartDetail {
    /// Part number, from 0.
    pub index: u64,
    /// Its bytes of the output, printed `FIRST-LAST`.
    #[serde(serialize_with = "crate::report::display")]
    pub range: ByteRange,
    /// Its tree hash.
    #[serde(serialize_with = "crate::report::display")]
    pub tree_hash: Digest,
    /// What its `x-amz-sha256-tree-hash` said.
    pub header: HeaderCheck,
    /// Downloaded now, or kept from an earlier run (re-hashed from disk).
    pub from: PartOrigin,
}

/// What a piece's `x-amz-sha256-tree-hash` said, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderCheck {
    /// Present and equal to the bytes' tree hash.
    Matched,
    /// Not sent, and not due for the range.
    NotSent,
    /// Missing although due; checked through an expected hash instead.
    Missing,
    /// Present but of a resumed response's bytes only.
    NotCompared,
}

impl From<HeaderHash> for HeaderCheck {
    fn from(h: HeaderHash) -> Self {
        match h {
            HeaderHash::Matched(_) => HeaderCheck::Matched,
            HeaderHash::MissingButExpected => HeaderCheck::Missing,
            HeaderHash::NotCompared(_) => HeaderCheck::NotCompared,
            _ => HeaderCheck::NotSent,
        }
    }
}

/// Where a part's bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartOrigin {
    /// Downloaded by this run.
    Download,
    /// Kept by an earlier run and re-hashed from disk.
    EarlierRun,
}

/// Parts-mode details for the report.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartsInfo {
    /// Part size in bytes.
    pub part_size: u64,
    /// Number of parts.
    pub parts: u64,
    /// Parts taken from an earlier run's journal (re-hashed from disk).
    pub reused: u64,
    /// Parts downloaded in this run.
    pub fetched: u64,
    /// Body bytes downloaded in this run.
    pub bytes_fetched: u64,
    /// Parts whose `x-amz-sha256-tree-hash` matched.
    pub header_verified: u64,
    /// Each part.
    pub list: Vec<PartDetail>,
}

/// A verified download.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it was fetched.
    pub mode: Mode,
    /// The core's verdict for the whole output.
    pub verdict: OutputVerdict,
    /// Length of the whole job output, as known at the end (DescribeJob,
    /// or the responses' `Content-Range`).
    pub output_len: Option<u64>,
    /// The output's response fields.
    pub fields: OutputFields,
    /// Status and `Content-Range` of the one response that carried the
    /// whole target, when one did (a single stream not resumed): what the
    /// report shows instead of what such a response would have said.
    pub whole_response: Option<(u16, Option<String>)>,
    /// Bytes an earlier run left verified on disk and this run re-hashed.
    pub resumed_bytes: u64,
    /// Things the user should know (missing headers, fallbacks, quirks).
    pub warnings: Vec<String>,
    /// Parts mode details.
    pub parts: Option<PartsInfo>,
}

/// Warnings every verdict earns, whatever the mode.
fn verdict_warnings(v: &OutputVerdict) -> Vec<String> {
    let mut w = Vec::new();
    if v.header_missing > 0 {
        w.push(format!(
            "x-amz-sha256-tree-hash was missing on {} of {} responses although the ranges are tree-hash aligned; they were verified only through the expected hash",
            v.header_missing, v.parts
        ));
    }
    if v.header_not_compared > 0 {
        w.push("the resumed response's x-amz-sha256-tree-hash covers only its own bytes and was not compared".into());
    }
    if v.level == Level::SizeOnly {
        w.push("no tree hash was available: only sizes and ranges were verified".into());
    }
    w
}

/// Downloads into the part file and verifies. On success the file holds
/// exactly the verified bytes, durable (fdatasync'd by the handle that
/// wrote them: the single stream at its end, parts before each is
/// journalled), so a caller can rename it at once.
pub fn download(d: &Download<'_>) -> Result<Outcome, HostError> {
    fetch(d).map_err(|e| name_the_source(d.plan, e))
}

/// A mismatch with an expected hash names the plan's source for it in
/// full (the inventory's path), where the core knows only its kind.
fn name_the_source(plan: &Plan, e: HostError) -> HostError {
    let Some(source @ glacier_verify_core::Error::TreeHashMismatch { expected, .. }) =
        e.verification()
    else {
        return e;
    };
    match plan.expected.iter().find(|x| x.hash.digest == expected) {
        Some(x) if x.label != x.hash.source.describe() => {
            HostError::in_piece(x.label.clone(), source)
        }
        _ => e,
    }
}

fn fetch(d: &Download<'_>) -> Result<Outcome, HostError> {
    if d.plan.mode() == Mode::ParallelParts {
        match parts::download(d)? {
            parts::Finished::Done(outcome) => return Ok(*outcome),
            parts::Finished::RangeIgnored(note) => {
                let _ = std::fs::remove_file(&d.paths.journal);
                let mut outcome = stream::download(d)?;
                outcome.warnings.insert(0, note);
                return Ok(outcome);
            }
        }
    }
    stream::download(d)
}

/// The error of a run a signal stopped, saying what it kept.
pub fn interrupted(kept: String) -> HostError {
    HostError::Interrupted {
        signal: crate::interrupt::signal().unwrap_or(2),
        kept,
    }
}

/// One read, retried on `Interrupted`.
pub(crate) fn read_some(body: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match body.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
