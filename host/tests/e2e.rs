//! End-to-end suite: the built `glacier-verify` binary, run as a
//! child process, against the in-process loopback Glacier endpoint with
//! SigV4 checked on every request — one case per fault of the endpoint's
//! catalogue (docs/protocol.md §1–§3, §9).
//!
//! Every case asserts the exit code, the report's verdict and level, the
//! bytes at OUTFILE when it must exist (compared with the endpoint's
//! payload) and that nothing is at OUTFILE when it must not, plus what the
//! endpoint's request log proves: that a corrupt part was fetched again,
//! that a cut stream resumed at a whole MiB, that fatal errors were not
//! retried.

#[path = "e2e/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use glacier_verify_core::{Digest, tree_hash};
use glacier_verify_loopback::{
    ArchiveJob, Attempts, Config, Endpoint, Fault, FaultRule, InventoryFormat, InventoryJob,
    MalformedHash, Offset, Payload,
};
use harness::*;
use serde_json::Value;

/// Fatal errors must end quickly: no retry loop, no backoff.
const FAST: Duration = Duration::from_secs(5);

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Corrupt bodies: retried and verified
// ---------------------------------------------------------------------------

#[test]
fn flipped_bit_single_stream_is_fetched_again_and_verified() {
    let h = Harness::new("flip-stream");
    let len = 5 * MIB + 123;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 1)).with_fault(FaultRule::nth(
            1,
            Fault::FlipBit {
                at: Offset::InBody(3 * MIB + 5),
                bit: 2,
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    let report = r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let v = &report["verification"];
    assert_eq!(v["mode"], "single-stream");
    assert_eq!(v["requests"], 2);
    assert_eq!(
        s(&v["computedTreeHash"]),
        h.ep.job_tree_hash("job").unwrap().to_string()
    );
    assert!(
        s(&v["retries"][0]).contains("tree hash mismatch"),
        "{}",
        r.describe()
    );
    let log = h.log("job");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(
        log[0]
            .faults
            .iter()
            .any(|f| matches!(f, Fault::FlipBit { .. }))
    );
    // A mismatch says nothing about which bytes were bad: start over.
    assert_eq!(log[1].served_range, Some((0, len - 1)));
    assert!(log[1].complete && log[1].faults.is_empty());
    assert_absent(&with_suffix(&out, ".part"));
}

#[test]
fn flipped_bit_in_one_part_is_fetched_again_and_verified() {
    let h = Harness::new("flip-part");
    let len = 8 * MIB + 4321;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 2)).with_fault(FaultRule::once_at(
            4 * MIB,
            Fault::FlipBit {
                at: Offset::InBody(1000),
                bit: 0,
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB", "--parallel", "2"]);
    let report = r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let v = &report["verification"];
    assert_eq!(v["mode"], "parallel-parts");
    assert_eq!(v["parts"]["parts"], 5);
    assert_eq!(v["parts"]["headerVerified"], 5);
    assert_eq!(v["requests"], 6);
    assert!(
        v["retries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| s(m).starts_with("part 2 ") && s(m).contains("tree hash mismatch")),
        "{}",
        r.describe()
    );
    let log = h.log("job");
    assert_eq!(log.len(), 6);
    assert_eq!(requests_starting_at(&log, 4 * MIB), 2, "{log:#?}");
    for i in [0, 1, 3, 4] {
        assert_eq!(requests_starting_at(&log, i * 2 * MIB), 1, "part {i}");
    }
    assert_absent(&with_suffix(&out, ".part.journal"));
}

// ---------------------------------------------------------------------------
// Cut bodies: resumed at a whole MiB
// ---------------------------------------------------------------------------

#[test]
fn truncated_body_resumes_from_the_last_whole_mib() {
    let h = Harness::new("truncate");
    let len = 6 * MIB + 777;
    let cut = 3 * MIB + 1000;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 3))
            .with_fault(FaultRule::nth(1, Fault::Truncate { after: cut })),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    // The resumed response's header covers only its own bytes; the whole
    // file is checked against DescribeJob's SHA256TreeHash.
    let report = r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(report["verification"]["requests"], 2);
    let log = h.log("job");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[0].body_bytes_sent, cut);
    assert!(!log[0].complete);
    let resumed_at = start_of(&log[1]);
    assert!(
        resumed_at > 0 && resumed_at.is_multiple_of(MIB),
        "resumed at {resumed_at}"
    );
    assert_eq!(resumed_at, 3 * MIB, "the last whole MiB before the cut");
    assert_eq!(
        log[1].range_header.as_deref(),
        Some(format!("bytes={}-{}", 3 * MIB, len - 1).as_str())
    );
    assert_eq!(log[1].body_bytes_sent, len - 3 * MIB);
}

#[test]
fn truncated_body_without_describe_job_resumes_against_the_first_header() {
    let h = Harness::new("truncate-nodj");
    let len = 4 * MIB + 99;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 4))
            .with_fault(FaultRule::nth(1, Fault::Truncate { after: 2 * MIB + 7 })),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--no-describe-job"]);
    let report = r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let comps = report["verification"]["comparisons"].to_string();
    assert!(comps.contains("first response"), "{}", r.describe());
    let log = h.log("job");
    assert_eq!(log.len(), 2);
    // Length unknown without DescribeJob: an open range from the last MiB.
    assert_eq!(
        log[1].range_header.as_deref(),
        Some(format!("bytes={}-", 2 * MIB).as_str())
    );
    assert_eq!(h.describe_count(), 0);
}

#[test]
fn connection_reset_mid_body_resumes_and_verifies() {
    let h = Harness::new("reset");
    let len = 5 * MIB + 55;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 5)).with_fault(FaultRule::nth(
            1,
            Fault::ResetMidBody {
                after: 2 * MIB + 100,
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_file_is(&out, &payload.to_vec());
    let log = h.log("job");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(!log[0].complete);
    // A reset discards what the client had not read yet, so the resume
    // point is any whole MiB up to the 2 MiB the server sent.
    let resumed_at = start_of(&log[1]);
    assert!(
        resumed_at.is_multiple_of(MIB) && resumed_at <= 2 * MIB,
        "resumed at {resumed_at}"
    );
    // From 0 the fresh response's header counts too; from later only
    // DescribeJob's hash covers the whole file.
    r.verified(if resumed_at == 0 {
        "header-and-expected-hash"
    } else {
        "expected-hash"
    });
    assert!(
        s(&r.verification()["retries"][0]).contains("cut off"),
        "{}",
        r.describe()
    );
}

#[test]
fn connection_reset_in_a_part_refetches_that_part() {
    let h = Harness::new("reset-part");
    let len = 6 * MIB + 1;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 6)).with_fault(FaultRule::once_at(
            2 * MIB,
            Fault::ResetMidBody { after: 1000 },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB"]);
    let report = r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(report["verification"]["requests"], 5);
    let log = h.log("job");
    assert_eq!(requests_starting_at(&log, 2 * MIB), 2);
}

#[test]
fn persistent_reset_without_progress_is_a_network_failure() {
    let h = Harness::new("reset-always");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB, 7))
            .with_fault(FaultRule::always(Fault::ResetMidBody { after: 1000 })),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--max-attempts", "3"]);
    r.failed(4, "network failure");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 3);
}

#[test]
fn slow_drip_trips_the_read_timeout_and_is_retried() {
    let h = Harness::new("drip");
    let len = 2 * MIB + 3;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 8)).with_fault(FaultRule::nth(
            1,
            Fault::SlowDrip {
                bytes_per_chunk: 256 * 1024,
                delay: Duration::from_secs(5),
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--read-timeout", "2"]);
    r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert!(r.elapsed >= Duration::from_secs(2), "{:?}", r.elapsed);
    assert!(
        r.elapsed < Duration::from_secs(5),
        "waited for the drip: {:?}",
        r.elapsed
    );
    let log = h.log("job");
    assert_eq!(log.len(), 2);
    // Less than one whole MiB had arrived: start over.
    assert_eq!(start_of(&log[1]), 0);
    assert!(log[1].complete);
}

#[test]
fn persistent_slow_drip_is_a_network_failure() {
    let h = Harness::new("drip-always");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(2 * MIB, 9)).with_fault(FaultRule::always(
            Fault::SlowDrip {
                bytes_per_chunk: 64 * 1024,
                delay: Duration::from_secs(4),
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--read-timeout", "1", "--max-attempts", "2"]);
    let report = r.failed(4, "network failure");
    assert_eq!(report["verification"]["error"]["kind"], "network");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 2);
    assert!(r.elapsed < Duration::from_secs(8), "{:?}", r.elapsed);
}

#[test]
fn stall_before_the_head_is_retried() {
    let h = Harness::new("stall");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 1, 10)).with_fault(FaultRule::nth(
            1,
            Fault::StallBeforeHead(Duration::from_secs(5)),
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--read-timeout", "1"]);
    r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(h.log("job").len(), 2);
}

// ---------------------------------------------------------------------------
// Lying heads
// ---------------------------------------------------------------------------

#[test]
fn content_length_larger_than_the_body_fails_against_describe_job() {
    let h = Harness::new("cl-large");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB + 3, 11)).with_fault(
            FaultRule::always(Fault::ContentLengthTooLarge { extra: 1000 }),
        ),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    r.failed(1, "Content-Length");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 1, "a lying head is not retried");
    assert!(r.elapsed < FAST);
}

#[test]
fn content_length_larger_than_the_body_without_describe_job_is_a_short_body() {
    let h = Harness::new("cl-large-nodj");
    let len = 3 * MIB + 3;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 12)).with_fault(FaultRule::nth(
            1,
            Fault::ContentLengthTooLarge { extra: 1000 },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--no-describe-job"]);
    // The body fell short of the announced length: resumed at the last
    // whole MiB and checked against the first response's header hash.
    r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let log = h.log("job");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(start_of(&log[1]), 3 * MIB);
}

#[test]
fn content_length_smaller_than_the_range_fails() {
    let h = Harness::new("cl-small");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB, 13))
            .with_fault(FaultRule::always(Fault::ContentLengthTooSmall { less: 10 })),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    r.failed(1, "Content-Length");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 1);
}

#[test]
fn wrong_content_range_is_fatal() {
    let h = Harness::new("content-range");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(4 * MIB, 14)).with_fault(FaultRule::always(
            Fault::WrongContentRange {
                first_delta: 0,
                last_delta: -1,
            },
        )),
    );
    let out = h.path("out.bin");
    let started = Instant::now();
    let r = h.get("job", &out, &["--range", "bytes=1048576-2097151"]);
    r.failed(1, "Content-Range");
    assert!(started.elapsed() < FAST);
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 1, "no retry of a wrong Content-Range");
}

#[test]
fn wrong_content_range_on_a_part_is_fatal() {
    let h = Harness::new("content-range-part");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(8 * MIB, 15)).with_fault(FaultRule::new(
            Fault::WrongContentRange {
                first_delta: 1,
                last_delta: 1,
            },
            Attempts::StartingAt {
                offset: 2 * MIB,
                times: u32::MAX,
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB", "--parallel", "2"]);
    r.failed(1, "Content-Range");
    assert!(r.elapsed < FAST);
    assert_absent(&out);
    let log = h.log("job");
    assert_eq!(requests_starting_at(&log, 2 * MIB), 1, "{log:#?}");
    assert!(log.len() <= 4, "{log:#?}");
}

#[test]
fn range_ignored_on_a_user_range_fails() {
    let h = Harness::new("range-ignored");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(4 * MIB, 16))
            .with_fault(FaultRule::always(Fault::IgnoreRange)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--range", "bytes=1048576-2097151"]);
    r.failed(1, "ignored");
    assert!(r.elapsed < FAST);
    assert_absent(&out);
    let log = h.log("job");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 200);
}

#[test]
fn range_ignored_in_parts_mode_falls_back_to_one_verified_stream() {
    let h = Harness::new("range-ignored-parts");
    let len = 8 * MIB + 17;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 17))
            .with_fault(FaultRule::always(Fault::IgnoreRange)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB", "--parallel", "3"]);
    let report = r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(report["verification"]["mode"], "single-stream");
    assert!(r.warnings().contains("ignored Range"), "{}", r.describe());
    let log = h.log("job");
    let last = log.last().unwrap();
    assert_eq!(last.range_header, None, "{log:#?}");
    assert_eq!(last.status, 200);
    assert!(last.complete);
    let ranged = log.iter().filter(|r| r.range_header.is_some()).count();
    assert!((1..=3).contains(&ranged), "{log:#?}");
    assert_absent(&with_suffix(&out, ".part.journal"));
}

#[test]
fn range_ignored_on_a_resumed_stream_starts_over() {
    let h = Harness::new("range-ignored-resume");
    let len = 4 * MIB + 5;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 18))
            .with_fault(FaultRule::nth(1, Fault::Truncate { after: 2 * MIB + 5 }))
            .with_fault(FaultRule::nth(2, Fault::IgnoreRange)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert!(r.warnings().contains("ignores Range"), "{}", r.describe());
    let log = h.log("job");
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(start_of(&log[1]), 2 * MIB);
    assert_eq!(log[2].range_header, None);
}

// ---------------------------------------------------------------------------
// x-amz-sha256-tree-hash: malformed, missing, wrong
// ---------------------------------------------------------------------------

#[test]
fn malformed_hash_header_is_fatal() {
    let h = Harness::new("malformed-hash");
    for (i, kind) in [
        MalformedHash::Truncated,
        MalformedHash::NonHex,
        MalformedHash::TooLong,
        MalformedHash::Empty,
    ]
    .into_iter()
    .enumerate()
    {
        let job = format!("job-{i}");
        h.job(
            ArchiveJob::new(VAULT, &job, Payload::pattern(2 * MIB, 19))
                .with_fault(FaultRule::always(Fault::MalformedHashHeader(kind))),
        );
        let out = h.path(&format!("out-{i}.bin"));
        let r = h.get(&job, &out, &[]);
        r.failed(1, "x-amz-sha256-tree-hash");
        assert!(r.elapsed < FAST);
        assert_absent(&out);
        assert_eq!(h.log(&job).len(), 1, "{kind:?}: not retried");
    }
}

#[test]
fn duplicate_hash_headers_that_differ_are_fatal_and_uppercase_is_fine() {
    let h = Harness::new("dup-hash");
    h.job(
        ArchiveJob::new(VAULT, "dup", Payload::pattern(2 * MIB, 20))
            .with_fault(FaultRule::always(Fault::DuplicateHashHeader)),
    );
    let out = h.path("dup.bin");
    h.get("dup", &out, &[]).failed(1, "x-amz-sha256-tree-hash");
    assert_absent(&out);

    let payload = h.job(
        ArchiveJob::new(VAULT, "upper", Payload::pattern(2 * MIB + 9, 21))
            .with_fault(FaultRule::always(Fault::UppercaseHashHeader)),
    );
    let out = h.path("upper.bin");
    h.get("upper", &out, &[])
        .verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
}

#[test]
fn missing_hash_header_is_verified_against_describe_job_with_a_warning() {
    let h = Harness::new("missing-hash");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB + 1, 22))
            .with_fault(FaultRule::always(Fault::MissingHashHeader)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    let report = r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert!(r.warnings().contains("missing"), "{}", r.describe());
    // The top-level checksum is the verified hash of OUTFILE, vouched for
    // by DescribeJob here since the header was missing.
    assert_eq!(report["checksum"], payload.tree_hash().to_string());
    let comps = report["verification"]["comparisons"].to_string();
    assert!(comps.contains("DescribeJob"), "{comps}");
    assert!(!comps.contains("\"x-amz-sha256-tree-hash\""), "{comps}");
}

#[test]
fn missing_hash_header_on_every_part_is_verified_by_composition() {
    let h = Harness::new("missing-hash-parts");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(6 * MIB + 3, 23))
            .with_fault(FaultRule::always(Fault::MissingHashHeader)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB"]);
    let report = r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(report["verification"]["parts"]["headerVerified"], 0);
    assert!(r.warnings().contains("missing"), "{}", r.describe());

    // The composed hash is then all that vouches for the parts: when it
    // disagrees the journal goes too, so a rerun cannot reuse them.
    h.ep.set_faults(
        "job",
        vec![
            FaultRule::always(Fault::MissingHashHeader),
            FaultRule::always(Fault::DescribeHashWrong),
        ],
    )
    .unwrap();
    let out = h.path("out2.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB"]);
    r.failed(1, "(from DescribeJob SHA256TreeHash)");
    assert_absent(&out);
    assert_absent(&with_suffix(&out, ".part.journal"));
}

#[test]
fn missing_hash_header_without_describe_job_is_size_only_and_says_so() {
    // Without DescribeJob the tool cannot know docs/protocol.md §2.3 promised a header:
    // the honest verdict is "sizes only", never a hash that was not compared.
    let h = Harness::new("missing-hash-nodj");
    let len = 2 * MIB + 2;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 24))
            .with_fault(FaultRule::always(Fault::MissingHashHeader)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--no-describe-job"]);
    let report = r.verified("size-only");
    assert_file_is(&out, &payload.to_vec());
    assert!(r.warnings().contains("no tree hash"), "{}", r.describe());
    assert_eq!(report["verification"]["comparisons"], serde_json::json!([]));

    // With the hash given on the command line it is checked.
    let truth = h.ep.job_tree_hash("job").unwrap().to_string();
    let out2 = h.path("out2.bin");
    h.get(
        "job",
        &out2,
        &["--no-describe-job", "--expected-tree-hash", &truth],
    )
    .verified("expected-hash");
    assert_file_is(&out2, &payload.to_vec());

    // … and a wrong one fails.
    let wrong = flip_hex(&truth);
    let out3 = h.path("out3.bin");
    h.get(
        "job",
        &out3,
        &["--no-describe-job", "--expected-tree-hash", &wrong],
    )
    .failed(1, "tree hash mismatch");
    assert_absent(&out3);
}

#[test]
fn missing_hash_header_on_an_aligned_user_range_fails() {
    // DescribeJob's hash covers the whole output, not the range: with the
    // header missing where docs/protocol.md §2.3 promises it nothing can check the bytes.
    let h = Harness::new("missing-hash-range");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(4 * MIB, 25))
            .with_fault(FaultRule::always(Fault::MissingHashHeader)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--range", "bytes=0-1048575"]);
    r.failed(1, "missing");
    assert_absent(&out);
}

#[test]
fn wrong_hash_header_once_is_retried_and_verified() {
    let h = Harness::new("wrong-hash-once");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB + 5, 26))
            .with_fault(FaultRule::nth(1, Fault::WrongHashHeader)),
    );
    let out = h.path("out.bin");
    h.get("job", &out, &[]).verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(h.log("job").len(), 2);
}

#[test]
fn wrong_hash_header_on_one_part_is_retried_and_verified() {
    let h = Harness::new("wrong-hash-part");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(6 * MIB, 27))
            .with_fault(FaultRule::once_at(4 * MIB, Fault::WrongHashHeader)),
    );
    let out = h.path("out.bin");
    h.get("job", &out, &["--part-size", "2MiB"])
        .verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(requests_starting_at(&h.log("job"), 4 * MIB), 2);
}

#[test]
fn persistent_wrong_hash_header_fails_after_max_attempts() {
    let h = Harness::new("wrong-hash-always");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB + 5, 28))
            .with_fault(FaultRule::always(Fault::WrongHashHeader)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--max-attempts", "3"]);
    r.failed(1, "tree hash mismatch");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 3);
}

#[test]
fn describe_job_hash_that_disagrees_with_the_data_fails() {
    let h = Harness::new("describe-hash");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB + 5, 29))
            .with_fault(FaultRule::always(Fault::DescribeHashWrong)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    r.failed(1, "expected tree hash");
    r.failed(1, "(from DescribeJob SHA256TreeHash)");
    assert_absent(&out);
    // The body matched its own x-amz-sha256-tree-hash: fetching it again
    // cannot change the verdict.
    assert_eq!(h.log("job").len(), 1);
    assert!(r.elapsed < FAST);
}

#[test]
fn describe_job_hash_that_disagrees_with_the_parts_fails() {
    let h = Harness::new("describe-hash-parts");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(6 * MIB + 5, 30))
            .with_fault(FaultRule::always(Fault::DescribeHashWrong)),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--part-size", "2MiB"]);
    r.failed(1, "expected tree hash");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 4);
}

// ---------------------------------------------------------------------------
// Service errors
// ---------------------------------------------------------------------------

fn retryable_error_case(name: &str, fault: Fault, code: &str) {
    let h = Harness::new(name);
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 7, 31))
            .with_fault(FaultRule::first(2, fault.clone())),
    );
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    let report = r.verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let retries = report["verification"]["retries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(retries.len(), 2, "{}", r.describe());
    assert!(s(&retries[0]).contains(code), "{}", r.describe());
    assert_eq!(h.log("job").len(), 3);

    // More failures than attempts: exit 3 with the service's code.
    h.job(
        ArchiveJob::new(VAULT, "job2", Payload::pattern(MIB + 7, 31))
            .with_fault(FaultRule::first(3, fault)),
    );
    let out = h.path("out2.bin");
    let r = h.get("job2", &out, &["--max-attempts", "2"]);
    let report = r.failed(3, code);
    assert_eq!(report["verification"]["error"]["kind"], "service");
    assert_absent(&out);
    assert_eq!(h.log("job2").len(), 2);
}

#[test]
fn http_500_is_retried() {
    retryable_error_case(
        "500",
        Fault::service_unavailable(),
        "ServiceUnavailableException",
    );
}

#[test]
fn http_503_is_retried() {
    retryable_error_case("503", Fault::http_503(), "ServiceUnavailableException");
}

#[test]
fn throttling_is_retried() {
    retryable_error_case("throttling", Fault::throttling(), "ThrottlingException");
}

#[test]
fn http_408_is_retried() {
    retryable_error_case("408", Fault::request_timeout(), "RequestTimeoutException");
}

#[test]
fn non_json_gateway_errors_are_retried_by_status() {
    // A proxy's HTML page or a bare 408: no Glacier code, the status decides.
    let h = Harness::new("gateway");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 9, 37))
            .with_fault(FaultRule::nth(
                1,
                Fault::RawResponse {
                    status: 502,
                    content_type: "text/html".into(),
                    body: "<html><body>502 Bad Gateway</body></html>".into(),
                },
            ))
            .with_fault(FaultRule::nth(
                2,
                Fault::RawResponse {
                    status: 408,
                    content_type: "text/plain".into(),
                    body: "timeout".into(),
                },
            )),
    );
    let out = h.path("out.bin");
    h.get("job", &out, &[]).verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(h.log("job").len(), 3);

    // A non-JSON 404 (moto's, docs/protocol.md §11) is final.
    h.ep.set_faults(
        "job",
        vec![FaultRule::always(Fault::RawResponse {
            status: 404,
            content_type: "text/plain".into(),
            body: "404 Not Found".into(),
        })],
    )
    .unwrap();
    h.ep.clear_log();
    let out = h.path("out2.bin");
    h.get("job", &out, &[]).failed(3, "HTTP 404");
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 1);
}

#[test]
fn retryable_describe_job_error_is_retried() {
    let h = Harness::new("describe-503");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 7, 32)).with_fault(FaultRule::first(
            1,
            Fault::describe_status(503, "ServiceUnavailableException", "try again"),
        )),
    );
    let out = h.path("out.bin");
    h.get("job", &out, &[]).verified("header-and-expected-hash");
    assert_file_is(&out, &payload.to_vec());
    assert_eq!(h.describe_count(), 2);
}

#[test]
fn job_not_ready_is_a_service_error_without_retries() {
    let h = Harness::new("not-ready");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(MIB, 33)).with_completed(false));
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    r.failed(3, "not completed");
    assert!(r.elapsed < FAST);
    assert_absent(&out);
    assert_eq!(h.describe_count(), 1);
    assert_eq!(h.log("job").len(), 0);

    // Straight to GetJobOutput: 400 "not currently available", not retried.
    let r = h.get("job", &out, &["--no-describe-job"]);
    r.failed(3, "not currently available");
    assert!(r.elapsed < FAST);
    assert_absent(&out);
    assert_eq!(h.log("job").len(), 1);
}

#[test]
fn unknown_job_fails_fast_with_one_request() {
    let h = Harness::new("unknown-job");
    let out = h.path("out.bin");
    let r = h.get("no-such-job", &out, &[]);
    r.failed(3, "ResourceNotFoundException");
    assert!(r.elapsed < FAST);
    assert_absent(&out);
    assert_eq!(h.all_requests().len(), 1);

    let r = h.get("no-such-job", &out, &["--no-describe-job"]);
    r.failed(3, "ResourceNotFoundException");
    assert_eq!(h.all_requests().len(), 2);
    assert_eq!(h.log("no-such-job").len(), 1);
}

#[test]
fn wrong_signature_is_refused_without_retry() {
    let h = Harness::new("bad-signature");
    h.archive("job", MIB, 34);
    let out = h.path("out.bin");
    for extra in [&[][..], &["--no-describe-job"][..]] {
        h.ep.clear_log();
        let mut cmd = h.command();
        cmd.env("AWS_SECRET_ACCESS_KEY", "not-the-secret");
        let args = h.get_args("job", &out, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = h.run_with(cmd, &refs);
        r.failed(3, "InvalidSignatureException");
        assert!(r.elapsed < FAST);
        assert_absent(&out);
        assert_eq!(h.all_requests().len(), 1, "{extra:?}");
    }
}

// ---------------------------------------------------------------------------
// Ranged retrievals, inventories
// ---------------------------------------------------------------------------

#[test]
fn non_aligned_retrieval_range_is_verified_size_only() {
    let h = Harness::new("retrieval-range");
    let archive = Payload::pattern(5 * MIB + 10, 35);
    // [1 MiB, 3 MiB): megabyte aligned, not tree-hash aligned (docs/protocol.md §4.3).
    h.job(ArchiveJob::new(VAULT, "job", archive.clone()).with_retrieval_range(MIB, 3 * MIB - 1));
    let want = archive.range_to_vec(MIB, 3 * MIB);
    for (name, extra) in [
        ("stream.bin", &[][..]),
        ("parts.bin", &["--part-size", "1MiB"][..]),
    ] {
        let out = h.path(name);
        let r = h.get("job", &out, extra);
        let report = r.verified("size-only");
        assert_file_is(&out, &want);
        assert!(r.warnings().contains("no tree hash"), "{}", r.describe());
        assert_eq!(report["verification"]["bytes"], 2 * MIB);
        assert!(report["checksum"].is_null());
    }
}

#[test]
fn aligned_retrieval_range_is_verified_by_hash() {
    let h = Harness::new("retrieval-range-aligned");
    let archive = Payload::pattern(5 * MIB + 10, 36);
    h.job(
        ArchiveJob::new(VAULT, "job", archive.clone()).with_retrieval_range(2 * MIB, 4 * MIB - 1),
    );
    let out = h.path("out.bin");
    h.get("job", &out, &[]).verified("header-and-expected-hash");
    assert_file_is(&out, &archive.range_to_vec(2 * MIB, 4 * MIB));
}

/// A vault with two archives and an inventory job per format.
fn inventory_vault(h: &Harness) -> Vec<(String, Payload)> {
    let a = h.job(
        ArchiveJob::new(VAULT, "arch-a", Payload::pattern(1000, 40))
            .with_description("plain description"),
    );
    let b = h.job(
        ArchiveJob::new(VAULT, "arch-b", Payload::pattern(2 * MIB + 3, 41))
            .with_description("with, comma and \"quotes\""),
    );
    for (job, format) in [
        ("inv-json", InventoryFormat::Json),
        ("inv-csv", InventoryFormat::Csv),
    ] {
        h.ep.add_inventory_job(InventoryJob::new(VAULT, job, format));
    }
    vec![
        ("arch-a-archive".to_string(), a),
        ("arch-b-archive".to_string(), b),
    ]
}

#[test]
fn inventory_jobs_download_verified_by_size_and_parse() {
    let h = Harness::new("inventory");
    let archives = inventory_vault(&h);
    for (job, content_type) in [("inv-json", "application/json"), ("inv-csv", "text/csv")] {
        let out = h.path(job);
        let r = h.get(job, &out, &[]);
        let report = r.verified("size-only");
        assert_eq!(report["contentType"], content_type);
        let len = h.ep.job_output_len(job).unwrap();
        assert_eq!(report["verification"]["bytes"], len);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes.len() as u64, len);
        assert_eq!(tree_hash(&bytes), h.ep.job_tree_hash(job).unwrap());

        let r = h.run(&["inventory", out.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{}", r.describe());
        let inv = r.report();
        let list = inv["archives"].as_array().unwrap();
        assert_eq!(list.len(), 2, "{}", r.describe());
        for (id, payload) in &archives {
            let e = list
                .iter()
                .find(|e| e["archiveId"] == id.as_str())
                .unwrap_or_else(|| panic!("{id} missing: {}", r.describe()));
            assert_eq!(e["size"], payload.len());
            assert_eq!(e["treeHash"], payload.tree_hash().to_string());
        }
        let b = list
            .iter()
            .find(|e| e["archiveId"] == "arch-b-archive")
            .unwrap();
        assert_eq!(b["description"], "with, comma and \"quotes\"");

        let r = h.run(&["inventory", out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.describe());
        let table = String::from_utf8_lossy(&r.stdout);
        assert!(table.contains("arch-a-archive") && table.contains("arch-b-archive"));
    }
}

#[test]
fn inventory_flag_supplies_the_expected_hash() {
    let h = Harness::new("inventory-flag");
    let archives = inventory_vault(&h);
    // The inventory as downloaded from the endpoint.
    let inv = h.path("inventory.json");
    h.get("inv-json", &inv, &[]).verified("size-only");
    let inv_arg = inv.to_str().unwrap();

    // Without the header the level shows only the expected hashes: the
    // inventory's (checked first) and DescribeJob's.
    let payload = archives[1].1.clone();
    h.ep.set_faults("arch-b", vec![FaultRule::always(Fault::MissingHashHeader)])
        .unwrap();
    let out = h.path("b.bin");
    let r = h.get("arch-b", &out, &["--inventory", inv_arg]);
    let report = r.verified("expected-hash");
    assert_file_is(&out, &payload.to_vec());
    let comps = report["verification"]["comparisons"].to_string();
    assert!(comps.contains(&format!("inventory {inv_arg}")), "{comps}");
    assert!(comps.contains("DescribeJob"), "{comps}");

    // A doctored inventory: the archive's hash changed by one digit.
    let truth = payload.tree_hash().to_string();
    let text = std::fs::read_to_string(&inv).unwrap();
    assert!(text.contains(&truth));
    let doctored = h.path("doctored.json");
    write(
        &doctored,
        text.replace(&truth, &flip_hex(&truth)).as_bytes(),
    );
    h.ep.set_faults("arch-b", vec![]).unwrap();
    h.ep.clear_log();
    let out = h.path("b2.bin");
    let r = h.get("arch-b", &out, &["--inventory", doctored.to_str().unwrap()]);
    r.failed(1, "tree hash mismatch");
    r.failed(1, "(from inventory)");
    r.failed(1, "doctored.json");
    assert_absent(&out);
    assert_eq!(h.log("arch-b").len(), 1);

    // A job that retrieved only part of a listed archive: the inventory's
    // whole-archive hash cannot apply.
    h.job(
        ArchiveJob::new(VAULT, "arch-b-part", payload.clone())
            .with_archive_id("arch-b-archive")
            .with_retrieval_range(0, 2 * MIB - 1),
    );
    let out = h.path("b-part.bin");
    h.get("arch-b-part", &out, &["--inventory", inv_arg])
        .usage_error("--inventory");
    assert_eq!(h.log("arch-b-part").len(), 0);
    assert_absent(&out);

    // An archive the inventory does not list: a usage error before any download.
    h.archive("other", MIB, 42);
    h.ep.clear_log();
    let out = h.path("other.bin");
    let r = h.get("other", &out, &["--inventory", inv_arg]);
    r.usage_error("not in the inventory");
    assert_eq!(h.log("other").len(), 0);
}

// ---------------------------------------------------------------------------
// Offline verification and tree-hash
// ---------------------------------------------------------------------------

/// A raw, unsigned GET like `curl -D head.txt -o body.bin` would make.
fn curl(ep: &Endpoint, path: &str, range: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(ep.addr()).unwrap();
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nx-amz-glacier-version: 2012-06-01\r\n{range}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = all.split_off(split);
    (all, body)
}

#[test]
fn verify_checks_a_file_against_a_curl_head_and_aws_cli_json() {
    let h = Harness::new("verify-offline");
    // An unauthenticated endpoint for the raw downloads.
    let ep = Endpoint::start(Config::default()).unwrap();
    let len = 3 * MIB + 11;
    let payload = Payload::pattern(len, 50);
    ep.add_archive_job(ArchiveJob::new("examplevault", "j", payload.clone()))
        .unwrap();
    let path = ep.output_path("examplevault", "j");

    // Whole output, 200.
    let (head, body) = curl(&ep, &path, None);
    assert!(head.starts_with(b"HTTP/1.1 200"));
    assert_eq!(body, payload.to_vec());
    let head_file = h.path("head.txt");
    let body_file = h.path("body.bin");
    write(&head_file, &head);
    write(&body_file, &body);
    let verify = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["verify", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        h.run(&args)
    };
    let r = verify(&body_file, &["--headers", head_file.to_str().unwrap()]);
    let report = r.verified("header-hash");
    assert_eq!(report["headSource"], "raw-response-head");
    assert_eq!(report["verification"]["bytes"], len);
    assert_eq!(
        report["verification"]["computedTreeHash"],
        payload.tree_hash().to_string()
    );

    // One flipped byte.
    let mut bad = body.clone();
    bad[MIB as usize + 3] ^= 0x40;
    let bad_file = h.path("bad.bin");
    write(&bad_file, &bad);
    let r = verify(&bad_file, &["--headers", head_file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.describe());
    assert_eq!(r.verification()["verdict"], "failed");
    assert!(
        r.verification()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tree hash mismatch")
    );

    // A file one byte short of its Content-Length.
    let short_file = h.path("short.bin");
    write(&short_file, &body[..body.len() - 1]);
    let r = verify(&short_file, &["--headers", head_file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.describe());

    // A head file whose CRs were lost in an editor.
    let lf_head = h.path("head-lf.txt");
    write(
        &lf_head,
        &String::from_utf8(head.clone())
            .unwrap()
            .replace("\r\n", "\n")
            .into_bytes(),
    );
    verify(&body_file, &["--headers", lf_head.to_str().unwrap()]).verified("header-hash");

    // A ranged download, 206.
    let (head, part) = curl(&ep, &path, Some("bytes=1048576-2097151"));
    assert!(head.starts_with(b"HTTP/1.1 206"));
    let part_head = h.path("part-head.txt");
    let part_file = h.path("part.bin");
    write(&part_head, &head);
    write(&part_file, &part);
    verify(
        &part_file,
        &[
            "--headers",
            part_head.to_str().unwrap(),
            "--range",
            "bytes=1048576-2097151",
        ],
    )
    .verified("header-hash");

    // The AWS CLI's JSON for the same two downloads.
    let whole_json = h.path("whole.json");
    let hash = payload.tree_hash().to_string();
    write(
        &whole_json,
        serde_json::json!({
            "status": 200,
            "checksum": hash,
            "contentType": "application/octet-stream",
            "acceptRanges": "bytes",
        })
        .to_string()
        .as_bytes(),
    );
    verify(
        &body_file,
        &["--aws-cli-json", whole_json.to_str().unwrap()],
    )
    .verified("header-hash");
    let r = verify(&bad_file, &["--aws-cli-json", whole_json.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.describe());

    let part_json = h.path("part.json");
    write(
        &part_json,
        serde_json::json!({
            "status": 206,
            "checksum": payload.tree_hash_of_range(MIB, 2 * MIB).to_string(),
            "contentRange": format!("bytes 1048576-2097151/{len}"),
            "contentType": "application/octet-stream",
        })
        .to_string()
        .as_bytes(),
    );
    verify(
        &part_file,
        &[
            "--aws-cli-json",
            part_json.to_str().unwrap(),
            "--range",
            "bytes=1048576-2097151",
        ],
    )
    .verified("header-hash");
    // The right bytes, but the JSON of another range.
    let r = verify(
        &part_file,
        &[
            "--aws-cli-json",
            part_json.to_str().unwrap(),
            "--range",
            "bytes=0-1048575",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.describe());

    // --expected-tree-hash alone.
    let report = verify(&body_file, &["--expected-tree-hash", &hash]).verified("expected-hash");
    assert_eq!(report["headSource"], "none");
    assert_eq!(
        report["verification"]["comparisons"],
        serde_json::json!([
            {"with": "--expected-tree-hash", "expected": hash, "result": "match"}
        ])
    );
    let r = verify(&bad_file, &["--expected-tree-hash", &hash]);
    assert_eq!(r.code, 1, "{}", r.describe());
}

#[test]
fn verify_accepts_the_report_get_job_output_prints() {
    let h = Harness::new("verify-own-report");
    let len = 3 * MIB + 11;
    let payload = h.archive("job", len, 51);
    let verify = |file: &std::path::Path, json: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "verify",
            file.to_str().unwrap(),
            "--aws-cli-json",
            json.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        h.run(&args)
    };
    // get-job-output's own report: the AWS CLI's fields at top level plus
    // fields of its own, which `verify` must ignore.
    let saved = |out: &std::path::Path, name: &str, extra: &[&str]| {
        let mut report = h.get("job", out, extra).report();
        assert!(report["verification"].is_object(), "{report}");
        assert!(report.get("outfile").is_some(), "{report}");
        report["partialFile"] = Value::Null;
        let json = h.path(name);
        write(
            &json,
            serde_json::to_string_pretty(&report).unwrap().as_bytes(),
        );
        json
    };

    let out = h.path("out.bin");
    let json = saved(&out, "report.json", &[]);
    let r = verify(&out, &json, &[]);
    let report = r.verified("header-hash");
    assert_eq!(report["headSource"], "aws-cli-json");
    assert_eq!(report["verification"]["bytes"], len);
    assert_eq!(
        report["verification"]["comparisons"],
        serde_json::json!([{
            "with": "x-amz-sha256-tree-hash",
            "expected": payload.tree_hash().to_string(),
            "result": "match"
        }])
    );
    assert_eq!(
        report["verification"]["computedTreeHash"],
        payload.tree_hash().to_string()
    );
    // One flipped byte.
    let mut bytes = std::fs::read(&out).unwrap();
    bytes[2 * MIB as usize + 5] ^= 0x01;
    let bad = h.path("bad.bin");
    write(&bad, &bytes);
    let r = verify(&bad, &json, &[]);
    assert_eq!(r.code, 1, "{}", r.describe());
    assert_eq!(r.verification()["verdict"], "failed");
    assert!(
        s(&r.verification()["error"]["message"]).contains("tree hash mismatch"),
        "{}",
        r.describe()
    );

    // A ranged download's report, with its contentRange.
    let range = "bytes=1048576-2097151";
    let part = h.path("part.bin");
    let json = saved(&part, "part.json", &["--range", range]);
    verify(&part, &json, &["--range", range]).verified("header-hash");
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[0] ^= 0x80;
    write(&bad, &bytes);
    let r = verify(&bad, &json, &["--range", range]);
    assert_eq!(r.code, 1, "{}", r.describe());
    assert_eq!(r.verification()["verdict"], "failed");
}

#[test]
fn tree_hash_command_matches_the_core_and_checks_sums() {
    let h = Harness::new("tree-hash");
    let files: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("one".into(), vec![7]),
        ("mib".into(), Payload::pattern(MIB, 60).to_vec()),
        ("odd".into(), Payload::pattern(3 * MIB + 7, 61).to_vec()),
        ("a4mib20".into(), vec![b'a'; 4 * MIB as usize + 20]),
    ];
    let mut args = vec!["tree-hash".to_string()];
    for (name, data) in &files {
        let p = h.path(name);
        write(&p, data);
        args.push(p.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    assert_eq!(r.code, 0, "{}", r.describe());
    let text = String::from_utf8(r.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len(), "{text}");
    for ((name, data), line) in files.iter().zip(&lines) {
        assert_eq!(
            *line,
            format!("{}  {}", tree_hash(data), h.path(name).display())
        );
    }
    // docs/protocol.md §7: 'a' * (4 MiB + 20).
    assert!(
        lines[4].starts_with("12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f")
    );

    // One thread gives the same.
    let mut one = refs.clone();
    one.insert(1, "--threads");
    one.insert(2, "1");
    assert_eq!(h.run(&one).stdout, r.stdout);

    // stdin.
    let mut cmd = h.command();
    cmd.stdin(std::fs::File::open(h.path("odd")).unwrap());
    let r2 = h.run_with(cmd, &["tree-hash"]);
    assert_eq!(r2.code, 0, "{}", r2.describe());
    assert!(String::from_utf8_lossy(&r2.stdout).starts_with(&tree_hash(&files[3].1).to_string()));

    // --check passes …
    let sums = h.path("SUMS");
    write(&sums, &r.stdout);
    let r = h.run(&["tree-hash", "--check", sums.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.describe());
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(out.matches(": OK").count(), files.len(), "{out}");

    // … and fails on a changed file, naming it.
    let mut changed = files[3].1.clone();
    changed[2 * MIB as usize] ^= 1;
    write(&h.path("odd"), &changed);
    let r = h.run(&["tree-hash", "--check", sums.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.describe());
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(
        out.contains(&format!("{}: FAILED", h.path("odd").display())),
        "{out}"
    );
    assert_eq!(out.matches(": OK").count(), files.len() - 1, "{out}");
}

// ---------------------------------------------------------------------------
// Output to stdout, usage errors
// ---------------------------------------------------------------------------

#[test]
fn dash_outfile_writes_verified_bytes_to_stdout_and_the_report_to_stderr() {
    let h = Harness::new("stdout");
    let payload = h.archive("job", 2 * MIB + 77, 70);
    let r = h.get("job", std::path::Path::new("-"), &[]);
    assert_eq!(r.code, 0, "stderr:\n{}", r.stderr);
    assert!(
        r.stdout == payload.to_vec(),
        "stdout is not exactly the payload"
    );
    let report: Value = serde_json::from_str(&r.stderr).expect("the report on stderr");
    assert_eq!(report["verification"]["verdict"], "verified");
    assert_eq!(report["verification"]["level"], "header-and-expected-hash");
    assert!(report["outfile"].is_null());
    // The temporary file is gone.
    assert_eq!(std::fs::read_dir(&h.tmp).unwrap().count(), 0);

    // A failure prints nothing on stdout.
    h.ep.set_faults("job", vec![FaultRule::always(Fault::WrongHashHeader)])
        .unwrap();
    let r = h.get("job", std::path::Path::new("-"), &["--max-attempts", "2"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("\"failed\""), "{}", r.stderr);
    // What was kept waits for a rerun under a name of the job (not of the
    // process): the spool's .part, no lock, no output — and no journal,
    // since a 2 MiB stream never reaches a checkpoint that one would record.
    let left: Vec<String> = std::fs::read_dir(&h.tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("glacier-verify-spool-") && left[0].ends_with(".part"));
    // The rerun finishes and leaves nothing behind.
    h.ep.set_faults("job", vec![]).unwrap();
    let r = h.get("job", std::path::Path::new("-"), &[]);
    assert_eq!(r.code, 0, "stderr:\n{}", r.stderr);
    assert!(r.stdout == payload.to_vec());
    assert_eq!(std::fs::read_dir(&h.tmp).unwrap().count(), 0);
}

#[test]
fn bad_arguments_are_one_line_usage_errors() {
    let h = Harness::new("usage");
    h.archive("job", MIB, 80);
    let out = h.path("out.bin");
    let out_s = out.display().to_string();
    let url = h.ep.url();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "get-job-output",
            "--vault-name",
            VAULT,
            "--job-id",
            "job",
            "--endpoint-url",
            &url,
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(out_s.clone());
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (base(&["--range", "bytes 0-1"]), "--range"),
        (base(&["--range", "bytes=5-2"]), "--range"),
        (
            base(&["--expected-tree-hash", "abc"]),
            "--expected-tree-hash",
        ),
        (
            base(&["--expected-tree-hash", &"g".repeat(64)]),
            "--expected-tree-hash",
        ),
        (base(&["--part-size", "3MiB"]), "--part-size"),
        (base(&["--parallel", "0"]), "--parallel"),
        (base(&["--account-id", "1234-5678-9012"]), "--account-id"),
        (
            vec![
                "get-job-output".into(),
                "--job-id".into(),
                "j".into(),
                out_s.clone(),
            ],
            "required",
        ),
        (vec!["frobnicate".into()], "frobnicate"),
    ];
    for (args, needle) in &cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        h.run(&refs).usage_error(needle);
    }
    assert_eq!(h.all_requests().len(), 0, "no request for bad arguments");

    // No credentials anywhere (no env, empty HOME).
    let mut cmd = h.command();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let args = base(&[]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run_with(cmd, &refs).usage_error("credentials");

    // No region.
    let mut cmd = h.command();
    cmd.env_remove("AWS_REGION");
    h.run_with(cmd, &refs).usage_error("region");

    // An output directory that does not exist.
    let missing = h.path("no/such/dir/out.bin").display().to_string();
    let mut args = base(&[]);
    *args.last_mut().unwrap() = missing;
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&refs).usage_error("does not exist");
    assert_eq!(h.all_requests().len(), 0);

    // A range past the output (known from DescribeJob): no download.
    let args = base(&["--range", "bytes=99999999-"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&refs).usage_error("--range");
    assert_eq!(h.log("job").len(), 0);
    assert_absent(&out);

    // verify with nothing to verify against.
    let f = h.path("f.bin");
    write(&f, b"x");
    h.run(&["verify", f.to_str().unwrap()])
        .usage_error("nothing to verify against");
}

// ---------------------------------------------------------------------------
// kill -9 and resume
// ---------------------------------------------------------------------------

/// The part indices a journal records.
fn journal_parts(path: &std::path::Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("part "))
        .filter_map(|l| {
            let mut f = l.split(' ');
            let index = f.next()?.parse().ok()?;
            let hash = f.next()?;
            let tag = f.next()?;
            (hash.len() == 64 && (tag == "header" || tag == "noheader")).then_some(index)
        })
        .collect()
}

#[test]
fn killed_parallel_download_resumes_from_the_journal() {
    let h = Harness::new("kill9");
    let part = 4 * MIB;
    let len = 64 * MIB + 4321;
    let parts = len.div_ceil(part);
    // Parts from the fifth on drip slowly, so the kill lands mid-download.
    let mut job = ArchiveJob::new(VAULT, "job", Payload::pattern(len, 90));
    for i in 4..parts {
        job = job.with_fault(FaultRule::new(
            Fault::SlowDrip {
                bytes_per_chunk: 256 * 1024,
                delay: Duration::from_millis(150),
            },
            Attempts::StartingAt {
                offset: i * part,
                times: u32::MAX,
            },
        ));
    }
    let payload = h.job(job);
    h.ep.warm_up();
    let out = h.path("big.bin");
    let journal = with_suffix(&out, ".part.journal");
    let args = h.get_args("job", &out, &["--part-size", "4MiB", "--parallel", "4"]);

    let mut cmd = h.command();
    cmd.args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let recorded = loop {
        let recorded = journal_parts(&journal);
        if recorded.len() >= 2 {
            break recorded;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the download ended before the kill"
        );
        assert!(Instant::now() < deadline, "no journal entries in time");
        std::thread::sleep(Duration::from_millis(10));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever the journal holds after the kill (it may have grown).
    let recorded = {
        let after = journal_parts(&journal);
        assert!(after.len() >= recorded.len());
        after
    };
    assert!((recorded.len() as u64) < parts, "killed too late");
    assert_absent(&out);
    assert!(with_suffix(&out, ".part").exists());

    // The killed child's responses end; then only run 2 is logged.
    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.clear_log();
    h.ep.set_faults("job", vec![]).unwrap();

    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    let report = r.verified("header-and-expected-hash");
    let p = &report["verification"]["parts"];
    let reused = p["reused"].as_u64().unwrap();
    assert!(
        reused >= recorded.len() as u64,
        "reused {reused}, journal had {recorded:?}"
    );
    assert_eq!(p["parts"], parts);
    assert_eq!(p["fetched"].as_u64().unwrap() + reused, parts);

    let log = h.log("job");
    let mut starts: Vec<u64> = log.iter().map(start_of).collect();
    starts.sort_unstable();
    let before = starts.len();
    starts.dedup();
    assert_eq!(starts.len(), before, "a part was fetched twice: {log:#?}");
    for i in &recorded {
        assert!(
            !starts.contains(&(i * part)),
            "journaled part {i} fetched again"
        );
    }
    let sent: u64 = log.iter().map(|r| r.body_bytes_sent).sum();
    assert!(
        sent <= len - reused * part,
        "run 2 fetched {sent} bytes, reused {reused} parts"
    );
    assert_eq!(p["bytesFetched"], sent);

    // The output is the archive; journal and .part are gone.
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len() as u64, len);
    assert_eq!(tree_hash(&got), payload.tree_hash());
    assert_eq!(
        Digest::from_hex(s(&report["verification"]["computedTreeHash"]).as_bytes()).unwrap(),
        payload.tree_hash()
    );
    assert_absent(&journal);
    assert_absent(&with_suffix(&out, ".part"));
}

/// A 64-hex digest with its last digit changed.
fn flip_hex(hex: &str) -> String {
    let mut s = hex.to_string();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    s
}

/// The `upto` a single stream's journal records last.
fn journal_upto(path: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("upto ")?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn killed_single_stream_resumes_after_the_bytes_on_disk() {
    let h = Harness::new("kill9-stream");
    let len = 48 * MIB + 777;
    // The whole stream drips, so the kill lands mid-body.
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 91)).with_fault(FaultRule::always(
            Fault::SlowDrip {
                bytes_per_chunk: 512 * 1024,
                delay: Duration::from_millis(25),
            },
        )),
    );
    h.ep.warm_up();
    let out = h.path("stream.bin");
    let journal = with_suffix(&out, ".part.journal");
    // One part as large as the output: a single stream.
    let args = h.get_args("job", &out, &["--part-size", "64MiB"]);

    let mut cmd = h.command();
    cmd.args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while journal_upto(&journal) < 16 * MIB {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the download ended before the kill"
        );
        assert!(Instant::now() < deadline, "no progress recorded in time");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let upto = journal_upto(&journal);
    assert!(upto < len, "killed too late");
    assert_eq!(upto % MIB, 0, "progress is recorded in whole MiB");
    assert_absent(&out);
    let kept = std::fs::metadata(with_suffix(&out, ".part")).unwrap().len();
    assert!(kept >= upto, "the journal claims more than the file holds");

    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.clear_log();
    h.ep.set_faults("job", vec![]).unwrap();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    // The header of a resumed response covers only its own bytes; the
    // whole file is checked against DescribeJob's hash.
    let report = r.verified("expected-hash");
    assert!(r.warnings().contains("resumed after"), "{}", r.describe());
    let log = h.log("job");
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(
        start_of(&log[0]),
        upto,
        "asked for the bytes after the journal's"
    );
    assert_eq!(log[0].body_bytes_sent, len - upto);
    assert_eq!(report["verification"]["bytes"], len);
    let got = std::fs::read(&out).unwrap();
    assert_eq!(tree_hash(&got), payload.tree_hash());
    assert_absent(&journal);
    assert_absent(&with_suffix(&out, ".part"));
}

#[test]
fn a_corrupted_kept_prefix_is_caught_and_downloaded_again() {
    let h = Harness::new("stream-bad-prefix");
    let len = 20 * MIB + 5;
    let payload = h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(len, 92)));
    let out = h.path("stream.bin");
    let part = with_suffix(&out, ".part");
    let journal = with_suffix(&out, ".part.journal");
    // An earlier run's leftovers: 17 MiB on disk, one byte of it damaged.
    let mut bytes = payload.to_vec();
    bytes.truncate(17 * MIB as usize);
    bytes[1234] ^= 0x40;
    write(&part, &bytes);
    let head = glacier_verify::journal::stream_head(VAULT, "job", Some(len), None);
    write(
        &journal,
        format!("glacier-verify journal 1\n{head}\nupto {}\n", 17 * MIB).as_bytes(),
    );
    let r = h.get("job", &out, &["--part-size", "64MiB"]);
    r.verified("header-and-expected-hash");
    // First the rest (from 17 MiB), which fails the whole-output hash; then
    // everything again.
    let log = h.log("job");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(start_of(&log[0]), 17 * MIB);
    assert_eq!(start_of(&log[1]), 0);
    assert_eq!(
        tree_hash(&std::fs::read(&out).unwrap()),
        payload.tree_hash()
    );
}
