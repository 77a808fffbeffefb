//! "Verified" stays true under a hostile user and a careless operator: two
//! runs on one OUTFILE, links where OUTFILE's files go, destinations that
//! cannot hold the output, hostile journals, signals. Each case runs the
//! real binary against the loopback endpoint.

#[path = "e2e/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glacier_verify_core::tree_hash;
use glacier_verify_loopback::{ArchiveJob, Fault, FaultRule, Payload};
use harness::*;
use serde_json::Value;

/// A body that trickles: `len` bytes take about `len / chunk * delay`.
fn slow(chunk: usize, delay_ms: u64) -> Fault {
    Fault::SlowDrip {
        bytes_per_chunk: chunk,
        delay: Duration::from_millis(delay_ms),
    }
}

fn spawn(h: &Harness, args: &[String]) -> Child {
    h.command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the child; returns exit code (or -signal), stdout, stderr.
fn finish(child: Child) -> (i32, Vec<u8>, String) {
    use std::os::unix::process::ExitStatusExt;
    let out = child.wait_with_output().unwrap();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| -out.status.signal().unwrap_or(0));
    (
        code,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn journal_parts(journal: &Path) -> usize {
    std::fs::read_to_string(journal)
        .map(|t| t.lines().filter(|l| l.starts_with("part ")).count())
        .unwrap_or(0)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

// ---------------------------------------------------------------------------
// Two runs on one OUTFILE
// ---------------------------------------------------------------------------

#[test]
fn a_second_run_on_the_same_outfile_exits_6_and_touches_nothing() {
    let h = Harness::new("two-runs");
    let len = 6 * MIB + 1;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 1))
            .with_fault(FaultRule::always(slow(64 << 10, 15))),
    );
    h.job(ArchiveJob::new(
        VAULT,
        "other",
        Payload::pattern(3 * MIB, 2),
    ));
    let out = h.path("out.bin");
    let part = with_suffix(&out, ".part");
    let lock = with_suffix(&out, ".part.lock");
    let first = spawn(&h, &h.get_args("job", &out, &["--part-size", "1MiB"]));
    wait_until("the first run's lock and bytes", || {
        lock.exists() && file_len(&part) > 0
    });
    // The same job, and another job, on the same OUTFILE.
    for job in ["job", "other"] {
        let before = std::fs::read(&part).unwrap();
        let r = h.get(job, &out, &["--part-size", "1MiB"]);
        assert_eq!(r.code, 6, "{}", r.describe());
        assert!(
            r.stderr.contains("another glacier-verify run"),
            "{}",
            r.describe()
        );
        assert!(std::fs::read(&part).unwrap().len() >= before.len());
        assert_absent(&out);
    }
    let (code, stdout, stderr) = finish(first);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(report["verification"]["verdict"], "verified");
    assert_file_is(&out, &payload.to_vec());
    assert_absent(&lock);
}

#[test]
fn a_killed_holder_never_blocks_the_rerun() {
    let h = Harness::new("killed-holder");
    let len = 8 * MIB + 5;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 3))
            .with_fault(FaultRule::always(slow(128 << 10, 10))),
    );
    let out = h.path("out.bin");
    let journal = with_suffix(&out, ".part.journal");
    let args = h.get_args("job", &out, &["--part-size", "1MiB", "--parallel", "2"]);
    let mut child = spawn(&h, &args);
    wait_until("two journalled parts", || journal_parts(&journal) >= 2);
    child.kill().unwrap(); // SIGKILL: its lock dies with it
    let _ = finish(child);
    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.set_faults("job", vec![]).unwrap();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    let report = r.verified("header-and-expected-hash");
    assert!(report["verification"]["parts"]["reused"].as_u64().unwrap() >= 2);
    assert_file_is(&out, &payload.to_vec());
}

/// A tiny xorshift: the stress rounds are random but reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn stress_two_concurrent_runs_with_random_kills() {
    let h = Harness::new("stress");
    let len = 5 * MIB + 3;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 4))
            .with_fault(FaultRule::always(slow(256 << 10, 4))),
    );
    let want = payload.to_vec();
    let out = h.path("out.bin");
    let args = h.get_args("job", &out, &["--part-size", "1MiB", "--parallel", "2"]);
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    for round in 0..20 {
        if rng.below(2) == 0 {
            let _ = std::fs::remove_file(&out);
        }
        let a = spawn(&h, &args);
        std::thread::sleep(Duration::from_millis(rng.below(60)));
        let b = spawn(&h, &args);
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        let mut runs = [a, b];
        let victim = rng.below(3) as usize; // 2: kill nobody
        if let Some(c) = runs.get_mut(victim) {
            let _ = c.kill();
        }
        for (i, c) in runs.into_iter().enumerate() {
            let (code, stdout, stderr) = finish(c);
            if code == 0 {
                let report: Value = serde_json::from_slice(&stdout).unwrap();
                assert_eq!(report["verification"]["verdict"], "verified");
                assert_file_is(&out, &want);
            } else {
                assert!(
                    code == 6 || (i == victim && code == -9),
                    "round {round} run {i}: exit {code}\n{stderr}"
                );
            }
        }
        if out.exists() {
            assert_file_is(&out, &want);
        }
    }
    // Whatever the rounds left, a last run completes it.
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(h.run(&refs).code, 0);
    assert_file_is(&out, &want);
}

// ---------------------------------------------------------------------------
// Links and destinations
// ---------------------------------------------------------------------------

#[test]
fn links_at_part_and_journal_are_refused_and_nothing_is_written() {
    let h = Harness::new("links");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(3 * MIB, 5)));
    h.job(ArchiveJob::new(VAULT, "big", Payload::pattern(9 * MIB, 6)));
    let victim = h.path("unrelated.txt");
    for (job, suffix, extra) in [
        ("job", ".part", &[][..]),
        ("job", ".part.journal", &[][..]),
        ("big", ".part", &["--part-size", "2MiB"][..]),
        ("big", ".part.journal", &["--part-size", "2MiB"][..]),
    ] {
        write(&victim, b"precious");
        let out = h.path(&format!("{job}{}.bin", suffix.len()));
        let link = with_suffix(&out, suffix);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let r = h.get(job, &out, extra);
        assert_eq!(r.code, 5, "{}", r.describe());
        assert!(r.stderr.contains("symbolic link"), "{}", r.describe());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_absent(&out);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn unusable_destinations_fail_before_the_first_byte() {
    let h = Harness::new("destinations");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(2 * MIB, 7)));
    // OUTFILE a directory; a missing directory: usage errors, no request.
    let dir = h.path("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let r = h.get("job", &dir, &[]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(r.stderr.contains("is a directory"), "{}", r.describe());
    let r = h.get("job", &h.path("missing/out.bin"), &[]);
    assert_eq!(r.code, 2, "{}", r.describe());
    // A directory nothing can be created in (root ignores permission bits,
    // so use one the kernel refuses to everyone).
    let r = h.get("job", Path::new("/proc/glacier-verify-test.bin"), &[]);
    assert_eq!(r.code, 5, "{}", r.describe());
    assert!(h.all_requests().is_empty(), "{:#?}", h.all_requests());
}

/// DescribeJob's size fields say `size` bytes, whole-archive retrieval,
/// no hash: the endpoint keeps its small payload.
fn claims_size(size: u64) -> Vec<FaultRule> {
    vec![
        FaultRule::always(Fault::DescribeField {
            name: "ArchiveSizeInBytes".into(),
            value: size.into(),
        }),
        FaultRule::always(Fault::DescribeField {
            name: "RetrievalByteRange".into(),
            value: format!("0-{}", size - 1).into(),
        }),
        FaultRule::always(Fault::DescribeField {
            name: "SHA256TreeHash".into(),
            value: Value::Null,
        }),
    ]
}

#[test]
fn an_output_larger_than_the_free_space_fails_before_any_get_job_output() {
    let h = Harness::new("no-space");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(2 * MIB, 8)));
    // 30 TiB: a real archive size, and more than any disk here has free.
    h.ep.set_faults("job", claims_size(30 << 40)).unwrap();
    let out = h.path("huge.bin");
    let r = h.get("job", &out, &[]);
    assert_eq!(r.code, 5, "{}", r.describe());
    assert!(r.stderr.contains("not enough space"), "{}", r.describe());
    assert!(h.log("job").is_empty(), "GetJobOutput was requested");
    assert_absent(&with_suffix(&out, ".part"));
    assert_absent(&out);
}

#[test]
fn an_absurd_describe_job_is_a_bad_service_answer() {
    let h = Harness::new("absurd-describe");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(2 * MIB, 9)));
    h.ep.set_faults("job", claims_size(u64::MAX)).unwrap();
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(r.stderr.contains("largest archive"), "{}", r.describe());
    assert!(!r.stderr.contains("integral type"), "{}", r.describe());
    assert!(h.log("job").is_empty());
    assert_absent(&with_suffix(&out, ".part"));
}

#[test]
fn an_oversized_describe_job_is_refused_unretried_in_bounded_memory() {
    let h = Harness::new("big-describe");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(MIB, 10)));
    h.ep.set_faults(
        "job",
        vec![FaultRule::always(Fault::DescribeOversized {
            bytes: 50_000_000,
        })],
    )
    .unwrap();
    let out = h.path("out.bin");
    let r = h.get("job", &out, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    // The refusal names the cap: the body was not read past 64 KiB (a wall-clock
    // bound here would only measure the machine's load).
    assert!(r.stderr.contains("larger than 64 KiB"), "{}", r.describe());
    assert_eq!(h.describe_count(), 1, "DescribeJob was retried");
}

#[test]
fn heads_no_glacier_sends_are_protocol_errors() {
    let h = Harness::new("bad-heads");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(MIB, 12)));
    for line in ["Content-Length: 5", "this line has no colon"] {
        h.ep.set_faults(
            "job",
            vec![FaultRule::always(Fault::RawHeaderLine(line.into()))],
        )
        .unwrap();
        h.ep.clear_log();
        let out = h.path("out.bin");
        let r = h.get("job", &out, &["--max-attempts", "2"]);
        assert_eq!(r.code, 3, "{line}: {}", r.describe());
        assert!(r.stderr.contains("protocol error"), "{}", r.describe());
        assert_eq!(r.report()["verification"]["error"]["kind"], "protocol");
        // A garbled head may be the connection's fault: retried once.
        assert_eq!(h.log("job").len(), 2, "{line}");
        assert_absent(&out);
    }
}

#[test]
fn interim_100_continue_before_every_response_is_harmless() {
    let h = Harness::new("interim");
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(9 * MIB + 5, 11))
            .with_fault(FaultRule::always(Fault::InterimContinue)),
    );
    for (name, extra) in [
        ("parts.bin", &["--part-size", "1MiB", "--parallel", "2"][..]),
        ("stream.bin", &["--part-size", "64MiB"][..]),
    ] {
        let out = h.path(name);
        let r = h.get("job", &out, extra);
        r.verified("header-and-expected-hash");
        assert!(
            r.verification()["retries"].as_array().unwrap().is_empty(),
            "{}",
            r.describe()
        );
        assert_file_is(&out, &payload.to_vec());
    }
}

// ---------------------------------------------------------------------------
// Hostile journals
// ---------------------------------------------------------------------------

/// The child's peak resident set, read from /proc while it runs.
fn peak_rss_kib(child: &Child) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_journals_cost_neither_memory_nor_rehashing() {
    let h = Harness::new("hostile-journal");
    let len = 64 * MIB;
    let part = 16 * MIB;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 9))
            .with_fault(FaultRule::always(slow(1 << 20, 30))),
    );
    let out = h.path("out.bin");
    let journal = with_suffix(&out, ".part.journal");
    let head = format!("glacier-verify journal 1\njob {VAULT} job length {len} part-size {part}\n");
    let good = payload.tree_hash_of_range(0, part);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("duplicates", {
            let mut j = head.clone().into_bytes();
            j.extend(
                format!("part 0 {good} header\n")
                    .repeat(100_000)
                    .into_bytes(),
            );
            j
        }),
        ("garbage", {
            let mut j = head.clone().into_bytes();
            j.extend((0..(64u64 << 20)).map(|i| b"gv \n"[(i % 4) as usize] ^ (i as u8 & 0x20)));
            j
        }),
    ];
    for (name, text) in cases {
        let _ = std::fs::remove_file(&out);
        // Part 0 on disk, right, so a re-hash of it would pass every time.
        let mut bytes = payload.to_vec();
        bytes.truncate(part as usize);
        write(&with_suffix(&out, ".part"), &bytes);
        write(&journal, &text);
        let started = Instant::now();
        let child = spawn(&h, &h.get_args("job", &out, &["--part-size", "16MiB"]));
        let mut peak = 0;
        let child = {
            let mut c = child;
            while c.try_wait().unwrap().is_none() {
                peak = peak.max(peak_rss_kib(&c));
                std::thread::sleep(Duration::from_millis(20));
            }
            c
        };
        let (code, stdout, stderr) = finish(child);
        assert_eq!(code, 0, "{name}: {stderr}");
        let report: Value = serde_json::from_slice(&stdout).unwrap();
        let warnings = report["verification"]["warnings"].to_string();
        assert!(warnings.contains("journal"), "{name}: {warnings}");
        assert!(peak > 0 && peak < 32 << 10, "{name}: peak RSS {peak} KiB");
        assert!(started.elapsed() < Duration::from_secs(30), "{name}");
        assert_eq!(
            tree_hash(&std::fs::read(&out).unwrap()),
            payload.tree_hash()
        );
    }
}

// ---------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------

fn report_of(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a report ({e}): {}",
            String::from_utf8_lossy(stdout)
        )
    })
}

#[test]
fn sigint_in_parts_mode_keeps_finished_parts_and_the_rerun_resumes() {
    let h = Harness::new("sigint-parts");
    let len = 24 * MIB;
    let part = 4 * MIB;
    let mut job = ArchiveJob::new(VAULT, "job", Payload::pattern(len, 10));
    for i in 2..6 {
        job = job.with_fault(FaultRule::once_at(i * part, slow(64 << 10, 40)));
    }
    let payload = h.job(job);
    let out = h.path("out.bin");
    let journal = with_suffix(&out, ".part.journal");
    let args = h.get_args("job", &out, &["--part-size", "4MiB", "--parallel", "2"]);
    let child = spawn(&h, &args);
    wait_until("two journalled parts", || journal_parts(&journal) >= 2);
    signal(&child, "-INT");
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 130, "{stderr}");
    let line: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("interrupted"))
        .collect();
    assert_eq!(line.len(), 1, "{stderr}");
    assert!(line[0].contains("of 6 parts kept in"), "{stderr}");
    assert!(
        line[0].contains("rerun the same command to resume"),
        "{stderr}"
    );
    let report = report_of(&stdout);
    assert_eq!(report["verification"]["verdict"], "interrupted");
    assert_absent(&out);
    assert_absent(&with_suffix(&out, ".part.lock"));
    let kept = journal_parts(&journal);
    assert!((2..6).contains(&kept), "journal holds {kept} parts");

    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.set_faults("job", vec![]).unwrap();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = h.run(&refs).verified("header-and-expected-hash");
    assert_eq!(report["verification"]["parts"]["reused"], kept as u64);
    assert_file_is(&out, &payload.to_vec());
}

#[test]
fn sigterm_in_a_stream_journals_what_is_on_disk_and_the_rerun_resumes() {
    let h = Harness::new("sigterm-stream");
    let len = 12 * MIB + 3;
    let payload = h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(len, 11))
            .with_fault(FaultRule::first(1, slow(128 << 10, 20))),
    );
    let out = h.path("out.bin");
    let part = with_suffix(&out, ".part");
    let args = h.get_args("job", &out, &[]);
    let child = spawn(&h, &args);
    wait_until("3 MiB on disk", || file_len(&part) >= 3 * MIB);
    signal(&child, "-TERM");
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 143, "{stderr}");
    assert!(stderr.contains("bytes of"), "{stderr}");
    assert_eq!(report_of(&stdout)["verification"]["verdict"], "interrupted");
    let journal = std::fs::read_to_string(with_suffix(&out, ".part.journal")).unwrap();
    let upto: u64 = journal
        .lines()
        .filter_map(|l| l.strip_prefix("upto "))
        .filter_map(|n| n.parse().ok())
        .next_back()
        .expect("progress journalled on the signal");
    assert!(upto >= 3 * MIB && upto.is_multiple_of(MIB), "upto {upto}");

    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.clear_log();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&refs).verified("expected-hash");
    assert_eq!(start_of(&h.log("job")[0]), upto);
    assert_file_is(&out, &payload.to_vec());
}

#[test]
fn a_second_signal_exits_at_once() {
    let h = Harness::new("second-signal");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(2 * MIB, 12)).with_fault(FaultRule::always(
            Fault::StallBeforeHead(Duration::from_secs(20)),
        )),
    );
    let out = h.path("out.bin");
    let child = spawn(&h, &h.get_args("job", &out, &["--read-timeout", "60"]));
    let lock = with_suffix(&out, ".part.lock");
    wait_until("the run to hold its lock", || lock.exists());
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    signal(&child, "-INT");
    let (code, _, _) = finish(child);
    assert_eq!(code, 130);
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_absent(&out);
}

#[test]
fn dash_interrupted_then_rerun_resumes_from_the_spool() {
    let h = Harness::new("dash-interrupted");
    let len = 12 * MIB;
    let mut job = ArchiveJob::new(VAULT, "job", Payload::pattern(len, 13));
    for i in 1..6 {
        job = job.with_fault(FaultRule::once_at(i * 2 * MIB, slow(64 << 10, 40)));
    }
    let payload = h.job(job);
    let args = h.get_args(
        "job",
        Path::new("-"),
        &["--part-size", "2MiB", "--parallel", "1"],
    );
    let spool_journal = || -> Option<PathBuf> {
        std::fs::read_dir(&h.tmp)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".part.journal"))
    };
    let child = spawn(&h, &args);
    wait_until("a journalled part in the spool", || {
        spool_journal().is_some_and(|j| journal_parts(&j) >= 1)
    });
    signal(&child, "-INT");
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 130, "{stderr}");
    assert!(stdout.is_empty(), "nothing unverified reaches stdout");
    assert!(stderr.contains("\"interrupted\""), "{stderr}");

    assert!(h.ep.wait_idle(Duration::from_secs(10)));
    h.ep.set_faults("job", vec![]).unwrap();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = h.run(&refs);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout == payload.to_vec());
    let report: Value = serde_json::from_str(&r.stderr).unwrap();
    assert!(report["verification"]["parts"]["reused"].as_u64().unwrap() >= 1);
    assert_eq!(
        std::fs::read_dir(&h.tmp).unwrap().count(),
        0,
        "spool left behind"
    );
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

#[test]
fn empty_required_values_are_usage_errors_before_any_request() {
    let h = Harness::new("empty-args");
    h.job(ArchiveJob::new(VAULT, "job", Payload::pattern(MIB, 13)));
    let out = h.path("out.bin");
    let url = h.ep.url();
    let out_s = out.display().to_string();
    for args in [
        vec![
            "get-job-output",
            "--vault-name",
            "",
            "--job-id",
            "job",
            "--endpoint-url",
            &url,
            &out_s,
        ],
        vec![
            "get-job-output",
            "--vault-name",
            VAULT,
            "--job-id",
            "",
            "--endpoint-url",
            &url,
            &out_s,
        ],
        vec![
            "describe-job",
            "--vault-name",
            "",
            "--job-id",
            "job",
            "--endpoint-url",
            &url,
        ],
    ] {
        let r = h.run(&args);
        assert_eq!(r.code, 2, "{}", r.describe());
        assert!(r.stderr.contains("a value is required"), "{}", r.describe());
    }
    assert!(h.all_requests().is_empty(), "{:#?}", h.all_requests());
    assert_absent(&out);
}
