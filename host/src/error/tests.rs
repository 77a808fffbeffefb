use std::error::Error as _;

use super::*;

#[test]
fn each_kind_has_its_exit_code() {
    let cases: Vec<(HostError, i32, &str)> = vec![
        (HostError::Usage("x".into()), exit::USAGE, "usage"),
        (
            HostError::Tls {
                request: "GET https://h/".into(),
                certificate: None,
                source: ureq::Error::Tls("bad certificate"),
            },
            exit::USAGE,
            "tls",
        ),
        (
            HostError::ProxyRefused {
                request: "GET https://h/".into(),
                proxy: "proxy http://p:1 (from HTTPS_PROXY)".into(),
                source: ureq::Error::ConnectProxyFailed("proxy server responded 407/x".into()),
            },
            exit::USAGE,
            "proxy",
        ),
        (
            HostError::Http {
                request: "GET http://h/".into(),
                source: ureq::Error::ConnectionFailed,
            },
            exit::NETWORK,
            "network",
        ),
        (
            HostError::BodyCut {
                what: "body after 3 bytes".into(),
                source: std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
            },
            exit::NETWORK,
            "network",
        ),
        (
            HostError::Job(JobError::NotComplete {
                status: "InProgress".into(),
            }),
            exit::SERVICE,
            "job",
        ),
        (
            HostError::Service(ServiceFailure {
                status: 404,
                code: "ResourceNotFoundException".into(),
                message: "The job ID was not found: j".into(),
                request_id: Some("r1".into()),
            }),
            exit::SERVICE,
            "service",
        ),
        (
            glacier_verify_core::Error::TreeHashHeaderMissing.into(),
            exit::VERIFICATION_FAILED,
            "verification",
        ),
        (
            HostError::io(
                "/x",
                std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            ),
            exit::IO,
            "io",
        ),
    ];
    for (e, code, kind) in cases {
        assert_eq!(e.exit_code(), code, "{e}");
        assert_eq!(e.kind(), kind, "{e}");
    }
}

#[test]
fn errors_keep_their_source() {
    let e = HostError::in_piece("part 3", glacier_verify_core::Error::TreeHashHeaderMissing);
    assert!(e.to_string().starts_with("verification failed: part 3: "));
    let src = e.source().expect("a source");
    assert_eq!(
        src.to_string(),
        glacier_verify_core::Error::TreeHashHeaderMissing.to_string()
    );
    let e = HostError::Http {
        request: "GET http://h/".into(),
        source: ureq::Error::ConnectionFailed,
    };
    assert!(e.source().is_some());
    assert!(HostError::Usage("u".into()).source().is_none());
}

#[test]
fn service_failures_read_like_the_service() {
    let s = ServiceFailure {
        status: 503,
        code: "HTTP 503".into(),
        message: String::new(),
        request_id: None,
    };
    assert_eq!(s.to_string(), "Glacier error HTTP 503");
    let s = ServiceFailure {
        status: 400,
        code: "ThrottlingException".into(),
        message: "slow down".into(),
        request_id: Some("abc".into()),
    };
    assert_eq!(
        s.to_string(),
        "Glacier error ThrottlingException (HTTP 400): slow down [request id abc]"
    );
}

#[test]
fn an_untrusted_certificate_says_what_to_do() {
    let e = HostError::Tls {
        request: "GET https://glacier.example/-/vaults/v/jobs/j".into(),
        certificate: Some(Box::new(UntrustedCertificate {
            host: "glacier.example".into(),
            problem: "it is not signed by a trusted certificate authority".into(),
        })),
        source: ureq::Error::Tls("x"),
    };
    assert_eq!(
        e.to_string(),
        "certificate for glacier.example not trusted: it is not signed by a trusted \
         certificate authority (GET https://glacier.example/-/vaults/v/jobs/j); \
         use --ca-bundle FILE or AWS_CA_BUNDLE"
    );
    assert_eq!((e.exit_code(), e.kind()), (exit::USAGE, "tls"));
    let e = HostError::ProxyRefused {
        request: "GET https://h/".into(),
        proxy: "proxy http://u:***@p:1 (from HTTPS_PROXY)".into(),
        source: ureq::Error::ConnectProxyFailed(
            "proxy server responded 407/Proxy Authentication Required".into(),
        ),
    };
    assert_eq!(
        e.to_string(),
        "proxy http://u:***@p:1 (from HTTPS_PROXY) refused GET https://h/: CONNECT proxy failed: \
         proxy server responded 407/Proxy Authentication Required"
    );
}
