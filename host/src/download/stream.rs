//! One verified stream of the whole target: resumed from the last whole
//! MiB after a cut (docs/protocol.md §9.5), restarted from the start after
//! a hash mismatch that a new download could fix, and resumed across runs
//! from the journal's record of the bytes on disk.

mod body;

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::atomic::Ordering;

use glacier_verify_core::{
    Assembly, ByteRange, Digest, Error as CoreError, ExpectedHash, HashSource, RangeRequest,
    TreeHasher, Verified, Verifier,
};

use super::{Download, Mode, Outcome, OutputFields, verdict_warnings};
use crate::disk::{Buffer, hash_span, open_rw};
use crate::error::HostError;
use crate::journal::{Journal, stream_head};

/// A single stream's journal and the progress it states.
pub(super) struct Kept {
    journal: Journal,
    /// Bytes of the file the journal says are on disk (its last `upto`).
    upto: u64,
}

impl Kept {
    /// Records durably that the first `upto` bytes of the file are on disk.
    pub(super) fn record(&mut self, upto: u64) -> Result<(), HostError> {
        self.journal.record_line(&format!("upto {upto}"))?;
        self.upto = upto;
        Ok(())
    }

    pub(super) fn upto(&self) -> u64 {
        self.upto
    }
}

/// What one attempt led to.
enum Step {
    Done(Box<Verified>),
    Again,
}

/// A stream in progress.
struct Stream<'d, 'a> {
    d: &'d Download<'a>,
    file: File,
    kept: Kept,
    /// Hasher state at the last whole MiB of the file known good.
    checkpoint: Option<(u64, TreeHasher)>,
    /// The `x-amz-sha256-tree-hash` of a response that covered the whole
    /// target: what a resumed stream is compared with when nothing else is.
    first_header: Option<Digest>,
    /// Bytes an earlier run kept.
    resumed: u64,
    fields: Option<OutputFields>,
    /// Status and `Content-Range` of the latest response.
    last_head: (u16, Option<String>),
    warnings: Vec<String>,
    attempt: u32,
}

/// Downloads the target as one stream.
pub(super) fn download(d: &Download<'_>) -> Result<Outcome, HostError> {
    let mut s = Stream::open(d)?;
    loop {
        if crate::interrupt::requested() {
            return Err(s.interrupted());
        }
        s.attempt += 1;
        if let Step::Done(verified) = s.attempt_once()?
            && let Some(outcome) = s.conclude(&verified)?
        {
            return Ok(outcome);
        }
    }
}

impl<'d, 'a> Stream<'d, 'a> {
    /// Opens the part file and the journal; takes over what an earlier
    /// run of this very command left on disk, re-hashed.
    fn open(d: &'d Download<'a>) -> Result<Self, HostError> {
        let plan = d.plan;
        let file = open_rw(&d.paths.part)?;
        let range_text = plan.range.map(|r| r.to_string());
        let head_line = stream_head(
            &plan.loc.vault,
            &plan.loc.job_id,
            plan.output_len,
            range_text.as_deref(),
        );
        let opened = Journal::open_stream(&d.paths.journal, &head_line, plan.output_len)?;
        let earlier = opened.records;
        let journal = opened.journal;
        d.counters
            .total
            .store(plan.target_len().unwrap_or(0), Ordering::Relaxed);
        let mut s = Stream {
            d,
            file,
            kept: Kept {
                journal,
                upto: earlier.upto,
            },
            checkpoint: None,
            first_header: None,
            resumed: 0,
            fields: None,
            last_head: (0, None),
            warnings: opened.notes,
            attempt: 0,
        };
        let on_disk = s
            .file
            .metadata()
            .map_err(|e| HostError::io(&d.paths.part, e))?
            .len();
        if earlier.upto > 0 && on_disk >= earlier.upto {
            let mut buf = Buffer::new();
            let prefix = hash_span(&s.file, 0, earlier.upto, &mut buf)
                .map_err(|e| HostError::io(&d.paths.part, e))?;
            s.checkpoint = Some((earlier.upto, prefix));
            s.first_header = earlier.first_header;
            s.resumed = earlier.upto;
            s.warnings.push(format!(
                "resumed after {} bytes kept by an earlier run (re-hashed from disk)",
                earlier.upto
            ));
        }
        Ok(s)
    }

    /// Truncates the file to the checkpoint and says where to go on from.
    fn rewind(&mut self) -> Result<(u64, TreeHasher), HostError> {
        let part = &self.d.paths.part;
        let (written, prefix) = self.checkpoint.clone().unwrap_or((0, TreeHasher::new()));
        if written < self.kept.upto {
            self.kept.record(written)?;
        }
        self.file
            .set_len(written)
            .map_err(|e| HostError::io(part, e))?;
        self.file
            .seek(SeekFrom::Start(written))
            .map_err(|e| HostError::io(part, e))?;
        self.d.counters.bytes.store(written, Ordering::Relaxed);
        Ok((written, prefix))
    }

    /// The range to ask for when `written` bytes of the target are held.
    fn resume_range(&self, written: u64) -> Result<Option<RangeRequest>, HostError> {
        let plan = self.d.plan;
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
            // Exact ranges whenever the end is known (docs/protocol.md §10.6).
            Some(last) => RangeRequest::Closed(ByteRange::new(first, last)?),
            None => RangeRequest::From(first),
        }))
    }

    /// One request: head checked, body streamed to the file and hashed.
    fn attempt_once(&mut self) -> Result<Step, HostError> {
        let (written, prefix) = self.rewind()?;
        let range = self.resume_range(written)?;
        let plan = self.d.plan;
        let expect = glacier_verify_core::Expectation {
            job: plan.kind,
            output_len: plan.output_len,
            range,
            tree_hash: None,
        };
        let mut verifier = if written == 0 {
            Verifier::new(expect)?
        } else {
            Verifier::continuing(expect, prefix)?
        };
        self.d.log.request();
        let mut resp = match self.d.client.get_job_output(&plan.loc, range) {
            Ok(r) => r,
            Err(f) => {
                plan.retry
                    .after_failure(self.d.explained(f), self.attempt, "", self.d.log)?;
                return Ok(Step::Again);
            }
        };
        if !self.accept_head(&resp.head()?, &mut verifier, written)? {
            return Ok(Step::Again);
        }
        let left = plan.target_len().map(|len| len.saturating_sub(written));
        let end = body::stream(
            &mut resp.body(),
            &self.file,
            &self.d.paths.part,
            (verifier, written, left),
            self.d.counters,
            &mut self.kept,
        )?;
        if end.checkpoint.is_some() {
            self.checkpoint = end.checkpoint;
        }
        if end.interrupted {
            return Err(self.keep_and_stop(end.pos));
        }
        if let Some(source) = end.cut {
            let e = HostError::BodyCut {
                what: format!("body cut off after {} bytes", end.pos),
                source,
            };
            plan.retry
                .after_transient(e, self.attempt, "", self.d.log)?;
            return Ok(Step::Again);
        }
        self.finish_body(end.verifier)
    }

    /// Checks the head; `false`: the server ignored `Range` on a resumed
    /// request, so start over.
    fn accept_head(
        &mut self,
        head: &glacier_verify_core::ResponseHead<'_>,
        verifier: &mut Verifier,
        written: u64,
    ) -> Result<bool, HostError> {
        if let Err(e) = verifier.on_head(head) {
            let retry = self.d.plan.retry;
            if written > 0
                && matches!(e, CoreError::RangeIgnored { .. })
                && retry.allows_another(self.attempt)
            {
                self.d.log.retry(format!(
                    "attempt {}: the server ignored Range on a resumed request; starting over",
                    self.attempt
                ));
                self.warnings.push(
                    "the server ignores Range: an interrupted download had to start over".into(),
                );
                self.checkpoint = None;
                return Ok(false);
            }
            return Err(e.into());
        }
        if written == 0 {
            let known = std::mem::replace(&mut self.first_header, head.tree_hash);
            if let Some(h) = head.tree_hash.filter(|h| known != Some(*h)) {
                // Of use only to a rerun that resumes after an `upto`:
                // written with the first one.
                self.kept
                    .journal
                    .record_line_later(&format!("first-header {h}"));
            }
        }
        if self.fields.is_none() {
            self.fields = Some(OutputFields::of(head));
        }
        self.last_head = (head.status, head.content_range.map(|c| c.to_string()));
        Ok(true)
    }

    /// The body's own verdict: retried when it was cut short or failed
    /// its header hash (mismatches can be transient: start over, since the
    /// bad bytes cannot be told apart).
    fn finish_body(&mut self, verifier: Verifier) -> Result<Step, HostError> {
        let retry = self.d.plan.retry;
        match verifier.finish_part() {
            Ok(v) => Ok(Step::Done(Box::new(v))),
            Err(e @ CoreError::BodyTooShort { .. }) => {
                retry.after_transient(e.into(), self.attempt, "", self.d.log)?;
                Ok(Step::Again)
            }
            Err(e @ CoreError::TreeHashMismatch { .. }) if retry.allows_another(self.attempt) => {
                self.start_over(&e);
                Ok(Step::Again)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A signal stopped the body: the bytes written are made durable and
    /// journalled up to their last whole MiB, for the rerun.
    fn keep_and_stop(&mut self, pos: u64) -> HostError {
        let whole = pos - pos % glacier_verify_core::LEAF_SIZE;
        let kept = self
            .file
            .sync_data()
            .map_err(|e| HostError::io(&self.d.paths.part, e))
            .and_then(|()| {
                if whole > self.kept.upto() {
                    self.kept.record(whole)
                } else {
                    Ok(())
                }
            });
        match kept {
            Ok(()) => self.interrupted(),
            Err(e) => e,
        }
    }

    fn interrupted(&self) -> HostError {
        let total = self
            .d
            .plan
            .target_len()
            .map_or_else(String::new, |t| format!(" of {t}"));
        super::interrupted(format!(
            "{} bytes{total} kept in {}",
            self.kept.upto(),
            self.d.paths.part.display()
        ))
    }

    fn start_over(&mut self, why: &CoreError) {
        self.d.log.retry(format!(
            "attempt {}: {why}; downloading again from the start",
            self.attempt
        ));
        self.checkpoint = None;
        self.d.plan.retry.pause(self.attempt);
    }

    /// The hashes a stream is compared with: the plan's, or, for a stream
    /// resumed with nothing else expected, its first response's header.
    fn expected(&self, verified: &Verified) -> Vec<ExpectedHash> {
        let mut expected: Vec<_> = self.d.plan.expected_hashes().collect();
        let resumed = verified.hashed_len > verified.body_len;
        if expected.is_empty()
            && resumed
            && let Some(digest) = self.first_header
        {
            expected.push(ExpectedHash {
                source: HashSource::FirstResponseHeader,
                digest,
            });
        }
        expected
    }

    /// The whole target's verdict through the core's assembly; `None`: a
    /// mismatch that a new download may fix, so go again.
    fn conclude(&mut self, verified: &Verified) -> Result<Option<Outcome>, HostError> {
        let mut assembly = Assembly::new(self.d.plan.target_len());
        for e in self.expected(verified) {
            assembly.expect(e)?;
        }
        assembly.push(verified)?;
        let verdict = match assembly.verdict() {
            Ok(v) => v,
            // Bytes that matched their own header are what the service
            // holds: downloading again cannot change the mismatch.
            Err(e @ CoreError::TreeHashMismatch { .. })
                if !assembly.every_header_matched()
                    && self.d.plan.retry.allows_another(self.attempt) =>
            {
                self.start_over(&e);
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // Durable through the handle that wrote it: what `download`
        // promises its callers, who rename it next.
        self.file
            .sync_data()
            .map_err(|e| HostError::io(&self.d.paths.part, e))?;
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.extend(verdict_warnings(&verdict));
        if let Some(total) = verified.content_range_total_mismatch {
            warnings.push(format!(
                "Content-Range total {total} differs from the expected output length {}",
                verified.output_len
            ));
        }
        let resumed = verified.hashed_len > verified.body_len;
        Ok(Some(Outcome {
            mode: Mode::SingleStream,
            verdict,
            output_len: Some(verified.output_len),
            fields: self.fields.clone().unwrap_or_default(),
            whole_response: (!resumed).then(|| self.last_head.clone()),
            resumed_bytes: self.resumed,
            warnings,
            parts: None,
        }))
    }
}
