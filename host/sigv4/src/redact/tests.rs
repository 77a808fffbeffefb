//! Unit tests of redaction.

use super::*;
use crate::{Credentials, EMPTY_PAYLOAD_SHA256, SignableRequest, SigningParams, SigningSettings};

#[test]
fn redaction() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKID/20120525/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=abcdef0123";
    let r = redact("AUTHORIZATION", auth);
    assert!(r.ends_with("Signature=***"));
    assert!(r.contains("Credential=AKID/"));
    assert_eq!(
        redact(
            "authorization",
            "AWS4-HMAC-SHA256 Signature=abc, SignedHeaders=host"
        ),
        "AWS4-HMAC-SHA256 Signature=***, SignedHeaders=host"
    );
    assert_eq!(redact("authorization", "Basic dXNlcjpwYXNz"), "***");
    assert_eq!(redact("Proxy-Authorization", "Basic x"), "***");
    assert_eq!(redact("x-amz-security-token", "tok"), "***");
    assert_eq!(redact("host", "example.com"), "example.com");

    let creds = Credentials::new("AKIDPUBLIC", "SECRETVALUE", Some("TOKENVALUE".into()));
    let dbg = format!("{creds:?}");
    assert!(
        dbg.contains("AKIDPUBLIC") && !dbg.contains("SECRETVALUE") && !dbg.contains("TOKENVALUE")
    );
    let headers = [("Host", "h"), ("X-Amz-Security-Token", "TOKENVALUE")];
    let req = SignableRequest::new("GET", "/", &headers, EMPTY_PAYLOAD_SHA256);
    assert!(!format!("{req:?}").contains("TOKENVALUE"));
    let p = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "glacier",
        time: "20170210T120000Z".parse().unwrap(),
        settings: SigningSettings::default(),
    };
    assert!(!format!("{p:?}").contains("SECRETVALUE"));
}
