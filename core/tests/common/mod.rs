//! Shared helpers of the integration tests: the plain reference tree hash
//! (the oracle, docs/protocol.md §4.1 read literally), the node spans of a tree (the
//! oracle for alignment, docs/protocol.md §4.3's definition), input generators and a
//! reader that hands out at most N bytes per call.
#![allow(dead_code)] // each test binary uses a different subset

use sha2::{Digest as _, Sha256};

/// 1 MiB, the Glacier leaf.
pub const MIB: usize = 1 << 20;
/// 1 MiB as `u64`.
pub const MIB64: u64 = 1 << 20;

/// Plain SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256(left ‖ right).
pub fn sha256_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The tree hash exactly as docs/protocol.md §4.1 words it: hash every `leaf`-byte
/// chunk (the last may be shorter), then pair neighbours level by level,
/// promoting an odd last node unchanged, until one node is left. The empty
/// input hashes to SHA-256 of nothing.
pub fn reference_tree_hash_with_leaf(data: &[u8], leaf: usize) -> [u8; 32] {
    if data.is_empty() {
        return sha256(b"");
    }
    let mut level: Vec<[u8; 32]> = data.chunks(leaf).map(sha256).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => sha256_pair(left, right),
                [only] => *only,
                _ => unreachable!(),
            })
            .collect();
    }
    level[0]
}

/// The reference tree hash with Glacier's 1 MiB leaves.
pub fn reference_tree_hash(data: &[u8]) -> [u8; 32] {
    reference_tree_hash_with_leaf(data, MIB)
}

/// The byte spans `[start, end)` of every node of the tree built over
/// `size` bytes with `leaf`-byte leaves, built the same level-by-level way
/// as the reference hash (pair, promote the odd one). A promoted node keeps
/// its span, so it appears once.
pub fn node_spans(size: u64, leaf: u64) -> std::collections::HashSet<(u64, u64)> {
    let mut all = std::collections::HashSet::new();
    let mut level: Vec<(u64, u64)> = (0..size.div_ceil(leaf))
        .map(|i| (i * leaf, ((i + 1) * leaf).min(size)))
        .collect();
    all.extend(level.iter().copied());
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    assert_eq!(l.1, r.0);
                    (l.0, r.1)
                }
                [only] => *only,
                _ => unreachable!(),
            })
            .collect();
        all.extend(level.iter().copied());
    }
    all
}

/// Lowercase hex of 32 bytes.
pub fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic pseudo-random bytes (xorshift64*), fast enough in debug builds.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `bytes(i % 251 for i in range(len))`, the docs/protocol.md §7 sub-range input.
pub fn mod251(len: usize) -> Vec<u8> {
    let cycle: Vec<u8> = (0..251u8).collect();
    let mut out = cycle.repeat(len / 251 + 1);
    out.truncate(len);
    out
}

/// A reader that returns at most `max` bytes per `read`, to split heads and
/// bodies across reads the way a socket does.
pub struct Trickle<'a> {
    pub data: &'a [u8],
    pub max: usize,
    pub reads: usize,
}

impl<'a> Trickle<'a> {
    pub fn new(data: &'a [u8], max: usize) -> Self {
        Trickle {
            data,
            max,
            reads: 0,
        }
    }
}

impl embedded_io::ErrorType for Trickle<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.reads += 1;
        let n = buf.len().min(self.max).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
