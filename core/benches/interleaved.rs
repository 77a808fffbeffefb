//! The core's hashing goal (tree hash ≥ 0.98× plain SHA-256),
//! measured so that machine load cannot fake or hide it: every round times
//! each variant once over the same buffer, in a rotating order, and the
//! ratio is the median of the per-round ratios.
//!
//! `cargo bench -p glacier-verify-core --bench interleaved` (the bench
//! script `bench/run.sh` runs it too). `GV_BENCH_ROUNDS` (default 15) and
//! `GV_BENCH_MIB` (default 64) change the rounds and the buffer size. Lines
//! starting with `RESULT` are for scripts.
//!
//! Without `--bench` (as `cargo test --benches` runs it) it makes one quick
//! pass over 3 MiB and checks the variants agree: no timing.

use std::hint::black_box;
use std::time::Instant;

use glacier_verify_core::{
    ByteRange, Digest, Expectation, HeadBuilder, JobKind, TreeHasher, Verifier, tree_hash,
};
use sha2::{Digest as _, Sha256};

/// Deterministic pseudo-random bytes (xorshift64*).
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The host's read size.
const CHUNK: usize = 256 << 10;

/// Hashes the whole buffer; returns the digest so nothing is optimised away.
type HashFn = Box<dyn Fn(&[u8]) -> [u8; 32]>;

/// One measured way of hashing the buffer.
struct Variant {
    name: &'static str,
    what: &'static str,
    run: HashFn,
}

fn variants(data: &[u8]) -> Vec<Variant> {
    let hash = tree_hash(data);
    let len = data.len() as u64;
    let len_text = len.to_string();
    let hex = hash.to_hex();
    let expect = Expectation {
        job: JobKind::Archive {
            archive_size: len,
            retrieval: ByteRange::whole(len).expect("non-empty buffer"),
        },
        output_len: None,
        range: None,
        tree_hash: Some(hash),
    };
    vec![
        Variant {
            name: "sha256",
            what: "sha2 Sha256::digest, whole buffer (baseline)",
            run: Box::new(|d| Sha256::digest(d).into()),
        },
        Variant {
            name: "tree_hash",
            what: "core tree_hash, whole buffer",
            run: Box::new(|d| tree_hash(d).0),
        },
        Variant {
            name: "tree_hasher_256k",
            what: "core TreeHasher, 256 KiB updates",
            run: Box::new(|d| {
                let mut h = TreeHasher::new();
                for piece in d.chunks(CHUNK) {
                    h.update(piece);
                }
                h.finalize().0
            }),
        },
        Variant {
            name: "verifier_256k",
            what: "core Verifier (head, sizes, header + expected hash), 256 KiB updates",
            run: Box::new(move |d| {
                let mut b = HeadBuilder::new(200).expect("status");
                b.header(b"Content-Length", len_text.as_bytes())
                    .expect("length");
                b.header(b"x-amz-sha256-tree-hash", hex.as_str().as_bytes())
                    .expect("hash");
                let head = b.finish().expect("head");
                let mut v = Verifier::new(expect).expect("expectation");
                v.on_head(&head).expect("head accepted");
                for piece in d.chunks(CHUNK) {
                    v.update(piece).expect("within Content-Length");
                }
                v.finish().expect("verified").tree_hash.0
            }),
        },
    ]
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        // `cargo test --benches`: agree, don't time.
        let data = pseudo_random(3 << 20);
        let want = tree_hash(&data);
        for v in variants(&data).iter().skip(1) {
            assert_eq!(Digest((v.run)(&data)), want, "{}", v.name);
        }
        println!("interleaved: variants agree (run with `cargo bench` to time them)");
        return;
    }
    let rounds = env_usize("GV_BENCH_ROUNDS", 15);
    let mib = env_usize("GV_BENCH_MIB", 64);
    let data = pseudo_random(mib << 20);
    let vs = variants(&data);
    // Warm-up: page in the buffer, settle the clocks.
    for v in &vs {
        black_box((v.run)(black_box(&data)));
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); vs.len()];
    for round in 0..rounds {
        for k in 0..vs.len() {
            let i = (round + k) % vs.len();
            let start = Instant::now();
            black_box((vs[i].run)(black_box(&data)));
            times[i].push(start.elapsed().as_secs_f64());
        }
    }
    let gib = data.len() as f64 / f64::from(1u32 << 30);
    println!(
        "interleaved: {rounds} rounds over {mib} MiB in memory; ratio = median over rounds of \
         (sha256 time / variant time), i.e. throughput relative to plain SHA-256"
    );
    println!(
        "{:<18} {:>10} {:>8} {:>8}  what",
        "variant", "median ms", "GiB/s", "ratio"
    );
    for (i, v) in vs.iter().enumerate() {
        let mut ratios: Vec<f64> = times[0]
            .iter()
            .zip(&times[i])
            .map(|(base, t)| base / t)
            .collect();
        let ratio = median(&mut ratios);
        let mut t = times[i].clone();
        let med = median(&mut t);
        println!(
            "{:<18} {:>10.2} {:>8.3} {:>7.3}x  {}",
            v.name,
            med * 1e3,
            gib / med,
            ratio,
            v.what
        );
        println!(
            "RESULT name={} median_s={med:.6} gib_s={:.4} ratio_vs_sha256={ratio:.4} rounds={rounds} mib={mib}",
            v.name,
            gib / med
        );
    }
}
