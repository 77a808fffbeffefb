//! The tree hash against docs/protocol.md §4.1 and §7: every published vector (as data,
//! `tests/data/tree_hash_vectors.txt`), the structural vectors, the plain
//! reference implementation as an oracle for the streaming hasher, and
//! subtree composition (docs/protocol.md §4.2) with its refusals.

mod common;

use common::{
    MIB, MIB64, hex, mod251, pseudo_random, reference_tree_hash, reference_tree_hash_with_leaf,
    sha256, sha256_pair,
};
use glacier_verify_core::{Digest, Error, LEAF_SIZE, TreeHasher, combine, leaf_hash, tree_hash};
use proptest::prelude::*;

// --- the vector file -----------------------------------------------------------------------------

/// A hash as the vector file writes it: all 64 digits, or only the ends.
#[derive(Debug)]
enum Expected {
    Full(String),
    Ends(String, String),
}

impl Expected {
    fn parse(field: &str) -> Expected {
        match field.split_once("..") {
            Some((prefix, suffix)) => Expected::Ends(prefix.into(), suffix.into()),
            None => {
                assert_eq!(field.len(), 64, "bad hash field {field:?}");
                Expected::Full(field.into())
            }
        }
    }

    fn matches(&self, hex: &str) -> bool {
        match self {
            Expected::Full(h) => hex == h,
            Expected::Ends(p, s) => hex.starts_with(p.as_str()) && hex.ends_with(s.as_str()),
        }
    }
}

struct Vector {
    name: String,
    input: String,
    len: usize,
    tree: Expected,
    /// `None` = not published.
    linear: Option<Expected>,
}

fn load_vectors() -> Vec<Vector> {
    let text = include_str!("data/tree_hash_vectors.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split(" | ").map(str::trim).collect();
            assert_eq!(fields.len(), 6, "malformed vector line {line:?}");
            let tree = Expected::parse(fields[3]);
            let linear = match fields[4] {
                "-" => None,
                "same" => Some(Expected::parse(fields[3])),
                other => Some(Expected::parse(other)),
            };
            Vector {
                name: fields[0].into(),
                input: fields[1].into(),
                len: fields[2].parse().unwrap(),
                tree,
                linear,
            }
        })
        .collect()
}

/// Runs one generator term (see the file's header).
fn generate_term(term: &str) -> Vec<u8> {
    let (body, slice) = match term.rsplit_once('[') {
        Some((body, range)) if term.ends_with(']') => {
            let (a, b) = range.trim_end_matches(']').split_once("..").unwrap();
            (
                body,
                Some((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap())),
            )
        }
        _ => (term, None),
    };
    let bytes = if let Some(n) = body.strip_prefix("mod251(") {
        mod251(n.trim_end_matches(')').parse().unwrap())
    } else {
        let close = body[1..].find('"').unwrap() + 1;
        assert!(body.starts_with('"'), "bad term {term:?}");
        let text = &body.as_bytes()[1..close];
        let rest = &body[close + 1..];
        if rest.is_empty() {
            text.to_vec()
        } else if let Some(n) = rest.strip_prefix("*>=") {
            let n: usize = n.parse().unwrap();
            text.repeat(n.div_ceil(text.len()))
        } else if let Some(n) = rest.strip_prefix('*') {
            text.repeat(n.parse().unwrap())
        } else {
            panic!("bad term {term:?}");
        }
    };
    match slice {
        Some((a, b)) => bytes[a..b].to_vec(),
        None => bytes,
    }
}

fn generate(input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for term in input.split(" + ") {
        out.extend_from_slice(&generate_term(term));
    }
    out
}

#[test]
fn vector_file_covers_spec_section_7() {
    let vectors = load_vectors();
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    for required in [
        "empty",
        "a*1024",
        "a*1MiB",
        "a*2MiB",
        "a*4MiB",
        "a*(4MiB+20)",
        "0*5.5MiB",
        "hello world",
        "Hello World",
        "01245678912 repeated",
        "mt-aws 114 bytes",
        "Welcome to Amazon Glacier.",
        "a*1",
        "a*(1MiB-1)",
        "a*(1MiB+1)",
        "a*3MiB",
        "a*5MiB",
        "a*(7MiB+1)",
        "mod251 6.5MiB",
        "mod251 [2MiB,4MiB)",
        "mod251 [4MiB,end)",
        "fog xyzt",
        "fog xyz",
    ] {
        assert!(names.contains(&required), "vector {required:?} missing");
    }
}

#[test]
fn published_vectors() {
    let mut failures = Vec::new();
    for v in load_vectors() {
        let data = generate(&v.input);
        if data.len() != v.len {
            failures.push(format!(
                "{}: generated {} bytes, want {}",
                v.name,
                data.len(),
                v.len
            ));
            continue;
        }
        // The "linear" column proves the input is generated right, independently
        // of any tree hash code.
        if let Some(linear) = &v.linear {
            let got = hex(&sha256(&data));
            if !linear.matches(&got) {
                failures.push(format!("{}: linear SHA-256 {got}, want {linear:?}", v.name));
            }
        }
        // One-shot, streaming in an awkward split, the Write impl, and the oracle.
        let one_shot = tree_hash(&data).to_hex();
        let mut streaming = TreeHasher::new();
        for piece in data.chunks(MIB / 3 + 7) {
            streaming.update(piece);
        }
        let streaming = streaming.finalize().to_hex();
        let reference = hex(&reference_tree_hash(&data));
        for (how, got) in [
            ("tree_hash", one_shot.as_str()),
            ("streaming", streaming.as_str()),
            ("reference", reference.as_str()),
        ] {
            if !v.tree.matches(got) {
                failures.push(format!("{} ({how}): {got}, want {:?}", v.name, v.tree));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mod251_whole_is_the_parent_of_its_aligned_halves() {
    // docs/protocol.md §7: SHA256(th[0,4MiB) ‖ th[4MiB,end)) = whole hash.
    let data = mod251(6 * MIB + MIB / 2);
    let left = tree_hash(&data[..4 * MIB]);
    let right = tree_hash(&data[4 * MIB..]);
    assert_eq!(
        right.to_hex().as_str(),
        "3e997f13ddc355e8a55035672d60ba90275ece6485044b3616a0966e2b895fc1"
    );
    let whole = combine(&left, &right);
    assert_eq!(
        whole.to_hex().as_str(),
        "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f"
    );
    assert_eq!(whole, tree_hash(&data));
    assert_eq!(whole.0, sha256_pair(&left.0, &right.0));
}

// --- structural vectors ----------------------------------------------------------------------

#[test]
fn fog_structure_x_y_z_t() {
    // fog builds expectations from 1 MiB blocks: H(H(Hx‖Hy)‖H(Hz‖Ht)) and,
    // for three blocks, the odd z promoted: H(H(Hx‖Hy)‖Hz).
    let block = |c: u8| vec![c; MIB];
    let (hx, hy, hz, ht) = (
        sha256(&block(b'x')),
        sha256(&block(b'y')),
        sha256(&block(b'z')),
        sha256(&block(b't')),
    );
    let xyzt = [block(b'x'), block(b'y'), block(b'z'), block(b't')].concat();
    let expected4 = sha256_pair(&sha256_pair(&hx, &hy), &sha256_pair(&hz, &ht));
    assert_eq!(tree_hash(&xyzt).0, expected4);
    let expected3 = sha256_pair(&sha256_pair(&hx, &hy), &hz);
    assert_eq!(tree_hash(&xyzt[..3 * MIB]).0, expected3);
    // Promoted, not re-hashed and not duplicated.
    assert_ne!(
        tree_hash(&xyzt[..3 * MIB]).0,
        sha256_pair(&sha256_pair(&hx, &hy), &sha256(&hz))
    );
    assert_ne!(
        tree_hash(&xyzt[..3 * MIB]).0,
        sha256_pair(&sha256_pair(&hx, &hy), &sha256_pair(&hz, &hz))
    );
}

#[test]
fn go1_compute_tree_hash_structure() {
    // GO1 TestComputeHashes: ComputeTreeHash([H("h1"), H("h2")]) = H(H1‖H2);
    // three leaf hashes → H(H(H1‖H2)‖H3). Leaf digests go in as 1-MiB subtrees.
    let h = |s: &[u8]| Digest(sha256(s));
    let (h1, h2, h3) = (h(b"h1"), h(b"h2"), h(b"h3"));
    let mut t = TreeHasher::new();
    t.push_subtree(h1, LEAF_SIZE).unwrap();
    t.push_subtree(h2, LEAF_SIZE).unwrap();
    assert_eq!(t.clone().finalize().0, sha256_pair(&h1.0, &h2.0));
    t.push_subtree(h3, LEAF_SIZE).unwrap();
    assert_eq!(
        t.finalize().0,
        sha256_pair(&sha256_pair(&h1.0, &h2.0), &h3.0)
    );
}

#[test]
fn rust_compute_tree_digest_structure() {
    // smithy-rs compute_tree_digest: "1234567891011" with 3-byte chunks →
    // H(H(H(H("123")‖H("456"))‖H(H("789")‖H("101")))‖H("1")).
    let data = b"1234567891011";
    let h = |s: &[u8]| sha256(s);
    let expected = sha256_pair(
        &sha256_pair(
            &sha256_pair(&h(b"123"), &h(b"456")),
            &sha256_pair(&h(b"789"), &h(b"101")),
        ),
        &h(b"1"),
    );
    assert_eq!(reference_tree_hash_with_leaf(data, 3), expected);
    // The same shape through the public composition API: four leaf digests
    // as 1-leaf subtrees, and a short last leaf.
    let mut t = TreeHasher::new();
    for leaf in data.chunks(3).take(4) {
        t.push_subtree(leaf_hash(leaf), LEAF_SIZE).unwrap();
    }
    assert_eq!(t.finish_with(leaf_hash(b"1"), 1).unwrap().0, expected);
}

#[test]
fn small_inputs_are_plain_sha256_and_empty_is_sha256_of_nothing() {
    // docs/protocol.md §4.1: no domain separation, so ≤ 1 MiB is plain SHA-256.
    for len in [0usize, 1, 55, 56, 63, 64, 65, 4096, MIB - 1, MIB] {
        let data = pseudo_random(len, len as u64);
        assert_eq!(tree_hash(&data).0, sha256(&data), "len {len}");
        assert_eq!(leaf_hash(&data).0, sha256(&data), "len {len}");
    }
    assert_eq!(
        TreeHasher::new().finalize().to_hex().as_str(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // One byte more and it is not.
    let data = pseudo_random(MIB + 1, 9);
    assert_ne!(tree_hash(&data).0, sha256(&data));
}

// --- streaming hasher == reference -------------------------------------------------------------

/// Streams `data` in pieces of the given sizes (cycled) and returns the digest.
fn stream_in(data: &[u8], pieces: &[usize]) -> Digest {
    let mut h = TreeHasher::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces[i % pieces.len()].min(rest.len());
        h.update(&rest[..n]);
        // Empty updates are no-ops.
        h.update(&[]);
        rest = &rest[n..];
        i += 1;
        assert_eq!(h.bytes(), (data.len() - rest.len()) as u64);
    }
    h.finalize()
}

#[test]
fn streaming_equals_reference_around_every_leaf_boundary() {
    let data = pseudo_random(9 * MIB + 1, 0x5eed);
    let mut lengths = vec![0, 1, 2];
    for k in 1..=9 {
        lengths.extend([k * MIB - 1, k * MIB, k * MIB + 1]);
    }
    for len in lengths {
        let input = &data[..len];
        let reference = reference_tree_hash(input);
        assert_eq!(tree_hash(input).0, reference, "len {len}, one shot");
        for pieces in [
            &[4096usize][..],
            &[MIB - 1],
            &[MIB + 1],
            &[3 * MIB + 5, 1, 17],
        ] {
            assert_eq!(
                stream_in(input, pieces).0,
                reference,
                "len {len}, pieces {pieces:?}"
            );
        }
        if len <= 2 * MIB + 1 {
            assert_eq!(
                stream_in(input, &[7]).0,
                reference,
                "len {len}, 7-byte pieces"
            );
        }
    }
}

#[test]
fn write_impl_equals_update() {
    use embedded_io::Write;
    let data = pseudo_random(5 * MIB + 123, 77);
    let mut h = TreeHasher::new();
    for piece in data.chunks(65_537) {
        assert_eq!(h.write(piece).unwrap(), piece.len());
    }
    h.flush().unwrap();
    assert!(!h.is_too_long());
    assert_eq!(h.finalize().0, reference_tree_hash(&data));

    let mut h = TreeHasher::new();
    h.write_all(&data).unwrap();
    assert_eq!(h.finalize().0, reference_tree_hash(&data));
}

#[test]
fn clone_mid_stream_is_an_independent_snapshot() {
    let data = pseudo_random(4 * MIB + 10, 3);
    let mut h = TreeHasher::new();
    h.update(&data[..2 * MIB + 5]);
    let snapshot = h.clone();
    h.update(&data[2 * MIB + 5..]);
    assert_eq!(h.finalize().0, reference_tree_hash(&data));
    assert_eq!(
        snapshot.finalize().0,
        reference_tree_hash(&data[..2 * MIB + 5])
    );
}

proptest! {
    // Each case hashes up to ~10 MiB twice: few cases keep the suite fast.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn streaming_equals_reference_for_random_lengths_and_splits(
        len in 0usize..=10 * MIB,
        seed in any::<u64>(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..24),
    ) {
        let data = pseudo_random(len, seed);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
        cuts.push(0);
        cuts.push(len);
        cuts.sort_unstable();
        let mut h = TreeHasher::new();
        for w in cuts.windows(2) {
            h.update(&data[w[0]..w[1]]);
        }
        prop_assert_eq!(h.bytes(), len as u64);
        prop_assert_eq!(h.finalize().0, reference_tree_hash(&data));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The same property with a scaled-down leaf: the reference with 4-byte
    /// leaves against the composition of the core's `combine`, over many more
    /// shapes than full-size data allows (the tree shape only depends on the
    /// leaf count).
    #[test]
    fn composition_of_leaf_digests_equals_reference_shape(
        len in 0usize..=400,
        seed in any::<u64>(),
    ) {
        let data = pseudo_random(len, seed);
        let mut t = TreeHasher::new();
        let leaves: Vec<&[u8]> = data.chunks(4).collect();
        let expected = reference_tree_hash_with_leaf(&data, 4);
        let got = match leaves.split_last() {
            None => t.finalize(),
            Some((last, init)) => {
                for leaf in init {
                    t.push_subtree(leaf_hash(leaf), LEAF_SIZE).unwrap();
                }
                t.finish_with(leaf_hash(last), last.len() as u64).unwrap()
            }
        };
        prop_assert_eq!(got.0, expected);
    }
}

// --- composition (docs/protocol.md §4.2) -----------------------------------------------------------------

/// Total sizes for the composition tests: around leaf and part boundaries.
fn composition_sizes() -> Vec<usize> {
    vec![
        1,
        MIB - 1,
        MIB,
        MIB + 1,
        2 * MIB,
        2 * MIB + 5,
        3 * MIB,
        3 * MIB + 1,
        4 * MIB,
        5 * MIB - 1,
        5 * MIB,
        6 * MIB + MIB / 2,
        7 * MIB,
        8 * MIB,
        8 * MIB + 1,
        9 * MIB,
        12 * MIB + 3,
        15 * MIB,
        16 * MIB,
        16 * MIB + 1,
        17 * MIB + 7,
    ]
}

#[test]
fn power_of_two_parts_compose_to_the_direct_hash() {
    let max = *composition_sizes().iter().max().unwrap();
    let data = pseudo_random(max, 0xc0ffee);
    for total in composition_sizes() {
        let input = &data[..total];
        let direct = tree_hash(input);
        assert_eq!(direct.0, reference_tree_hash(input), "total {total}");
        for part in [MIB, 2 * MIB, 4 * MIB, 8 * MIB] {
            let chunks: Vec<&[u8]> = input.chunks(part).collect();
            let (last, init) = chunks.split_last().unwrap();
            let mut h = TreeHasher::new();
            for chunk in init {
                h.push_subtree(tree_hash(chunk), chunk.len() as u64)
                    .unwrap();
            }
            assert_eq!(h.bytes(), (total - last.len()) as u64);
            // The last part through finish_with, whatever its size.
            let composed = h
                .clone()
                .finish_with(tree_hash(last), last.len() as u64)
                .unwrap();
            assert_eq!(composed, direct, "total {total}, part {part}");
            // A full-sized last part may also be pushed, then finalize.
            if last.len() == part {
                h.push_subtree(tree_hash(last), part as u64).unwrap();
                assert_eq!(h.bytes(), total as u64);
                assert_eq!(h.finalize(), direct, "total {total}, part {part}, pushed");
            }
        }
    }
}

#[test]
fn non_power_of_two_parts_give_a_different_hash_and_are_refused() {
    // docs/protocol.md §4.2: 3- and 6-MiB parts do not compose. Show it with the naive
    // composition (tree hash over the part hashes), then the refusal.
    let data = pseudo_random(12 * MIB + 100, 42);
    let direct = tree_hash(&data);
    for part in [3 * MIB, 6 * MIB] {
        let part_hashes: Vec<[u8; 32]> = data.chunks(part).map(|c| tree_hash(c).0).collect();
        let naive = {
            let mut level = part_hashes.clone();
            while level.len() > 1 {
                level = level
                    .chunks(2)
                    .map(|p| {
                        if p.len() == 2 {
                            sha256_pair(&p[0], &p[1])
                        } else {
                            p[0]
                        }
                    })
                    .collect();
            }
            level[0]
        };
        assert_ne!(naive, direct.0, "part {part}");
        let mut h = TreeHasher::new();
        assert_eq!(
            h.push_subtree(Digest(part_hashes[0]), part as u64),
            Err(Error::SubtreeNotPowerOfTwo)
        );
        // The refused push left the hasher untouched.
        assert_eq!(h.bytes(), 0);
    }
    // Not a whole number of MiB either.
    let mut h = TreeHasher::new();
    for len in [
        1,
        MIB64 - 1,
        MIB64 + 1,
        MIB64 + MIB64 / 2,
        5 * MIB64,
        12 * MIB64,
    ] {
        assert_eq!(
            h.push_subtree(direct, len),
            Err(Error::SubtreeNotPowerOfTwo),
            "len {len}"
        );
    }
    // While 1, 2, 4 … MiB are fine at offset 0.
    for k in 0..20 {
        assert!(TreeHasher::new().push_subtree(direct, MIB64 << k).is_ok());
    }
}

#[test]
fn parts_and_bytes_mix() {
    let data = pseudo_random(11 * MIB + 9, 5);
    let direct = tree_hash(&data);
    // bytes [0,2M), a 2 MiB part, bytes [4M,5M), a 1 MiB part, a 2 MiB part, bytes to the end.
    let mut h = TreeHasher::new();
    h.update(&data[..2 * MIB]);
    h.push_subtree(tree_hash(&data[2 * MIB..4 * MIB]), 2 * MIB64)
        .unwrap();
    h.update(&data[4 * MIB..5 * MIB]);
    h.push_subtree(tree_hash(&data[5 * MIB..6 * MIB]), MIB64)
        .unwrap();
    h.push_subtree(tree_hash(&data[6 * MIB..8 * MIB]), 2 * MIB64)
        .unwrap();
    h.update(&data[8 * MIB..]);
    assert_eq!(h.bytes(), data.len() as u64);
    assert_eq!(h.finalize(), direct);

    // Decreasing aligned parts 8, 2, 1 MiB, then a tail through finish_with.
    let mut h = TreeHasher::new();
    h.push_subtree(tree_hash(&data[..8 * MIB]), 8 * MIB64)
        .unwrap();
    h.push_subtree(tree_hash(&data[8 * MIB..10 * MIB]), 2 * MIB64)
        .unwrap();
    h.push_subtree(tree_hash(&data[10 * MIB..11 * MIB]), MIB64)
        .unwrap();
    assert_eq!(
        h.finish_with(tree_hash(&data[11 * MIB..]), 9).unwrap(),
        direct
    );

    // A part, then the rest as bytes.
    let mut h = TreeHasher::new();
    h.push_subtree(tree_hash(&data[..4 * MIB]), 4 * MIB64)
        .unwrap();
    h.update(&data[4 * MIB..]);
    assert_eq!(h.finalize(), direct);
}

#[test]
fn misaligned_parts_are_refused() {
    let d = tree_hash(b"x");
    // 1 MiB then 2 MiB: the 2 MiB part would cover leaves 1..3, not a node.
    let mut h = TreeHasher::new();
    h.push_subtree(d, MIB64).unwrap();
    assert_eq!(h.push_subtree(d, 2 * MIB64), Err(Error::SubtreeMisaligned));
    assert_eq!(h.bytes(), MIB64, "a refused part changes nothing");
    // 2 MiB then 4 MiB; 3 MiB of bytes then 2 MiB.
    let mut h = TreeHasher::new();
    h.push_subtree(d, 2 * MIB64).unwrap();
    assert_eq!(h.push_subtree(d, 4 * MIB64), Err(Error::SubtreeMisaligned));
    let mut h = TreeHasher::new();
    h.update(&vec![0; 3 * MIB]);
    assert_eq!(h.push_subtree(d, 2 * MIB64), Err(Error::SubtreeMisaligned));
    h.push_subtree(d, MIB64).unwrap();
    h.push_subtree(d, 4 * MIB64).unwrap();

    // finish_with: 2 MiB then a 3 MiB tail (rounds up to 4 MiB, 2 MiB is not a multiple).
    let mut h = TreeHasher::new();
    h.push_subtree(d, 2 * MIB64).unwrap();
    assert_eq!(
        h.clone().finish_with(d, 3 * MIB64),
        Err(Error::SubtreeMisaligned)
    );
    // 2 MiB then a 2 MiB + 1 byte tail (3 leaves → 4): refused; a 2 MiB tail is fine.
    assert_eq!(
        h.clone().finish_with(d, 2 * MIB64 + 1),
        Err(Error::SubtreeMisaligned)
    );
    assert!(h.clone().finish_with(d, 2 * MIB64).is_ok());
    assert!(h.finish_with(d, MIB64 + 1).is_ok());
}

#[test]
fn misaligned_tail_really_gives_a_different_root() {
    // Why finish_with refuses: 2 MiB + 3 MiB composed by folding is not the tree hash.
    let data = pseudo_random(5 * MIB, 8);
    let folded = combine(&tree_hash(&data[..2 * MIB]), &tree_hash(&data[2 * MIB..]));
    assert_ne!(folded, tree_hash(&data));
}

#[test]
fn parts_after_a_partial_leaf_and_empty_parts_are_refused() {
    let d = tree_hash(b"x");
    let mut h = TreeHasher::new();
    h.update(b"hello");
    assert_eq!(
        h.push_subtree(d, MIB64),
        Err(Error::SubtreeAfterPartialLeaf)
    );
    assert_eq!(
        h.clone().finish_with(d, 10),
        Err(Error::SubtreeAfterPartialLeaf)
    );
    // 1 MiB + 1 byte of bytes: still a partial leaf.
    let mut h = TreeHasher::new();
    h.update(&vec![1; MIB + 1]);
    assert_eq!(
        h.push_subtree(d, MIB64),
        Err(Error::SubtreeAfterPartialLeaf)
    );

    let mut h = TreeHasher::new();
    assert_eq!(h.push_subtree(d, 0), Err(Error::EmptySubtree));
    assert_eq!(h.clone().finish_with(d, 0), Err(Error::EmptySubtree));
    h.push_subtree(d, MIB64).unwrap();
    assert_eq!(h.finish_with(d, 0), Err(Error::EmptySubtree));
}

#[test]
fn finish_with_at_offset_zero_is_the_part_itself() {
    let d = tree_hash(b"anything");
    for len in [1, MIB64, 3 * MIB64 + 1, u64::MAX / 2] {
        assert_eq!(
            TreeHasher::new().finish_with(d, len).unwrap(),
            d,
            "len {len}"
        );
    }
}

// --- input length limits ---------------------------------------------------------------------

#[test]
fn composition_past_2_pow_64_bytes_is_input_too_long() {
    let d = tree_hash(b"x");
    let half = 1u64 << 63;
    let mut h = TreeHasher::new();
    h.push_subtree(d, half).unwrap();
    assert_eq!(h.bytes(), half);
    // A second 2^63 bytes would make 2^64.
    assert_eq!(h.push_subtree(d, half), Err(Error::InputTooLong));
    assert_eq!(h.clone().finish_with(d, half), Err(Error::InputTooLong));
    // 2^63 − 1 more bytes (total 2^64 − 1) is the largest input: allowed.
    assert!(h.clone().finish_with(d, half - 1).is_ok());
    // finish_with the whole domain from zero: 2^64 − 1 bytes is allowed.
    assert_eq!(TreeHasher::new().finish_with(d, u64::MAX), Ok(d));
    // A part of 2^64 − 2^20 bytes is not a power of two MiB.
    assert_eq!(
        TreeHasher::new().push_subtree(d, u64::MAX - (MIB64 - 1)),
        Err(Error::SubtreeNotPowerOfTwo)
    );
}

#[test]
fn bytes_past_2_pow_64_are_input_too_long() {
    use embedded_io::Write;
    // 44 pending subtrees of 2^63, 2^62, …, 2^20 bytes: a full stack, and
    // 2^64 − 2^20 bytes hashed.
    let d = tree_hash(b"x");
    let mut h = TreeHasher::new();
    for shift in (20..64).rev() {
        h.push_subtree(d, 1u64 << shift).unwrap();
    }
    assert_eq!(h.bytes(), u64::MAX - (MIB64 - 1));
    // Another 1 MiB part would overflow.
    assert_eq!(h.push_subtree(d, MIB64), Err(Error::InputTooLong));
    assert_eq!(h.clone().finish_with(d, MIB64), Err(Error::InputTooLong));
    assert!(h.clone().finish_with(d, MIB64 - 1).is_ok());
    // 2^20 − 1 bytes more fill the domain exactly …
    let tail = vec![0u8; MIB - 1];
    assert_eq!(h.write(&tail), Ok(tail.len()));
    assert_eq!(h.bytes(), u64::MAX);
    assert!(!h.is_too_long());
    let at_limit = h.clone().finalize();
    // … and the root is the fold of the 44 subtrees onto the tail leaf.
    let mut expected = leaf_hash(&tail);
    for _ in 0..44 {
        expected = combine(&d, &expected);
    }
    assert_eq!(at_limit, expected);
    // One more byte is past the domain.
    assert_eq!(h.write(b"!"), Err(Error::InputTooLong));
    assert!(h.is_too_long());
}

// --- digests as hex ----------------------------------------------------------------------------

const EMPTY_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn hex_parses_either_case_and_prints_lowercase() {
    let lower = Digest::from_hex(EMPTY_HEX.as_bytes()).unwrap();
    assert_eq!(lower.0, sha256(b""));
    let upper = Digest::from_hex(EMPTY_HEX.to_uppercase().as_bytes()).unwrap();
    let mixed: String = EMPTY_HEX
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    let mixed = Digest::from_hex(mixed.as_bytes()).unwrap();
    assert_eq!(lower, upper);
    assert_eq!(lower, mixed);
    assert_eq!(upper.to_hex().as_str(), EMPTY_HEX);
    assert_eq!(upper.to_string(), EMPTY_HEX);
    assert_eq!(format!("{:?}", upper.to_hex()), EMPTY_HEX);
    assert!(format!("{upper:?}").contains(EMPTY_HEX));
    // Every byte value round-trips.
    let all: [u8; 32] = core::array::from_fn(|i| (i * 8 + 7) as u8);
    for shift in 0..8u8 {
        let d = Digest(all.map(|b| b.wrapping_add(shift.wrapping_mul(32))));
        let text = d.to_hex();
        assert!(
            text.as_str()
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(Digest::from_hex(text.as_str().as_bytes()), Ok(d));
        assert_eq!(text.as_str(), hex(&d.0));
    }
}

#[test]
fn hex_rejects_anything_but_64_hex_digits() {
    let bad: Vec<String> = vec![
        String::new(),
        EMPTY_HEX[..63].into(),
        format!("{EMPTY_HEX}0"),
        format!("0x{}", &EMPTY_HEX[..62]),
        format!("0x{EMPTY_HEX}"),
        format!(" {}", &EMPTY_HEX[1..]),
        format!("{} ", &EMPTY_HEX[..63]),
        format!("{} {}", &EMPTY_HEX[..32], &EMPTY_HEX[33..]),
        format!("g{}", &EMPTY_HEX[1..]),
        format!("{}G", &EMPTY_HEX[..63]),
        format!("{}:{}", &EMPTY_HEX[..31], &EMPTY_HEX[32..]),
        format!("+{}", &EMPTY_HEX[1..]),
        format!("-{}", &EMPTY_HEX[1..]),
    ];
    for text in &bad {
        assert_eq!(
            Digest::from_hex(text.as_bytes()),
            Err(Error::InvalidHexDigest),
            "{text:?}"
        );
    }
    // Non-ASCII of the right byte length.
    let mut bytes = EMPTY_HEX.as_bytes().to_vec();
    bytes[10] = 0xc3;
    bytes[11] = 0xa9;
    assert_eq!(Digest::from_hex(&bytes), Err(Error::InvalidHexDigest));
    bytes[10] = 0;
    assert_eq!(Digest::from_hex(&bytes), Err(Error::InvalidHexDigest));
}

#[test]
fn matches_hex_is_case_insensitive_and_exact() {
    let d = tree_hash(b"");
    assert!(d.matches_hex(EMPTY_HEX.as_bytes()));
    assert!(d.matches_hex(EMPTY_HEX.to_uppercase().as_bytes()));
    assert!(!d.matches_hex(&EMPTY_HEX.as_bytes()[..63]));
    assert!(!d.matches_hex(format!("0x{EMPTY_HEX}").as_bytes()));
    let mut other = EMPTY_HEX.as_bytes().to_vec();
    other[63] = b'4';
    assert!(!d.matches_hex(&other));
    // boto#3059: the same value as bytes vs text compares equal here.
    assert!(
        tree_hash(b"hello world")
            .matches_hex(b"B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9")
    );
}
