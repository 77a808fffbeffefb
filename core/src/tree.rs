//! Streaming SHA-256 tree hash (docs/protocol.md §4.1) with subtree composition (docs/protocol.md §4.2).
//!
//! The tree hash of a payload is built over 1 MiB leaves: each leaf is hashed
//! with SHA-256, then neighbouring digests are concatenated (raw 32 bytes,
//! left‖right) and hashed again, level by level; an odd node at the end of a
//! level is promoted unchanged. Inputs of at most 1 MiB hash to their plain
//! SHA-256, and the empty input hashes to SHA-256 of nothing (docs/protocol.md §4.1,
//! §10.10).
//!
//! Building the tree level by level needs every leaf digest at once. The
//! streaming form keeps instead the roots of the perfect subtrees that make
//! up the leaves seen so far — one per set bit of the leaf count, largest
//! (leftmost) first — and folds them right to left at the end. That fold is
//! exactly the "pair, promote the odd one" tree: the odd node at each level is
//! always the rightmost, smaller subtree, which the fold attaches last.
//!
//! # State size
//! Inputs are at most 2⁶⁴−1 bytes, so a hasher sees fewer than 2⁴⁴ complete
//! leaves, whose count has at most 44 set bits: [`MAX_DEPTH`] = 44 pending
//! subtree roots of 32 bytes (1408 bytes), plus one SHA-256 state for the open
//! leaf and two counters: `size_of::<TreeHasher>()` is 1 528 bytes on
//! x86-64, printed and checked by the test `state_sizes` and stated in the
//! crate docs.

use core::fmt;

use sha2::{Digest as _, Sha256};

use crate::Error;

/// Leaf size of the Glacier tree hash: 1 MiB (docs/protocol.md §4.1).
pub const LEAF_SIZE: u64 = crate::protocol::MIB;

/// `LEAF_SIZE` as the `u32` the open-leaf counter uses.
const LEAF_SIZE_U32: u32 = 1 << 20;

/// Largest number of pending subtree roots: a leaf count below 2⁴⁴ (inputs
/// below 2⁶⁴ bytes) has at most 44 set bits.
pub const MAX_DEPTH: usize = 44;

/// Largest number of complete leaves a hasher accepts: inputs stay below 2⁶⁴ bytes.
const MAX_LEAVES: u64 = (1 << MAX_DEPTH) - 1;

/// A 32-byte SHA-256 (tree) digest.
///
/// Parsed from hex case-insensitively and printed as lowercase hex, so two
/// digests compare equal whatever case a server or a user wrote them in
/// (docs/protocol.md §4.1, §8 boto#3059).
///
/// ```
/// use glacier_verify_core::Digest;
/// let a = Digest::from_hex(b"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855").unwrap();
/// let b = Digest::from_hex(b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_hex().as_str(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

/// Logged as hex, like `Display` (a derived impl would print 32 decimals).
#[cfg(feature = "defmt")]
impl defmt::Format for Digest {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.to_hex().as_str());
    }
}

/// Lowercase hex text of a [`Digest`], held inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest([u8; 64]);

impl HexDigest {
    /// The 64 lowercase hex characters.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => c.checked_sub(b'a' - 10),
        b'A'..=b'F' => c.checked_sub(b'A' - 10),
        _ => None,
    }
}

impl Digest {
    /// Parses exactly 64 hex digits, either case. Anything else — other
    /// lengths, `0x` prefixes, spaces — is [`Error::InvalidHexDigest`].
    pub fn from_hex(text: &[u8]) -> Result<Self, Error> {
        if text.len() != 64 {
            return Err(Error::InvalidHexDigest);
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let (hi, lo) = match pair {
                [hi, lo] => (hex_value(*hi), hex_value(*lo)),
                _ => (None, None),
            };
            match (hi, lo) {
                (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
                _ => return Err(Error::InvalidHexDigest),
            }
        }
        Ok(Digest(out))
    }

    /// The digest as 64 lowercase hex characters.
    pub fn to_hex(&self) -> HexDigest {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0.iter()) {
            if let [hi, lo] = pair {
                *hi = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
                *lo = HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0');
            }
        }
        HexDigest(out)
    }

    /// Whether `text` is the hex form of this digest, in either case.
    pub fn matches_hex(&self, text: &[u8]) -> bool {
        Digest::from_hex(text).is_ok_and(|d| d == *self)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex().as_str())
    }
}

/// SHA-256 of one leaf (at most 1 MiB of payload). For a host that hashes
/// leaves on several threads and feeds the digests in order through
/// [`TreeHasher::push_subtree`].
pub fn leaf_hash(data: &[u8]) -> Digest {
    Digest(Sha256::digest(data).into())
}

/// The parent of two tree nodes: SHA-256(left ‖ right) over the raw digests
/// (docs/protocol.md §4.1 step 2).
pub fn combine(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update(left.0);
    h.update(right.0);
    Digest(h.finalize().into())
}

/// The tree hash of a whole buffer in one call.
///
/// ```
/// use glacier_verify_core::tree_hash;
/// // Inputs of at most 1 MiB hash to their plain SHA-256 (docs/protocol.md §4.1).
/// assert_eq!(
///     tree_hash(b"hello world").to_hex().as_str(),
///     "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
/// );
/// ```
pub fn tree_hash(data: &[u8]) -> Digest {
    let mut h = TreeHasher::new();
    h.update(data);
    h.finalize()
}

/// Streaming tree hasher in fixed memory.
///
/// Feed bytes in any split with [`update`](Self::update); the result does
/// not depend on how the input was cut. Precomputed hashes of consecutive
/// power-of-two-MiB parts can be pushed with [`push_subtree`](Self::push_subtree)
/// and a last part of any size with [`finish_with`](Self::finish_with): the
/// root is the same as hashing every byte (docs/protocol.md §4.2). Bytes and subtrees
/// can be mixed, as long as subtrees start on a whole leaf.
///
/// ```
/// use glacier_verify_core::{TreeHasher, tree_hash, LEAF_SIZE};
/// let data = vec![7u8; 3 * LEAF_SIZE as usize + 5];
/// let mut h = TreeHasher::new();
/// for piece in data.chunks(4096) {
///     h.update(piece);
/// }
/// assert_eq!(h.finalize(), tree_hash(&data));
///
/// // The same root from the hashes of a 2 MiB part and of the rest.
/// let (head, tail) = data.split_at(2 * LEAF_SIZE as usize);
/// let mut composed = TreeHasher::new();
/// composed.push_subtree(tree_hash(head), head.len() as u64).unwrap();
/// assert_eq!(composed.finish_with(tree_hash(tail), tail.len() as u64).unwrap(), tree_hash(&data));
/// ```
#[derive(Clone)]
pub struct TreeHasher {
    /// SHA-256 of the open (incomplete) leaf.
    leaf: Sha256,
    /// Bytes in the open leaf, always below `LEAF_SIZE`.
    leaf_fill: u32,
    /// Complete leaves so far; the set bits give the pending subtrees.
    leaves: u64,
    /// Roots of the pending perfect subtrees, largest first.
    stack: [[u8; 32]; MAX_DEPTH],
    /// Entries of `stack` in use (= set bits of `leaves`).
    depth: u8,
    /// Set when input went past 2⁶⁴−1 bytes; see [`update`](Self::update).
    too_long: bool,
}

impl Default for TreeHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TreeHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeHasher")
            .field("bytes", &self.bytes())
            .field("depth", &self.depth)
            .finish()
    }
}

impl TreeHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        TreeHasher {
            leaf: Sha256::new(),
            leaf_fill: 0,
            leaves: 0,
            stack: [[0; 32]; MAX_DEPTH],
            depth: 0,
            too_long: false,
        }
    }

    /// Bytes hashed so far (including the bytes of pushed subtrees).
    pub fn bytes(&self) -> u64 {
        // leaves < 2^44 and leaf_fill < 2^20: never overflows.
        self.leaves
            .saturating_mul(LEAF_SIZE)
            .saturating_add(u64::from(self.leaf_fill))
    }

    /// Whether the input went past 2⁶⁴−1 bytes (then the digest is
    /// meaningless). Unreachable through the [`Verifier`](crate::Verifier),
    /// which never accepts more bytes than a `Content-Length`.
    pub fn is_too_long(&self) -> bool {
        self.too_long
    }

    /// Hashes more bytes. Leaves close at exact 1 MiB boundaries whatever the
    /// size of `data` (docs/protocol.md §4.1, "streaming form").
    ///
    /// Bytes beyond a total of 2⁶⁴−1 are outside the tree hash's domain: they
    /// are dropped and [`is_too_long`](Self::is_too_long) turns true; the
    /// `embedded_io::Write` implementation reports [`Error::InputTooLong`].
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = LEAF_SIZE_U32.saturating_sub(self.leaf_fill);
            let take = data.len().min(room as usize);
            let (now, rest) = data.split_at(take);
            self.leaf.update(now);
            // take <= room < 2^20, fits u32.
            self.leaf_fill = self.leaf_fill.saturating_add(take as u32);
            data = rest;
            if self.leaf_fill == LEAF_SIZE_U32 {
                let digest = Digest(core::mem::take(&mut self.leaf).finalize().into());
                self.leaf_fill = 0;
                if self.push_node(digest, 0).is_err() {
                    self.too_long = true;
                    return;
                }
            }
        }
    }

    /// Adds the root of a perfect subtree of `1 << level` leaves; the leaf
    /// count must be a multiple of that size. Merges equal-sized neighbours:
    /// the number of merges is the count of trailing one bits of the leaf
    /// count in units of the subtree.
    fn push_node(&mut self, digest: Digest, level: u32) -> Result<(), Error> {
        let span = 1u64.checked_shl(level).ok_or(Error::InputTooLong)?;
        let new_leaves = self
            .leaves
            .checked_add(span)
            .filter(|n| *n <= MAX_LEAVES)
            .ok_or(Error::InputTooLong)?;
        let mut node = digest;
        let mut count = self.leaves;
        let mut lvl = level;
        while count != 0 && count.trailing_zeros() == lvl {
            let top = self.pop().ok_or(Error::SubtreeMisaligned)?;
            node = combine(&Digest(top), &node);
            count &= count.wrapping_sub(1); // clear the lowest set bit
            lvl = lvl.saturating_add(1);
        }
        let slot = self
            .stack
            .get_mut(usize::from(self.depth))
            .ok_or(Error::InputTooLong)?;
        *slot = node.0;
        self.depth = self.depth.saturating_add(1);
        self.leaves = new_leaves;
        Ok(())
    }

    fn pop(&mut self) -> Option<[u8; 32]> {
        self.depth = self.depth.checked_sub(1)?;
        self.stack.get(usize::from(self.depth)).copied()
    }

    /// Adds the tree hash of the next part of the input, computed elsewhere
    /// (another thread, an earlier run, the server's per-part header).
    ///
    /// `byte_len` must be a power-of-two number of MiB (1, 2, 4, … MiB) and
    /// the bytes hashed so far a multiple of it: only then is the part a
    /// node of the whole tree (docs/protocol.md §4.2, §4.3). A last part of any other
    /// size goes through [`finish_with`](Self::finish_with).
    pub fn push_subtree(&mut self, digest: Digest, byte_len: u64) -> Result<(), Error> {
        if self.leaf_fill != 0 {
            return Err(Error::SubtreeAfterPartialLeaf);
        }
        if byte_len == 0 {
            return Err(Error::EmptySubtree);
        }
        // LEAF_SIZE is a non-zero constant: the shift is the division.
        let span = byte_len >> LEAF_SIZE.trailing_zeros();
        if !byte_len.is_multiple_of(LEAF_SIZE) || !span.is_power_of_two() {
            return Err(Error::SubtreeNotPowerOfTwo);
        }
        if !self.leaves.is_multiple_of(span) {
            return Err(Error::SubtreeMisaligned);
        }
        self.push_node(digest, span.trailing_zeros())
    }

    /// Adds the tree hash of the last part of the input — `byte_len` bytes,
    /// any size — and returns the root.
    ///
    /// The part's own tree must be the right edge of the whole tree: the
    /// bytes hashed so far must be a multiple of the part's size rounded up
    /// to a power-of-two MiB (docs/protocol.md §4.2). Otherwise
    /// [`Error::SubtreeMisaligned`]; composing anyway would give a
    /// different root (botocore#1396).
    pub fn finish_with(self, digest: Digest, byte_len: u64) -> Result<Digest, Error> {
        if self.leaf_fill != 0 {
            return Err(Error::SubtreeAfterPartialLeaf);
        }
        if byte_len == 0 {
            return Err(Error::EmptySubtree);
        }
        let leaves = byte_len.div_ceil(LEAF_SIZE);
        let span = leaves
            .checked_next_power_of_two()
            .ok_or(Error::InputTooLong)?;
        if !self.leaves.is_multiple_of(span) {
            return Err(Error::SubtreeMisaligned);
        }
        // The whole input must stay within 2⁶⁴−1 bytes, the same limit as
        // `update`: counting the tail in leaves would refuse a short last
        // leaf that still fits.
        if self.bytes().checked_add(byte_len).is_none() {
            return Err(Error::InputTooLong);
        }
        Ok(self.fold(digest))
    }

    /// The tree hash of everything fed so far.
    pub fn finalize(mut self) -> Digest {
        self.root()
    }

    /// [`finalize`](Self::finalize) in place, for callers that drop the
    /// hasher afterwards: a by-value call would first copy the 1.5 KB state
    /// on the stack, which a gateway's stack budget feels.
    pub(crate) fn root(&mut self) -> Digest {
        if self.leaf_fill == 0 && self.leaves != 0 {
            // Input ended on a leaf boundary: the last leaf is on the stack.
            let Some(last) = self.pop() else {
                return Digest([0; 32]);
            };
            return self.fold(Digest(last));
        }
        // Close the open leaf; with no input at all it is SHA-256("").
        let last = Digest(core::mem::take(&mut self.leaf).finalize().into());
        self.fold(last)
    }

    /// Folds the pending subtrees right to left onto `acc`, the rightmost node.
    fn fold(&self, mut acc: Digest) -> Digest {
        let used = self.stack.get(..usize::from(self.depth)).unwrap_or(&[]);
        for left in used.iter().rev() {
            acc = combine(&Digest(*left), &acc);
        }
        acc
    }
}

impl embedded_io::ErrorType for TreeHasher {
    type Error = Error;
}

impl embedded_io::Write for TreeHasher {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.update(buf);
        if self.too_long {
            return Err(Error::InputTooLong);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
