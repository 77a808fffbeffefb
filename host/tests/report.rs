//! The `get-job-output` report describes the whole output in every mode:
//! its AWS-CLI fields (`status`, `contentRange`, `checksum`) are what one
//! GetJobOutput of the same request would show, never one part's; and the
//! tool's own report, handed to `verify --aws-cli-json`, verifies OUTFILE
//! and fails once one byte of it is flipped.

#[path = "e2e/harness.rs"]
mod harness;

use std::path::Path;

use glacier_verify_core::Digest;
use glacier_verify_loopback::{ArchiveJob, Payload};
use harness::*;
use serde_json::Value;

/// What a report's top level must say.
struct Whole {
    status: u64,
    content_range: Option<String>,
    checksum: Digest,
}

fn assert_top_level(report: &Value, want: &Whole) {
    assert_eq!(report["status"], want.status, "{report:#}");
    match &want.content_range {
        Some(cr) => assert_eq!(report["contentRange"], cr.as_str(), "{report:#}"),
        None => assert!(report.get("contentRange").is_none(), "{report:#}"),
    }
    assert_eq!(
        report["checksum"],
        want.checksum.to_string(),
        "checksum must be the verified tree hash of OUTFILE: {report:#}"
    );
    assert_eq!(
        report["verification"]["computedTreeHash"],
        want.checksum.to_string()
    );
    // No empty "expected" anywhere.
    assert!(
        !report.to_string().contains("\"expected\":\"\""),
        "{report:#}"
    );
}

/// `verify OUT --aws-cli-json REPORT` passes, and fails after one flipped byte.
fn assert_round_trip(h: &Harness, out: &Path, report: &Value, tag: &str) {
    let report_path = h.path(&format!("{tag}.report.json"));
    write(&report_path, report.to_string().as_bytes());
    let args = |f: &Path| {
        vec![
            "verify".to_string(),
            f.display().to_string(),
            "--aws-cli-json".into(),
            report_path.display().to_string(),
        ]
    };
    let run = |f: &Path| {
        let a = args(f);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        h.run(&refs)
    };
    let ok = run(out);
    assert_eq!(ok.code, 0, "{tag}: own report refused:\n{}", ok.describe());
    let mut bytes = std::fs::read(out).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let flipped = h.path(&format!("{tag}.flipped"));
    write(&flipped, &bytes);
    let bad = run(&flipped);
    assert_eq!(
        bad.code,
        1,
        "{tag}: flipped byte passed:\n{}",
        bad.describe()
    );
}

#[test]
fn single_stream_whole_output() {
    let h = Harness::new("report-stream");
    let payload = h.job(ArchiveJob::new(
        VAULT,
        "job",
        Payload::pattern(5 * MIB + 7, 1),
    ));
    let out = h.path("out.bin");
    let report = h.get("job", &out, &[]).verified("header-and-expected-hash");
    assert_eq!(report["verification"]["mode"], "single-stream");
    let want = Whole {
        status: 200,
        content_range: None,
        checksum: payload.tree_hash(),
    };
    assert_top_level(&report, &want);
    assert_round_trip(&h, &out, &report, "stream");
}

#[test]
fn single_stream_of_a_range() {
    let h = Harness::new("report-range");
    let len = 5 * MIB + 7;
    let payload = h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(len, 2)));
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--range", "bytes=2097152-4194303"]);
    let report = r.verified("header-hash");
    let want = Whole {
        status: 206,
        content_range: Some(format!("bytes 2097152-4194303/{len}")),
        checksum: payload.tree_hash_of_range(2 * MIB, 4 * MIB),
    };
    assert_top_level(&report, &want);
    assert_round_trip(&h, &out, &report, "range");
}

#[test]
fn parallel_parts_describe_the_whole_output_not_the_first_part() {
    let h = Harness::new("report-parts");
    let payload = h.job(ArchiveJob::new(
        VAULT,
        "job",
        Payload::pattern(20 * MIB + 3, 3),
    ));
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "4MiB"]);
    let report = r.verified("header-and-expected-hash");
    let v = &report["verification"];
    assert_eq!(v["mode"], "parallel-parts");
    // Per-part detail lives under verification.parts.
    let list = v["parts"]["list"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert_eq!(list[0]["range"], format!("0-{}", 4 * MIB - 1));
    assert_eq!(
        list[0]["treeHash"],
        payload.tree_hash_of_range(0, 4 * MIB).to_string()
    );
    assert_eq!(list[5]["header"], "matched");
    let want = Whole {
        status: 200,
        content_range: None,
        checksum: payload.tree_hash(),
    };
    assert_top_level(&report, &want);
    assert_round_trip(&h, &out, &report, "parts");
}

#[test]
fn resumed_stream() {
    let h = Harness::new("report-resumed-stream");
    let len = 20 * MIB + 5;
    let payload = h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(len, 4)));
    let out = h.path("stream.bin");
    // An earlier run's leftovers: 17 MiB verified on disk.
    let mut bytes = payload.to_vec();
    bytes.truncate(17 * MIB as usize);
    write(&with_suffix(&out, ".part"), &bytes);
    let head = glacier_verify::journal::stream_head(VAULT, "job", Some(len), None);
    write(
        &with_suffix(&out, ".part.journal"),
        format!("glacier-verify journal 1\n{head}\nupto {}\n", 17 * MIB).as_bytes(),
    );
    let r = h.get("job", &out, &["--part-size", "64MiB"]);
    let report = r.verified("expected-hash");
    assert_eq!(report["verification"]["resumedBytes"], 17 * MIB);
    assert_eq!(start_of(&h.log("job")[0]), 17 * MIB);
    let want = Whole {
        status: 200,
        content_range: None,
        checksum: payload.tree_hash(),
    };
    assert_top_level(&report, &want);
    assert_round_trip(&h, &out, &report, "resumed-stream");
}

#[test]
fn resumed_parts() {
    let h = Harness::new("report-resumed-parts");
    let len = 12 * MIB + 9;
    let part = 4 * MIB;
    let payload = h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(len, 5)));
    let out = h.path("parts.bin");
    // An earlier run kept part 1 (journalled, its bytes on disk).
    let mut bytes = vec![0u8; len as usize];
    let all = payload.to_vec();
    bytes[part as usize..2 * part as usize].copy_from_slice(&all[part as usize..2 * part as usize]);
    write(&with_suffix(&out, ".part"), &bytes);
    let hash = payload.tree_hash_of_range(part, 2 * part);
    write(
        &with_suffix(&out, ".part.journal"),
        format!(
            "glacier-verify journal 1\njob {VAULT} job length {len} part-size {part}\npart 1 {hash} header\n"
        )
        .as_bytes(),
    );
    let r = h.get("job", &out, &["--part-size", "4MiB"]);
    let report = r.verified("header-and-expected-hash");
    let p = &report["verification"]["parts"];
    assert_eq!(p["reused"], 1);
    assert_eq!(p["list"][1]["from"], "earlier-run");
    assert_eq!(p["list"][0]["from"], "download");
    assert_eq!(report["verification"]["resumedBytes"], part);
    let want = Whole {
        status: 200,
        content_range: None,
        checksum: payload.tree_hash(),
    };
    assert_top_level(&report, &want);
    assert_round_trip(&h, &out, &report, "resumed-parts");
}

#[test]
fn to_stdout() {
    let h = Harness::new("report-stdout");
    let payload = h.job(ArchiveJob::new(
        VAULT,
        "job",
        Payload::pattern(9 * MIB + 1, 6),
    ));
    let args = h.get_args("job", Path::new("-"), &["--part-size", "2MiB"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    assert_eq!(r.code, 0, "{}", r.describe());
    // The data on stdout, the report on stderr.
    assert_eq!(r.stdout, payload.to_vec());
    let report: Value = serde_json::from_str(&r.stderr)
        .unwrap_or_else(|e| panic!("stderr is not the report ({e}):\n{}", r.stderr));
    assert_eq!(report["verification"]["mode"], "parallel-parts");
    assert!(report["outfile"].is_null());
    let want = Whole {
        status: 200,
        content_range: None,
        checksum: payload.tree_hash(),
    };
    assert_top_level(&report, &want);
    let out = h.path("stdout.bin");
    write(&out, &r.stdout);
    assert_round_trip(&h, &out, &report, "stdout");
}
