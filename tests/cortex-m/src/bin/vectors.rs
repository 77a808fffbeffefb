//! docs/protocol.md §7 tree-hash vectors on the device: every input is
//! generated in firmware and fed in odd-sized chunks; then multi-part
//! composition (`push_subtree` / `finish_with` of part hashes == hashing every
//! byte).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use glacier_verify_core::{
    Assembly, Digest, Error, ExpectedHash, HashSource, HeaderHash, LEAF_SIZE, Level, TreeHasher,
    combine, leaf_hash,
};
use glacier_verify_cortex_m::{
    MIB, PAT_2_4, PAT_4_END, PAT_LEN, PAT_WHOLE, Segment, VECTORS, digest, hash_segments,
    paint_stack, stack_depth, stack_peak,
};
use panic_semihosting as _;

/// Prime-sized pieces: they straddle every leaf boundary.
const CHUNK: usize = 509;

struct Tally {
    pass: u32,
    fail: u32,
}

impl Tally {
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.pass += 1;
        } else {
            self.fail += 1;
        }
        hprintln!("{} {}", if ok { "PASS" } else { "FAIL" }, name);
    }
}

#[entry]
fn main() -> ! {
    paint_stack();
    let mut t = Tally { pass: 0, fail: 0 };
    let mut buf = [0u8; CHUNK];

    hprintln!(
        "docs/protocol.md section 7 tree-hash vectors ({} of them), {}-byte pieces",
        VECTORS.len(),
        CHUNK
    );
    for v in VECTORS {
        let got = hash_segments(v.input, &mut buf);
        let ok = got == digest(v.hash);
        if !ok {
            hprintln!("     got {} want {}", got, v.hash);
        }
        t.check(v.name, ok);
    }

    t.check(
        "leaf_hash('hello world') == section 7",
        leaf_hash(b"hello world")
            == digest("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
    );

    hprintln!("composition of the 6.5 MiB i%251 output");
    let part = |start: u64, len: u64, buf: &mut [u8]| {
        hash_segments(&[Segment::Mod251 { start, len }], buf)
    };
    let p01 = part(0, 2 * MIB, &mut buf);
    let p23 = part(2 * MIB, 2 * MIB, &mut buf);
    let p4e = part(4 * MIB, PAT_LEN - 4 * MIB, &mut buf);
    let whole = digest(PAT_WHOLE);
    t.check("part [2MiB,4MiB) == section 7", p23 == digest(PAT_2_4));
    t.check("part [4MiB,end) == section 7", p4e == digest(PAT_4_END));
    let mut h = TreeHasher::new();
    let composed = h
        .push_subtree(p01, 2 * LEAF_SIZE)
        .and_then(|_| h.push_subtree(p23, 2 * LEAF_SIZE))
        .and_then(|_| h.finish_with(p4e, PAT_LEN - 4 * LEAF_SIZE));
    t.check(
        "push_subtree(2M)+push_subtree(2M)+finish_with(2.5M) == whole",
        composed == Ok(whole),
    );
    t.check(
        "combine(th[0,4M), th[4M,end)) == whole",
        combine(&combine(&p01, &p23), &p4e) == whole,
    );

    // Leaf by leaf: 6 whole leaves pushed, the half leaf last.
    let mut h = TreeHasher::new();
    let mut ok = true;
    for i in 0..6 {
        let d = part(i * MIB, MIB, &mut buf);
        ok &= h.push_subtree(d, LEAF_SIZE).is_ok();
    }
    let last = part(6 * MIB, MIB / 2, &mut buf);
    t.check(
        "6 x push_subtree(1M) + finish_with(0.5M) == whole",
        ok && h.finish_with(last, MIB / 2) == Ok(whole),
    );

    // Bytes then subtrees: hash [0,4M) as bytes, push nothing, finish with the tail.
    let mut h = TreeHasher::new();
    let mut g = glacier_verify_cortex_m::Gen::new(&[Segment::Mod251 {
        start: 0,
        len: 4 * MIB,
    }]);
    loop {
        let n = g.fill(&mut buf);
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    t.check(
        "update(4M bytes) + finish_with(th[4M,end)) == whole",
        h.finish_with(p4e, PAT_LEN - 4 * MIB) == Ok(whole),
    );

    // The same parts through an Assembly, in a frame of its own whose
    // stack use is measured apart (what a gateway's parts mode adds).
    let peak_before = stack_peak();
    paint_stack();
    let depth = stack_depth();
    assembly_checks(&mut t, [p01, p23, p4e], whole);
    match stack_peak() {
        Some(p) => hprintln!("     Assembly stack {} B", p.saturating_sub(depth)),
        None => t.check("Assembly stack measurement", false),
    }

    // Misaligned composition is refused, not silently wrong.
    let mut h = TreeHasher::new();
    let r = h
        .push_subtree(p01, LEAF_SIZE)
        .and_then(|_| h.push_subtree(p23, 2 * LEAF_SIZE));
    t.check(
        "push_subtree(1M) then (2M) -> SubtreeMisaligned",
        r == Err(Error::SubtreeMisaligned),
    );

    // The deepest use before the repaint above, or after it.
    match (peak_before, stack_peak()) {
        (Some(a), Some(b)) => hprintln!("STACK_PEAK_BYTES={}", a.max(b)),
        _ => t.check("stack measurement", false),
    }
    hprintln!("RESULT: {} passed, {} failed", t.pass, t.fail);
    debug::exit(if t.fail == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}

/// The 6.5 MiB output's parts through an [`Assembly`], as a gateway
/// downloading in parts concludes: the composed hash, DescribeJob's hash
/// compared under its name; a wrong inventory hash fails naming its source.
#[inline(never)]
fn assembly_checks(t: &mut Tally, [p01, p23, p4e]: [Digest; 3], whole: Digest) {
    let describe_job = ExpectedHash {
        source: HashSource::DescribeJob,
        digest: whole,
    };
    let mut a = Assembly::new(Some(PAT_LEN));
    let pushed = a.expect(describe_job).is_ok()
        && a.push_recorded(2 * MIB, p01, HeaderHash::Matched(p01))
            .is_ok()
        && a.push_recorded(2 * MIB, p23, HeaderHash::Matched(p23))
            .is_ok()
        && a.push_recorded(PAT_LEN - 4 * MIB, p4e, HeaderHash::Matched(p4e))
            .is_ok();
    t.check(
        "Assembly(2M, 2M, 2.5M) + DescribeJob == whole, header-and-expected-hash",
        pushed
            && a.verdict().is_ok_and(|v| {
                v.tree_hash == whole && v.level == Level::HeaderAndExpectedHash && v.parts == 3
            }),
    );
    let mut wrong = whole;
    wrong.0[31] ^= 1;
    let mut a = Assembly::new(Some(PAT_LEN));
    let pushed = a
        .expect(ExpectedHash {
            source: HashSource::Inventory,
            digest: wrong,
        })
        .is_ok()
        && a.push_recorded(4 * MIB, combine(&p01, &p23), HeaderHash::NotSent)
            .is_ok()
        && a.push_recorded(PAT_LEN - 4 * MIB, p4e, HeaderHash::MissingButExpected)
            .is_ok();
    t.check(
        "Assembly with a wrong inventory hash -> TreeHashMismatch naming it",
        pushed
            && matches!(
                a.verdict(),
                Err(Error::TreeHashMismatch {
                    source: HashSource::Inventory,
                    ..
                })
            ),
    );
}
