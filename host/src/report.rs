//! The `get-job-output` report: one typed structure, serialised once, for
//! success and failure alike. Its top level carries the fields the AWS CLI
//! prints for `aws glacier get-job-output`, describing the whole output
//! the user asked for (never one part of it); `verification` says what was
//! checked, how, and why anything was repeated.

use std::path::Path;

use glacier_verify_core::Level;
use serde::{Serialize, Serializer};

use crate::download::{Mode, Outcome, PartsInfo, Plan};
use crate::error::HostError;

/// The report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The status of the response that carried the whole output (a single
    /// stream); otherwise what one GetJobOutput of the same request
    /// answers: 206 to a `--range`, 200 without.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Content-Type` of the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The verified tree hash of OUTFILE; absent when no hash verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `bytes FIRST-LAST/TOTAL` for a `--range`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<String>,
    /// `Accept-Ranges`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_ranges: Option<String>,
    /// `x-amz-archive-description`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_description: Option<String>,
    /// What was checked.
    pub verification: Verification,
    /// Where the verified output is; `null` when it is not (failure, `-`).
    pub outfile: Option<String>,
    /// Bytes kept for a rerun after a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_file: Option<String>,
}

/// The outcome in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check that applied passed.
    Verified,
    /// A check failed, or the download could not finish.
    Failed,
    /// A signal stopped the run; what was verified is kept for a rerun.
    Interrupted,
}

/// The result of one comparison; a mismatch is a failure, not a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComparisonResult {
    /// Equal.
    Match,
}

/// One hash comparison that took place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// What the computed hash was compared with.
    pub with: String,
    /// In how many responses, when it was each part's own header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<u64>,
    /// That hash, when it is one hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// `match`
    pub result: ComparisonResult,
}

/// A failure, for the report.
#[derive(Debug, Serialize)]
pub struct ErrorInfo {
    /// The kind (`verification`, `network`, …).
    pub kind: &'static str,
    /// The message.
    pub message: String,
}

/// What was checked.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// `verified` or `failed`.
    pub verdict: Verdict,
    /// How the output was fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Bytes saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Tree hash of the bytes saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_tree_hash: Option<String>,
    /// Which hashes were compared.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "level_name")]
    pub level: Option<Level>,
    /// The comparisons made.
    pub comparisons: Vec<Comparison>,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// What the plan decided (skipped checks, ignored options).
    pub notes: Vec<String>,
    /// GetJobOutput requests made.
    pub requests: u32,
    /// Why requests were repeated.
    pub retries: Vec<String>,
    /// Bytes an earlier run left verified and this run re-hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_bytes: Option<u64>,
    /// Parts mode: the parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartsInfo>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// Serializes a value as its `Display` text (a hash in hex, a range
/// `FIRST-LAST`), made as it is written.
pub(crate) fn display<T: std::fmt::Display, S: Serializer>(
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

#[allow(clippy::ref_option)] // serde's serialize_with passes `&Option<_>`
fn level_name<S: Serializer>(level: &Option<Level>, s: S) -> Result<S::Ok, S::Error> {
    match level {
        Some(l) => s.serialize_str(l.as_str()),
        None => s.serialize_none(),
    }
}

/// Requests made and retried, from the download's log.
pub struct Attempts {
    /// GetJobOutput requests.
    pub requests: u32,
    /// Why some were repeated.
    pub retries: Vec<String>,
}

impl Report {
    /// The report of a verified download (takes the outcome: its part
    /// list, up to 65 536 entries, moves into the report uncopied).
    pub fn verified(plan: &Plan, o: Outcome, attempts: Attempts, outfile: Option<&Path>) -> Self {
        // The response that carried it all, when one did; else what one
        // GetJobOutput of the same request answers.
        let (status, content_range) = match &o.whole_response {
            Some((status, cr)) => (*status, cr.clone()),
            None => (
                if plan.range.is_some() { 206 } else { 200 },
                content_range(plan, &o),
            ),
        };
        let comparisons = comparisons(plan, &o);
        let v = o.verdict;
        let verification = Verification {
            verdict: Verdict::Verified,
            mode: Some(o.mode),
            bytes: Some(v.bytes),
            computed_tree_hash: Some(v.tree_hash.to_string()),
            level: Some(v.level),
            comparisons,
            warnings: o.warnings,
            notes: plan.notes.clone(),
            requests: attempts.requests,
            retries: attempts.retries,
            resumed_bytes: (o.resumed_bytes > 0).then_some(o.resumed_bytes),
            parts: o.parts,
            error: None,
        };
        Report {
            status: Some(status),
            content_type: o.fields.content_type,
            checksum: (v.level != Level::SizeOnly).then(|| v.tree_hash.to_string()),
            content_range,
            accept_ranges: o.fields.accept_ranges,
            archive_description: o.fields.archive_description,
            verification,
            outfile: outfile.map(|p| p.display().to_string()),
            partial_file: None,
        }
    }

    /// The report of a failure (before or during the download).
    pub fn failed(
        e: &HostError,
        notes: &[String],
        attempts: Attempts,
        partial: Option<&Path>,
    ) -> Self {
        let verdict = match e {
            HostError::Interrupted { .. } => Verdict::Interrupted,
            _ => Verdict::Failed,
        };
        let verification = Verification {
            verdict,
            mode: None,
            bytes: None,
            computed_tree_hash: None,
            level: None,
            comparisons: Vec::new(),
            warnings: Vec::new(),
            notes: notes.to_vec(),
            requests: attempts.requests,
            retries: attempts.retries,
            resumed_bytes: None,
            parts: None,
            error: Some(ErrorInfo {
                kind: e.kind(),
                message: e.to_string(),
            }),
        };
        Report {
            status: None,
            content_type: None,
            checksum: None,
            content_range: None,
            accept_ranges: None,
            archive_description: None,
            verification,
            outfile: None,
            partial_file: partial.map(|p| p.display().to_string()),
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `Content-Range` of one response to the user's `--range`: the range
/// resolved against the whole output's length.
fn content_range(plan: &Plan, o: &Outcome) -> Option<String> {
    let range = plan.range?;
    let total = plan.output_len.or(o.output_len)?;
    let r = range.resolve(total).ok()?;
    Some(format!("bytes {}-{}/{total}", r.first(), r.last()))
}

/// The comparisons the verdict lists: the responses' own headers when every
/// one matched, then each expected hash under the plan's name for it.
fn comparisons(plan: &Plan, o: &Outcome) -> Vec<Comparison> {
    let v = &o.verdict;
    let mut out = Vec::new();
    if v.every_header_matched() {
        out.push(match o.mode {
            Mode::ParallelParts => Comparison {
                with: "x-amz-sha256-tree-hash of each part".into(),
                parts: Some(v.parts),
                expected: None,
                result: ComparisonResult::Match,
            },
            Mode::SingleStream => Comparison {
                with: "x-amz-sha256-tree-hash".into(),
                parts: None,
                expected: Some(v.tree_hash.to_string()),
                result: ComparisonResult::Match,
            },
        });
    }
    for e in v.matched() {
        let mut with = plan.label_of(e);
        if o.mode == Mode::ParallelParts {
            with = format!("{with} (composed from {} part hashes)", v.parts);
        }
        out.push(Comparison {
            with,
            parts: None,
            expected: Some(e.digest.to_string()),
            result: ComparisonResult::Match,
        });
    }
    out
}
