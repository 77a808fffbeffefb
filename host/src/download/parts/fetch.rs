//! One part: requested, its head checked, its body written at its offset
//! and verified against its own header, retried until it passes or the
//! attempts are spent.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use glacier_verify_core::{
    Assembly, ByteRange, Digest, Error as CoreError, Expectation, HeaderHash, RangeRequest,
    Verifier,
};

use crate::disk::Buffer;
use crate::download::{Download, OutputFields, read_some};
use crate::error::HostError;

/// A part verified and written (not yet durable).
pub(super) struct Fetched {
    pub index: u64,
    pub hash: Digest,
    pub header: HeaderHash,
    pub fields: OutputFields,
    pub bytes: u64,
}

/// Why a part could not be had.
pub(super) enum PartError {
    Fatal(HostError),
    /// The server answered with the whole output: parts cannot work.
    RangeIgnored,
    /// A signal asked the run to stop; the part is not kept.
    Interrupted,
}

/// What one attempt led to.
enum Attempt {
    Done(Fetched),
    Again,
}

/// Which part, and where it goes.
pub(super) struct Target<'t> {
    /// The part file.
    pub file: &'t File,
    /// The whole output's assembly, which must admit the part.
    pub assembly: &'t Assembly,
    /// Part number.
    pub index: u64,
    /// Its bytes of the output.
    pub range: ByteRange,
}

/// Fetches a part into its place in the file, through the worker's buffer.
pub(super) fn fetch(
    d: &Download<'_>,
    t: &Target<'_>,
    abort: &AtomicBool,
    buf: &mut Buffer,
) -> Result<Fetched, PartError> {
    let part = Part {
        d,
        file: t.file,
        assembly: t.assembly,
        index: t.index,
        range: t.range,
        label: format!("part {} ", t.index),
    };
    let mut attempt = 0u32;
    loop {
        if crate::interrupt::requested() {
            return Err(PartError::Interrupted);
        }
        if abort.load(Ordering::Relaxed) {
            return Err(PartError::Fatal(HostError::Internal(
                "stopped: another part failed".into(),
            )));
        }
        attempt += 1;
        if let Attempt::Done(f) = part.attempt(attempt, buf)? {
            return Ok(f);
        }
    }
}

struct Part<'p, 'a> {
    d: &'p Download<'a>,
    file: &'p File,
    assembly: &'p Assembly,
    index: u64,
    range: ByteRange,
    label: String,
}

impl Part<'_, '_> {
    fn fatal(e: impl Into<HostError>) -> PartError {
        PartError::Fatal(e.into())
    }

    /// A failure worth another attempt, when attempts remain.
    fn again(&self, e: HostError, attempt: u32) -> Result<Attempt, PartError> {
        self.d
            .plan
            .retry
            .after_transient(e, attempt, &self.label, self.d.log)
            .map_err(PartError::Fatal)?;
        Ok(Attempt::Again)
    }

    fn attempt(&self, attempt: u32, buf: &mut [u8]) -> Result<Attempt, PartError> {
        let plan = self.d.plan;
        let request = Some(RangeRequest::Closed(self.range));
        let mut verifier = Verifier::new(Expectation {
            job: plan.kind,
            output_len: plan.output_len,
            range: request,
            tree_hash: None,
        })
        .map_err(Self::fatal)?;
        self.d.log.request();
        let mut resp = match self.d.client.get_job_output(&plan.loc, request) {
            Ok(r) => r,
            Err(f) => {
                let label = &self.label;
                plan.retry
                    .after_failure(self.d.explained(f), attempt, label, self.d.log)
                    .map_err(PartError::Fatal)?;
                return Ok(Attempt::Again);
            }
        };
        let fields = {
            let head = resp.head().map_err(Self::fatal)?;
            match verifier.on_head(&head) {
                Ok(()) => OutputFields::of(&head),
                Err(CoreError::RangeIgnored { .. }) => return Err(PartError::RangeIgnored),
                Err(e) => return Err(Self::fatal(e)),
            }
        };
        let (received, cut) = self.write_body(&mut resp.body(), &mut verifier, buf)?;
        if let Some(source) = cut {
            self.uncount(received);
            let what = format!("part {} cut off after {received} bytes", self.index);
            return self.again(HostError::BodyCut { what, source }, attempt);
        }
        self.conclude(verifier, fields, received, attempt)
    }

    /// Streams the body to the part's place in the file, through the
    /// verifier; returns the bytes received and why the body was cut.
    fn write_body(
        &self,
        body: &mut impl std::io::Read,
        verifier: &mut Verifier,
        buf: &mut [u8],
    ) -> Result<(u64, Option<std::io::Error>), PartError> {
        let mut pos = self.range.first();
        let cut = loop {
            if crate::interrupt::requested() {
                return Err(PartError::Interrupted);
            }
            let n = match read_some(body, buf) {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) => break Some(e),
            };
            let chunk = &buf[..n];
            verifier.update(chunk).map_err(Self::fatal)?;
            self.file
                .write_all_at(chunk, pos)
                .map_err(|e| Self::fatal(HostError::io(&self.d.paths.part, e)))?;
            pos += n as u64;
            self.d.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        };
        Ok((pos - self.range.first(), cut))
    }

    fn uncount(&self, bytes: u64) {
        self.d.counters.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The part's own verdict: a short body or a hash mismatch is retried
    /// (mismatches can be transient, docs/protocol.md §9.5).
    fn conclude(
        &self,
        verifier: Verifier,
        fields: OutputFields,
        received: u64,
        attempt: u32,
    ) -> Result<Attempt, PartError> {
        let verified = verifier
            .finish_part()
            .and_then(|v| self.assembly.admit(&v).map(|()| v));
        match verified {
            Ok(v) => Ok(Attempt::Done(Fetched {
                index: self.index,
                hash: v.tree_hash,
                header: v.header,
                fields,
                bytes: received,
            })),
            Err(e @ (CoreError::BodyTooShort { .. } | CoreError::TreeHashMismatch { .. })) => {
                self.uncount(received);
                let label = format!("part {}", self.index);
                self.again(HostError::in_piece(label, e), attempt)
            }
            Err(e) => Err(Self::fatal(HostError::in_piece(
                format!("part {}", self.index),
                e,
            ))),
        }
    }
}
