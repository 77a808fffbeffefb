//! Unit tests of the server-side check: tampering, session tokens, scope and clock,
//! the `Date` fallback, malformed `Authorization` headers and `x-amz-content-sha256`.

use glacier_verify_sigv4::{EMPTY_PAYLOAD_SHA256, SigningParams, sha256_hex, sign};

use super::*;

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

fn glacier_get_headers() -> [(&'static str, &'static str); 3] {
    [
        ("Host", DG_HOST),
        ("x-amz-glacier-version", "2012-06-01"),
        ("Range", "bytes=0-1048575"),
    ]
}

const JOB_PATH: &str = "/-/vaults/my.vault-1_x/jobs/HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID/output";

#[test]
fn glacier_get_job_output_roundtrip_with_session_token() {
    let creds = Credentials::new(DG_AKID, DG_SECRET, Some("FQoGZXIvYXdzEXAMPLE+/=".into()));
    let headers = glacier_get_headers();
    let req = SignableRequest::new("GET", JOB_PATH, &headers, EMPTY_PAYLOAD_SHA256);
    let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
    let mut sent: Vec<(&str, &str)> = headers.to_vec();
    sent.extend(out.headers.iter().map(|(n, v)| (*n, v.as_str())));
    let received = SignableRequest::new("GET", JOB_PATH, &sent, EMPTY_PAYLOAD_SHA256);
    let now = AmzDate::parse("20170210T120500Z").unwrap();
    let vp = VerifyParams::new("us-east-1", "glacier", Some(now));
    let ok = verify(&received, &vp, |akid| {
        (akid == DG_AKID).then(|| creds.clone())
    })
    .unwrap();
    assert_eq!(ok.access_key_id, DG_AKID);
    assert_eq!(ok.time.to_string(), "20170210T120000Z");
    assert_eq!(ok.signed_headers.len(), 5);
}

/// Signs a Glacier GET and returns the headers as sent.
fn signed_get(creds: &Credentials) -> Vec<(&'static str, String)> {
    let headers = glacier_get_headers();
    let req = SignableRequest::new("GET", JOB_PATH, &headers, EMPTY_PAYLOAD_SHA256);
    let out = sign(&req, &params(creds, "20170210T120000Z")).unwrap();
    let mut sent: Vec<(&'static str, String)> =
        headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
    sent.extend(out.headers);
    sent
}

fn verify_sent(
    method: &str,
    target: &str,
    sent: &[(&str, String)],
    known: &Credentials,
) -> Result<VerifiedRequest, VerifyError> {
    let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let req = SignableRequest::new(method, target, &hdrs, EMPTY_PAYLOAD_SHA256);
    let now = AmzDate::parse("20170210T120000Z").unwrap();
    let vp = VerifyParams::new("us-east-1", "glacier", Some(now));
    verify(&req, &vp, |akid| {
        (akid == known.access_key_id).then(|| known.clone())
    })
}

fn set(sent: &mut [(&str, String)], name: &str, value: &str) {
    for (n, v) in sent.iter_mut() {
        if n.eq_ignore_ascii_case(name) {
            *v = value.to_string();
        }
    }
}

#[test]
fn verify_rejects_tampering() {
    let creds = dg_credentials();
    let sent = signed_get(&creds);
    assert!(verify_sent("GET", JOB_PATH, &sent, &creds).is_ok());

    // Another method, path, query or signed header value.
    assert_eq!(
        verify_sent("HEAD", JOB_PATH, &sent, &creds),
        Err(VerifyError::SignatureMismatch)
    );
    let other = JOB_PATH.replace("my.vault", "my.vaulT");
    assert_eq!(
        verify_sent("GET", &other, &sent, &creds),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        verify_sent("GET", &format!("{JOB_PATH}?x=1"), &sent, &creds),
        Err(VerifyError::SignatureMismatch)
    );
    let mut s = sent.clone();
    set(&mut s, "range", "bytes=0-1048576");
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &creds),
        Err(VerifyError::SignatureMismatch)
    );

    // Wrong secret on the server side.
    let wrong = Credentials::new(DG_AKID, "another secret", None);
    assert_eq!(
        verify_sent("GET", JOB_PATH, &sent, &wrong),
        Err(VerifyError::SignatureMismatch)
    );

    // Unknown key.
    let other_key = Credentials::new("AKIDOTHER", DG_SECRET, None);
    assert_eq!(
        verify_sent("GET", JOB_PATH, &sent, &other_key),
        Err(VerifyError::UnknownAccessKey(DG_AKID.into()))
    );

    // A flipped signature digit.
    let mut s = sent.clone();
    let auth = s
        .iter()
        .find(|(n, _)| *n == "authorization")
        .unwrap()
        .1
        .clone();
    let flipped = format!(
        "{}{}",
        &auth[..auth.len() - 1],
        if auth.ends_with('0') { '1' } else { '0' }
    );
    set(&mut s, "authorization", &flipped);
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &creds),
        Err(VerifyError::SignatureMismatch)
    );

    // Unsigned extra headers are fine (as on AWS); header-name case does not matter.
    let mut s = sent.clone();
    s.push(("User-Agent", "curl/8".into()));
    s.push(("X-Unsigned", "whatever".into()));
    for (n, _) in s.iter_mut() {
        if *n == "x-amz-date" {
            *n = "X-Amz-Date";
        }
    }
    assert!(verify_sent("GET", JOB_PATH, &s, &creds).is_ok());
}

#[test]
fn verify_session_token_rules() {
    let with_token = Credentials::new(DG_AKID, DG_SECRET, Some("tok1".into()));
    let without = dg_credentials();
    let sent = signed_get(&with_token);
    assert!(verify_sent("GET", JOB_PATH, &sent, &with_token).is_ok());
    // Server expects no token but one was sent, or expects another one.
    assert_eq!(
        verify_sent("GET", JOB_PATH, &sent, &without),
        Err(VerifyError::InvalidSessionToken)
    );
    let other = Credentials::new(DG_AKID, DG_SECRET, Some("tok2".into()));
    assert_eq!(
        verify_sent("GET", JOB_PATH, &sent, &other),
        Err(VerifyError::InvalidSessionToken)
    );
    // Token expected but the request has none.
    let plain = signed_get(&without);
    assert_eq!(
        verify_sent("GET", JOB_PATH, &plain, &with_token),
        Err(VerifyError::InvalidSessionToken)
    );
    // A token sent but not signed.
    let mut s = plain.clone();
    s.push(("x-amz-security-token", "tok1".into()));
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &with_token),
        Err(VerifyError::UnsignedRequiredHeader("x-amz-security-token"))
    );
}

#[test]
fn verify_scope_date_and_skew() {
    let creds = dg_credentials();
    let sent = signed_get(&creds);
    let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let req = SignableRequest::new("GET", JOB_PATH, &hdrs, EMPTY_PAYLOAD_SHA256);
    let lookup = |_: &str| Some(dg_credentials());

    let mut vp = VerifyParams::new("us-west-2", "glacier", None);
    assert_eq!(
        verify(&req, &vp, lookup),
        Err(VerifyError::WrongRegion("us-east-1".into()))
    );
    vp.region = "us-east-1";
    vp.service = "s3";
    assert_eq!(
        verify(&req, &vp, lookup),
        Err(VerifyError::WrongService("glacier".into()))
    );
    vp.service = "glacier";
    assert!(verify(&req, &vp, lookup).is_ok());

    // 15 minutes either way is accepted, 15 minutes and one second is not.
    let t = AmzDate::parse("20170210T120000Z").unwrap().unix_seconds();
    for (delta, ok) in [(900i64, true), (-900, true), (901, false), (-901, false)] {
        vp.now = Some(AmzDate::from_unix_seconds(t.checked_add_signed(delta).unwrap()).unwrap());
        assert_eq!(verify(&req, &vp, lookup).is_ok(), ok, "delta {delta}");
        if !ok {
            assert_eq!(
                verify(&req, &vp, lookup).unwrap_err().error_code(),
                "InvalidSignatureException"
            );
        }
    }

    // x-amz-date of another day than the scope.
    let mut s = sent.clone();
    set(&mut s, "x-amz-date", "20170211T120000Z");
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &creds),
        Err(VerifyError::ScopeDateMismatch)
    );
    set(&mut s, "x-amz-date", "2017-02-10T12:00:00Z");
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &creds),
        Err(VerifyError::MalformedDate)
    );
}

#[test]
fn verify_date_header_fallback() {
    // A Date header in ISO-8601 basic form may replace x-amz-date [DG-REQH].
    let creds = dg_credentials();
    let headers = [("Host", DG_HOST), ("Date", "20170210T120000Z")];
    let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
    let key = derive_signing_key(DG_SECRET, "20170210", "us-east-1", "glacier");
    let canonical = canonical_request(&req, &SigningSettings::default()).unwrap();
    assert_eq!(canonical.signed_headers, "date;host");
    let sts = string_to_sign(
        "20170210T120000Z".parse().unwrap(),
        "20170210/us-east-1/glacier/aws4_request",
        &canonical.text,
    );
    let sig = signature(&key, &sts);
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={DG_AKID}/20170210/us-east-1/glacier/aws4_request, SignedHeaders=date;host, Signature={sig}"
    );
    let sent = [headers[0], headers[1], ("Authorization", auth.as_str())];
    let req = SignableRequest::new("GET", "/", &sent, EMPTY_PAYLOAD_SHA256);
    let vp = VerifyParams::new("us-east-1", "glacier", None);
    assert!(verify(&req, &vp, |_| Some(creds.clone())).is_ok());
}

#[test]
fn verify_malformed_authorization() {
    let creds = dg_credentials();
    let sent = signed_get(&creds);
    let auth = sent
        .iter()
        .find(|(n, _)| *n == "authorization")
        .unwrap()
        .1
        .clone();
    let sig = auth.rsplit_once("Signature=").unwrap().1.to_string();
    let cases: Vec<(String, &str)> = vec![
        ("Basic dXNlcjpwYXNz".into(), "algorithm"),
        ("AWS4-HMAC-SHA256".into(), "expected"),
        (auth.replace("Credential=", "Cred="), "unknown"),
        (
            auth.replace(", Signature=", ", Signature=0, Signature="),
            "repeated",
        ),
        (auth.replace("/aws4_request", "/aws5_request"), "Credential"),
        (
            auth.replace(&format!(", Signature={sig}"), ""),
            "missing Signature",
        ),
        (auth.replace(&sig, &sig[..63]), "hex"),
        (auth.replace(&sig, &sig.to_uppercase()), "hex"),
        (auth.replace("host;range", "range;host"), "sorted"),
        (auth.replace("host;range", "Host;range"), "sorted"),
        (auth.replace("host;range", "host;;range"), "sorted"),
        ("AWS4-HMAC-SHA256 ,,,".into(), "without"),
        ("".into(), "expected"),
    ];
    for (value, needle) in cases {
        let mut s = sent.clone();
        set(&mut s, "authorization", &value);
        match verify_sent("GET", JOB_PATH, &s, &creds) {
            Err(VerifyError::MalformedAuthorization(why)) => {
                assert!(why.contains(needle), "{value:?}: {why}")
            }
            other => panic!("{value:?}: {other:?}"),
        }
    }
}

/// The authorization value of signed headers.
fn authorization(sent: &[(&str, String)]) -> String {
    sent.iter()
        .find(|(n, _)| *n == "authorization")
        .unwrap()
        .1
        .clone()
}

#[test]
fn verify_missing_and_unsigned_headers() {
    let creds = dg_credentials();
    let sent = signed_get(&creds);
    let auth = authorization(&sent);
    // Missing / duplicated Authorization, missing date, unsigned host.
    let no_auth: Vec<_> = sent
        .iter()
        .filter(|(n, _)| *n != "authorization")
        .cloned()
        .collect();
    let e = verify_sent("GET", JOB_PATH, &no_auth, &creds).unwrap_err();
    assert_eq!(e, VerifyError::MissingAuthorization);
    assert_eq!(
        (e.error_code(), e.http_status()),
        ("MissingAuthenticationTokenException", 400)
    );
    let mut dup = sent.clone();
    dup.push(("Authorization", auth.clone()));
    assert_eq!(
        verify_sent("GET", JOB_PATH, &dup, &creds),
        Err(VerifyError::DuplicateAuthorization)
    );
    let no_date: Vec<_> = sent
        .iter()
        .filter(|(n, _)| *n != "x-amz-date")
        .cloned()
        .collect();
    assert_eq!(
        verify_sent("GET", JOB_PATH, &no_date, &creds),
        Err(VerifyError::MissingDate)
    );
    let mut s = sent.clone();
    set(
        &mut s,
        "authorization",
        &auth.replace("SignedHeaders=host;", "SignedHeaders="),
    );
    assert_eq!(
        verify_sent("GET", JOB_PATH, &s, &creds),
        Err(VerifyError::UnsignedRequiredHeader("host"))
    );
    let no_range: Vec<_> = sent
        .iter()
        .filter(|(n, _)| *n != "Range")
        .cloned()
        .collect();
    assert_eq!(
        verify_sent("GET", JOB_PATH, &no_range, &creds),
        Err(VerifyError::SignedHeaderMissing("range".into()))
    );
    let e = verify_sent("GET", "/bad path", &sent, &creds).unwrap_err();
    assert!(
        matches!(e, VerifyError::Canonicalization(SigV4Error::InvalidPath(_))),
        "{e:?}"
    );
}

#[test]
fn verify_content_sha256() {
    let creds = dg_credentials();
    let headers = [
        ("Host", DG_HOST),
        ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
    ];
    let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
    let out = sign(&req, &params(&creds, "20170210T120000Z")).unwrap();
    let mut sent: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
    sent.extend(out.headers);
    assert!(verify_sent("GET", "/", &sent, &creds).is_ok());
    let hdrs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let body_hash = sha256_hex(b"x");
    let req = SignableRequest::new("GET", "/", &hdrs, &body_hash);
    let vp = VerifyParams::new("us-east-1", "glacier", None);
    assert_eq!(
        verify(&req, &vp, |_| Some(creds.clone())),
        Err(VerifyError::PayloadHashMismatch)
    );
}

#[test]
fn constant_time_eq_basics() {
    assert!(constant_time_eq(b"", b""));
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}
