//! The default credential chain end to end: the built binary, with a controlled
//! environment (`env_clear`, HOME in a temporary directory), downloads from the loopback
//! Glacier endpoint, which accepts only credentials that one of the local fakes of STS,
//! instance metadata, container credentials or the SSO portal issued (or a
//! `credential_process` script printed). A verified download therefore proves that the
//! credentials came from the source under test.

#[path = "e2e/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use glacier_verify::sigv4::Credentials;
use glacier_verify_loopback::identity::{
    ContainerCredentials, Imds, Issued, Lifetime, SsoPortal, Sts,
};
use glacier_verify_loopback::{ArchiveJob, Fault, FaultRule, Payload};
use harness::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/glacier-reader";
const WEB_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.web-identity-token.signature";

/// A Glacier endpoint that accepts what `issued` holds, and a job on it.
struct World {
    h: Harness,
    issued: Issued,
    payload: Payload,
}

impl World {
    fn new(name: &str) -> Self {
        Self::with_job(name, |j| j)
    }

    fn with_job(name: &str, job: impl FnOnce(ArchiveJob) -> ArchiveJob) -> Self {
        let issued = Issued::new();
        let auth = issued.auth(REGION);
        let h = Harness::with_config(name, move |c| c.with_auth(auth));
        let payload = h.job(job(ArchiveJob::new(
            VAULT,
            "job",
            Payload::pattern(3 * MIB + 17, 7),
        )));
        World { h, issued, payload }
    }

    /// The binary with nothing from the developer's environment: HOME and TMPDIR of the
    /// test, the region, and the instance metadata service off unless a test turns it on.
    fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("HOME", &self.h.home)
            .env("TMPDIR", &self.h.tmp)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(std::process::Stdio::null());
        c
    }

    fn get(&self, cmd: Command, extra: &[&str]) -> Run {
        let out = self.h.path("out.bin");
        let _ = std::fs::remove_file(&out);
        let args = self.h.get_args("job", &out, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.h.run_with(cmd, &refs)
    }

    /// Asserts a verified download of the job with the expected bytes.
    fn verified(&self, run: &Run) {
        run.verified("header-and-expected-hash");
        assert_file_is(&self.h.path("out.bin"), &self.payload.to_vec());
    }

    /// Asserts every Glacier request was signed with credentials from `issuer`.
    fn all_signed_by(&self, issuer: &str) {
        let uses = self.issued.uses();
        assert!(!uses.is_empty());
        assert!(
            uses.iter()
                .all(|u| u.issuer == issuer && u.refused.is_none()),
            "{uses:#?}"
        );
    }

    fn write_home(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.h.home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        write(&p, text.as_bytes());
        p
    }

    fn sts(&self) -> Sts {
        Sts::start(self.issued.clone(), REGION).unwrap()
    }

    /// A command set up for web identity against `sts`.
    fn web_identity(&self, sts: &Sts) -> Command {
        sts.accept_web_identity_token(WEB_TOKEN);
        let token = self.write_home("token", WEB_TOKEN);
        let mut c = self.command();
        c.env("AWS_WEB_IDENTITY_TOKEN_FILE", token)
            .env("AWS_ROLE_ARN", ROLE)
            .env("AWS_ROLE_SESSION_NAME", "e2e-pod")
            .env("AWS_ENDPOINT_URL_STS", sts.url());
        c
    }
}

fn assert_lacks(text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret was printed: {s}\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------
// One download per source
// ---------------------------------------------------------------------------

#[test]
fn web_identity_from_the_environment() {
    let w = World::new("cred-web-env");
    let sts = w.sts();
    let r = w.get(w.web_identity(&sts), &[]);
    w.verified(&r);
    w.all_signed_by("sts:AssumeRoleWithWebIdentity");
    let calls = sts.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].param("RoleArn"), Some(ROLE));
    assert_eq!(calls[0].param("RoleSessionName"), Some("e2e-pod"));
    assert_eq!(calls[0].signed_by, None);
}

#[test]
fn web_identity_from_the_profile() {
    let w = World::new("cred-web-profile");
    let sts = w.sts();
    sts.accept_web_identity_token(WEB_TOKEN);
    w.write_home("t/token", WEB_TOKEN);
    w.write_home(
        ".aws/config",
        &format!("[profile irsa]\nweb_identity_token_file = ~/t/token\nrole_arn = {ROLE}\nduration_seconds = 900\n"),
    );
    let mut c = w.command();
    c.env("AWS_PROFILE", "irsa")
        .env("AWS_ENDPOINT_URL_STS", sts.url());
    let r = w.get(c, &[]);
    w.verified(&r);
    w.all_signed_by("sts:AssumeRoleWithWebIdentity");
    assert_eq!(sts.calls()[0].param("DurationSeconds"), Some("900"));
    assert!(
        sts.calls()[0]
            .param("RoleSessionName")
            .unwrap()
            .starts_with("glacier-verify-")
    );
}

#[test]
fn assume_role_with_a_source_profile_is_signed_by_the_source() {
    let w = World::new("cred-assume");
    let sts = w.sts();
    sts.require_external_id(ROLE, "ext-42");
    let base = Credentials::new("AKIDBASEPROFILE00001", "base/secret/not/real", None);
    w.issued.add_long_term(base.clone());
    w.write_home(
        ".aws/credentials",
        &format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            base.access_key_id, base.secret_access_key
        ),
    );
    w.write_home(
        ".aws/config",
        &format!(
            "[profile middle]\nrole_arn = {ROLE}-1\nsource_profile = base\n\
             [profile reader]\nrole_arn = {ROLE}\nsource_profile = middle\nexternal_id = ext-42\nrole_session_name = chained\n"
        ),
    );
    let mut c = w.command();
    c.env("AWS_ENDPOINT_URL_STS", sts.url());
    let r = w.get(c, &["--profile", "reader"]);
    w.verified(&r);
    // Glacier saw only the role's session credentials, never the base key.
    w.all_signed_by("sts:AssumeRole");
    let calls = sts.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    // The chain: base signs for the middle role, whose credentials sign for the reader.
    assert_eq!(
        calls[0].param("RoleArn"),
        Some(format!("{ROLE}-1").as_str())
    );
    assert_eq!(
        calls[0].signed_by.as_deref(),
        Some(base.access_key_id.as_str())
    );
    assert_eq!(calls[1].param("RoleArn"), Some(ROLE));
    assert_eq!(calls[1].signed_by, calls[0].issued);
    assert_eq!(calls[1].param("ExternalId"), Some("ext-42"));
    assert_eq!(calls[1].param("RoleSessionName"), Some("chained"));
}

#[test]
fn assume_role_errors_show_the_sts_code_and_loops_are_named() {
    let w = World::new("cred-assume-err");
    let sts = w.sts();
    sts.require_external_id(ROLE, "right");
    w.write_home(
        ".aws/config",
        &format!(
            "[profile r]\nrole_arn = {ROLE}\nsource_profile = k\nexternal_id = wrong\n\
             [profile k]\naws_access_key_id = AKIDUNKNOWN000000001\naws_secret_access_key = s\n\
             [profile a]\nrole_arn = {ROLE}\nsource_profile = b\n\
             [profile b]\nrole_arn = {ROLE}\nsource_profile = a\n"
        ),
    );
    let mut c = w.command();
    c.env("AWS_ENDPOINT_URL_STS", sts.url());
    let r = w.get(c, &["--profile", "r"]);
    // The key is unknown to STS: its code and message are shown.
    r.usage_error("HTTP 400 UnrecognizedClientException: The security token included in the request is invalid");
    assert!(r.stderr.contains("STS AssumeRole of"), "{}", r.describe());
    let mut c = w.command();
    c.env("AWS_ENDPOINT_URL_STS", sts.url());
    let r = w.get(c, &["--profile", "a"]);
    r.usage_error("source_profile settings form a loop: a -> b -> a");
    assert_eq!(sts.calls().len(), 1);
}

#[test]
fn credential_process_script_quoted_path_and_stderr() {
    let w = World::new("cred-process");
    let creds = w
        .issued
        .issue("process", SystemTime::now() + Duration::from_secs(3600));
    let dir = w.h.home.join("my tools");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("get creds.sh");
    write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = '--role' ] && [ \"$2\" = 'a b' ] || {{ echo \"bad args: $*\" >&2; exit 9; }}\n\
             echo 'asking the vault for keys' >&2\n\
             printf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\", \"Expiration\": \"2099-01-01T00:00:00Z\"}}' '{}' '{}' '{}'\n",
            creds.access_key_id,
            creds.secret_access_key,
            creds.session_token.clone().unwrap()
        )
        .as_bytes(),
    );
    make_executable(&script);
    w.write_home(
        ".aws/config",
        &format!(
            "[default]\ncredential_process = \"{}\" --role 'a b'\n",
            script.display()
        ),
    );
    let r = w.get(w.command(), &[]);
    w.verified(&r);
    w.all_signed_by("process");
    // The script's stderr reaches the user.
    assert!(
        r.stderr.contains("asking the vault for keys"),
        "{}",
        r.describe()
    );
}

#[test]
fn credential_process_failures_are_precise() {
    let w = World::new("cred-process-bad");
    let fail = w.h.home.join("fail.sh");
    write(&fail, b"#!/bin/sh\necho 'token service down' >&2\nexit 3\n");
    make_executable(&fail);
    let garbage = w.h.home.join("garbage.sh");
    write(
        &garbage,
        b"#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"PRINTED-SECRET\"'\n",
    );
    make_executable(&garbage);
    let v2 = w.h.home.join("v2.sh");
    write(
        &v2,
        b"#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'\n",
    );
    make_executable(&v2);
    w.write_home(
        ".aws/config",
        &format!(
            "[profile fail]\ncredential_process = {}\n[profile garbage]\ncredential_process = {}\n\
             [profile v2]\ncredential_process = {}\n[profile missing]\ncredential_process = /nonexistent/creds\n",
            fail.display(),
            garbage.display(),
            v2.display()
        ),
    );
    let run = |p: &str| w.get(w.command(), &["--profile", p]);
    let r = run("fail");
    r.usage_error("exited with status 3");
    assert!(r.stderr.contains("token service down"), "{}", r.describe());
    let r = run("garbage");
    r.usage_error("is not the documented JSON");
    assert!(!r.stderr.contains("PRINTED-SECRET"), "{}", r.describe());
    run("v2").usage_error("has a Version other than 1");
    run("missing").usage_error("cannot run \"/nonexistent/creds\"");
}

fn sso_config(w: &World, portal: &SsoPortal) -> Command {
    w.write_home(
        ".aws/config",
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = GlacierReader\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         [profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 111122223333\nsso_role_name = GlacierReader\n",
    );
    let mut c = w.command();
    c.env("AWS_ENDPOINT_URL_SSO", portal.url());
    c
}

fn cache_token(w: &World, key: &str, token: &str, expires: &str) {
    w.write_home(
        &format!(
            ".aws/sso/cache/{}.json",
            glacier_verify::credentials::sso_cache_key(key)
        ),
        &format!(
            "{{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"us-east-1\", \
             \"accessToken\": \"{token}\", \"expiresAt\": \"{expires}\"}}"
        ),
    );
}

#[test]
fn sso_session_from_the_cli_token_cache() {
    let w = World::new("cred-sso");
    let portal = SsoPortal::start(
        w.issued.clone(),
        "111122223333",
        "GlacierReader",
        "sso-access-token-1",
    )
    .unwrap();
    cache_token(&w, "corp", "sso-access-token-1", "2099-01-01T00:00:00Z");
    let r = w.get(sso_config(&w, &portal), &["--profile", "dev"]);
    w.verified(&r);
    w.all_signed_by("sso");
    let log = portal.log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].header("x-amz-sso_bearer_token"),
        Some("sso-access-token-1")
    );
}

#[test]
fn sso_missing_or_expired_token_says_to_log_in() {
    let w = World::new("cred-sso-login");
    let portal = SsoPortal::start(w.issued.clone(), "111122223333", "GlacierReader", "t").unwrap();
    let r = w.get(sso_config(&w, &portal), &["--profile", "dev"]);
    r.usage_error("run `aws sso login --sso-session corp`");
    assert!(
        r.stderr.contains("no SSO token is cached"),
        "{}",
        r.describe()
    );
    cache_token(&w, "corp", "t", "2020-01-01T00:00:00Z");
    let r = w.get(sso_config(&w, &portal), &["--profile", "dev"]);
    r.usage_error(
        "the SSO token expired at 2020-01-01T00:00:00Z; run `aws sso login --sso-session corp`",
    );
    // A legacy profile: the cache is named after the start URL, the hint names the profile.
    let r = w.get(sso_config(&w, &portal), &["--profile", "legacy"]);
    r.usage_error("run `aws sso login --profile legacy`");
    cache_token(
        &w,
        "https://old.awsapps.com/start",
        "revoked",
        "2099-01-01T00:00:00Z",
    );
    let r = w.get(sso_config(&w, &portal), &["--profile", "legacy"]);
    r.usage_error("the portal refused the cached SSO token (HTTP 401");
    assert!(portal.log().iter().all(|s| s.status == 401));
}

#[test]
fn container_full_uri_with_a_token_file() {
    let w = World::new("cred-container");
    let ep = ContainerCredentials::start(
        w.issued.clone(),
        "/v1/credentials",
        Some("pod-identity-token"),
        Duration::from_secs(3600),
    )
    .unwrap();
    let token = w.write_home("pod-token", "pod-identity-token\n");
    let mut c = w.command();
    c.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/v1/credentials", ep.url()),
    )
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token)
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "the-file-wins")
    // A proxy for everything but the Glacier endpoint: container credentials
    // never go through it.
    .env("HTTP_PROXY", "http://127.0.0.1:9")
    .env("NO_PROXY", w.h.ep.addr().to_string());
    let r = w.get(c, &[]);
    w.verified(&r);
    w.all_signed_by("container");
    assert_eq!(
        ep.log()[0].header("authorization"),
        Some("pod-identity-token")
    );

    let mut c = w.command();
    c.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/v1/credentials", ep.url()),
    )
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
    w.get(c, &[]).usage_error("HTTP 401");
    let mut c = w.command();
    c.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://169.254.169.254/creds",
    );
    w.get(c, &[]).usage_error("only from a loopback address");
}

#[test]
fn imds_v2_token_first_then_role_then_credentials() {
    let w = World::new("cred-imds");
    let imds = Imds::start(
        w.issued.clone(),
        "instance-role",
        Duration::from_secs(6 * 3600),
    )
    .unwrap();
    let mut c = w.command();
    c.env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", w.h.ep.addr().to_string());
    let r = w.get(c, &[]);
    w.verified(&r);
    w.all_signed_by("imds");
    let log = imds.log();
    let steps: Vec<(String, String, u16)> = log
        .iter()
        .map(|s| (s.method.clone(), s.path.clone(), s.status))
        .collect();
    assert_eq!(
        steps,
        [
            ("PUT".into(), "/latest/api/token".into(), 200),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/".into(),
                200
            ),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/instance-role".into(),
                200
            ),
        ]
    );
    assert_eq!(imds.tokens_issued(), 1);
    assert_eq!(
        log[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert!(
        log[1..]
            .iter()
            .all(|s| s.header("x-aws-ec2-metadata-token") == Some("imds-session-token-0"))
    );
}

#[test]
fn imds_that_does_not_answer_fails_fast_listing_every_source() {
    let w = World::new("cred-imds-down");
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let mut c = w.command();
    c.env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url);
    let started = Instant::now();
    let r = w.get(c, &[]);
    let took = started.elapsed();
    r.usage_error("no AWS credentials found for profile 'default'");
    for source in [
        "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)",
        ".aws/credentials (does not exist)",
        ".aws/config (does not exist)",
        "container credentials (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        &format!("EC2 instance metadata at {url} ("),
    ] {
        assert!(
            r.stderr.contains(source),
            "missing {source:?}:\n{}",
            r.describe()
        );
    }
    // 1 s per attempt, one retry.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took {took:?}: no retry?");
    eprintln!("silent instance metadata: failed after {took:?}");

    let r = w.get(w.command(), &[]);
    r.usage_error("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
    assert!(r.elapsed < Duration::from_secs(2), "{:?}", r.elapsed);
    drop(silent);
}

// ---------------------------------------------------------------------------
// Precedence
// ---------------------------------------------------------------------------

#[test]
fn precedence_between_sources() {
    let w = World::new("cred-precedence");
    let sts = w.sts();
    let container =
        ContainerCredentials::start(w.issued.clone(), "/c", None, Duration::from_secs(3600))
            .unwrap();
    let env_keys = w
        .issued
        .issue("env", SystemTime::now() + Duration::from_secs(3600));
    let with_container = |mut c: Command| {
        c.env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/c", container.url()),
        );
        c
    };
    // 1. Environment keys beat web identity and the container.
    let mut c = with_container(w.web_identity(&sts));
    c.env("AWS_ACCESS_KEY_ID", &env_keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &env_keys.secret_access_key)
        .env(
            "AWS_SESSION_TOKEN",
            env_keys.session_token.as_deref().unwrap(),
        );
    w.verified(&w.get(c, &[]));
    assert!(sts.calls().is_empty() && container.log().is_empty());
    // 2. Web identity beats the container.
    let r = w.get(with_container(w.web_identity(&sts)), &[]);
    w.verified(&r);
    assert_eq!(sts.calls().len(), 1);
    assert!(container.log().is_empty());
    // 3. The credentials file beats the container.
    w.write_home(
        ".aws/credentials",
        &format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            env_keys.access_key_id,
            env_keys.secret_access_key,
            env_keys.session_token.as_deref().unwrap()
        ),
    );
    w.verified(&w.get(with_container(w.command()), &[]));
    assert!(container.log().is_empty());
    // 4. Nothing else: the container.
    std::fs::remove_file(w.h.home.join(".aws/credentials")).unwrap();
    w.verified(&w.get(with_container(w.command()), &[]));
    assert_eq!(container.log().len(), 1);
    let issuers: Vec<String> = w.issued.uses().iter().map(|u| u.issuer.clone()).collect();
    assert!(issuers.contains(&"container".to_string()), "{issuers:?}");
}

// ---------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------

#[test]
fn credentials_expiring_during_a_slow_download_are_refreshed() {
    // Four 1 MiB parts, one at a time, each drip-fed for about 2.4 s.
    let w = World::with_job("cred-refresh", |j| {
        j.with_fault(FaultRule::always(Fault::SlowDrip {
            bytes_per_chunk: 64 * 1024,
            delay: Duration::from_millis(150),
        }))
    });
    let sts = w.sts();
    // The first credentials enter the 15-minute refresh window 4 s into the run.
    sts.push_lifetime(Lifetime::both(Duration::from_secs(15 * 60 + 4)));
    let r = w.get(
        w.web_identity(&sts),
        &["--part-size", "1MiB", "--parallel", "1"],
    );
    w.verified(&r);
    let calls = sts.calls();
    assert_eq!(calls.len(), 2, "one refresh: {calls:#?}");
    let uses = w.issued.uses();
    assert!(uses.iter().all(|u| u.refused.is_none()), "{uses:#?}");
    let first = calls[0].issued.clone().unwrap();
    let second = calls[1].issued.clone().unwrap();
    assert_eq!(uses[0].access_key_id, first, "{uses:#?}");
    assert_eq!(uses.last().unwrap().access_key_id, second, "{uses:#?}");
}

#[test]
fn expired_token_answer_forces_one_refresh_and_one_retry() {
    let w = World::new("cred-expired");
    let sts = w.sts();
    // The first credentials are announced for an hour but already expired at the
    // endpoint (its clock is ahead, say): ExpiredTokenException on the first request.
    sts.push_lifetime(Lifetime {
        told: Duration::from_secs(3600),
        enforced: Duration::ZERO,
    });
    let r = w.get(w.web_identity(&sts), &["--debug"]);
    w.verified(&r);
    assert_eq!(sts.calls().len(), 2);
    let uses = w.issued.uses();
    assert_eq!(
        uses[0].refused.as_deref(),
        Some("ExpiredTokenException"),
        "{uses:#?}"
    );
    assert!(uses[1..].iter().all(|u| u.refused.is_none()), "{uses:#?}");
    assert!(
        r.stderr.contains("ExpiredToken: refreshed the credentials"),
        "{}",
        r.describe()
    );

    // Static keys cannot be refreshed: the answer is the error, sent once.
    let stale = w.issued.issue("env", SystemTime::now());
    let before = w.issued.uses().len();
    let mut c = w.command();
    c.env("AWS_ACCESS_KEY_ID", &stale.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &stale.secret_access_key)
        .env("AWS_SESSION_TOKEN", stale.session_token.as_deref().unwrap());
    let r = w.get(c, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("ExpiredTokenException"),
        "{}",
        r.describe()
    );
    assert_eq!(w.issued.uses().len(), before + 1);
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

#[test]
fn secrets_never_in_debug_output_errors_or_reports() {
    let w = World::new("cred-secrets");
    let sts = w.sts();
    let r = w.get(w.web_identity(&sts), &["--debug"]);
    w.verified(&r);
    assert!(
        r.stderr
            .contains("* credentials: STS AssumeRoleWithWebIdentity"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("> POST"),
        "the STS request is traced:\n{}",
        r.describe()
    );
    let mut secrets = w.issued.secrets();
    secrets.push(WEB_TOKEN.to_string());
    assert!(secrets.len() >= 3);
    let all = format!("{}\n{}", String::from_utf8_lossy(&r.stdout), r.stderr);
    assert_lacks(&all, &secrets);

    // The SSO bearer token and the instance metadata session token stay out of traces.
    let portal = SsoPortal::start(
        w.issued.clone(),
        "111122223333",
        "GlacierReader",
        "sso-bearer-secret",
    )
    .unwrap();
    cache_token(&w, "corp", "sso-bearer-secret", "2099-01-01T00:00:00Z");
    let r = w.get(sso_config(&w, &portal), &["--profile", "dev", "--debug"]);
    w.verified(&r);
    assert!(
        r.stderr.contains("> x-amz-sso_bearer_token: ***"),
        "{}",
        r.describe()
    );
    let sso_out = format!("{}\n{}", String::from_utf8_lossy(&r.stdout), r.stderr);
    let imds = Imds::start(w.issued.clone(), "role", Duration::from_secs(3600)).unwrap();
    let mut c = w.command();
    c.env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
    let r = w.get(c, &["--debug"]);
    w.verified(&r);
    let mut secrets = w.issued.secrets();
    secrets.extend([
        "sso-bearer-secret".to_string(),
        "imds-session-token-0".to_string(),
    ]);
    let all = format!(
        "{sso_out}\n{}\n{}",
        String::from_utf8_lossy(&r.stdout),
        r.stderr
    );
    assert_lacks(&all, &secrets);

    // A failing source with a token in the environment: the error has no token either.
    let container = ContainerCredentials::start(
        w.issued.clone(),
        "/c",
        Some("right-token"),
        Duration::from_secs(60),
    )
    .unwrap();
    let mut c = w.command();
    c.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/c", container.url()),
    )
    .env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "wrong-container-token-value",
    );
    let r = w.get(c, &["--debug"]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert_lacks(&r.stderr, &["wrong-container-token-value".to_string()]);
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}
