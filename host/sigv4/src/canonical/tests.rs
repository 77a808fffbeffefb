//! Unit tests of the canonical URI, query and header rules.

use super::*;

const JOB_PATH: &str = "/-/vaults/my.vault-1_x/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output";

#[test]
fn canonical_uri_rules() {
    let normalized = SigningSettings::default();
    let raw = SigningSettings {
        normalize_path: false,
    };
    let cases: &[(&str, SigningSettings, &str)] = &[
        (JOB_PATH, normalized, JOB_PATH),
        ("/", normalized, "/"),
        ("//", normalized, "/"),
        ("//example//", normalized, "/example/"),
        ("/a/./b/../c", normalized, "/a/c"),
        ("/../..", normalized, "/"),
        ("/a/..", normalized, "/"),
        ("/a/b/", normalized, "/a/b/"),
        ("/a/./b/../c", raw, "/a/./b/../c"),
        ("//", raw, "//"),
        // The wire path is encoded again: its '%' escapes become '%25'.
        ("/a%20b", normalized, "/a%2520b"),
        ("/%7e~", normalized, "/%257e~"),
        ("/%E1%88%B4", normalized, "/%25E1%2588%25B4"),
        (
            "/@:!$&'()*+,;=",
            normalized,
            "/%40%3A%21%24%26%27%28%29%2A%2B%2C%3B%3D",
        ),
    ];
    for &(path, settings, want) in cases {
        assert_eq!(
            canonical_uri(path, &settings).unwrap(),
            want,
            "{path} {settings:?}"
        );
    }
}

#[test]
fn repeated_headers_are_joined_in_order() {
    let headers = [
        ("Host", "h"),
        ("X-B", " 2 "),
        ("x-a", "first"),
        ("X-A", "second  value"),
    ];
    let (block, signed) = canonical_headers(&headers).unwrap();
    assert_eq!(block, "host:h\nx-a:first,second value\nx-b:2\n");
    assert_eq!(signed, "host;x-a;x-b");
}

#[test]
fn canonical_query_rules() {
    let cases = [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=10", "a=1&a=10&a=2"),
        ("B=1&a=1", "B=1&a=1"),
        ("flag&x=", "flag=&x="),
        ("&&a=1&", "a=1"),
        ("a=b=c", "a=b%3Dc"),
        ("k=%7e%2f/?", "k=~%2F%2F%3F"),
        ("sp=a+b%20c", "sp=a%2Bb%20c"),
        ("%E1%88%B4=bar", "%E1%88%B4=bar"),
        ("%e1%88%b4=Bar", "%E1%88%B4=Bar"),
    ];
    for (q, want) in cases {
        assert_eq!(canonical_query(q).unwrap(), want, "{q}");
    }
}

#[test]
fn header_value_trimming() {
    assert_eq!(trim_all("  a   b \t c  "), "a b c");
    assert_eq!(trim_all(""), "");
    assert_eq!(trim_all(" \t "), "");
    assert_eq!(trim_all("\"a   b   c\""), "\"a b c\"");
    assert_eq!(trim_all("ünï  cödé"), "ünï cödé");
}
