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
fn endpoint_parsing() {
    let p = |s: &str| {
        EndpointUrl::parse(s).map(|e| {
            (
                e.scheme(),
                e.host().to_string(),
                e.port(),
                e.base_path().to_string(),
                e.host_header(),
            )
        })
    };
    assert_eq!(
        p("https://glacier.us-east-1.amazonaws.com"),
        Ok((
            Scheme::Https,
            "glacier.us-east-1.amazonaws.com".into(),
            443,
            "".into(),
            "glacier.us-east-1.amazonaws.com".into()
        ))
    );
    assert_eq!(
        p("HTTP://LocalHost:8080/"),
        Ok((
            Scheme::Http,
            "localhost".into(),
            8080,
            "".into(),
            "localhost:8080".into()
        ))
    );
    assert_eq!(
        p("https://h:443"),
        Ok((Scheme::Https, "h".into(), 443, "".into(), "h".into()))
    );
    assert_eq!(
        p("http://h:80/"),
        Ok((Scheme::Http, "h".into(), 80, "".into(), "h".into()))
    );
    assert_eq!(
        p("http://h:443"),
        Ok((Scheme::Http, "h".into(), 443, "".into(), "h:443".into()))
    );
    assert_eq!(
        p("http://10.0.0.1:9000/base/path/"),
        Ok((
            Scheme::Http,
            "10.0.0.1".into(),
            9000,
            "/base/path".into(),
            "10.0.0.1:9000".into()
        ))
    );
    assert_eq!(
        p("http://[::1]:8080"),
        Ok((
            Scheme::Http,
            "::1".into(),
            8080,
            "".into(),
            "[::1]:8080".into()
        ))
    );
    assert_eq!(
        p("https://[2001:DB8::1]"),
        Ok((
            Scheme::Https,
            "2001:db8::1".into(),
            443,
            "".into(),
            "[2001:db8::1]".into()
        ))
    );
    assert_eq!(
        p("http://my_host.local"),
        Ok((
            Scheme::Http,
            "my_host.local".into(),
            80,
            "".into(),
            "my_host.local".into()
        ))
    );

    let e = EndpointUrl::parse("http://h:9000/prefix").unwrap();
    assert_eq!(e.request_path("/-/vaults/v"), "/prefix/-/vaults/v");
    assert_eq!(e.to_string(), "http://h:9000/prefix");

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
