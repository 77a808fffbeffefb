//! TLS end to end: the built binary downloads over `https://` from the
//! loopback endpoint served by rustls (its `tls` feature) and through
//! Debian's nginx as a TLS reverse proxy, with a CA and certificates
//! generated per test. Each way of trusting the CA is shown to work
//! (`--ca-bundle`, `AWS_CA_BUNDLE`, `ca_bundle` in the profile, their
//! precedence, `--trust-store os`, `--no-verify-ssl` with its warning), and
//! a certificate nothing vouches for is refused at once: exit 2, the
//! message, no request answered, no retry.

#[path = "e2e/daemons.rs"]
mod daemons;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/pki.rs"]
mod pki;

use std::path::PathBuf;
use std::time::Duration;

use harness::*;
use pki::Pki;

/// A refusal must not go through the retry loop.
const FAST: Duration = Duration::from_secs(5);

/// A harness whose endpoint serves TLS with a fresh CA's certificate, the
/// CA written to `ca.pem` in the test's directory.
fn tls_harness(name: &str) -> (Harness, PathBuf) {
    let pki = Pki::localhost();
    let identity = pki.identity();
    let h = Harness::with_config(name, |c| c.with_tls(identity));
    let ca = pki.write(&h.dir);
    assert!(h.ep.url().starts_with("https://127.0.0.1:"));
    (h, ca)
}

fn arg(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Runs `get-job-output` of `job` with `env` added and `extra` arguments.
fn get_with(h: &Harness, url: &str, env: &[(&str, String)], job: &str, extra: &[&str]) -> Run {
    let out = h.path(&format!("{job}.out"));
    let _ = std::fs::remove_file(&out);
    let args = h.get_args_at(url, job, &out, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = h.command();
    for (k, v) in env {
        cmd.env(k, v);
    }
    h.run_with(cmd, &refs)
}

fn assert_downloaded(h: &Harness, r: &Run, job: &str, payload: &glacier_verify_loopback::Payload) {
    r.verified("header-and-expected-hash");
    assert_file_is(&h.path(&format!("{job}.out")), &payload.to_vec());
}

#[test]
fn https_with_ca_bundle_option_in_parts() {
    let (h, ca) = tls_harness("tls-option");
    let payload = h.archive("job", 3 * MIB + 17, 1);
    let r = get_with(
        &h,
        &h.ep.url(),
        &[],
        "job",
        &[
            "--ca-bundle",
            &arg(&ca),
            "--part-size",
            "1MiB",
            "--parallel",
            "2",
        ],
    );
    assert_downloaded(&h, &r, "job", &payload);
    assert!(!r.stderr.contains("WARNING"), "{}", r.describe());
    // Every part travelled over TLS to the endpoint.
    assert_eq!(h.log("job").len(), 4);
}

#[test]
fn https_by_name_with_aws_ca_bundle() {
    let (h, ca) = tls_harness("tls-env");
    let payload = h.archive("job", MIB + 5, 2);
    // The certificate names localhost too; the name is what is checked.
    let url = format!("https://localhost:{}", h.ep.addr().port());
    let r = get_with(&h, &url, &[("AWS_CA_BUNDLE", arg(&ca))], "job", &[]);
    assert_downloaded(&h, &r, "job", &payload);
}

#[test]
fn https_with_ca_bundle_in_the_profile_and_the_precedence() {
    let (h, ca) = tls_harness("tls-profile");
    let payload = h.archive("job", MIB, 3);
    let aws = h.home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[default]\nca_bundle = {}\n[profile broken]\nca_bundle = {}\n",
            ca.display(),
            h.path("missing.pem").display()
        ),
    )
    .unwrap();
    let url = h.ep.url();
    let r = get_with(&h, &url, &[], "job", &[]);
    assert_downloaded(&h, &r, "job", &payload);

    // AWS_CA_BUNDLE beats the profile's (missing) file …
    let broken = ("AWS_PROFILE", "broken".to_string());
    let r = get_with(&h, &url, std::slice::from_ref(&broken), "job", &[]);
    r.usage_error("missing.pem");
    assert!(r.stderr.contains("[profile broken]"), "{}", r.describe());
    let r = get_with(
        &h,
        &url,
        &[broken.clone(), ("AWS_CA_BUNDLE", arg(&ca))],
        "job",
        &[],
    );
    assert_downloaded(&h, &r, "job", &payload);
    // … and --ca-bundle beats AWS_CA_BUNDLE.
    let missing = h.path("missing-too.pem");
    let r = get_with(
        &h,
        &url,
        &[broken, ("AWS_CA_BUNDLE", arg(&missing))],
        "job",
        &["--ca-bundle", &arg(&ca)],
    );
    assert_downloaded(&h, &r, "job", &payload);
}

#[test]
fn https_with_the_os_trust_store() {
    let (h, ca) = tls_harness("tls-os");
    let payload = h.archive("job", MIB, 4);
    let url = h.ep.url();
    // On Linux the OS store is OpenSSL's files, which SSL_CERT_FILE replaces.
    let r = get_with(
        &h,
        &url,
        &[("SSL_CERT_FILE", arg(&ca))],
        "job",
        &["--trust-store", "os"],
    );
    assert_downloaded(&h, &r, "job", &payload);
    // The bundled roots know nothing of SSL_CERT_FILE.
    let r = get_with(&h, &url, &[("SSL_CERT_FILE", arg(&ca))], "job", &[]);
    r.failed(2, "certificate for 127.0.0.1 not trusted");
    // Another CA in the OS store does not vouch for this endpoint.
    let other = Pki::new("another CA", &["127.0.0.1"]);
    let other_ca = h.path("other-ca.pem");
    std::fs::write(&other_ca, &other.ca_pem).unwrap();
    let r = get_with(
        &h,
        &url,
        &[("SSL_CERT_FILE", arg(&other_ca))],
        "job",
        &["--trust-store", "os"],
    );
    r.failed(2, "not trusted");
}

#[test]
fn no_verify_ssl_downloads_and_warns() {
    let (h, _) = tls_harness("tls-noverify");
    let payload = h.archive("job", MIB + 1, 5);
    let r = get_with(&h, &h.ep.url(), &[], "job", &["--no-verify-ssl"]);
    assert_downloaded(&h, &r, "job", &payload);
    assert!(
        r.stderr
            .contains("WARNING: --no-verify-ssl: the certificate of 127.0.0.1 is not verified"),
        "{}",
        r.describe()
    );
    // On every run (this one is --quiet too), whatever the command.
    let url = h.ep.url();
    let r = h.run(&[
        "describe-job",
        "--vault-name",
        VAULT,
        "--job-id",
        "job",
        "--endpoint-url",
        &url,
        "--no-verify-ssl",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert!(
        r.stderr.contains("WARNING: --no-verify-ssl"),
        "{}",
        r.describe()
    );
}

#[test]
fn an_untrusted_certificate_is_refused_at_once() {
    let (h, _) = tls_harness("tls-refused");
    h.archive("job", MIB, 6);
    let r = get_with(&h, &h.ep.url(), &[], "job", &["--max-attempts", "5"]);
    let report = r.failed(2, "certificate for 127.0.0.1 not trusted");
    assert!(
        r.stderr.contains(
            "it is not signed by a trusted certificate authority (GET https://127.0.0.1:"
        ) && r.stderr.contains("; use --ca-bundle FILE or AWS_CA_BUNDLE"),
        "{}",
        r.describe()
    );
    assert_eq!(report["verification"]["error"]["kind"], "tls");
    assert!(r.elapsed < FAST, "retried? {:?}", r.elapsed);
    // Every handshake failed, so the endpoint answered nothing.
    assert!(h.all_requests().is_empty(), "{:?}", h.all_requests());
    assert_absent(&h.path("job.out"));
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let pki = Pki::new("name CA", &["glacier.example"]);
    let identity = pki.identity();
    let h = Harness::with_config("tls-name", |c| c.with_tls(identity));
    let ca = pki.write(&h.dir);
    h.archive("job", MIB, 7);
    let r = get_with(&h, &h.ep.url(), &[], "job", &["--ca-bundle", &arg(&ca)]);
    r.failed(2, "certificate for 127.0.0.1 not trusted");
    assert!(r.stderr.contains("not valid for"), "{}", r.describe());
    assert!(h.all_requests().is_empty());
}

#[test]
fn an_unusable_ca_bundle_stops_before_any_request() {
    let (h, _) = tls_harness("tls-badpem");
    h.archive("job", MIB, 8);
    let not_pem = h.path("not.pem");
    std::fs::write(&not_pem, "this is no certificate\n").unwrap();
    let r = get_with(
        &h,
        &h.ep.url(),
        &[],
        "job",
        &["--ca-bundle", &arg(&not_pem)],
    );
    r.usage_error("(from option --ca-bundle) cannot be used: no PEM certificate");
    let r = get_with(
        &h,
        &h.ep.url(),
        &[("AWS_CA_BUNDLE", arg(&h.path("absent.pem")))],
        "job",
        &[],
    );
    r.usage_error("cannot read the CA bundle");
    assert!(
        r.stderr
            .contains("(from environment variable AWS_CA_BUNDLE)"),
        "{}",
        r.describe()
    );
    assert!(h.all_requests().is_empty());
}

#[test]
fn https_through_nginx_as_a_tls_reverse_proxy() {
    let Some(nginx) = daemons::find("nginx", "GV_REQUIRE_NGINX") else {
        return;
    };
    // The endpoint speaks plain HTTP; nginx terminates TLS in front of it.
    let h = Harness::new("tls-nginx");
    let pki = Pki::localhost();
    let ca = pki.write(&h.dir);
    let front = daemons::nginx_tls_front(&nginx, &h.dir, h.ep.addr());
    let payload = h.archive("job", 3 * MIB + 99, 9);
    let url = format!("https://127.0.0.1:{}", front.port);
    let r = get_with(
        &h,
        &url,
        &[],
        "job",
        &[
            "--ca-bundle",
            &arg(&ca),
            "--part-size",
            "1MiB",
            "--parallel",
            "2",
        ],
    );
    assert_downloaded(&h, &r, "job", &payload);
    assert_eq!(h.log("job").len(), 4);
    // nginx carried them: its access log has DescribeJob and the four parts.
    let log = front.log_text();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("/output HTTP/1.1\" 206"))
            .count(),
        4,
        "{log}"
    );
    // And its certificate is refused without the CA.
    let r = get_with(&h, &url, &[], "job", &[]);
    r.failed(2, "certificate for 127.0.0.1 not trusted");
}
