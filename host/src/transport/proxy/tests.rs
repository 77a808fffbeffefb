use super::*;

fn ep(url: &str) -> EndpointUrl {
    EndpointUrl::parse(url).unwrap()
}

fn chosen(env: &ProxyEnv, url: &str) -> Option<(String, &'static str)> {
    select(env, &ep(url))
        .unwrap()
        .map(|c| (c.url.to_string(), c.var))
}

#[test]
fn each_scheme_has_its_own_variable() {
    let env = ProxyEnv::new().with_var("HTTPS_PROXY", "http://secure:3128");
    assert_eq!(
        chosen(&env, "https://glacier.us-east-1.amazonaws.com"),
        Some(("http://secure:3128".into(), "HTTPS_PROXY"))
    );
    // The https variable is never applied to an http endpoint.
    assert_eq!(chosen(&env, "http://127.0.0.1:8080"), None);
    let env = env.with_var("HTTP_PROXY", "plain:8080");
    assert_eq!(
        chosen(&env, "http://127.0.0.1:8080"),
        Some(("http://plain:8080".into(), "HTTP_PROXY"))
    );
    assert_eq!(chosen(&env, "https://h").map(|c| c.1), Some("HTTPS_PROXY"));
    assert_eq!(chosen(&ProxyEnv::new(), "https://h"), None);
}

#[test]
fn lowercase_wins_and_empty_lowercase_turns_the_proxy_off() {
    let env = ProxyEnv::new()
        .with_var("HTTPS_PROXY", "upper:1")
        .with_var("https_proxy", "lower:2");
    assert_eq!(
        chosen(&env, "https://h"),
        Some(("http://lower:2".into(), "https_proxy"))
    );
    let env = env.with_var("https_proxy", "");
    assert_eq!(chosen(&env, "https://h"), None);
    // An empty uppercase variable is unset.
    let env = ProxyEnv::new().with_var("HTTP_PROXY", "");
    assert_eq!(chosen(&env, "http://h"), None);
}

#[test]
fn cgi_programs_ignore_uppercase_http_proxy() {
    let env = ProxyEnv::new()
        .with_var("HTTP_PROXY", "evil:1")
        .with_var("REQUEST_METHOD", "GET");
    assert_eq!(chosen(&env, "http://h"), None);
    let env = env.with_var("http_proxy", "good:2");
    assert_eq!(chosen(&env, "http://h").unwrap().1, "http_proxy");
    // HTTPS_PROXY cannot come from a request header.
    let env = env.with_var("HTTPS_PROXY", "s:3");
    assert_eq!(chosen(&env, "https://h").unwrap().1, "HTTPS_PROXY");
}

#[test]
fn proxy_urls() {
    let p = ProxyUrl::parse("http://user:p%40ss%3Aw@proxy.corp:3128/").unwrap();
    assert_eq!(
        (p.host(), p.port(), p.user(), p.has_password()),
        ("proxy.corp", 3128, Some("user"), true)
    );
    assert_eq!(p.password.as_deref(), Some("p@ss:w"));
    // The password is never shown.
    assert_eq!(p.to_string(), "http://user:***@proxy.corp:3128");
    assert!(!format!("{p:?}").contains("p%40ss"));
    assert!(!format!("{p:?}").contains("p@ss"));
    let p = ProxyUrl::parse("proxy:8080").unwrap();
    assert_eq!(p.to_string(), "http://proxy:8080");
    let p = ProxyUrl::parse("//proxy").unwrap();
    assert_eq!((p.port(), p.is_https()), (80, false));
    let p = ProxyUrl::parse("HTTPS://[::1]").unwrap();
    assert_eq!((p.host(), p.port(), p.is_https()), ("::1", 443, true));
    assert_eq!(p.to_string(), "https://[::1]:443");
    let p = ProxyUrl::parse("http://only-user@h:1").unwrap();
    assert_eq!((p.user(), p.has_password()), (Some("only-user"), false));
    assert_eq!(p.to_string(), "http://only-user@h:1");
    assert!(p.to_ureq().is_ok());

    assert_eq!(
        ProxyUrl::parse("socks5://h:1080"),
        Err(ProxyUrlError::UnsupportedScheme)
    );
    assert_eq!(
        ProxyUrl::parse("http://u:%zz@h:1"),
        Err(ProxyUrlError::BadUserInfo)
    );
    assert_eq!(
        ProxyUrl::parse("http://h:99999"),
        Err(ProxyUrlError::Malformed)
    );
    assert!(ProxyUrl::parse("http://").is_err());
}

#[test]
fn a_bad_proxy_url_names_the_variable_not_the_value() {
    let env = ProxyEnv::new().with_var("HTTPS_PROXY", "socks5://u:secret@h:1080");
    let e = select(&env, &ep("https://h")).unwrap_err();
    assert_eq!(e.var, "HTTPS_PROXY");
    let text = e.to_string();
    assert!(
        text.contains("HTTPS_PROXY") && text.contains("http://"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
    // A bypassed endpoint never looks at the proxy URL.
    let env = env.with_var("NO_PROXY", "h");
    assert_eq!(select(&env, &ep("https://h")), Ok(None));
}

fn bypass(list: &str, host: &str, port: u16) -> bool {
    NoProxy::parse(list).matches(host, port)
}

#[test]
fn no_proxy_names_and_domains() {
    for list in [
        "example.com",
        ".example.com",
        "*.example.com",
        " EXAMPLE.com. ",
    ] {
        assert!(bypass(list, "example.com", 443), "{list}");
        assert!(bypass(list, "glacier.example.com", 443), "{list}");
        assert!(bypass(list, "A.B.Example.COM", 443), "{list}");
        assert!(!bypass(list, "badexample.com", 443), "{list}");
        assert!(!bypass(list, "example.com.evil", 443), "{list}");
    }
    assert!(bypass("localhost", "localhost", 80));
    assert!(bypass("foo, bar ,,baz", "bar", 1));
    assert!(!bypass("foo,bar", "qux", 1));
    assert!(!bypass("", "h", 1));
}

#[test]
fn no_proxy_star() {
    assert!(bypass("*", "anything.example", 443));
    assert!(bypass("foo,*", "10.1.2.3", 443));
    let env = ProxyEnv::new()
        .with_var("HTTPS_PROXY", "p:1")
        .with_var("no_proxy", "*");
    assert_eq!(
        chosen(&env, "https://glacier.eu-west-1.amazonaws.com"),
        None
    );
}

#[test]
fn no_proxy_ports() {
    assert!(bypass("h:8443", "h", 8443));
    assert!(!bypass("h:8443", "h", 443));
    assert!(bypass(".corp:443", "glacier.corp", 443));
    assert!(bypass("127.0.0.1:9000", "127.0.0.1", 9000));
    assert!(!bypass("127.0.0.1:9000", "127.0.0.1", 9001));
    assert!(bypass("[::1]:9000", "::1", 9000));
    assert!(!bypass("[::1]:9000", "::1", 9001));
    // The default port counts when the URL names none.
    let env = ProxyEnv::new()
        .with_var("HTTPS_PROXY", "p:1")
        .with_var("NO_PROXY", "glacier.example:443");
    assert_eq!(chosen(&env, "https://glacier.example"), None);
    assert!(chosen(&env, "https://glacier.example:8443").is_some());
}

#[test]
fn no_proxy_addresses_and_cidr_blocks() {
    assert!(bypass("127.0.0.1", "127.0.0.1", 1));
    assert!(!bypass("127.0.0.1", "127.0.0.2", 1));
    assert!(bypass("10.0.0.0/8", "10.200.3.4", 1));
    assert!(!bypass("10.0.0.0/8", "11.0.0.1", 1));
    assert!(bypass("192.168.1.0/24", "192.168.1.255", 1));
    assert!(!bypass("192.168.1.0/24", "192.168.2.0", 1));
    assert!(bypass("127.0.0.1/32", "127.0.0.1", 1));
    assert!(bypass("0.0.0.0/0", "8.8.8.8", 1));
    // Names are not resolved for CIDR blocks.
    assert!(!bypass("127.0.0.0/8", "localhost", 1));
    // IPv6, with or without brackets, in any spelling.
    assert!(bypass("::1", "::1", 1));
    assert!(bypass("[::1]", "[::1]", 1));
    assert!(bypass("0:0::1", "::1", 1));
    assert!(bypass("fd00::/8", "fd12:3456::1", 1));
    assert!(!bypass("fd00::/8", "fe80::1", 1));
    assert!(bypass("2001:db8::/32", "2001:DB8:0:1::5", 1));
    assert!(!bypass("2001:db8::/32", "2001:db9::5", 1));
    // An IPv4-mapped address is its IPv4 address.
    assert!(bypass("10.0.0.0/8", "::ffff:10.1.1.1", 1));
    assert!(bypass("10.1.1.1", "::ffff:10.1.1.1", 1));
    // Malformed blocks match nothing.
    assert!(!bypass("10.0.0.0/33", "10.0.0.1", 1));
    assert!(!bypass("10.0.0.0/x", "10.0.0.1", 1));
    assert!(!bypass("::/129", "::1", 1));
}

#[test]
fn no_proxy_in_the_selection() {
    let env = ProxyEnv::new()
        .with_var("HTTPS_PROXY", "p:1")
        .with_var("HTTP_PROXY", "p:2")
        .with_var("NO_PROXY", "127.0.0.0/8,.internal");
    assert_eq!(chosen(&env, "https://127.0.0.1:8443"), None);
    assert_eq!(chosen(&env, "http://[::1]:8080").unwrap().1, "HTTP_PROXY");
    assert_eq!(chosen(&env, "https://glacier.internal"), None);
    assert!(chosen(&env, "https://glacier.us-east-1.amazonaws.com").is_some());
    // no_proxy wins over NO_PROXY.
    let env = env.with_var("no_proxy", "other");
    assert!(chosen(&env, "https://127.0.0.1:8443").is_some());
}

#[test]
fn debug_hides_values() {
    let env = ProxyEnv::new().with_var("HTTPS_PROXY", "http://u:secret@h:1");
    assert!(!format!("{env:?}").contains("secret"));
    let c = select(&env, &ep("https://x")).unwrap().unwrap();
    assert!(!format!("{c:?}").contains("secret"));
    assert!(!c.to_string().contains("secret"));
    assert_eq!(c.to_string(), "proxy http://u:***@h:1 (from HTTPS_PROXY)");
}
