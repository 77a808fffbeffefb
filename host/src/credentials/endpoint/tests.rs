use super::*;
use crate::credentials::test_support::*;

fn reg(name: &str) -> Region {
    Region::new(name).unwrap()
}

#[test]
fn endpoint_precedence() {
    let r = reg("us-west-2");
    let ep = |env: &Env, explicit| {
        let e = resolve_endpoint(env, explicit, &r).unwrap();
        (e.url.to_string(), e.source)
    };
    let env = home();
    assert_eq!(
        ep(&env, None),
        (
            "https://glacier.us-west-2.amazonaws.com".into(),
            Source::Default
        )
    );
    let env = env.with_var("AWS_ENDPOINT_URL", "http://localhost:9000");
    assert_eq!(
        ep(&env, None),
        (
            "http://localhost:9000".into(),
            Source::EnvVar("AWS_ENDPOINT_URL")
        )
    );
    let env = env.with_var("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:9001");
    assert_eq!(
        ep(&env, None),
        (
            "http://127.0.0.1:9001".into(),
            Source::EnvVar("AWS_ENDPOINT_URL_GLACIER")
        )
    );
    assert_eq!(
        ep(&env, Some("https://flag.example")),
        (
            "https://flag.example".into(),
            Source::Flag("--endpoint-url")
        )
    );
    let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
    assert_eq!(ep(&env, None).1, Source::Default);
    assert_eq!(ep(&env, Some("http://x")).1, Source::Flag("--endpoint-url"));
    let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
    assert_eq!(ep(&env, None).1, Source::EnvVar("AWS_ENDPOINT_URL_GLACIER"));
    // A bad URL is an error naming its source.
    let env = home().with_var("AWS_ENDPOINT_URL", "ftp://x");
    let e = resolve_endpoint(&env, None, &r).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid endpoint URL \"ftp://x\" from environment variable AWS_ENDPOINT_URL: only http:// and https:// are supported"
    );
}

#[test]
fn default_endpoints_by_partition() {
    let host = |r: &str| default_endpoint(&reg(r)).map(|e| e.host_header());
    assert_eq!(
        host("us-east-1"),
        Ok("glacier.us-east-1.amazonaws.com".into())
    );
    assert_eq!(
        host("us-gov-west-1"),
        Ok("glacier.us-gov-west-1.amazonaws.com".into())
    );
    assert_eq!(
        host("cn-north-1"),
        Ok("glacier.cn-north-1.amazonaws.com.cn".into())
    );
    assert_eq!(
        host("cn-northwest-1"),
        Ok("glacier.cn-northwest-1.amazonaws.com.cn".into())
    );
    for r in [
        "us-iso-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "eusc-de-east-1",
    ] {
        assert_eq!(
            host(r),
            Err(ConfigError::NoDefaultEndpoint { region: r.into() })
        );
    }
    let e = default_endpoint(&reg("eu-west-1")).unwrap();
    assert_eq!(
        (e.scheme(), e.host(), e.port(), e.base_path()),
        (Scheme::Https, "glacier.eu-west-1.amazonaws.com", 443, "")
    );
}

#[test]
fn endpoint_parsing_accepts() {
    let p = |s: &str| {
        EndpointUrl::parse(s).map(|e| {
            let parts = (e.scheme(), e.host(), e.port(), e.base_path());
            let parts = (parts.0, parts.1.to_string(), parts.2, parts.3.to_string());
            (parts, e.host_header())
        })
    };
    let https = Scheme::Https;
    let http = Scheme::Http;
    let good = [
        (
            "https://glacier.us-east-1.amazonaws.com",
            (https, "glacier.us-east-1.amazonaws.com", 443, ""),
            "glacier.us-east-1.amazonaws.com",
        ),
        (
            "HTTP://LocalHost:8080/",
            (http, "localhost", 8080, ""),
            "localhost:8080",
        ),
        ("HtTpS://H", (https, "h", 443, ""), "h"),
        ("https://h:443", (https, "h", 443, ""), "h"),
        ("http://h:80/", (http, "h", 80, ""), "h"),
        ("http://h:443", (http, "h", 443, ""), "h:443"),
        ("http://h:00080", (http, "h", 80, ""), "h"),
        (
            "http://10.0.0.1:9000/base/path/",
            (http, "10.0.0.1", 9000, "/base/path"),
            "10.0.0.1:9000",
        ),
        ("http://[::1]:8080", (http, "::1", 8080, ""), "[::1]:8080"),
        (
            "https://[2001:DB8::1]",
            (https, "2001:db8::1", 443, ""),
            "[2001:db8::1]",
        ),
        (
            "http://my_host.local",
            (http, "my_host.local", 80, ""),
            "my_host.local",
        ),
        ("http://h/a-b.c_d~e/", (http, "h", 80, "/a-b.c_d~e"), "h"),
    ];
    for (url, (scheme, host, port, base_path), host_header) in good {
        let want = (
            (scheme, host.to_string(), port, base_path.to_string()),
            host_header,
        );
        assert_eq!(p(url), Ok((want.0, want.1.to_string())), "{url:?}");
    }

    let e = EndpointUrl::parse("http://h:9000/prefix").unwrap();
    assert_eq!(e.request_path("/-/vaults/v"), "/prefix/-/vaults/v");
    assert_eq!(e.to_string(), "http://h:9000/prefix");
}

#[test]
fn endpoint_parsing_refuses() {
    let bad = [
        (
            "glacier.us-east-1.amazonaws.com",
            EndpointError::MissingScheme,
        ),
        ("ftp://h", EndpointError::UnsupportedScheme),
        ("https//h", EndpointError::MissingScheme),
        ("://h", EndpointError::UnsupportedScheme),
        ("http://", EndpointError::MissingHost),
        ("http:///path", EndpointError::MissingHost),
        ("http://:80", EndpointError::MissingHost),
        ("http://user:pw@h", EndpointError::UserInfo),
        ("http://h:", EndpointError::InvalidPort),
        ("http://h:0", EndpointError::InvalidPort),
        ("http://h:65536", EndpointError::InvalidPort),
        ("http://h:+80", EndpointError::InvalidPort),
        ("http://h:8o", EndpointError::InvalidPort),
        ("http://h:1:2", EndpointError::InvalidPort),
        ("http://h?x=1", EndpointError::Query),
        ("http://h/#f", EndpointError::Fragment),
        ("http://h o", EndpointError::InvalidHost),
        ("http://hé", EndpointError::InvalidHost),
        ("http://[::1", EndpointError::InvalidHost),
        ("http://[not-ip]", EndpointError::InvalidHost),
        ("http://[::1]x", EndpointError::InvalidHost),
        ("http://[::1]:", EndpointError::InvalidPort),
        ("http://h/a b", EndpointError::InvalidPath),
        ("http://h/a%20b", EndpointError::InvalidPath),
        ("", EndpointError::MissingScheme),
    ];
    for (url, want) in bad {
        assert_eq!(EndpointUrl::parse(url), Err(want), "{url:?}");
    }
}

/// `http::Uri` parses these (some dropping a part without a trace); an endpoint URL must
/// still refuse them.
#[test]
fn endpoint_parsing_refuses_what_http_uri_accepts() {
    let bad = [
        // A URI without a scheme: authority-form, path-only, `scheme:` without `//`.
        ("h:80", EndpointError::MissingScheme),
        ("/path", EndpointError::MissingScheme),
        ("http:h", EndpointError::MissingScheme),
        ("mailto://h", EndpointError::UnsupportedScheme),
        // Fragments are dropped by http::Uri, empty queries kept as "".
        ("http://h#", EndpointError::Fragment),
        ("http://h/p#f", EndpointError::Fragment),
        ("http://h#a b", EndpointError::Fragment),
        ("http://h?", EndpointError::Query),
        ("http://h/p?", EndpointError::Query),
        // User info, even empty or repeated.
        ("http://@h", EndpointError::UserInfo),
        ("http://a@b@c", EndpointError::UserInfo),
        // Registered names may hold sub-delimiters and `~` in a URI, not in a host here.
        ("http://h!x", EndpointError::InvalidHost),
        ("http://h~x", EndpointError::InvalidHost),
        ("http://h*", EndpointError::InvalidHost),
        ("http://h=x;y", EndpointError::InvalidHost),
        ("http://h(x)", EndpointError::InvalidHost),
        // Bracketed hosts must be IPv6 addresses: no IPvFuture, no zone id.
        ("http://[v1.x]", EndpointError::InvalidHost),
        ("http://[::1%25eth0]", EndpointError::InvalidHost),
        // http::Uri reports these ports as absent rather than invalid.
        ("http://h:-1", EndpointError::InvalidPort),
        ("http://h:099999", EndpointError::InvalidPort),
        ("http://h:18446744073709551617", EndpointError::InvalidPort),
        ("http://[::1]:8o", EndpointError::InvalidPort),
        // Path characters a URI allows but the base path does not.
        ("http://h/é", EndpointError::InvalidPath),
        ("http://h/a{b}", EndpointError::InvalidPath),
        ("http://h/a\"b", EndpointError::InvalidPath),
        ("http://h/a\\b", EndpointError::InvalidPath),
        ("http://h/a;b", EndpointError::InvalidPath),
        ("http://h/a:b", EndpointError::InvalidPath),
        ("http://h/a@b", EndpointError::InvalidPath),
        ("http://h/a+b", EndpointError::InvalidPath),
    ];
    for (url, want) in bad {
        assert!(
            url.parse::<http::Uri>().is_ok(),
            "http::Uri refuses {url:?}"
        );
        assert_eq!(EndpointUrl::parse(url), Err(want), "{url:?}");
    }
}

/// When `http::Uri` refuses a URL, the error still names the part that is wrong.
#[test]
fn endpoint_parsing_names_what_http_uri_refuses() {
    let bad = [
        ("http:/h", EndpointError::MissingScheme),
        (" http://h", EndpointError::UnsupportedScheme),
        ("ftp://h o", EndpointError::UnsupportedScheme),
        ("http://h o#f", EndpointError::Fragment),
        ("http://h?x y", EndpointError::Query),
        ("http://h/a b?x", EndpointError::Query),
        ("http://u@h o", EndpointError::UserInfo),
        ("http://h%41", EndpointError::InvalidHost),
        ("http://h\\x", EndpointError::InvalidHost),
        ("http://h]", EndpointError::InvalidHost),
        ("http://[[::1]]", EndpointError::InvalidHost),
        ("http://[::1]:80:80", EndpointError::InvalidPort),
        ("http://h/a\tb", EndpointError::InvalidPath),
        ("http://h ", EndpointError::InvalidHost),
    ];
    for (url, want) in bad {
        assert!(
            url.parse::<http::Uri>().is_err(),
            "http::Uri accepts {url:?}"
        );
        assert_eq!(EndpointUrl::parse(url), Err(want), "{url:?}");
    }
}
