//! Signing tests: the Glacier developer guide's examples, input validation, and the
//! signing-key chain.

use super::*;
use crate::{Credentials, SigningSettings};

const DG_AKID: &str = "AKIAIOSFODNN7EXAMPLE";

const DG_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const DG_HOST: &str = "glacier.us-east-1.amazonaws.com";

fn dg_credentials() -> Credentials {
    Credentials::new(DG_AKID, DG_SECRET, None)
}

fn params<'a>(creds: &'a Credentials, time: &str) -> SigningParams<'a> {
    SigningParams {
        credentials: creds,
        region: "us-east-1",
        service: "glacier",
        time: time.parse().unwrap(),
        settings: SigningSettings::default(),
    }
}

/// [DG-SIGN] "Example Signature Calculation": Create Vault, 2012-05-25, us-east-1.
#[test]
fn glacier_developer_guide_put_vault() {
    let creds = dg_credentials();
    let headers = [("Host", DG_HOST), ("x-amz-glacier-version", "2012-06-01")];
    let req = SignableRequest::new(
        "PUT",
        "/-/vaults/examplevault",
        &headers,
        EMPTY_PAYLOAD_SHA256,
    );
    let out = sign(&req, &params(&creds, "20120525T002453Z")).unwrap();
    assert_eq!(
        out.canonical_request(),
        "PUT\n/-/vaults/examplevault\n\nhost:glacier.us-east-1.amazonaws.com\n\
         x-amz-date:20120525T002453Z\nx-amz-glacier-version:2012-06-01\n\n\
         host;x-amz-date;x-amz-glacier-version\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        out.string_to_sign(),
        "AWS4-HMAC-SHA256\n20120525T002453Z\n20120525/us-east-1/glacier/aws4_request\n\
         5f1da1a2d0feb614dd03d71e87928b8e449ac87614479332aced3a701f916743"
    );
    assert_eq!(
        out.signature,
        "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
    );
    assert_eq!(
        out.authorization(),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120525/us-east-1/glacier/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-glacier-version, \
         Signature=3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
    );
    assert_eq!(
        out.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["x-amz-date", "authorization"]
    );
}

/// [DG-SIGN] "Example Signature Calculation for Streaming API": Upload Archive with
/// `x-amz-content-sha256`, 2012-05-07.
///
/// The guide prints the request and canonical request with path
/// `/-/vaults/examplevault`, but its signature `b0923974…` is that of the real Upload
/// Archive path `/-/vaults/examplevault/archives` (the printed canonical request signs
/// to `e8ba379a…`). Both checked independently with Python `hashlib`/`hmac`.
#[test]
fn glacier_developer_guide_upload_archive() {
    let creds = dg_credentials();
    let body = b"Welcome to Amazon Glacier.";
    let payload = sha256_hex(body);
    assert_eq!(
        payload,
        "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"
    );
    // Uploads carry x-amz-content-sha256, passed in like any other header.
    let headers = [
        ("Host", DG_HOST),
        ("x-amz-glacier-version", "2012-06-01"),
        ("x-amz-content-sha256", payload.as_str()),
    ];
    let p = params(&creds, "20120507T000000Z");

    let printed = SignableRequest::new("POST", "/-/vaults/examplevault", &headers, &payload);
    let out = sign(&printed, &p).unwrap();
    assert_eq!(
        out.canonical_request(),
        "POST\n/-/vaults/examplevault\n\nhost:glacier.us-east-1.amazonaws.com\n\
         x-amz-content-sha256:726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628\n\
         x-amz-date:20120507T000000Z\nx-amz-glacier-version:2012-06-01\n\n\
         host;x-amz-content-sha256;x-amz-date;x-amz-glacier-version\n\
         726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"
    );
    assert_eq!(
        out.signature,
        "e8ba379a747bc294584102fd2430f7a563696740882e149c87b15754e7c10a89"
    );
    assert_eq!(
        out.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["x-amz-date", "authorization"]
    );

    let real = SignableRequest::new(
        "POST",
        "/-/vaults/examplevault/archives",
        &headers,
        &payload,
    );
    let out = sign(&real, &p).unwrap();
    assert_eq!(
        out.authorization(),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120507/us-east-1/glacier/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-glacier-version, \
         Signature=b092397439375d59119072764a1e9a144677c43d9906fd98a5742c57a2855de6"
    );
}

fn glacier_get_headers() -> [(&'static str, &'static str); 3] {
    [
        ("Host", DG_HOST),
        ("x-amz-glacier-version", "2012-06-01"),
        ("Range", "bytes=0-1048575"),
    ]
}

const JOB_PATH: &str = "/-/vaults/my.vault-1_x/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output";

#[test]
fn glacier_get_job_output_with_session_token() {
    let creds = Credentials::new(DG_AKID, DG_SECRET, Some("FQoGZXIvYXdzEXAMPLE+/=".into()));
    let headers = glacier_get_headers();
    let req = SignableRequest::new("GET", JOB_PATH, &headers, EMPTY_PAYLOAD_SHA256);
    let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
    assert_eq!(
        out.signed_headers(),
        "host;range;x-amz-date;x-amz-glacier-version;x-amz-security-token"
    );
    assert!(
        out.canonical_request()
            .starts_with(&format!("GET\n{JOB_PATH}\n\n"))
    );
    assert!(!out.canonical_request_redacted().contains("FQoG"));
    assert!(!format!("{out:?}").contains("FQoG"));
    assert!(!format!("{out:?}").contains(&out.signature));

    // The public steps, applied to the request as sent, give the same signature.
    let mut sent: Vec<(&str, &str)> = headers.to_vec();
    sent.extend(
        out.headers
            .iter()
            .filter(|(n, _)| *n != "authorization")
            .map(|(n, v)| (*n, v.as_str())),
    );
    let received = SignableRequest::new("GET", JOB_PATH, &sent, EMPTY_PAYLOAD_SHA256);
    let canonical = canonical_request(&received, &SigningSettings::default()).unwrap();
    assert_eq!(canonical.text, out.canonical_request());
    let time = AmzDate::parse("20170210T120000Z").unwrap();
    let scope = credential_scope("20170210", "us-east-1", "glacier");
    let sts = string_to_sign(time, &scope, &canonical.text);
    assert_eq!(sts, out.string_to_sign());
    let key = derive_signing_key(DG_SECRET, "20170210", "us-east-1", "glacier");
    assert_eq!(signature(&key, &sts), out.signature);
}

#[test]
fn sign_rejects_bad_requests() {
    let creds = dg_credentials();
    let p = params(&creds, "20170210T120000Z");
    let host = [("Host", DG_HOST)];
    let try_sign = |method: &str, target: &str, headers: &[(&str, &str)]| {
        sign(
            &SignableRequest::new(method, target, headers, EMPTY_PAYLOAD_SHA256),
            &p,
        )
    };
    assert_eq!(
        try_sign("", "/", &host).unwrap_err(),
        SigV4Error::InvalidMethod
    );
    assert_eq!(
        try_sign("G ET", "/", &host).unwrap_err(),
        SigV4Error::InvalidMethod
    );
    for bad in [
        "", "*", "relative", "/a b", "/a%2", "/a%zz", "/ሴ", "/a#frag", "/a\"b", "/a\\b", "/a\nb",
    ] {
        assert!(
            matches!(try_sign("GET", bad, &host), Err(SigV4Error::InvalidPath(_))),
            "{bad:?}"
        );
    }
    for bad in ["/?a b", "/?a=%", "/?a=%G0", "/?a=ሴ", "/?a#b"] {
        assert!(
            matches!(
                try_sign("GET", bad, &host),
                Err(SigV4Error::InvalidQuery(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        try_sign("GET", "/", &[]).unwrap_err(),
        SigV4Error::MissingHost
    );
    assert_eq!(
        try_sign("GET", "/", &[("host", "a"), ("HOST", "b")]).unwrap_err(),
        SigV4Error::DuplicateHost
    );
    for reserved in ["Authorization", "X-Amz-Date", "x-amz-security-token"] {
        assert_eq!(
            try_sign("GET", "/", &[host[0], (reserved, "v")]).unwrap_err(),
            SigV4Error::ReservedHeader(reserved.to_ascii_lowercase())
        );
    }
    assert!(matches!(
        try_sign("GET", "/", &[host[0], ("bad name", "v")]),
        Err(SigV4Error::InvalidHeaderName(_))
    ));
    assert!(matches!(
        try_sign("GET", "/", &[host[0], ("", "v")]),
        Err(SigV4Error::InvalidHeaderName(_))
    ));
    for bad_value in ["a\r\nX-Injected: 1", "a\0", "a\x7f"] {
        assert_eq!(
            try_sign("GET", "/", &[host[0], ("x-h", bad_value)]).unwrap_err(),
            SigV4Error::InvalidHeaderValue("x-h".into())
        );
    }
}

#[test]
fn sign_rejects_bad_parameters() {
    let creds = dg_credentials();
    let p = params(&creds, "20170210T120000Z");
    let host = [("Host", DG_HOST)];
    let req = SignableRequest::new(
        "GET",
        "/",
        &host,
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    );
    assert_eq!(sign(&req, &p).unwrap_err(), SigV4Error::InvalidPayloadHash);
    let req = SignableRequest::new("GET", "/", &host, EMPTY_PAYLOAD_SHA256);
    for (region, service) in [
        ("", "glacier"),
        ("us-east-1", ""),
        ("us/east", "glacier"),
        ("us-east-1", "gla cier"),
    ] {
        let mut p = p;
        p.region = region;
        p.service = service;
        assert!(matches!(sign(&req, &p), Err(SigV4Error::InvalidScope(_))));
    }
    for bad in [
        Credentials::new("", "s", None),
        Credentials::new("AK ID", "s", None),
        Credentials::new("AK/ID", "s", None),
        Credentials::new("AKID", "", None),
        Credentials::new("AKID", "s\n", None),
        Credentials::new("AKID", "s", Some(String::new())),
        Credentials::new("AKID", "s", Some("a\r\nb".into())),
    ] {
        let mut p = p;
        p.credentials = &bad;
        assert!(
            matches!(sign(&req, &p), Err(SigV4Error::InvalidCredentials(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn unsigned_headers_are_not_signed() {
    let creds = dg_credentials();
    let headers = [
        ("Host", DG_HOST),
        ("User-Agent", "glacier-verify/0.1"),
        ("Connection", "close"),
        ("Accept", "*/*"),
    ];
    let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
    let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
    assert_eq!(out.signed_headers(), "accept;host;x-amz-date");
}

#[test]
fn signing_key_is_deterministic_and_scoped() {
    let k = derive_signing_key(DG_SECRET, "20120525", "us-east-1", "glacier");
    assert_eq!(
        k,
        derive_signing_key(DG_SECRET, "20120525", "us-east-1", "glacier")
    );
    assert_ne!(
        k,
        derive_signing_key(DG_SECRET, "20120526", "us-east-1", "glacier")
    );
    assert_ne!(
        k,
        derive_signing_key(DG_SECRET, "20120525", "us-east-2", "glacier")
    );
    assert_ne!(
        k,
        derive_signing_key(DG_SECRET, "20120525", "us-east-1", "s3")
    );
}
