//! The verdict for a whole download: [`Assembly`] takes the verified pieces
//! of one output in order — the parts of a parallel download, the one
//! response of a single stream, a resumed stream's prefix plus its body, the
//! parts an earlier run kept — composes their tree hashes into the tree
//! hash of everything saved (docs/protocol.md §4.2), compares that with
//! every expected hash it was given, each under its [`HashSource`], and
//! says which [`Level`] of verification was reached.
//!
//! The rule for a part whose `x-amz-sha256-tree-hash` was missing although
//! Glacier sends it for that range (docs/protocol.md §2.3, §9.3) lives
//! here too: such a part passes only when an expected hash of the whole
//! output matched.
//!
//! ```
//! use glacier_verify_core::{
//!     Assembly, ByteRange, Expectation, ExpectedHash, HashSource, HeadBuilder, JobKind, Level,
//!     RangeRequest, Verifier, tree_hash,
//! };
//! let data = vec![7u8; 3 << 20];
//! let whole = tree_hash(&data);
//! let job = JobKind::Archive { archive_size: 3 << 20, retrieval: ByteRange::new(0, (3 << 20) - 1).unwrap() };
//!
//! let mut assembly = Assembly::new(Some(data.len() as u64));
//! assembly.expect(ExpectedHash { source: HashSource::DescribeJob, digest: whole }).unwrap();
//! for (first, last) in [(0u64, (2u64 << 20) - 1), (2 << 20, (3 << 20) - 1)] {
//!     let body = &data[first as usize..=last as usize];
//!     let (hash, len, cr) = (tree_hash(body).to_hex(), body.len().to_string(), format!("bytes {first}-{last}/{}", 3 << 20));
//!     let mut head = HeadBuilder::new(206).unwrap();
//!     head.header(b"Content-Length", len.as_bytes()).unwrap();
//!     head.header(b"Content-Range", cr.as_bytes()).unwrap();
//!     head.header(b"x-amz-sha256-tree-hash", hash.as_str().as_bytes()).unwrap();
//!     let range = Some(RangeRequest::Closed(ByteRange::new(first, last).unwrap()));
//!     let mut v = Verifier::new(Expectation { job, output_len: None, range, tree_hash: None }).unwrap();
//!     v.on_head(&head.finish().unwrap()).unwrap();
//!     v.update(body).unwrap();
//!     assembly.push(&v.finish_part().unwrap()).unwrap();
//! }
//! let verdict = assembly.verdict().unwrap();
//! assert_eq!(verdict.tree_hash, whole);
//! assert_eq!(verdict.level, Level::HeaderAndExpectedHash);
//! assert_eq!(verdict.parts, 2);
//! ```

use crate::Error;
use crate::tree::{Digest, TreeHasher};
use crate::verify::{HashSource, HeaderHash, Level, Verified};

/// Most expected hashes one [`Assembly`] compares (DescribeJob, the command
/// line, an inventory, a resumed stream's first header).
pub const MAX_EXPECTED: usize = 4;

/// A tree hash the whole output must have, and where it came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExpectedHash {
    /// Where the hash came from.
    pub source: HashSource,
    /// The hash.
    pub digest: Digest,
}

/// What an [`Assembly`] concluded about the whole output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OutputVerdict {
    /// Bytes of the output saved.
    pub bytes: u64,
    /// Tree hash of those bytes, composed from the parts.
    pub tree_hash: Digest,
    /// Which hashes were compared.
    pub level: Level,
    /// Pieces pushed.
    pub parts: u64,
    /// Pieces whose `x-amz-sha256-tree-hash` matched their bytes.
    pub header_matched: u64,
    /// Pieces whose header was missing although Glacier sends it for
    /// their range; they passed through an expected hash only.
    pub header_missing: u64,
    /// Pieces whose header was present but not compared: a resumed
    /// stream's header covers only its own bytes.
    pub header_not_compared: u64,
    /// Every expected hash, each of which matched [`tree_hash`](Self::tree_hash).
    pub matched: [Option<ExpectedHash>; MAX_EXPECTED],
}

impl OutputVerdict {
    /// The expected hashes that matched, in the order given.
    pub fn matched(&self) -> impl Iterator<Item = &ExpectedHash> {
        self.matched.iter().flatten()
    }

    /// Whether every piece matched its own `x-amz-sha256-tree-hash`.
    pub fn every_header_matched(&self) -> bool {
        self.parts > 0 && self.header_matched == self.parts
    }
}

/// Composes the verified pieces of one output into one [`OutputVerdict`].
///
/// Push the pieces in output order; each but the last must be a
/// power-of-two number of MiB long and start on a multiple of its length
/// (docs/protocol.md §4.2), which is what parts of one size are.
#[derive(Clone, Debug)]
pub struct Assembly {
    expected_len: Option<u64>,
    expected: [Option<ExpectedHash>; MAX_EXPECTED],
    composer: TreeHasher,
    /// The latest piece, held back: only the last one may have any length.
    pending: Option<(Digest, u64)>,
    bytes: u64,
    parts: u64,
    header_matched: u64,
    header_missing: u64,
    header_not_compared: u64,
}

impl Assembly {
    /// An assembly of an output of `expected_len` bytes (`None`: unknown,
    /// e.g. without DescribeJob).
    pub fn new(expected_len: Option<u64>) -> Self {
        Assembly {
            expected_len,
            expected: [None; MAX_EXPECTED],
            composer: TreeHasher::new(),
            pending: None,
            bytes: 0,
            parts: 0,
            header_matched: 0,
            header_missing: 0,
            header_not_compared: 0,
        }
    }

    /// Adds a hash the whole output must have. The same hash from two
    /// sources is kept twice (both are reported); more than
    /// [`MAX_EXPECTED`] is [`Error::TooManyExpectedHashes`].
    pub fn expect(&mut self, expected: ExpectedHash) -> Result<(), Error> {
        let slot = self
            .expected
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(Error::TooManyExpectedHashes)?;
        *slot = Some(expected);
        Ok(())
    }

    /// The expected hashes given so far.
    pub fn expected(&self) -> impl Iterator<Item = &ExpectedHash> {
        self.expected.iter().flatten()
    }

    /// Whether a piece can be part of a passing verdict, checked as soon
    /// as it is verified (before the other pieces arrive): one whose header
    /// was missing although due passes only if an expected hash of the
    /// whole output was given ([`Error::TreeHashHeaderMissing`] otherwise).
    pub fn admit(&self, piece: &Verified) -> Result<(), Error> {
        if piece.header == HeaderHash::MissingButExpected && self.expected().next().is_none() {
            return Err(Error::TreeHashHeaderMissing);
        }
        Ok(())
    }

    /// Adds the next piece as its [`Verifier`](crate::Verifier) concluded
    /// it (after [`admit`](Self::admit)). A verifier that continued a
    /// prefix covers prefix and body: its verdict is the piece from the
    /// start of the output.
    pub fn push(&mut self, piece: &Verified) -> Result<(), Error> {
        self.admit(piece)?;
        self.push_recorded(piece.hashed_len, piece.tree_hash, piece.header)
    }

    /// Adds the next piece from a record: `len` bytes whose tree hash the
    /// caller has just computed from storage, and what their response's
    /// header said when they were downloaded (an earlier run's journal).
    pub fn push_recorded(
        &mut self,
        len: u64,
        tree_hash: Digest,
        header: HeaderHash,
    ) -> Result<(), Error> {
        if len == 0 {
            return Err(Error::EmptySubtree);
        }
        let bytes = self.bytes.checked_add(len).ok_or(Error::InputTooLong)?;
        if self.expected_len.is_some_and(|e| bytes > e) {
            return Err(Error::OutputLengthMismatch {
                expected: self.expected_len.unwrap_or(0),
                assembled: bytes,
            });
        }
        // The held piece goes into the composer only if it fits there; on
        // a refusal the assembly is as it was before this call.
        if let Some((digest, held)) = self.pending {
            self.composer.push_subtree(digest, held)?;
        }
        self.pending = Some((tree_hash, len));
        self.bytes = bytes;
        self.parts = self.parts.saturating_add(1);
        match header {
            HeaderHash::Matched(_) => self.header_matched = self.header_matched.saturating_add(1),
            HeaderHash::MissingButExpected => {
                self.header_missing = self.header_missing.saturating_add(1);
            }
            HeaderHash::NotCompared(_) => {
                self.header_not_compared = self.header_not_compared.saturating_add(1);
            }
            HeaderHash::NotSent => {}
        }
        Ok(())
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The tree hash of everything pushed so far.
    fn root(&self) -> Result<Digest, Error> {
        match self.pending {
            None => Ok(TreeHasher::new().finalize()),
            Some((digest, len)) => self.composer.clone().finish_with(digest, len),
        }
    }

    /// The verdict: the output complete (when its length is known), every
    /// expected hash equal to the composed tree hash, and no missing header
    /// left unchecked. Does not consume the assembly, so a caller can still
    /// ask it, after a failure, whether a new download could help.
    pub fn verdict(&self) -> Result<OutputVerdict, Error> {
        if let Some(expected) = self.expected_len
            && expected != self.bytes
        {
            return Err(Error::OutputLengthMismatch {
                expected,
                assembled: self.bytes,
            });
        }
        let computed = self.root()?;
        for e in self.expected() {
            if e.digest != computed {
                return Err(Error::TreeHashMismatch {
                    source: e.source,
                    computed,
                    expected: e.digest,
                });
            }
        }
        let any_expected = self.expected().next().is_some();
        if self.header_missing > 0 && !any_expected {
            return Err(Error::TreeHashHeaderMissing);
        }
        let every_header = self.parts > 0 && self.header_matched == self.parts;
        Ok(OutputVerdict {
            bytes: self.bytes,
            tree_hash: computed,
            level: Level::of(every_header, any_expected),
            parts: self.parts,
            header_matched: self.header_matched,
            header_missing: self.header_missing,
            header_not_compared: self.header_not_compared,
            matched: self.expected,
        })
    }

    /// Whether every byte pushed matched a response's own tree-hash header:
    /// then a mismatch with an expected hash is what the service holds, and
    /// downloading again cannot change it.
    pub fn every_header_matched(&self) -> bool {
        self.parts > 0 && self.header_matched == self.parts
    }
}
