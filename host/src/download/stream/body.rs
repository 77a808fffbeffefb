//! A single stream's body, in three threads: this one reads the socket and
//! writes the file, a second one feeds the verifier — hashing is the
//! costliest step, so the stream runs at the pace of the slower of the two
//! instead of their sum — and a third makes the written bytes durable and
//! journals them, so the disk writes back while the body arrives (the
//! final `fsync` before the rename finds little left to do) and the reader
//! never waits for a disk flush. Bytes are written before they are hashed,
//! so a checkpoint (the hasher at a whole MiB of the file) only ever
//! describes bytes already in the file. A body too short to reach a
//! checkpoint (under 16 MiB to go) is read, written and hashed on the
//! calling thread alone ([`stream_here`]): nothing of it is journalled, so
//! there is nothing for the other two threads to overlap.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use glacier_verify_core::{Error as CoreError, LEAF_SIZE, TreeHasher, Verifier};

use super::Kept;
use crate::disk::Buffer;
use crate::download::read_some;
use crate::error::HostError;
use crate::progress::Counters;

/// A single stream records its progress in the journal every this many bytes.
const DURABLE_EVERY: u64 = 16 * LEAF_SIZE;

/// Buffers in flight between the reading and the hashing thread.
const STREAM_BUFFERS: usize = 4;

/// Positions the syncing thread may fall behind by before the writer
/// waits for it: bounds the written but not yet durable bytes to about
/// this many times [`DURABLE_EVERY`], so the final flush stays short and
/// a disk slower than the network paces the download instead of filling
/// the page cache.
const UNSYNCED_STEPS: usize = 4;

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

/// Whether a body of at most `left` more bytes is streamed on the calling
/// thread alone: one too short to reach a checkpoint the syncing thread
/// would journal. Two threads of its own would cost more to start than
/// they overlap (a vault's small archives, thousands of them).
fn on_one_thread(left: Option<u64>) -> bool {
    left.is_some_and(|n| n < DURABLE_EVERY)
}

/// Where a body starts: the verifier, the bytes already in the file, and
/// how many more the body should bring, when known.
pub(in crate::download) type Start = (Verifier, u64, Option<u64>);

/// Streams `body` into `file` from offset `written` and through
/// `verifier`: on this thread alone when it is short ([`on_one_thread`]),
/// else in three threads.
pub(in crate::download) fn stream(
    body: &mut impl Read,
    file: &File,
    part_path: &Path,
    (verifier, written, left): Start,
    counters: &Counters,
    kept: &mut Kept,
) -> Result<End, HostError> {
    if on_one_thread(left) {
        stream_here(body, file, part_path, verifier, written, counters)
    } else {
        threaded(body, file, part_path, verifier, written, counters, kept)
    }
}

/// [`stream`] in three threads.
fn threaded(
    body: &mut impl Read,
    file: &File,
    part_path: &Path,
    verifier: Verifier,
    written: u64,
    counters: &Counters,
    kept: &mut Kept,
) -> Result<End, HostError> {
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Buffer, usize)>(STREAM_BUFFERS);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Buffer>();
    for _ in 0..STREAM_BUFFERS {
        let _ = empty_tx.send(Buffer::new());
    }
    let (durable_tx, durable_rx) = std::sync::mpsc::sync_channel::<u64>(UNSYNCED_STEPS);
    std::thread::scope(|s| {
        let hashing = s.spawn(move || hash_buffers(verifier, written, &full_rx, &empty_tx));
        let syncing = s.spawn(move || make_durable(file, part_path, kept, &durable_rx));
        let mut writer = Writer {
            file,
            part_path,
            pos: written,
            counters,
            durable: durable_tx,
            announced: written,
            interrupted: false,
        };
        let read = writer.pump(body, &empty_rx, full_tx);
        let (pos, interrupted) = (writer.pos, writer.interrupted);
        drop(writer);
        let hashed = hashing
            .join()
            .map_err(|_| HostError::Internal("the hashing thread panicked".into()))?;
        let synced = syncing
            .join()
            .map_err(|_| HostError::Internal("the syncing thread panicked".into()))?;
        // A syncing thread that failed stopped the reader: its error is the
        // cause of whatever the reader saw after.
        synced?;
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

/// The hashing thread: feeds full buffers to the verifier.
fn hash_buffers(
    mut verifier: Verifier,
    mut pos: u64,
    full: &Receiver<(Buffer, usize)>,
    empty: &Sender<Buffer>,
) -> Hashed {
    let mut checkpoint = None;
    for (buf, n) in full {
        feed(&mut verifier, &mut pos, &buf[..n], &mut checkpoint)?;
        if empty.send(buf).is_err() {
            break;
        }
    }
    Ok((verifier, checkpoint))
}

/// Feeds `chunk`, the file's bytes from `pos`, to the verifier, split at
/// whole-MiB boundaries of the file so a checkpoint is a leaf boundary.
fn feed(
    verifier: &mut Verifier,
    pos: &mut u64,
    mut chunk: &[u8],
    checkpoint: &mut Option<(u64, TreeHasher)>,
) -> Result<(), CoreError> {
    while !chunk.is_empty() {
        let to_boundary = (LEAF_SIZE - *pos % LEAF_SIZE) as usize;
        let (now, rest) = chunk.split_at(to_boundary.min(chunk.len()));
        verifier.update(now)?;
        *pos += now.len() as u64;
        if pos.is_multiple_of(LEAF_SIZE) {
            *checkpoint = Some((*pos, verifier.hasher().clone()));
        }
        chunk = rest;
    }
    Ok(())
}

/// [`stream`] of a short body on this thread alone: read, written, then
/// hashed, one buffer at a time (the same order: bytes are in the file
/// before a checkpoint describes them). Nothing is journalled; a signal or
/// a cut ends it as it ends the threaded loop.
fn stream_here(
    body: &mut impl Read,
    file: &File,
    part_path: &Path,
    mut verifier: Verifier,
    written: u64,
    counters: &Counters,
) -> Result<End, HostError> {
    let mut buf = Buffer::new();
    let (mut pos, mut hashed) = (written, written);
    let mut checkpoint = None;
    let mut cut = None;
    let mut interrupted = false;
    loop {
        if crate::interrupt::requested() {
            interrupted = true;
            break;
        }
        let n = match read_some(body, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                cut = Some(e);
                break;
            }
        };
        let mut f = file;
        f.write_all(&buf[..n])
            .map_err(|e| HostError::io(part_path, e))?;
        pos += n as u64;
        counters.bytes.store(pos, Ordering::Relaxed);
        feed(&mut verifier, &mut hashed, &buf[..n], &mut checkpoint)?;
    }
    Ok(End {
        verifier,
        checkpoint,
        pos,
        cut,
        interrupted,
    })
}

/// The syncing thread: for each position the writer reached (the latest
/// of those queued, when it falls behind), makes the file durable and then
/// journals its whole MiB — bytes reach the disk before the journal says so.
fn make_durable(
    file: &File,
    part_path: &Path,
    kept: &mut Kept,
    reached: &Receiver<u64>,
) -> Result<(), HostError> {
    while let Ok(mut pos) = reached.recv() {
        while let Ok(later) = reached.try_recv() {
            pos = later;
        }
        file.sync_data().map_err(|e| HostError::io(part_path, e))?;
        let whole = pos - pos % LEAF_SIZE;
        if whole > kept.upto() {
            kept.record(whole)?;
        }
    }
    Ok(())
}

/// The reading side: socket to file; hands its progress to the syncing thread.
struct Writer<'a> {
    file: &'a File,
    part_path: &'a Path,
    pos: u64,
    counters: &'a Counters,
    /// To the syncing thread: bytes written so far (waits when it is
    /// [`UNSYNCED_STEPS`] behind).
    durable: SyncSender<u64>,
    /// The last position handed to the syncing thread.
    announced: u64,
    interrupted: bool,
}

impl Writer<'_> {
    /// Reads the body to its end; `Some(error)` if a read failed (a cut to
    /// retry, unlike a local error). Ends early when the hashing thread
    /// stops taking buffers or the syncing thread stops taking positions
    /// (an error there, reported by the caller): the rest of the body would
    /// never be kept.
    fn pump(
        &mut self,
        body: &mut impl Read,
        empty: &Receiver<Buffer>,
        full: SyncSender<(Buffer, usize)>,
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
            let syncing = self.write(&buf[..n])?;
            if full.send((buf, n)).is_err() || !syncing {
                break;
            }
        }
        Ok(None)
    }

    /// Writes `bytes` at the end of the file; `false` when the syncing
    /// thread has stopped.
    fn write(&mut self, bytes: &[u8]) -> Result<bool, HostError> {
        let mut file = self.file;
        file.write_all(bytes)
            .map_err(|e| HostError::io(self.part_path, e))?;
        self.pos += bytes.len() as u64;
        self.counters.bytes.store(self.pos, Ordering::Relaxed);
        if self.pos - self.announced >= DURABLE_EVERY {
            if self.durable.send(self.pos).is_err() {
                return Ok(false);
            }
            self.announced = self.pos;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Journal, stream_head};

    /// A fresh directory with a stream journal for an output of `len` bytes.
    fn journalled(tag: &str, len: u64) -> (std::path::PathBuf, std::path::PathBuf, Kept) {
        let dir = std::env::temp_dir().join(format!("gv-body-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let journal_path = dir.join("out.part.journal");
        let head = stream_head("vault", "job", Some(len), None);
        let opened = Journal::open_stream(&journal_path, &head, Some(len)).unwrap();
        let kept = Kept {
            journal: opened.journal,
            upto: 0,
        };
        (dir, journal_path, kept)
    }

    /// A short body on one thread ends where the threaded loop ends: the
    /// same bytes in the file, the same verdict, the same checkpoint; a
    /// body of a checkpoint or more takes the threads.
    #[test]
    fn a_short_body_on_one_thread_ends_as_the_threaded_loop_does() {
        assert!(on_one_thread(Some(DURABLE_EVERY - 1)));
        assert!(!on_one_thread(Some(DURABLE_EVERY)));
        assert!(!on_one_thread(None));
        let dir = std::env::temp_dir().join(format!("gv-body-here-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let len = 3 * LEAF_SIZE + 12_345;
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let expect = glacier_verify_core::Expectation {
            job: glacier_verify_core::JobKind::Inventory,
            output_len: Some(len),
            range: None,
            tree_hash: None,
        };
        let head = stream_head("vault", "job", Some(len), None);
        let mut ends = Vec::new();
        for (name, left) in [("here", Some(len)), ("threads", None)] {
            let part_path = dir.join(format!("{name}.part"));
            let journal = dir.join(format!("{name}.part.journal"));
            let mut kept = Kept {
                journal: Journal::open_stream(&journal, &head, Some(len))
                    .unwrap()
                    .journal,
                upto: 0,
            };
            let file = File::create(&part_path).unwrap();
            let mut verifier = Verifier::new(expect).unwrap();
            let len_text = len.to_string();
            let mut head = glacier_verify_core::HeadBuilder::new(200).unwrap();
            head.header(b"Content-Length", len_text.as_bytes()).unwrap();
            verifier.on_head(&head.finish().unwrap()).unwrap();
            let counters = Counters::default();
            let end = stream(
                &mut &payload[..],
                &file,
                &part_path,
                (verifier, 0, left),
                &counters,
                &mut kept,
            )
            .unwrap();
            assert_eq!(std::fs::read(&part_path).unwrap(), payload, "{name}");
            assert!(!journal.exists(), "{name}: journalled a short body");
            ends.push(end);
        }
        let [here, threads] = <[End; 2]>::try_from(ends).ok().unwrap();
        assert_eq!(here.pos, threads.pos);
        assert!(here.cut.is_none() && !here.interrupted);
        let (a, b) = (here.checkpoint.unwrap(), threads.checkpoint.unwrap());
        assert_eq!(a.0, 3 * LEAF_SIZE);
        assert_eq!(a.0, b.0);
        assert_eq!(a.1.bytes(), b.1.bytes());
        assert_eq!(a.1.finalize(), b.1.finalize());
        let (a, b) = (
            here.verifier.finish_part().unwrap(),
            threads.verifier.finish_part().unwrap(),
        );
        assert_eq!(a.tree_hash, b.tree_hash);
        assert_eq!(a.tree_hash, glacier_verify_core::tree_hash(&payload));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The syncing thread flushes once for every position it finds queued
    /// and journals only the latest whole MiB of them.
    #[test]
    fn the_syncing_thread_journals_the_latest_whole_mib_of_what_was_queued() {
        let len = 64 * LEAF_SIZE;
        let (dir, journal_path, mut kept) = journalled("sync", len);
        let part_path = dir.join("out.part");
        let file = File::create(&part_path).unwrap();
        file.set_len(6 * LEAF_SIZE).unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(UNSYNCED_STEPS);
        tx.send(3 * LEAF_SIZE + 5).unwrap();
        tx.send(5 * LEAF_SIZE + 7).unwrap();
        drop(tx);
        make_durable(&file, &part_path, &mut kept, &rx).unwrap();
        assert_eq!(kept.upto(), 5 * LEAF_SIZE);
        let text = std::fs::read_to_string(&journal_path).unwrap();
        let records: Vec<_> = text.lines().filter(|l| l.starts_with("upto ")).collect();
        assert_eq!(records, [format!("upto {}", 5 * LEAF_SIZE)], "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A body that counts what was read from it.
    struct Counted {
        left: u64,
        read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    }

    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf
                .len()
                .min(usize::try_from(self.left).unwrap_or(usize::MAX));
            buf[..n].fill(7);
            self.left -= n as u64;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    /// When the bytes cannot be made durable, the rest of the body is not
    /// read (it could never be kept), and the error is the flush's.
    #[test]
    fn a_failed_flush_stops_the_body_and_is_the_error() {
        let len = 256 * LEAF_SIZE;
        let (dir, _, mut kept) = journalled("fail", len);
        let part_path = dir.join("out.part");
        // A socket takes the writes, but cannot be flushed (fdatasync
        // fails with EINVAL), like a disk whose flush fails.
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let drain = std::thread::spawn(move || std::io::copy(&mut &theirs, &mut std::io::sink()));
        let file = File::from(std::os::fd::OwnedFd::from(ours));
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut body = Counted {
            left: len,
            read: read.clone(),
        };
        let mut verifier = Verifier::new(glacier_verify_core::Expectation {
            job: glacier_verify_core::JobKind::Unknown,
            output_len: Some(len),
            range: None,
            tree_hash: None,
        })
        .unwrap();
        verifier
            .on_head(&glacier_verify_core::ResponseHead {
                status: 200,
                content_length: Some(len),
                ..glacier_verify_core::ResponseHead::default()
            })
            .unwrap();
        let counters = Counters::default();
        let r = stream(
            &mut body,
            &file,
            &part_path,
            (verifier, 0, None),
            &counters,
            &mut kept,
        );
        let e = r.err().expect("the flush failed");
        assert!(matches!(e, HostError::Io { .. }), "{e:?}");
        let read = read.load(Ordering::Relaxed);
        let bound = DURABLE_EVERY * (UNSYNCED_STEPS as u64 + 2);
        assert!(
            read <= bound,
            "read {read} bytes of {len} after the flush failed"
        );
        drop(file);
        let _ = drain.join();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
