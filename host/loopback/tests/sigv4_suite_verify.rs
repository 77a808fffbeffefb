//! The SigV4 checker against requests signed by AWS's own signer: every
//! `header-signed-request.txt` of the AWS SigV4 test suite must pass [`verify`] with the
//! case's credentials, and fail once its method is changed. The few cases a Glacier
//! server must refuse are listed in [`REFUSED`] with the error they get.
//!
//! Data: the suite copy of the sigv4 crate, `host/sigv4/tests/data/sigv4/v4/<case>/`
//! (Apache-2.0; see `host/sigv4/tests/data/sigv4/ATTRIBUTION.md`). Targets are put in
//! wire form (raw spaces and UTF-8 percent-encoded, as an HTTP client would) and folded
//! header lines unfolded with a single space (RFC 9112 §5.2).

#[path = "../../sigv4/tests/suite/reader.rs"]
mod reader;

use std::fs;
use std::path::PathBuf;

use glacier_verify_loopback::{VerifyError, VerifyParams, verify};
use glacier_verify_sigv4::{AmzDate, Credentials, SignableRequest, SigningSettings, sha256_hex};
use serde_json::Value;

/// Cases a Glacier server refuses, and why.
const REFUSED: &[(&str, VerifyError, &str)] = &[
    (
        "get-space-normalized",
        VerifyError::SignatureMismatch,
        "signed with S3's single URI encoding; Glacier encodes the wire path again",
    ),
    (
        "get-space-unnormalized",
        VerifyError::SignatureMismatch,
        "signed with S3's single URI encoding",
    ),
    (
        "get-utf8",
        VerifyError::SignatureMismatch,
        "signed with S3's single URI encoding",
    ),
    (
        "post-sts-header-after",
        VerifyError::UnsignedRequiredHeader("x-amz-security-token"),
        "the session token is sent but left out of the signature",
    ),
];

/// The two older-format cases have no `context.json`: (case, access key id, secret,
/// region, service) of their signed requests.
const NO_CONTEXT: &[(&str, &str, &str, &str, &str)] = &[
    (
        "double-encode-path",
        "ANOTREAL",
        "notrealrnrELgWzOk3IfjzDKtFBhDby",
        "us-east-1",
        "service",
    ),
    (
        "double-url-encode",
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "us-east-2",
        "lambda",
    ),
];

fn suite_dir() -> PathBuf {
    reader::suite_dir(env!("CARGO_MANIFEST_DIR"))
}

fn read(case: &str, file: &str) -> Option<String> {
    reader::read_in(&suite_dir(), case, file)
}

/// A signed request as a server receives it: header values trimmed, the
/// target in wire form.
fn parse_request(text: &str) -> reader::TextRequest {
    let mut r = reader::parse_request(text);
    for h in &mut r.headers {
        h.1 = h.1.trim().to_string();
    }
    r.target = reader::wire_target(&r.target);
    r
}

/// Who signed a case, where, when, and with which path rule.
struct Context {
    credentials: Credentials,
    region: String,
    service: String,
    now: Option<AmzDate>,
    normalize: bool,
}

fn context(case: &str) -> Context {
    if let Some(&(_, akid, secret, region, service)) =
        NO_CONTEXT.iter().find(|(name, ..)| *name == case)
    {
        return Context {
            credentials: Credentials::new(akid, secret, None),
            region: region.into(),
            service: service.into(),
            now: None,
            normalize: true,
        };
    }
    let json: Value = serde_json::from_str(&read(case, "context.json").expect("context.json"))
        .expect("context.json is JSON");
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    let creds = &json["credentials"];
    let timestamp = text(&json["timestamp"]).replace(['-', ':'], "");
    Context {
        credentials: Credentials::new(
            text(&creds["access_key_id"]),
            text(&creds["secret_access_key"]),
            creds.get("token").map(text),
        ),
        region: text(&json["region"]),
        service: text(&json["service"]),
        now: Some(timestamp.parse().expect("timestamp")),
        normalize: json["normalize"].as_bool().expect("normalize"),
    }
}

/// [`verify`] of the case's signed request, with its method replaced by `method` if given.
fn verify_case(case: &str, method: Option<&str>) -> Result<(), VerifyError> {
    let ctx = context(case);
    let signed = parse_request(&read(case, "header-signed-request.txt").expect("signed request"));
    let headers: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = sha256_hex(&signed.body);
    let method = method.unwrap_or(&signed.method);
    let request = SignableRequest::new(method, &signed.target, &headers, &payload);
    let params = VerifyParams {
        settings: SigningSettings {
            normalize_path: ctx.normalize,
        },
        ..VerifyParams::new(&ctx.region, &ctx.service, ctx.now)
    };
    let lookup =
        |akid: &str| (akid == ctx.credentials.access_key_id).then(|| ctx.credentials.clone());
    verify(&request, &params, lookup).map(|ok| {
        assert_eq!(ok.access_key_id, ctx.credentials.access_key_id, "{case}");
    })
}

fn case_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(suite_dir())
        .expect("suite directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn aws_signed_requests_verify() {
    let names = case_names();
    assert_eq!(names.len(), 40, "the suite has 40 cases");
    for (case, ..) in REFUSED {
        assert!(
            names.iter().any(|n| n == case),
            "{case} is not in the suite"
        );
    }
    let mut accepted = 0;
    for case in &names {
        match REFUSED.iter().find(|(name, ..)| name == case) {
            Some((_, error, why)) => {
                assert_eq!(
                    verify_case(case, None).as_ref(),
                    Err(error),
                    "{case}: {why}"
                );
            }
            None => {
                verify_case(case, None).unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_eq!(
                    verify_case(case, Some("PATCH")),
                    Err(VerifyError::SignatureMismatch),
                    "{case}: another method"
                );
                accepted += 1;
            }
        }
    }
    assert_eq!(accepted, names.len() - REFUSED.len());
}
