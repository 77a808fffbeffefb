//! Downloading a job's output into `OUTFILE.part` with every byte checked by
//! the core [`Verifier`]: one stream (resumed mid-body after a cut), or
//! tree-hash-aligned parts fetched in parallel, verified one by one against
//! their own `x-amz-sha256-tree-hash`, recorded in a crash-safe journal and
//! composed into the whole output's tree hash (SPEC §4.2, §9.4).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glacier_verify_core::{
    ByteRange, Digest, Error as CoreError, Expectation, HashSource, HeaderHash, JobKind, LEAF_SIZE,
    Level, RangeRequest, RetryClass, TreeHasher, Verified, Verifier,
};
use serde::Serialize;

use crate::client::{Client, JobLocation, OutputResponse, RequestFailure, backoff};
use crate::error::HostError;
use crate::journal::{Journal, JournalHeader, stream_head, stream_state};
use crate::progress::Counters;

/// Read buffer for response bodies.
const BUF_LEN: usize = 256 * 1024;

/// Requests made and why some were repeated: kept outside the result so
/// that a failed download's report can say what was tried too.
#[derive(Debug, Default)]
pub struct Log {
    requests: AtomicU32,
    retries: Mutex<Vec<String>>,
}

impl Log {
    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn retry(&self, why: String) {
        self.retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(why);
    }

    /// GetJobOutput requests made so far.
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Why requests were repeated, in order.
    pub fn retries(&self) -> Vec<String> {
        self.retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How often and how patiently to retry (SPEC §3, §9.5).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts per request (1 = no retry).
    pub max_attempts: u32,
    /// First backoff ceiling.
    pub base: Duration,
    /// Largest backoff.
    pub cap: Duration,
}

impl RetryPolicy {
    fn pause(&self, attempt: u32) {
        std::thread::sleep(backoff(attempt, self.base, self.cap));
    }

    /// After failed attempt number `attempt`: retry — note why in `log`
    /// under `label` (`""`, `"part 3 "`, …) and wait out the backoff — or
    /// give up with the failure's error (fatal class, or attempts spent).
    pub fn after_failure(
        &self,
        failure: RequestFailure,
        attempt: u32,
        label: &str,
        log: &Log,
    ) -> Result<(), HostError> {
        if failure.class != RetryClass::Fatal && attempt < self.max_attempts {
            log.retry(format!("{label}attempt {attempt}: {}", failure.error));
            self.pause(attempt);
            Ok(())
        } else {
            Err(failure.error)
        }
    }
}

/// An expected tree hash and where it came from.
#[derive(Clone, Debug)]
pub struct ExpectedHash {
    /// The hash.
    pub digest: Digest,
    /// Where it came from (`--expected-tree-hash`, `DescribeJob SHA256TreeHash`, …).
    pub source: String,
}

/// What to download and what it must be.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Which job.
    pub loc: JobLocation,
    /// Job kind, archive size and retrieval range (for the header rule).
    pub kind: JobKind,
    /// Length of the whole job output, when known.
    pub output_len: Option<u64>,
    /// The range the user asked for (relative to the output); `None` = all.
    pub range: Option<RangeRequest>,
    /// Expected tree hashes of the bytes saved (user's, inventory's, DescribeJob's).
    pub expected: Vec<ExpectedHash>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Parallel requests in parts mode.
    pub parallel: usize,
    /// Part size (a power-of-two MiB); `None` = chosen from the size.
    pub part_size: Option<u64>,
}

/// Fields of the response head the AWS CLI reports (`get-job-output`).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadInfo {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `x-amz-sha256-tree-hash`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `Content-Range`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<String>,
    /// `Accept-Ranges`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_ranges: Option<String>,
    /// `x-amz-archive-description`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_description: Option<String>,
}

impl HeadInfo {
    fn of(head: &glacier_verify_core::ResponseHead<'_>) -> Self {
        HeadInfo {
            status: head.status,
            content_type: head.content_type.map(str::to_owned),
            checksum: head.tree_hash.map(|d| d.to_string()),
            content_range: head.content_range.map(|c| c.to_string()),
            accept_ranges: head.accept_ranges.map(str::to_owned),
            archive_description: head.archive_description.map(str::to_owned),
        }
    }
}

/// One hash comparison that took place.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// What the computed hash was compared with.
    pub with: String,
    /// That hash.
    pub expected: String,
    /// `match` (a mismatch is an error, not an outcome).
    pub result: &'static str,
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
}

/// A verified download.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `single-stream` or `parallel-parts`.
    pub mode: &'static str,
    /// Bytes saved.
    pub bytes: u64,
    /// Tree hash of the bytes saved.
    pub computed_tree_hash: String,
    /// `size-only`, `header-hash`, `expected-hash`, `header-and-expected-hash`.
    pub level: &'static str,
    /// Comparisons made.
    pub comparisons: Vec<Comparison>,
    /// Things the user should know (missing headers, fallbacks, moto quirks).
    pub warnings: Vec<String>,
    /// HTTP requests made for the output.
    pub requests: u32,
    /// Why requests were repeated.
    pub retries: Vec<String>,
    /// Parts mode details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartsInfo>,
    /// Head of the (first successful) response.
    #[serde(skip)]
    pub head: HeadInfo,
}

/// Picks a part size: at least 16 MiB, and a power of two large enough that
/// the output needs at most 65 536 parts (SPEC §6: clients use power-of-two
/// chunks so per-part hashes compose).
pub fn default_part_size(output_len: u64) -> u64 {
    let per_part = output_len.div_ceil(65_536).div_ceil(LEAF_SIZE).max(1);
    let mib = per_part.checked_next_power_of_two().unwrap_or(1 << 43);
    mib.saturating_mul(LEAF_SIZE).max(16 * LEAF_SIZE)
}

/// Downloads into `part_path` and verifies. `journal_path` is used in
/// parts mode. On success the file holds exactly the verified bytes.
pub fn download(
    client: &Client,
    plan: &Plan,
    part_path: &Path,
    journal_path: &Path,
    counters: &Arc<Counters>,
    log: &Log,
) -> Result<Outcome, HostError> {
    if let (None, Some(len)) = (plan.range, plan.output_len) {
        let part_size = plan.part_size.unwrap_or_else(|| default_part_size(len));
        if len > part_size {
            match download_parts(
                client,
                plan,
                len,
                part_size,
                part_path,
                journal_path,
                counters,
                log,
            )? {
                PartsResult::Done(outcome) => return Ok(*outcome),
                PartsResult::RangeIgnored(note) => {
                    let _ = std::fs::remove_file(journal_path);
                    let mut outcome =
                        download_stream(client, plan, part_path, journal_path, counters, log)?;
                    outcome.warnings.insert(0, note);
                    return Ok(outcome);
                }
            }
        }
    }
    download_stream(client, plan, part_path, journal_path, counters, log)
}

fn open_rw(path: &Path) -> Result<File, HostError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| HostError::io(path, e))
}

/// A mismatch with an expected hash, naming where that hash came from
/// (DescribeJob, an inventory, the command line).
fn expected_mismatch(computed: Digest, e: &ExpectedHash) -> HostError {
    HostError::VerificationText(format!(
        "tree hash mismatch: computed {computed}, expected tree hash {} (from {})",
        e.digest, e.source
    ))
}

/// The comparisons a verdict records, and the extra expected hashes the
/// verifier did not see (compared here).
fn comparisons(
    verified: &Verified,
    expected: &[ExpectedHash],
    first_used: bool,
) -> Result<Vec<Comparison>, HostError> {
    let mut out = Vec::new();
    if let HeaderHash::Matched(h) = verified.header {
        out.push(Comparison {
            with: "x-amz-sha256-tree-hash".into(),
            expected: h.to_string(),
            result: "match",
        });
    }
    for (i, e) in expected.iter().enumerate() {
        if i == 0 && first_used {
            out.push(Comparison {
                with: e.source.clone(),
                expected: e.digest.to_string(),
                result: "match",
            });
            continue;
        }
        if e.digest != verified.tree_hash {
            return Err(expected_mismatch(verified.tree_hash, e));
        }
        out.push(Comparison {
            with: e.source.clone(),
            expected: e.digest.to_string(),
            result: "match",
        });
    }
    Ok(out)
}

/// Reads a response body to its end through `buf`, handing each piece to
/// `sink`. Returns why the body was cut off, if a read failed: that is a
/// transport failure to retry, unlike an error from `sink`.
fn pump<E>(
    body: &mut impl Read,
    buf: &mut [u8],
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<Option<String>, E> {
    loop {
        match body.read(buf) {
            Ok(0) => return Ok(None),
            Ok(n) => sink(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Ok(Some(e.to_string())),
        }
    }
}

/// Where a stream's body loop ended.
struct StreamEnd {
    verifier: Verifier,
    /// Hasher state at the last whole MiB of the file reached.
    checkpoint: Option<(u64, TreeHasher)>,
    /// Bytes in the file.
    pos: u64,
    /// Why the body was cut off, if it was.
    cut: Option<String>,
}

/// A single stream's journal and the progress it states.
struct Kept {
    journal: Journal,
    /// Bytes of the file the journal says are on disk (its last `upto`).
    upto: u64,
}

impl Kept {
    fn record(&mut self, upto: u64) -> Result<(), HostError> {
        self.journal.record_line(&format!("upto {upto}"))?;
        self.upto = upto;
        Ok(())
    }
}

/// A single stream records its progress in the journal every this many bytes.
const DURABLE_EVERY: u64 = 16 * LEAF_SIZE;

/// Buffers in flight between the reading and the hashing thread.
const STREAM_BUFFERS: usize = 4;

/// A single stream's body, in two threads: this one reads the socket and
/// writes the file, a second one feeds the verifier — hashing is the
/// costliest step, so the stream runs at the pace of the slower of the two
/// instead of their sum. Bytes are written before they are hashed, so a
/// checkpoint (the hasher at a whole MiB of the file) only ever describes
/// bytes already in the file.
fn stream_body(
    body: &mut impl Read,
    file: &mut File,
    part_path: &Path,
    verifier: Verifier,
    written: u64,
    counters: &Counters,
    kept: &mut Kept,
) -> Result<StreamEnd, HostError> {
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(STREAM_BUFFERS);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..STREAM_BUFFERS {
        let _ = empty_tx.send(vec![0u8; BUF_LEN]);
    }
    std::thread::scope(|s| {
        let hashing = s.spawn(move || {
            let mut verifier = verifier;
            let mut pos = written;
            let mut checkpoint = None;
            for (buf, n) in full_rx {
                let mut chunk = &buf[..n];
                while !chunk.is_empty() {
                    // Split at whole-MiB boundaries of the file so a
                    // checkpoint is exactly a leaf boundary.
                    let to_boundary = (LEAF_SIZE - pos % LEAF_SIZE) as usize;
                    let (now, rest) = chunk.split_at(to_boundary.min(chunk.len()));
                    verifier.update(now)?;
                    pos += now.len() as u64;
                    if pos.is_multiple_of(LEAF_SIZE) {
                        checkpoint = Some((pos, verifier.hasher().clone()));
                    }
                    chunk = rest;
                }
                if empty_tx.send(buf).is_err() {
                    break;
                }
            }
            Ok::<_, CoreError>((verifier, checkpoint))
        });
        let mut pos = written;
        let mut reading = || -> Result<Option<String>, HostError> {
            // Ends when the hashing thread stops taking buffers (an error there).
            while let Ok(mut buf) = empty_rx.recv() {
                let n = loop {
                    match body.read(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        other => break other,
                    }
                };
                match n {
                    Ok(0) => break,
                    Ok(n) => {
                        file.write_all(&buf[..n])
                            .map_err(|e| HostError::io(part_path, e))?;
                        pos += n as u64;
                        counters.bytes.store(pos, Ordering::Relaxed);
                        if pos - kept.upto >= DURABLE_EVERY {
                            // Bytes reach the disk before the journal says so.
                            file.sync_data().map_err(|e| HostError::io(part_path, e))?;
                            kept.record(pos - pos % LEAF_SIZE)?;
                        }
                        if full_tx.send((buf, n)).is_err() {
                            break;
                        }
                    }
                    Err(e) => return Ok(Some(e.to_string())),
                }
            }
            Ok(None)
        };
        let read = reading();
        drop(full_tx);
        let hashed = hashing
            .join()
            .map_err(|_| HostError::VerificationText("the hashing thread panicked".into()))?;
        let cut = read?;
        let (verifier, checkpoint) = hashed?;
        Ok(StreamEnd {
            verifier,
            checkpoint,
            pos,
            cut,
        })
    })
}

/// The range to ask for when `written` bytes of the target are held.
fn resume_range(plan: &Plan, written: u64) -> Result<Option<RangeRequest>, HostError> {
    if written == 0 {
        return Ok(plan.range);
    }
    let base = plan.range.map_or(0, |r| r.first());
    let first = base.saturating_add(written);
    let last = match (plan.range, plan.output_len) {
        (Some(RangeRequest::Closed(r)), _) => Some(r.last()),
        (_, Some(len)) => len.checked_sub(1),
        _ => None,
    };
    Ok(Some(match last {
        // SPEC §10.6: always send exact ranges when the end is known.
        Some(last) => RangeRequest::Closed(ByteRange::new(first, last)?),
        None => RangeRequest::From(first),
    }))
}

/// One verified stream of the whole target, resumed from the last whole MiB
/// after a cut (SPEC §9.5), restarted after a hash mismatch.
pub fn download_stream(
    client: &Client,
    plan: &Plan,
    part_path: &Path,
    journal_path: &Path,
    counters: &Arc<Counters>,
    log: &Log,
) -> Result<Outcome, HostError> {
    let mut file = open_rw(part_path)?;
    let range_text = plan.range.map(|r| r.to_string());
    let head_line = stream_head(
        &plan.loc.vault,
        &plan.loc.job_id,
        plan.output_len,
        range_text.as_deref(),
    );
    let (journal, lines) = Journal::open_lines(journal_path, &head_line)?;
    let earlier = stream_state(&lines);
    let mut kept = Kept {
        journal,
        upto: earlier.upto,
    };
    let target_len = match (plan.range, plan.output_len) {
        (Some(r), Some(len)) => Some(r.resolve(len)?.len()),
        (Some(RangeRequest::Closed(r)), None) => Some(r.len()),
        (None, len) => len,
        _ => None,
    };
    counters
        .total
        .store(target_len.unwrap_or(0), Ordering::Relaxed);
    let expected_hash = plan.expected.first().map(|e| e.digest);
    let mut checkpoint: Option<(u64, TreeHasher)> = None;
    // The header hash of a response that covered the whole target: what a
    // resumed stream is compared with when nothing else is expected.
    let mut whole_header: Option<Digest> = None;
    let mut warnings = Vec::new();
    let on_disk = file
        .metadata()
        .map_err(|e| HostError::io(part_path, e))?
        .len();
    if earlier.upto > 0 && on_disk >= earlier.upto {
        // An earlier run of this very command left these bytes on disk:
        // re-hash them and ask only for the rest. The whole-output hash at
        // the end covers them.
        let prefix =
            hasher_over(&file, 0, earlier.upto).map_err(|e| HostError::io(part_path, e))?;
        checkpoint = Some((earlier.upto, prefix));
        whole_header = earlier.first_header;
        warnings.push(format!(
            "resumed after {} bytes kept by an earlier run (re-hashed from disk)",
            earlier.upto
        ));
    }
    let mut head_info: Option<HeadInfo> = None;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (written, prefix) = checkpoint.clone().unwrap_or((0, TreeHasher::new()));
        if written < kept.upto {
            kept.record(written)?;
        }
        file.set_len(written)
            .map_err(|e| HostError::io(part_path, e))?;
        file.seek(SeekFrom::Start(written))
            .map_err(|e| HostError::io(part_path, e))?;
        counters.bytes.store(written, Ordering::Relaxed);
        let range = resume_range(plan, written)?;
        let mut expect = Expectation {
            job: plan.kind,
            output_len: plan.output_len,
            range,
            tree_hash: expected_hash,
        };
        if written > 0 && expect.tree_hash.is_none() {
            expect.tree_hash = whole_header;
        }
        let mut verifier = if written == 0 {
            Verifier::new(expect)?
        } else {
            Verifier::continuing(expect, prefix)?
        };
        log.request();
        let mut resp: OutputResponse = match client.get_job_output(&plan.loc, range) {
            Ok(r) => r,
            Err(f) => {
                plan.retry.after_failure(f, attempt, "", log)?;
                continue;
            }
        };
        {
            let head = resp.head()?;
            if let Err(e) = verifier.on_head(&head) {
                if written > 0
                    && matches!(e, CoreError::RangeIgnored { .. })
                    && attempt < plan.retry.max_attempts
                {
                    log.retry(format!(
                        "attempt {attempt}: the server ignored Range on a resumed request; starting over"
                    ));
                    warnings.push(
                        "the server ignores Range: an interrupted download had to start over"
                            .into(),
                    );
                    checkpoint = None;
                    continue;
                }
                return Err(e.into());
            }
            if written == 0 {
                whole_header = head.tree_hash;
                if let Some(h) = head.tree_hash.filter(|h| earlier.first_header != Some(*h)) {
                    kept.journal.record_line(&format!("first-header {h}"))?;
                }
            }
            if head_info.is_none() {
                head_info = Some(HeadInfo::of(&head));
            }
        }
        let end = stream_body(
            &mut resp.body(),
            &mut file,
            part_path,
            verifier,
            written,
            counters,
            &mut kept,
        )?;
        let verifier = end.verifier;
        if end.checkpoint.is_some() {
            checkpoint = end.checkpoint;
        }
        let (pos, cut) = (end.pos, end.cut);
        if let Some(why) = cut {
            let f = RequestFailure {
                error: HostError::Network(format!("body cut off after {pos} bytes: {why}")),
                class: RetryClass::Transient,
            };
            plan.retry.after_failure(f, attempt, "", log)?;
            continue;
        }
        match verifier.finish() {
            Ok(verified) => {
                file.flush().map_err(|e| HostError::io(part_path, e))?;
                let used_first = expected_hash.is_some();
                let mut comps = comparisons(&verified, &plan.expected, used_first)?;
                if expected_hash.is_none() && written > 0 && verified.expected_hash_matched {
                    comps.push(Comparison {
                        with: "x-amz-sha256-tree-hash of the first response (resumed stream)"
                            .into(),
                        expected: whole_header.map(|d| d.to_string()).unwrap_or_default(),
                        result: "match",
                    });
                }
                let level = level_of(&verified, &comps);
                warnings.extend(stream_warnings(&verified));
                return Ok(Outcome {
                    mode: "single-stream",
                    bytes: verified.hashed_len,
                    computed_tree_hash: verified.tree_hash.to_string(),
                    level,
                    comparisons: comps,
                    warnings,
                    requests: log.requests(),
                    retries: log.retries(),
                    parts: None,
                    head: head_info.unwrap_or_default(),
                });
            }
            Err(e @ CoreError::BodyTooShort { .. }) => {
                let f = RequestFailure {
                    error: HostError::Verification(e),
                    class: RetryClass::Transient,
                };
                plan.retry.after_failure(f, attempt, "", log)?;
            }
            // A body that matched its own x-amz-sha256-tree-hash (a fresh
            // stream with the header present: the header is compared first)
            // is what Glacier holds; a mismatch with an expected hash
            // (DescribeJob, inventory, --expected-tree-hash) cannot change
            // on a second download, so fail at once as parts mode does.
            Err(e @ CoreError::TreeHashMismatch { source, .. })
                if attempt < plan.retry.max_attempts
                    && !(source == HashSource::Expected
                        && written == 0
                        && whole_header.is_some()) =>
            {
                // mt-aws-glacier#115: mismatches can be transient. We cannot
                // tell which bytes were bad, so start over.
                log.retry(format!(
                    "attempt {attempt}: {e}; downloading again from the start"
                ));
                checkpoint = None;
                plan.retry.pause(attempt);
            }
            Err(CoreError::TreeHashMismatch {
                source: HashSource::Expected,
                computed,
                expected,
            }) if plan.expected.first().is_some_and(|e| e.digest == expected) => {
                return Err(expected_mismatch(computed, &plan.expected[0]));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn level_of(verified: &Verified, comps: &[Comparison]) -> &'static str {
    let header = matches!(verified.header, HeaderHash::Matched(_));
    let expected = comps.iter().any(|c| c.with != "x-amz-sha256-tree-hash");
    level_name(header, expected)
}

/// The report's name for which hashes were compared: the core's [`Level`] names.
fn level_name(header: bool, expected: bool) -> &'static str {
    match (header, expected) {
        (true, true) => Level::HeaderAndExpectedHash,
        (true, false) => Level::HeaderHash,
        (false, true) => Level::ExpectedHash,
        (false, false) => Level::SizeOnly,
    }
    .as_str()
}

fn stream_warnings(v: &Verified) -> Vec<String> {
    let mut w = Vec::new();
    match v.header {
        HeaderHash::MissingButExpected => w.push(
            "x-amz-sha256-tree-hash was missing although the ranges are tree-hash aligned (SPEC §2.3); verified against the expected hash instead".into(),
        ),
        HeaderHash::NotCompared(_) => w.push(
            "the resumed response's x-amz-sha256-tree-hash covers only its own bytes and was not compared".into(),
        ),
        _ => {}
    }
    if let Some(total) = v.content_range_total_mismatch {
        w.push(format!(
            "Content-Range total {total} differs from the expected output length {}",
            v.output_len
        ));
    }
    if matches!(v.header, HeaderHash::NotSent) && !v.expected_hash_matched {
        w.push("no tree hash was available: only sizes and ranges were verified".into());
    }
    w
}

enum PartsResult {
    Done(Box<Outcome>),
    /// The server answered a part with the whole output: fall back to one stream.
    RangeIgnored(String),
}

/// Part `i` of an output of `len` bytes in parts of `part_size`.
fn part_range(i: u64, part_size: u64, len: u64) -> Result<ByteRange, CoreError> {
    let first = i.checked_mul(part_size).ok_or(CoreError::RangeOverflow)?;
    let last = first.saturating_add(part_size).min(len) - 1;
    ByteRange::new(first, last)
}

struct PartDone {
    index: u64,
    hash: Digest,
    header_matched: bool,
    /// `x-amz-sha256-tree-hash` was absent although SPEC §2.3 promises it;
    /// the part is checked only through the composed hash (SPEC §9.3).
    header_missing: bool,
    head: HeadInfo,
    bytes: u64,
}

enum PartError {
    Fatal(HostError),
    RangeIgnored,
}

#[allow(clippy::too_many_arguments)]
fn fetch_part(
    client: &Client,
    plan: &Plan,
    file: &File,
    part_path: &Path,
    index: u64,
    range: ByteRange,
    counters: &Counters,
    log: &Log,
    abort: &AtomicBool,
) -> Result<PartDone, PartError> {
    let mut buf = vec![0u8; BUF_LEN];
    let mut attempt = 0u32;
    loop {
        if abort.load(Ordering::Relaxed) {
            return Err(PartError::Fatal(HostError::Network("stopped".into())));
        }
        attempt += 1;
        log.request();
        let expect = Expectation {
            job: plan.kind,
            output_len: plan.output_len,
            range: Some(RangeRequest::Closed(range)),
            tree_hash: None,
        };
        let mut verifier = Verifier::new(expect).map_err(|e| PartError::Fatal(e.into()))?;
        let label = format!("part {index} ");
        let retry = |failure: RequestFailure| {
            plan.retry
                .after_failure(failure, attempt, &label, log)
                .map_err(PartError::Fatal)
        };
        let mut resp = match client.get_job_output(&plan.loc, Some(RangeRequest::Closed(range))) {
            Ok(r) => r,
            Err(f) => {
                retry(f)?;
                continue;
            }
        };
        let head_info = {
            let head = resp.head().map_err(|e| PartError::Fatal(e.into()))?;
            match verifier.on_head(&head) {
                Ok(()) => {}
                Err(CoreError::RangeIgnored { .. }) => return Err(PartError::RangeIgnored),
                Err(e) => return Err(PartError::Fatal(e.into())),
            }
            HeadInfo::of(&head)
        };
        let mut pos = range.first();
        let cut = pump(&mut resp.body(), &mut buf, |chunk| {
            verifier
                .update(chunk)
                .map_err(|e| PartError::Fatal(e.into()))?;
            file.write_all_at(chunk, pos)
                .map_err(|e| PartError::Fatal(HostError::io(part_path, e)))?;
            pos += chunk.len() as u64;
            counters
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            Ok(())
        })?;
        let received = pos - range.first();
        if let Some(why) = cut {
            counters.bytes.fetch_sub(received, Ordering::Relaxed);
            retry(RequestFailure {
                error: HostError::Network(format!(
                    "part {index} cut off after {received} bytes: {why}"
                )),
                class: RetryClass::Transient,
            })?;
            continue;
        }
        // The part's own hash, for when its header is missing (below).
        let hasher = verifier.hasher().clone();
        match verifier.finish() {
            Ok(v) => {
                return Ok(PartDone {
                    index,
                    hash: v.tree_hash,
                    header_matched: matches!(v.header, HeaderHash::Matched(_)),
                    header_missing: false,
                    head: head_info,
                    bytes: received,
                });
            }
            // SPEC §9.3: a missing header passes when the whole output's
            // expected hash matches; the part hashes are composed and
            // compared with it once every part is in.
            Err(CoreError::TreeHashHeaderMissing) if !plan.expected.is_empty() => {
                return Ok(PartDone {
                    index,
                    hash: hasher.finalize(),
                    header_matched: false,
                    header_missing: true,
                    head: head_info,
                    bytes: received,
                });
            }
            Err(e @ (CoreError::BodyTooShort { .. } | CoreError::TreeHashMismatch { .. })) => {
                counters.bytes.fetch_sub(received, Ordering::Relaxed);
                retry(RequestFailure {
                    error: HostError::Verification(e),
                    class: RetryClass::Transient,
                })?;
            }
            Err(e) => return Err(PartError::Fatal(e.into())),
        }
    }
}

/// Re-hashes part `range` from disk.
fn hash_from_disk(file: &File, range: ByteRange) -> std::io::Result<Digest> {
    Ok(hasher_over(file, range.first(), range.len())?.finalize())
}

/// A hasher fed `len` bytes of `file` from `first`.
fn hasher_over(file: &File, first: u64, len: u64) -> std::io::Result<TreeHasher> {
    let mut h = TreeHasher::new();
    let mut buf = vec![0u8; BUF_LEN];
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(BUF_LEN as u64) as usize;
        file.read_exact_at(&mut buf[..want], first + done)?;
        h.update(&buf[..want]);
        done += want as u64;
    }
    Ok(h)
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
fn download_parts(
    client: &Client,
    plan: &Plan,
    len: u64,
    part_size: u64,
    part_path: &Path,
    journal_path: &Path,
    counters: &Arc<Counters>,
    log: &Log,
) -> Result<PartsResult, HostError> {
    let parts = len.div_ceil(part_size);
    let header = JournalHeader {
        vault: plan.loc.vault.clone(),
        job_id: plan.loc.job_id.clone(),
        output_len: len,
        part_size,
    };
    let file = open_rw(part_path)?;
    let (mut journal, recorded) = Journal::open(journal_path, &header)?;
    if recorded.is_empty() {
        file.set_len(0).map_err(|e| HostError::io(part_path, e))?;
    }
    file.set_len(len).map_err(|e| HostError::io(part_path, e))?;

    let mut hashes: Vec<Option<(Digest, bool)>> = vec![None; parts as usize];
    let mut reused = 0u64;
    for (index, hash, header_matched) in recorded {
        let Some(slot) = hashes.get_mut(index as usize) else {
            continue;
        };
        let range = part_range(index, part_size, len)?;
        // Re-hash from disk: catches local corruption since the journal entry.
        match hash_from_disk(&file, range) {
            Ok(h) if h == hash => {
                *slot = Some((hash, header_matched));
                reused += 1;
                counters.resumed.fetch_add(range.len(), Ordering::Relaxed);
            }
            _ => {}
        }
    }
    counters.total.store(len, Ordering::Relaxed);
    counters.parts_total.store(parts, Ordering::Relaxed);
    counters.parts_done.store(reused, Ordering::Relaxed);

    let queue: Mutex<VecDeque<u64>> = Mutex::new(
        (0..parts)
            .filter(|i| hashes[*i as usize].is_none())
            .collect(),
    );
    let results: Mutex<Vec<PartDone>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<PartError>> = Mutex::new(None);
    let abort = AtomicBool::new(false);
    let journal_lock = Mutex::new(&mut journal);
    let workers = plan.parallel.max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if abort.load(Ordering::Relaxed) {
                        return;
                    }
                    let Some(index) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
                    else {
                        return;
                    };
                    let Ok(range) = part_range(index, part_size, len) else {
                        return;
                    };
                    counters.parts_in_flight.fetch_add(1, Ordering::Relaxed);
                    let r = fetch_part(
                        client, plan, &file, part_path, index, range, counters, log, &abort,
                    );
                    counters.parts_in_flight.fetch_sub(1, Ordering::Relaxed);
                    match r {
                        Ok(done) => {
                            // Data reaches the disk before the journal says so.
                            let durable = file
                                .sync_data()
                                .map_err(|e| HostError::io(part_path, e))
                                .and_then(|()| {
                                    journal_lock
                                        .lock()
                                        .unwrap_or_else(|p| p.into_inner())
                                        .record(done.index, &done.hash, done.header_matched)
                                });
                            if let Err(e) = durable {
                                abort.store(true, Ordering::Relaxed);
                                failure
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_or_insert(PartError::Fatal(e));
                                return;
                            }
                            counters.parts_done.fetch_add(1, Ordering::Relaxed);
                            results.lock().unwrap_or_else(|p| p.into_inner()).push(done);
                        }
                        Err(e) => {
                            abort.store(true, Ordering::Relaxed);
                            let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                            // A fatal error outranks the stop the others see.
                            match (&*f, &e) {
                                (None, _)
                                | (
                                    Some(PartError::Fatal(HostError::Network(_))),
                                    PartError::RangeIgnored,
                                ) => *f = Some(e),
                                _ => {}
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(f) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return match f {
            PartError::RangeIgnored => Ok(PartsResult::RangeIgnored(
                "the server ignored Range (answered a part with 200 and the whole output, SPEC §1/§11): fell back to one verified stream".into(),
            )),
            PartError::Fatal(e) => Err(e),
        };
    }
    let done = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut head = HeadInfo::default();
    let mut bytes_fetched = 0;
    let fetched = done.len() as u64;
    let header_missing = done.iter().filter(|d| d.header_missing).count();
    for d in done {
        if d.index == 0 || head.status == 0 {
            head = d.head.clone();
        }
        bytes_fetched += d.bytes;
        if let Some(slot) = hashes.get_mut(d.index as usize) {
            *slot = Some((d.hash, d.header_matched));
        }
    }
    // Compose the whole output's tree hash from the part hashes (SPEC §4.2).
    let mut composer = TreeHasher::new();
    let mut header_verified = 0;
    let mut whole = None;
    for (i, h) in hashes.iter().enumerate() {
        let (hash, header_matched) =
            h.ok_or_else(|| HostError::VerificationText(format!("part {i} missing")))?;
        header_verified += u64::from(header_matched);
        let range = part_range(i as u64, part_size, len)?;
        if i as u64 + 1 == parts {
            whole = Some(composer.clone().finish_with(hash, range.len())?);
        } else {
            composer.push_subtree(hash, range.len())?;
        }
    }
    let whole = whole.ok_or_else(|| HostError::VerificationText("no parts".into()))?;
    let mut comparisons_out = Vec::new();
    for e in &plan.expected {
        if e.digest != whole {
            if header_verified < parts {
                // Some parts were checked by nothing but this composed hash:
                // the journal must not offer them to a rerun.
                let _ = std::fs::remove_file(journal_path);
            }
            return Err(expected_mismatch(whole, e));
        }
        comparisons_out.push(Comparison {
            with: format!("{} (composed from {parts} part hashes)", e.source),
            expected: e.digest.to_string(),
            result: "match",
        });
    }
    let all_headers = header_verified == parts;
    let level = level_name(all_headers, !comparisons_out.is_empty());
    let mut warnings = Vec::new();
    if !all_headers && header_verified > 0 {
        warnings.push(format!(
            "only {header_verified} of {parts} parts carried x-amz-sha256-tree-hash"
        ));
    }
    if header_missing > 0 {
        warnings.push(format!(
            "x-amz-sha256-tree-hash was missing on {header_missing} of {parts} parts although the ranges are tree-hash aligned (SPEC §2.3); they were verified only through the composed tree hash"
        ));
    }
    if level == "size-only" {
        warnings.push("no tree hash was available: only sizes and ranges were verified".into());
    }
    if all_headers {
        comparisons_out.insert(
            0,
            Comparison {
                with: format!("x-amz-sha256-tree-hash of each of {parts} parts"),
                expected: String::new(),
                result: "match",
            },
        );
    }
    let journal = journal_lock.into_inner().unwrap_or_else(|p| p.into_inner());
    journal.sync().map_err(|e| HostError::io(journal_path, e))?;
    Ok(PartsResult::Done(Box::new(Outcome {
        mode: "parallel-parts",
        bytes: len,
        computed_tree_hash: whole.to_string(),
        level,
        comparisons: comparisons_out,
        warnings,
        requests: log.requests(),
        retries: log.retries(),
        parts: Some(PartsInfo {
            part_size,
            parts,
            reused,
            fetched,
            bytes_fetched,
            header_verified,
        }),
        head,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_part_sizes_are_powers_of_two_mib() {
        assert_eq!(default_part_size(1 << 30), 16 << 20);
        assert_eq!(default_part_size(40 << 40), 1 << 30);
        for len in [1u64, 5 << 20, 3 << 33, 40 << 40] {
            let p = default_part_size(len);
            assert!(p.is_power_of_two() && p >= LEAF_SIZE, "{len} -> {p}");
            assert!(len.div_ceil(p) <= 65_536);
        }
    }

    #[test]
    fn parts_cover_the_output_exactly() {
        let len = 5 * LEAF_SIZE + 7;
        let ps = 2 * LEAF_SIZE;
        let ranges: Vec<_> = (0..len.div_ceil(ps))
            .map(|i| part_range(i, ps, len).unwrap())
            .collect();
        assert_eq!(ranges.first().unwrap().first(), 0);
        assert_eq!(ranges.last().unwrap().last(), len - 1);
        for w in ranges.windows(2) {
            assert_eq!(w[0].last() + 1, w[1].first());
        }
    }
}
