//! Proxies end to end: the built binary reaches the loopback endpoint
//! through Debian's tinyproxy, started per test on 127.0.0.1 with a
//! generated configuration, and tinyproxy's own log proves which requests it
//! carried. botocore's rule (docs/protocol.md §13): `HTTPS_PROXY` for https
//! endpoints (a `CONNECT` tunnel), `HTTP_PROXY` for http ones, `NO_PROXY`
//! to go direct; credentials in the proxy URL; a proxy that refuses or is
//! down is named in the error.

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

fn tinyproxy_bin() -> Option<PathBuf> {
    daemons::find("tinyproxy", "GV_REQUIRE_TINYPROXY")
}

/// A proxy URL on a port where nothing listens.
fn dead_proxy() -> String {
    format!("http://127.0.0.1:{}", daemons::free_port())
}

fn get_with(h: &Harness, env: &[(&str, String)], extra: &[&str]) -> Run {
    let out = h.path("job.out");
    let _ = std::fs::remove_file(&out);
    let args = h.get_args("job", &out, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = h.command();
    for (k, v) in env {
        cmd.env(k, v);
    }
    h.run_with(cmd, &refs)
}

/// How many tunnels tinyproxy opened to the endpoint.
fn connects(proxy: &daemons::Daemon, h: &Harness) -> usize {
    let target = format!("CONNECT 127.0.0.1:{} ", h.ep.addr().port());
    proxy
        .log_text()
        .lines()
        .filter(|l| l.contains(&target))
        .count()
}

fn tls_harness(name: &str) -> (Harness, String) {
    let pki = Pki::localhost();
    let identity = pki.identity();
    let h = Harness::with_config(name, |c| c.with_tls(identity));
    let ca = pki.write(&h.dir).display().to_string();
    (h, ca)
}

#[test]
fn an_https_endpoint_through_a_connect_proxy() {
    let Some(bin) = tinyproxy_bin() else { return };
    let (h, ca) = tls_harness("proxy-https");
    let proxy = daemons::tinyproxy(&bin, &h.dir, None);
    let payload = h.archive("job", 2 * MIB + 3, 1);
    let r = get_with(
        &h,
        &[
            ("HTTPS_PROXY", proxy.url(None)),
            // Never used for an https endpoint (ureq's own rule would).
            ("HTTP_PROXY", dead_proxy()),
            ("ALL_PROXY", dead_proxy()),
        ],
        &["--ca-bundle", &ca, "--part-size", "1MiB", "--parallel", "1"],
    );
    r.verified("header-and-expected-hash");
    assert_file_is(&h.path("job.out"), &payload.to_vec());
    assert_eq!(h.log("job").len(), 3);
    // The connections went through tinyproxy's tunnels (pooled, so at
    // least one and at most one per request).
    let n = connects(&proxy, &h);
    assert!((1..=4).contains(&n), "{n} tunnels:\n{}", proxy.log_text());
}

#[test]
fn an_http_endpoint_through_http_proxy() {
    let Some(bin) = tinyproxy_bin() else { return };
    let h = Harness::new("proxy-http");
    let proxy = daemons::tinyproxy(&bin, &h.dir, None);
    let payload = h.archive("job", MIB + 9, 2);
    let r = get_with(
        &h,
        &[
            ("http_proxy", proxy.url(None)),
            // Today's bug: the https variable was applied to http endpoints.
            ("HTTPS_PROXY", dead_proxy()),
        ],
        &[],
    );
    r.verified("header-and-expected-hash");
    assert_file_is(&h.path("job.out"), &payload.to_vec());
    assert!(connects(&proxy, &h) >= 1, "{}", proxy.log_text());
}

#[test]
fn no_proxy_goes_direct() {
    let Some(bin) = tinyproxy_bin() else { return };
    let (h, ca) = tls_harness("proxy-bypass");
    let proxy = daemons::tinyproxy(&bin, &h.dir, None);
    h.archive("job", MIB, 3);
    let port = h.ep.addr().port();
    for no_proxy in [
        "127.0.0.0/8".to_string(),
        format!("example.com, 127.0.0.1:{port}"),
        "*".to_string(),
    ] {
        let r = get_with(
            &h,
            &[
                ("HTTPS_PROXY", proxy.url(None)),
                ("NO_PROXY", no_proxy.clone()),
            ],
            &["--ca-bundle", &ca],
        );
        r.verified("header-and-expected-hash");
        assert_eq!(
            connects(&proxy, &h),
            0,
            "NO_PROXY={no_proxy}:\n{}",
            proxy.log_text()
        );
    }
    // An entry for another port does not match: through the proxy.
    let r = get_with(
        &h,
        &[
            ("HTTPS_PROXY", proxy.url(None)),
            ("no_proxy", format!("127.0.0.1:{}", port.wrapping_add(1))),
        ],
        &["--ca-bundle", &ca],
    );
    r.verified("header-and-expected-hash");
    assert!(connects(&proxy, &h) >= 1, "{}", proxy.log_text());
}

#[test]
fn proxy_credentials_from_the_url() {
    let Some(bin) = tinyproxy_bin() else { return };
    let (h, ca) = tls_harness("proxy-auth");
    let proxy = daemons::tinyproxy(&bin, &h.dir, Some(("gvuser", "s3cr.t-x_y")));
    let payload = h.archive("job", MIB + 1, 4);
    // Percent-encoded in the URL (RFC 3986 §2.1), decoded before it is sent
    // (tinyproxy's configuration allows no '@' or ':' in a password).
    let r = get_with(
        &h,
        &[("HTTPS_PROXY", proxy.url(Some("gvuser:s3cr%2Et-x_y")))],
        &["--ca-bundle", &ca],
    );
    r.verified("header-and-expected-hash");
    assert_file_is(&h.path("job.out"), &payload.to_vec());
    assert!(connects(&proxy, &h) >= 1, "{}", proxy.log_text());

    // A wrong password: tinyproxy refuses the tunnel (1.11 answers 401, RFC
    // 9110 §15.5.8 would have 407); any 4xx is final and names the proxy,
    // without the password.
    h.ep.clear_log();
    let r = get_with(
        &h,
        &[("HTTPS_PROXY", proxy.url(Some("gvuser:wrong-pass")))],
        &["--ca-bundle", &ca, "--max-attempts", "5"],
    );
    let report = r.failed(
        2,
        &format!(
            "proxy http://gvuser:***@127.0.0.1:{} (from HTTPS_PROXY) refused GET https://127.0.0.1:{}/",
            proxy.port,
            h.ep.addr().port()
        ),
    );
    assert!(
        r.stderr.contains("proxy server responded 40"),
        "{}",
        r.describe()
    );
    assert_eq!(report["verification"]["error"]["kind"], "proxy");
    assert!(r.elapsed < FAST, "retried? {:?}", r.elapsed);
    let everything = format!("{}{}", r.stderr, String::from_utf8_lossy(&r.stdout));
    assert!(!everything.contains("wrong-pass"), "{}", r.describe());
    assert!(h.all_requests().is_empty());
}

#[test]
fn a_proxy_that_is_down_is_named() {
    let (h, ca) = tls_harness("proxy-down");
    h.archive("job", MIB, 5);
    let dead = dead_proxy();
    let r = get_with(
        &h,
        &[("https_proxy", dead.clone())],
        &["--ca-bundle", &ca, "--max-attempts", "2"],
    );
    // A proxy that is down may come back: retried, then a network failure
    // that says which proxy, and for which endpoint.
    r.failed(
        4,
        &format!(
            "GET https://127.0.0.1:{}/-/vaults/{VAULT}/jobs/job through proxy {dead} (from https_proxy)",
            h.ep.addr().port()
        ),
    );
    assert!(r.stderr.contains("Connection refused"), "{}", r.describe());
    assert!(h.all_requests().is_empty());
}

#[test]
fn an_unusable_proxy_variable_stops_before_any_request() {
    let h = Harness::new("proxy-bad-url");
    h.archive("job", MIB, 6);
    let r = get_with(
        &h,
        &[("HTTP_PROXY", "socks5://u:hidden@127.0.0.1:1080".into())],
        &[],
    );
    r.usage_error("environment variable HTTP_PROXY is not a usable proxy URL");
    assert!(!r.stderr.contains("hidden"), "{}", r.describe());
    assert!(h.all_requests().is_empty());
}
