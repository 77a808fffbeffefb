//! A single stream's body, in two threads: this one reads the socket and
//! writes the file, a second one feeds the verifier — hashing is the
//! costliest step, so the stream runs at the pace of the slower of the two
//! instead of their sum. Bytes are written before they are hashed, so a
//! checkpoint (the hasher at a whole MiB of the file) only ever describes
//! bytes already in the file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use glacier_verify_core::{Error as CoreError, LEAF_SIZE, TreeHasher, Verifier};

use super::Kept;
use crate::disk::BUF_LEN;
use crate::download::read_some;
use crate::error::HostError;
use crate::progress::Counters;

/// A single stream records its progress in the journal every this many bytes.
const DURABLE_EVERY: u64 = 16 * LEAF_SIZE;

/// Buffers in flight between the reading and the hashing thread.
const STREAM_BUFFERS: usize = 4;

/// Where a stream's body loop ended.
pub(in crate::download) struct End {
    pub verifier: Verifier,
    /// Hasher state at the last whole MiB of the file reached.
    pub checkpoint: Option<(u64, TreeHasher)>,
    /// Bytes in the file.
    pub pos: u64,
    /// Why the body was cut off, if it was.
    pub cut: Option<std::io::Error>,
    /// A signal asked the run to stop before the body's end.
    pub interrupted: bool,
}

/// What the hashing thread hands back.
type Hashed = Result<(Verifier, Option<(u64, TreeHasher)>), CoreError>;

/// Streams `body` into `file` from offset `written` and through `verifier`.
pub(in crate::download) fn stream(
    body: &mut impl Read,
    file: &mut File,
    part_path: &Path,
    verifier: Verifier,
    written: u64,
    counters: &Counters,
    kept: &mut Kept,
) -> Result<End, HostError> {
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(STREAM_BUFFERS);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..STREAM_BUFFERS {
        let _ = empty_tx.send(vec![0u8; BUF_LEN]);
    }
    std::thread::scope(|s| {
        let hashing = s.spawn(move || hash_buffers(verifier, written, &full_rx, &empty_tx));
        let mut writer = Writer {
            file,
            part_path,
            pos: written,
            counters,
            kept,
            interrupted: false,
        };
        let read = writer.pump(body, &empty_rx, full_tx);
        let (pos, interrupted) = (writer.pos, writer.interrupted);
        let hashed = hashing
            .join()
            .map_err(|_| HostError::Internal("the hashing thread panicked".into()))?;
        let cut = read?;
        let (verifier, checkpoint) = hashed?;
        Ok(End {
            verifier,
            checkpoint,
            pos,
            cut,
            interrupted,
        })
    })
}

/// The hashing thread: feeds full buffers to the verifier, split at
/// whole-MiB boundaries of the file so a checkpoint is a leaf boundary.
fn hash_buffers(
    mut verifier: Verifier,
    mut pos: u64,
    full: &Receiver<(Vec<u8>, usize)>,
    empty: &Sender<Vec<u8>>,
) -> Hashed {
    let mut checkpoint = None;
    for (buf, n) in full {
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            let to_boundary = (LEAF_SIZE - pos % LEAF_SIZE) as usize;
            let (now, rest) = chunk.split_at(to_boundary.min(chunk.len()));
            verifier.update(now)?;
            pos += now.len() as u64;
            if pos.is_multiple_of(LEAF_SIZE) {
                checkpoint = Some((pos, verifier.hasher().clone()));
            }
            chunk = rest;
        }
        if empty.send(buf).is_err() {
            break;
        }
    }
    Ok((verifier, checkpoint))
}

/// The reading side: socket to file, journalling progress.
struct Writer<'a> {
    file: &'a mut File,
    part_path: &'a Path,
    pos: u64,
    counters: &'a Counters,
    kept: &'a mut Kept,
    interrupted: bool,
}

impl Writer<'_> {
    /// Reads the body to its end; `Some(error)` if a read failed (a cut to
    /// retry, unlike a local error). Ends early when the hashing thread
    /// stops taking buffers (an error there).
    fn pump(
        &mut self,
        body: &mut impl Read,
        empty: &Receiver<Vec<u8>>,
        full: SyncSender<(Vec<u8>, usize)>,
    ) -> Result<Option<std::io::Error>, HostError> {
        while let Ok(mut buf) = empty.recv() {
            if crate::interrupt::requested() {
                self.interrupted = true;
                break;
            }
            let n = match read_some(body, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Ok(Some(e)),
            };
            self.write(&buf[..n])?;
            if full.send((buf, n)).is_err() {
                break;
            }
        }
        Ok(None)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), HostError> {
        self.file
            .write_all(bytes)
            .map_err(|e| HostError::io(self.part_path, e))?;
        self.pos += bytes.len() as u64;
        self.counters.bytes.store(self.pos, Ordering::Relaxed);
        if self.pos - self.kept.upto() >= DURABLE_EVERY {
            // Bytes reach the disk before the journal says so.
            self.file
                .sync_data()
                .map_err(|e| HostError::io(self.part_path, e))?;
            self.kept.record(self.pos - self.pos % LEAF_SIZE)?;
        }
        Ok(())
    }
}
