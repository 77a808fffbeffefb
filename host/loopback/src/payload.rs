//! Archive contents: bytes in memory, or a deterministic pattern computed
//! from the offset so multi-GiB archives take no memory; and their tree
//! hashes (docs/protocol.md §4.1), computed once per payload from cached 1 MiB leaf
//! digests so any tree-hash-aligned range (docs/protocol.md §4.3) costs a fold of
//! leaf digests, not a re-read.

use std::sync::Arc;
use std::thread;

use glacier_verify_core::{Digest, LEAF_SIZE, TreeHasher, combine, leaf_hash};

/// `LEAF_SIZE` as a buffer length.
const LEAF: usize = LEAF_SIZE as usize;

/// The bytes of an archive (or any job output).
///
/// ```
/// use glacier_verify_loopback::Payload;
/// let p = Payload::Pattern { len: 10, seed: 7 };
/// let mut all = [0u8; 10];
/// assert_eq!(p.read_at(0, &mut all), 10);
/// let mut tail = [0u8; 4];
/// assert_eq!(p.read_at(6, &mut tail), 4);
/// assert_eq!(&all[6..], &tail);
/// assert_eq!(p.tree_hash(), glacier_verify_core::tree_hash(&p.to_vec()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Bytes held in memory.
    Bytes(Arc<[u8]>),
    /// `len` pseudo-random bytes: byte `i` is a pure function of `seed` and
    /// `i`, so any offset is produced without the bytes before it. A
    /// SplitMix64 block of 4 KiB per seed, repeated, each repetition
    /// starting with 8 bytes derived from its index: no two 4 KiB blocks
    /// are equal, so a client that writes a part to the wrong place is
    /// caught by the hash, and filling is a `memcpy` (fast in debug builds).
    Pattern {
        /// Length in bytes.
        len: u64,
        /// Selects the byte stream.
        seed: u64,
    },
}

impl Payload {
    /// An in-memory payload.
    pub fn bytes(data: impl Into<Arc<[u8]>>) -> Self {
        Payload::Bytes(data.into())
    }

    /// A generated payload of `len` bytes (see [`Payload::Pattern`]).
    pub fn pattern(len: u64, seed: u64) -> Self {
        Payload::Pattern { len, seed }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::Pattern { len, .. } => *len,
        }
    }

    /// Whether the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the bytes from `offset` into `buf`; returns how many were
    /// copied (fewer than `buf.len()` only at the end, 0 at or past it).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let avail = self.len().saturating_sub(offset);
        let n = buf.len().min(usize::try_from(avail).unwrap_or(usize::MAX));
        let out = &mut buf[..n];
        match self {
            Payload::Bytes(b) => {
                // offset < len here whenever n > 0.
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                if n > 0 {
                    out.copy_from_slice(&b[start..start + n]);
                }
            }
            Payload::Pattern { seed, .. } => fill_pattern(*seed, offset, out),
        }
        n
    }

    /// All the bytes in a `Vec` (for tests; a big pattern needs that much memory).
    pub fn to_vec(&self) -> Vec<u8> {
        self.range_to_vec(0, self.len())
    }

    /// The bytes `[first, end)` in a `Vec`, clamped to the payload.
    pub fn range_to_vec(&self, first: u64, end: u64) -> Vec<u8> {
        let end = end.min(self.len());
        let len = usize::try_from(end.saturating_sub(first)).unwrap_or(usize::MAX);
        let mut v = vec![0u8; len];
        let n = self.read_at(first, &mut v);
        v.truncate(n);
        v
    }

    /// SHA-256 of every 1 MiB leaf (the last one may be shorter), computed
    /// on all cores. An empty payload has the one leaf SHA-256("") so that
    /// [`fold_leaves`] gives the empty input's tree hash (docs/protocol.md §4.1).
    pub fn leaf_hashes(&self) -> Vec<Digest> {
        let len = self.len();
        if len == 0 {
            return vec![leaf_hash(&[])];
        }
        let leaves = usize::try_from(len.div_ceil(LEAF_SIZE)).unwrap_or(usize::MAX);
        let threads = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(leaves);
        let mut out = vec![Digest([0; 32]); leaves];
        let per = leaves.div_ceil(threads);
        thread::scope(|s| {
            for (t, slots) in out.chunks_mut(per).enumerate() {
                s.spawn(move || {
                    let mut buf = vec![0u8; LEAF];
                    for (i, slot) in slots.iter_mut().enumerate() {
                        let leaf = (t * per + i) as u64;
                        let n = self.read_at(leaf * LEAF_SIZE, &mut buf);
                        *slot = leaf_hash(&buf[..n]);
                    }
                });
            }
        });
        out
    }

    /// The tree hash of the whole payload (docs/protocol.md §4.1).
    pub fn tree_hash(&self) -> Digest {
        fold_leaves(&self.leaf_hashes())
    }

    /// The tree hash of the bytes `[first, end)`, computed by reading them
    /// (use [`range_tree_hash`] with cached leaves when the range is
    /// leaf-aligned). `end` is clamped to the payload.
    pub fn tree_hash_of_range(&self, first: u64, end: u64) -> Digest {
        let end = end.min(self.len());
        let mut hasher = TreeHasher::new();
        let mut buf = vec![0u8; crate::server::CHUNK];
        let mut pos = first;
        while pos < end {
            let want = usize::try_from(end - pos)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let n = self.read_at(pos, &mut buf[..want]);
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            pos += n as u64;
        }
        hasher.finalize()
    }
}

/// The tree hash from leaf digests, in order: pair neighbours level by
/// level, an odd last node promoted unchanged (docs/protocol.md §4.1). No leaves is the
/// empty input, SHA-256("").
pub fn fold_leaves(leaves: &[Digest]) -> Digest {
    if leaves.is_empty() {
        return leaf_hash(&[]);
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => combine(l, r),
                // chunks(2): the only other shape is the odd last node.
                _ => pair[0],
            })
            .collect();
    }
    level[0]
}

/// The tree hash of `payload[first..end)` given its cached
/// [`leaf digests`](Payload::leaf_hashes): a fold of cached leaves when the
/// range starts on a leaf and ends on a leaf or at the payload's end (every
/// tree-hash-aligned range does), otherwise read and hashed.
pub fn range_tree_hash(payload: &Payload, leaves: &[Digest], first: u64, end: u64) -> Digest {
    let len = payload.len();
    let end = end.min(len);
    if first >= end {
        return leaf_hash(&[]);
    }
    if first.is_multiple_of(LEAF_SIZE) && (end.is_multiple_of(LEAF_SIZE) || end == len) {
        let a = usize::try_from(first / LEAF_SIZE).unwrap_or(usize::MAX);
        let b = usize::try_from(end.div_ceil(LEAF_SIZE)).unwrap_or(usize::MAX);
        if let Some(span) = leaves.get(a..b) {
            return fold_leaves(span);
        }
    }
    payload.tree_hash_of_range(first, end)
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Pattern block size: the pattern is a per-seed random block repeated,
/// each repetition stamped with 8 bytes derived from its index.
const BLOCK: usize = 4096;

/// The per-seed block, regenerated per call (512 SplitMix64 outputs).
fn base_block(key: u64) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    for (i, word) in block.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&mix(key.wrapping_add(i as u64)).to_le_bytes());
    }
    block
}

/// Fills `out` with pattern bytes starting at `offset`. Built from
/// `memcpy`s of one block so it is fast even in unoptimised test builds.
fn fill_pattern(seed: u64, offset: u64, out: &mut [u8]) {
    let key = mix(seed ^ 0x5EED_5EED_5EED_5EED);
    let stamp_key = key.rotate_left(17) ^ 0xA5A5_A5A5_A5A5_A5A5;
    let base = base_block(key);
    let mut pos = offset;
    let mut rest = out;
    while !rest.is_empty() {
        let index = pos / BLOCK as u64;
        let within = (pos % BLOCK as u64) as usize;
        let n = (BLOCK - within).min(rest.len());
        let (dst, tail) = rest.split_at_mut(n);
        dst.copy_from_slice(&base[within..within + n]);
        if within < 8 {
            let stamp = mix(index ^ stamp_key).to_le_bytes();
            let m = (8 - within).min(n);
            dst[..m].copy_from_slice(&stamp[within..within + m]);
        }
        rest = tail;
        pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glacier_verify_core::tree_hash;

    #[test]
    fn pattern_reads_agree_at_any_split() {
        let size = 3 * BLOCK as u64 + 100;
        let p = Payload::pattern(size, 42);
        let all = p.to_vec();
        assert_eq!(all.len() as u64, size);
        let b = BLOCK as u64;
        for start in [
            0u64,
            1,
            7,
            8,
            9,
            15,
            500,
            b - 3,
            b,
            b + 5,
            2 * b - 1,
            size - 1,
            size,
            size + 9,
        ] {
            for len in [0usize, 1, 3, 8, 17, 64, BLOCK + 9, 3 * BLOCK] {
                let mut buf = vec![0u8; len];
                let n = p.read_at(start, &mut buf);
                let s = start.min(size) as usize;
                let e = (s + len).min(size as usize);
                assert_eq!(n, e - s);
                assert_eq!(&buf[..n], &all[s..e], "start {start} len {len}");
            }
        }
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(
            Payload::pattern(64, 1).to_vec(),
            Payload::pattern(64, 2).to_vec()
        );
        // No short period: no two 4 KiB blocks are equal.
        let v = Payload::pattern(2 << 20, 3).to_vec();
        let mut blocks: Vec<&[u8]> = v.chunks(BLOCK).collect();
        blocks.sort();
        blocks.dedup();
        assert_eq!(blocks.len(), (2 << 20) / BLOCK);
    }

    #[test]
    fn tree_hashes_match_core() {
        for len in [
            0u64,
            1,
            LEAF_SIZE - 1,
            LEAF_SIZE,
            LEAF_SIZE + 1,
            3 * LEAF_SIZE + 17,
            5 * LEAF_SIZE,
        ] {
            let p = Payload::pattern(len, len);
            let bytes = p.to_vec();
            let expect = tree_hash(&bytes);
            assert_eq!(p.tree_hash(), expect, "len {len}");
            assert_eq!(Payload::bytes(bytes.clone()).tree_hash(), expect);
            assert_eq!(p.tree_hash_of_range(0, len), expect);
        }
    }

    #[test]
    fn range_hashes_from_leaves_match_reading() {
        let len = 6 * LEAF_SIZE + LEAF_SIZE / 2;
        let p = Payload::pattern(len, 9);
        let leaves = p.leaf_hashes();
        let bytes = p.to_vec();
        let m = LEAF_SIZE;
        for (a, b) in [
            (0, len),
            (2 * m, 4 * m),
            (m, 3 * m),
            (4 * m, len),
            (6 * m, len),
            (5, 3 * m),
            (m, m + 10),
            (0, 0),
        ] {
            let expect = tree_hash(&bytes[a as usize..b as usize]);
            assert_eq!(range_tree_hash(&p, &leaves, a, b), expect, "[{a},{b})");
        }
    }

    #[test]
    fn spec_vector_a_times_4mib_plus_20() {
        // docs/protocol.md §7: b'a' * (4194304 + 20).
        let p = Payload::bytes(vec![b'a'; 4_194_304 + 20]);
        assert_eq!(
            p.tree_hash().to_string(),
            "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f"
        );
    }
}
