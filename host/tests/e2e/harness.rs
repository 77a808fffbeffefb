//! The end-to-end harness: an in-process loopback Glacier endpoint that
//! checks SigV4 on every request, a private temporary directory, and the
//! built `glacier-verify` binary run as a child process with a clean
//! environment (no developer config can leak in).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use glacier_verify::sigv4::Credentials;
use glacier_verify_loopback::{
    ArchiveJob, Config, Endpoint, Operation, Payload, ServedRequest, SigV4Auth,
};
use serde_json::Value;

/// The built binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_glacier-verify");
/// 1 MiB, Glacier's tree-hash leaf.
pub const MIB: u64 = 1 << 20;
/// The vault every test uses.
pub const VAULT: &str = "e2e-vault";
/// The only key pair the endpoint accepts.
pub const AKID: &str = "AKIDE2ETEST000000000";
/// Its secret.
pub const SECRET: &str = "e2e/test/secret/key/not/a/real/one/00000";
/// Scope region.
pub const REGION: &str = "us-east-1";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One test's world: endpoint + temp dir (removed on drop).
pub struct Harness {
    pub ep: Endpoint,
    pub dir: PathBuf,
    pub home: PathBuf,
    pub tmp: PathBuf,
}

impl Harness {
    /// A SigV4-checking endpoint and a fresh directory named after the test.
    pub fn new(name: &str) -> Self {
        Self::with_config(name, |c| c)
    }

    /// [`new`](Self::new), with the endpoint's configuration changed by `adjust`
    /// (e.g. to serve TLS).
    pub fn with_config(name: &str, adjust: impl FnOnce(Config) -> Config) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "glacier-verify-e2e-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("home");
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&tmp).unwrap();
        let ep = Endpoint::start(adjust(
            Config {
                region: REGION.into(),
                ..Config::default()
            }
            .with_auth(SigV4Auth {
                credentials: Credentials::new(AKID, SECRET, None),
                region: REGION.into(),
            })
            .with_max_lifetime(Duration::from_secs(300)),
        ))
        .expect("start the loopback endpoint");
        ep.add_vault(VAULT);
        Harness { ep, dir, home, tmp }
    }

    /// A path in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Registers a whole-archive job of a generated payload; returns the payload.
    pub fn archive(&self, job_id: &str, len: u64, seed: u64) -> Payload {
        let payload = Payload::pattern(len, seed);
        self.ep
            .add_archive_job(ArchiveJob::new(VAULT, job_id, payload.clone()))
            .unwrap();
        payload
    }

    /// Registers an archive job as given.
    pub fn job(&self, job: ArchiveJob) -> Payload {
        let payload = job.archive.clone();
        self.ep.add_archive_job(job).unwrap();
        payload
    }

    /// The binary with a clean environment: only HOME (empty), TMPDIR (the
    /// test's), the region and the endpoint's keys.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdin(Stdio::null());
        c
    }

    /// Runs the binary with `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(), args)
    }

    /// Runs a prepared command with `args`.
    pub fn run_with(&self, mut cmd: Command, args: &[&str]) -> Run {
        cmd.args(args);
        let started = Instant::now();
        let out = cmd.output().expect("run glacier-verify");
        Run::new(args, out, started.elapsed())
    }

    /// `get-job-output` arguments for a job of the test vault.
    pub fn get_args(&self, job_id: &str, out: &Path, extra: &[&str]) -> Vec<String> {
        self.get_args_at(&self.ep.url(), job_id, out, extra)
    }

    /// [`get_args`](Self::get_args) for the endpoint at `url` (another port
    /// or host in front of the endpoint).
    pub fn get_args_at(&self, url: &str, job_id: &str, out: &Path, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "get-job-output".into(),
            "--vault-name".into(),
            VAULT.into(),
            "--job-id".into(),
            job_id.into(),
            "--endpoint-url".into(),
            url.into(),
            "--quiet".into(),
            "--retry-base-ms".into(),
            "10".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(out.display().to_string());
        v
    }

    /// `get-job-output` of `job_id` into `out`, with fast retries.
    pub fn get(&self, job_id: &str, out: &Path, extra: &[&str]) -> Run {
        let args = self.get_args(job_id, out, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&refs)
    }

    /// Every GetJobOutput request of the job, once the endpoint is idle.
    pub fn log(&self, job_id: &str) -> Vec<ServedRequest> {
        assert!(self.ep.wait_idle(Duration::from_secs(10)), "endpoint busy");
        let mut v = self.ep.output_requests(job_id);
        v.sort_by_key(|r| r.seq);
        v
    }

    /// Every request the endpoint answered, once idle.
    pub fn all_requests(&self) -> Vec<ServedRequest> {
        assert!(self.ep.wait_idle(Duration::from_secs(10)), "endpoint busy");
        self.ep.requests()
    }

    /// DescribeJob requests answered.
    pub fn describe_count(&self) -> usize {
        self.all_requests()
            .iter()
            .filter(|r| r.operation == Operation::DescribeJob)
            .count()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A finished child process.
pub struct Run {
    pub args: String,
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    fn new(args: &[&str], out: Output, elapsed: Duration) -> Self {
        let run = Run {
            args: args.join(" "),
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
        };
        assert!(
            !run.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            run.describe()
        );
        run
    }

    /// Everything about the run, for assertion messages (stdout cut short).
    pub fn describe(&self) -> String {
        let out = String::from_utf8_lossy(&self.stdout);
        let out: String = out.chars().take(4000).collect();
        format!(
            "args: {}\nexit: {} after {:?}\nstdout:\n{out}\nstderr:\n{}",
            self.args, self.code, self.elapsed, self.stderr
        )
    }

    /// The JSON report on stdout.
    pub fn report(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON report ({e}):\n{}", self.describe()))
    }

    /// `verification` of the report.
    pub fn verification(&self) -> Value {
        self.report()["verification"].clone()
    }

    /// Asserts exit 0, verdict `verified` at `level`; returns the report.
    pub fn verified(&self, level: &str) -> Value {
        assert_eq!(self.code, 0, "expected success:\n{}", self.describe());
        let r = self.report();
        let v = &r["verification"];
        assert_eq!(v["verdict"], "verified", "{}", self.describe());
        assert_eq!(v["level"], level, "{}", self.describe());
        r
    }

    /// Asserts the exit code, verdict `failed`, and an error message
    /// containing `needle`; returns the report.
    pub fn failed(&self, code: i32, needle: &str) -> Value {
        assert_eq!(self.code, code, "wrong exit code:\n{}", self.describe());
        let r = self.report();
        let v = &r["verification"];
        assert_eq!(v["verdict"], "failed", "{}", self.describe());
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(needle),
            "error message lacks {needle:?}:\n{}",
            self.describe()
        );
        assert!(r["outfile"].is_null(), "{}", self.describe());
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.describe()
        );
        r
    }

    /// Asserts a usage error: exit 2, no panic, exactly one error line.
    pub fn usage_error(&self, needle: &str) {
        assert_eq!(self.code, 2, "expected a usage error:\n{}", self.describe());
        let error_lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.starts_with("glacier-verify:"))
            .collect();
        assert_eq!(error_lines.len(), 1, "{}", self.describe());
        assert!(
            error_lines[0].contains(needle),
            "error line lacks {needle:?}:\n{}",
            self.describe()
        );
        assert!(self.stdout.is_empty(), "{}", self.describe());
    }

    /// The report's `verification.warnings` joined.
    pub fn warnings(&self) -> String {
        self.verification()["warnings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default()
    }
}

/// Asserts the file holds exactly the payload's bytes.
pub fn assert_file_is(path: &Path, want: &[u8]) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if got != want {
        let first_diff = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{}: {} bytes, want {}; first difference at {first_diff:?}",
            path.display(),
            got.len(),
            want.len()
        );
    }
}

/// Asserts nothing is at `path` (no unverified output left behind).
pub fn assert_absent(path: &Path) {
    assert!(
        !path.exists(),
        "{} exists but must not (unverified output)",
        path.display()
    );
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes a file.
pub fn write(path: &Path, data: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(data).unwrap();
}

/// The first byte of the range a request asked for (0 without `Range`).
pub fn start_of(r: &ServedRequest) -> u64 {
    r.range_header
        .as_deref()
        .and_then(|h| h.strip_prefix("bytes="))
        .and_then(|h| h.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How many requests of `log` asked for a range starting at `offset`.
pub fn requests_starting_at(log: &[ServedRequest], offset: u64) -> usize {
    log.iter().filter(|r| start_of(r) == offset).count()
}
