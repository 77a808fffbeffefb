//! Parallel parts: the output in tree-hash-aligned power-of-two-MiB
//! ranges, each fetched and verified against its own header
//! ([`fetch`]), made durable and journalled as it completes; parts an
//! earlier run journalled are re-hashed from disk instead. All of them
//! conclude, in order, in the core's assembly.

mod fetch;

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use glacier_verify_core::{
    Assembly, ByteRange, Digest, Error as CoreError, HeaderHash, OutputVerdict,
};

use super::{
    Download, HeaderCheck, Mode, Outcome, OutputFields, PartDetail, PartOrigin, PartsInfo,
    verdict_warnings,
};
use crate::disk::{Buffer, hash_span, open_rw};
use crate::error::HostError;
use crate::journal::{Journal, JournalHeader};
use crate::locks::lock;
use fetch::{Fetched, PartError};

/// How a parts download ended.
pub(super) enum Finished {
    Done(Box<Outcome>),
    /// The server answered a part with the whole output: fall back to one stream.
    RangeIgnored(String),
}

/// One part's verified facts.
#[derive(Clone, Copy, Debug)]
struct Piece {
    hash: Digest,
    header: HeaderHash,
    origin: PartOrigin,
}

/// The output cut into parts.
#[derive(Clone, Copy, Debug)]
struct Layout {
    len: u64,
    part_size: u64,
    count: u64,
}

impl Layout {
    /// Part `i`.
    fn range(&self, i: u64) -> Result<ByteRange, CoreError> {
        let first = i
            .checked_mul(self.part_size)
            .ok_or(CoreError::RangeOverflow)?;
        let last = first.saturating_add(self.part_size).min(self.len) - 1;
        ByteRange::new(first, last)
    }
}

/// What the syncing thread has kept of the parts: one small entry a part
/// (its hash, header and origin: about 70 bytes), and of the responses only
/// what the report needs once, so that memory does not grow with the
/// responses a long download receives.
struct Kept {
    pieces: Vec<Option<Piece>>,
    /// The response fields of part 0, else of the first part downloaded.
    fields: Option<OutputFields>,
    /// Parts downloaded by this run, and their body bytes.
    fetched: u64,
    bytes_fetched: u64,
}

impl Kept {
    fn take(&mut self, f: Fetched) {
        if let Some(slot) = self.pieces.get_mut(f.index as usize) {
            *slot = Some(Piece {
                hash: f.hash,
                header: f.header,
                origin: PartOrigin::Download,
            });
        }
        if f.index == 0 || self.fields.is_none() {
            self.fields = Some(f.fields);
        }
        self.fetched += 1;
        self.bytes_fetched += f.bytes;
    }
}

/// A parts download in progress, shared by the workers.
struct Parts<'d, 'a> {
    d: &'d Download<'a>,
    layout: Layout,
    file: File,
    journal: Mutex<Journal>,
    /// Why an earlier run's records were not all taken.
    journal_notes: Vec<String>,
    /// The whole output's assembly, expectations given; parts are pushed
    /// at the end, in order, but admitted as each one is verified.
    assembly: Assembly,
    queue: Mutex<VecDeque<u64>>,
    kept: Mutex<Kept>,
    failure: Mutex<Option<PartError>>,
    abort: AtomicBool,
}

/// Downloads the whole output in parts.
pub(super) fn download(d: &Download<'_>) -> Result<Finished, HostError> {
    let len = d.plan.output_len.unwrap_or(0);
    let part_size = d.plan.part_size;
    let layout = Layout {
        len,
        part_size,
        count: len.div_ceil(part_size),
    };
    let parts = Parts::open(d, layout)?;
    let workers = d.plan.parallel.max(1);
    // A worker that finishes a part while `workers` verified parts still
    // wait for the flush waits too: written but not yet durable data stays
    // within about twice `workers` parts, so a disk slower than the network
    // paces the download and the final flush stays short.
    let (verified_tx, verified_rx) = std::sync::mpsc::sync_channel::<Fetched>(workers);
    let shared = &parts;
    std::thread::scope(|s| {
        let syncing = s.spawn(move || shared.make_durable(&verified_rx));
        std::thread::scope(|w| {
            for _ in 0..workers {
                w.spawn(|| parts.work(&verified_tx));
            }
        });
        // Every worker is done: the syncing thread keeps what they handed
        // over, then ends.
        drop(verified_tx);
        if syncing.join().is_err() {
            parts.fail(PartError::Fatal(HostError::Internal(
                "the syncing thread panicked".into(),
            )));
        }
    });
    let failure = parts
        .failure
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    match failure {
        None => {}
        Some(PartError::RangeIgnored) => return Ok(Finished::RangeIgnored(
            "the server ignored Range (answered a part with 200 and the whole output): fell back to one verified stream".into(),
        )),
        Some(PartError::Fatal(e)) => return Err(e),
        Some(PartError::Interrupted) => {
            let kept = parts
                .kept
                .lock()
                .map_or(0, |k| k.pieces.iter().filter(|p| p.is_some()).count());
            return Err(super::interrupted(format!(
                "{kept} of {} parts kept in {}",
                layout.count,
                d.paths.part.display()
            )));
        }
    }
    let mut kept = parts.kept.into_inner().unwrap_or_else(|p| p.into_inner());
    let journal = parts
        .journal
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let verdict = assemble(d, layout, &kept.pieces, parts.assembly)?;
    journal
        .sync()
        .map_err(|e| HostError::io(&d.paths.journal, e))?;
    let fields = kept.fields.take().unwrap_or_default();
    let info = parts_info(layout, &kept, &verdict)?;
    let mut outcome = outcome(d, verdict, fields, info);
    outcome.warnings.splice(0..0, parts.journal_notes);
    Ok(Finished::Done(Box::new(outcome)))
}

impl<'d, 'a> Parts<'d, 'a> {
    /// Opens file and journal and re-hashes the parts an earlier run
    /// journalled; the rest go in the queue.
    fn open(d: &'d Download<'a>, layout: Layout) -> Result<Self, HostError> {
        let plan = d.plan;
        let header = JournalHeader {
            vault: plan.loc.vault.clone(),
            job_id: plan.loc.job_id.clone(),
            output_len: layout.len,
            part_size: layout.part_size,
        };
        let part = &d.paths.part;
        let file = open_rw(part)?;
        let opened = Journal::open_parts(&d.paths.journal, &header)?;
        let (journal, recorded) = (opened.journal, opened.records);
        if recorded.is_empty() {
            file.set_len(0).map_err(|e| HostError::io(part, e))?;
        }
        file.set_len(layout.len)
            .map_err(|e| HostError::io(part, e))?;
        let pieces = reuse(d, &file, layout, &recorded)?;
        let mut assembly = Assembly::new(Some(layout.len));
        for e in plan.expected_hashes() {
            assembly.expect(e)?;
        }
        let queue = (0..layout.count)
            .filter(|i| pieces[*i as usize].is_none())
            .collect();
        let parts = Parts {
            d,
            layout,
            file,
            journal: Mutex::new(journal),
            journal_notes: opened.notes,
            assembly,
            queue: Mutex::new(queue),
            kept: Mutex::new(Kept {
                pieces,
                fields: None,
                fetched: 0,
                bytes_fetched: 0,
            }),
            failure: Mutex::new(None),
            abort: AtomicBool::new(false),
        };
        Ok(parts)
    }

    /// A worker: takes parts from the queue until it is empty or a part
    /// failed; hands each verified part to the syncing thread.
    fn work(&self, verified: &SyncSender<Fetched>) {
        // One buffer for all of the worker's parts.
        let mut buf = Buffer::new();
        while !self.abort.load(Ordering::Relaxed) {
            let Some(index) = lock(&self.queue).pop_front() else {
                return;
            };
            let counters = self.d.counters;
            counters.parts_in_flight.fetch_add(1, Ordering::Relaxed);
            let r = self
                .layout
                .range(index)
                .map_err(|e| PartError::Fatal(e.into()))
                .and_then(|range| {
                    let part = fetch::Target {
                        file: &self.file,
                        assembly: &self.assembly,
                        index,
                        range,
                    };
                    fetch::fetch(self.d, &part, &self.abort, &mut buf)
                });
            counters.parts_in_flight.fetch_sub(1, Ordering::Relaxed);
            match r {
                // The syncing thread ends only after every worker has.
                Ok(done) => {
                    let _ = verified.send(done);
                }
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
        }
    }

    /// The syncing thread: makes the file durable for the verified parts
    /// handed over (all of those waiting, in one flush), then journals
    /// them — data reaches the disk before the journal says so — while the
    /// workers go on downloading.
    fn make_durable(&self, verified: &Receiver<Fetched>) {
        while let Ok(first) = verified.recv() {
            let mut batch = vec![first];
            batch.extend(verified.try_iter());
            if let Err(e) = self.keep(batch) {
                self.fail(PartError::Fatal(e));
                // Returning drops the receiver: a worker waiting to hand
                // over a part is released (the part is not kept).
                return;
            }
        }
    }

    /// Makes verified parts durable, then journals them.
    fn keep(&self, batch: Vec<Fetched>) -> Result<(), HostError> {
        self.file
            .sync_data()
            .map_err(|e| HostError::io(&self.d.paths.part, e))?;
        lock(&self.journal).record_parts(batch.iter().map(|p| (p.index, &p.hash, p.header)))?;
        self.d
            .counters
            .parts_done
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut kept = lock(&self.kept);
        for f in batch {
            kept.take(f);
        }
        Ok(())
    }

    /// Stops every worker; the first real failure is the one reported
    /// (a server that ignores Range outranks the stop the others see).
    fn fail(&self, e: PartError) {
        self.abort.store(true, Ordering::Relaxed);
        let mut f = lock(&self.failure);
        let replace = matches!(
            (&*f, &e),
            (None, _)
                | (
                    Some(PartError::Fatal(HostError::Internal(_))),
                    PartError::RangeIgnored
                )
        );
        if replace {
            *f = Some(e);
        }
    }
}

/// The parts an earlier run journalled whose bytes on disk still hash to
/// the journal's hash (local corruption since is caught here).
fn reuse(
    d: &Download<'_>,
    file: &File,
    layout: Layout,
    recorded: &[crate::journal::Recorded],
) -> Result<Vec<Option<Piece>>, HostError> {
    let mut pieces: Vec<Option<Piece>> = vec![None; layout.count as usize];
    let mut buf = Buffer::new();
    let mut reused = 0;
    for &(index, hash, header) in recorded {
        let Some(slot) = pieces.get_mut(index as usize) else {
            continue;
        };
        let range = layout.range(index)?;
        let on_disk = hash_span(file, range.first(), range.len(), &mut buf).map(|h| h.finalize());
        if on_disk.is_ok_and(|h| h == hash) {
            *slot = Some(Piece {
                hash,
                header,
                origin: PartOrigin::EarlierRun,
            });
            reused += 1;
            d.counters.resumed.fetch_add(range.len(), Ordering::Relaxed);
        }
    }
    d.counters.total.store(layout.len, Ordering::Relaxed);
    d.counters
        .parts_total
        .store(layout.count, Ordering::Relaxed);
    d.counters.parts_done.store(reused, Ordering::Relaxed);
    Ok(pieces)
}

/// The whole output's verdict from every part, in order.
fn assemble(
    d: &Download<'_>,
    layout: Layout,
    pieces: &[Option<Piece>],
    mut assembly: Assembly,
) -> Result<OutputVerdict, HostError> {
    for (i, p) in pieces.iter().enumerate() {
        let p = p.ok_or_else(|| HostError::Internal(format!("part {i} is missing")))?;
        let len = layout.range(i as u64)?.len();
        assembly.push_recorded(len, p.hash, p.header)?;
    }
    assembly.verdict().map_err(|e| {
        if !assembly.every_header_matched() {
            // Some parts were checked by nothing but the failed whole-output
            // hash: the journal must not offer them to a rerun.
            let _ = std::fs::remove_file(&d.paths.journal);
        }
        e.into()
    })
}

fn parts_info(
    layout: Layout,
    kept: &Kept,
    verdict: &OutputVerdict,
) -> Result<PartsInfo, HostError> {
    let mut list = Vec::with_capacity(kept.pieces.len());
    for (i, p) in kept.pieces.iter().enumerate() {
        let Some(p) = p else { continue };
        list.push(PartDetail {
            index: i as u64,
            range: layout.range(i as u64)?,
            tree_hash: p.hash,
            header: HeaderCheck::from(p.header),
            from: p.origin,
        });
    }
    let reused = list
        .iter()
        .filter(|p| p.from == PartOrigin::EarlierRun)
        .count() as u64;
    Ok(PartsInfo {
        part_size: layout.part_size,
        parts: layout.count,
        reused,
        fetched: kept.fetched,
        bytes_fetched: kept.bytes_fetched,
        header_verified: verdict.header_matched,
        list,
    })
}

fn outcome(
    d: &Download<'_>,
    verdict: OutputVerdict,
    fields: OutputFields,
    info: PartsInfo,
) -> Outcome {
    let mut warnings = Vec::new();
    if verdict.header_matched > 0 && verdict.header_matched < verdict.parts {
        warnings.push(format!(
            "only {} of {} parts carried x-amz-sha256-tree-hash",
            verdict.header_matched, verdict.parts
        ));
    }
    warnings.extend(verdict_warnings(&verdict));
    let resumed_bytes = verdict.bytes.saturating_sub(info.bytes_fetched);
    Outcome {
        mode: Mode::ParallelParts,
        verdict,
        output_len: d.plan.output_len,
        fields,
        whole_response: None,
        resumed_bytes,
        warnings,
        parts: Some(info),
    }
}

#[cfg(test)]
mod tests;
