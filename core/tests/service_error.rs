//! Glacier error bodies and retry classes (docs/protocol.md §3, §9.5).

use glacier_verify_core::{Error, ErrorCode, ErrorType, RetryClass, ServiceError, classify};
use glacier_verify_core::{MAX_CODE_LEN, MAX_MESSAGE_LEN};
use proptest::prelude::*;

fn parse(status: u16, body: &str) -> ServiceError {
    ServiceError::parse(status, body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

// --- the DG-ERR examples ---------------------------------------------------------------------------

#[test]
fn dg_err_job_not_found() {
    let body = "{\n  \"code\": \"ResourceNotFoundException\",\n  \"message\": \"The job ID was not found: HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVEXAMPLEbadJobID\",\n  \"type\": \"Client\"\n  }";
    let e = parse(404, body);
    assert_eq!(e.status, 404);
    assert_eq!(e.code, ErrorCode::ResourceNotFoundException);
    assert_eq!(e.code_text.as_str(), "ResourceNotFoundException");
    assert_eq!(
        e.message.as_str(),
        "The job ID was not found: HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVEXAMPLEbadJobID"
    );
    assert!(!e.message_truncated);
    assert_eq!(e.error_type, ErrorType::Client);
    assert_eq!(e.retry_class(), RetryClass::Fatal);
    assert!(!e.is_job_not_ready());
    assert_eq!(
        e.to_string(),
        format!("ResourceNotFoundException (HTTP 404): {}", e.message)
    );
}

#[test]
fn dg_err_vault_not_found() {
    let body = r#"{
  "code": "ResourceNotFoundException",
  "message": "Vault not found for ARN: arn:aws:glacier:us-west-2:012345678901:vaults/examplevault",
  "type": "Client"
}"#;
    let e = parse(404, body);
    assert_eq!(e.code, ErrorCode::ResourceNotFoundException);
    assert!(
        e.message
            .starts_with("Vault not found for ARN: arn:aws:glacier:us-west-2")
    );
    assert_eq!(e.retry_class(), RetryClass::Fatal);
}

#[test]
fn dg_err_example_2_typo_is_not_json() {
    // DG-ERR example 2 prints `"type: "Client"` — malformed JSON (docs/protocol.md §3).
    let body = "{\n  \"code\": \"InvalidParameterValueException\",\n  \"message\": \"The job status code is not valid: finished\",\n  \"type: \"Client\"\n}";
    assert_eq!(
        ServiceError::parse(400, body.as_bytes()),
        Err(Error::InvalidErrorBody)
    );
    // With the typo fixed it parses.
    let fixed = body.replace("\"type: \"Client\"", "\"type\": \"Client\"");
    let e = parse(400, &fixed);
    assert_eq!(e.code, ErrorCode::InvalidParameterValueException);
    assert_eq!(
        e.message.as_str(),
        "The job status code is not valid: finished"
    );
}

#[test]
fn boto_2510_range_error_and_job_not_ready() {
    let body = r#"{"code":"InvalidParameterValueException","message":"The start of the range is larger than size of retrieved data: bytes=8388608-12582911","type":"Client"}"#;
    let e = parse(400, body);
    assert_eq!(e.code, ErrorCode::InvalidParameterValueException);
    assert_eq!(e.retry_class(), RetryClass::Fatal);
    assert!(!e.is_job_not_ready());

    // docs/protocol.md §1: GetJobOutput before the job completes.
    let body = r#"{"code":"InvalidParameterValueException","message":"The job is not currently available for download: HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID","type":"Client"}"#;
    let e = parse(400, body);
    assert!(e.is_job_not_ready());
    // Waiting is an explicit opt-in, never a retry (docs/protocol.md §9.5).
    assert_eq!(e.retry_class(), RetryClass::Fatal);
    // The message alone is not enough: it must be InvalidParameterValue.
    let other = parse(
        400,
        r#"{"code":"ResourceNotFoundException","message":"The job is not currently available for download: x"}"#,
    );
    assert!(!other.is_job_not_ready());
}

// --- codes ---------------------------------------------------------------------------------------

#[test]
fn every_code_of_the_table_maps_to_its_error_code() {
    use ErrorCode::*;
    let table = [
        (
            "InvalidParameterValueException",
            InvalidParameterValueException,
            400,
        ),
        (
            "MissingParameterValueException",
            MissingParameterValueException,
            400,
        ),
        ("ResourceNotFoundException", ResourceNotFoundException, 404),
        (
            "ServiceUnavailableException",
            ServiceUnavailableException,
            500,
        ),
        (
            "NoLongerSupportedException",
            NoLongerSupportedException,
            400,
        ),
        ("RequestTimeoutException", RequestTimeoutException, 408),
        ("ThrottlingException", ThrottlingException, 400),
        ("LimitExceededException", LimitExceededException, 400),
        ("PolicyEnforcedException", PolicyEnforcedException, 400),
        (
            "InsufficientCapacityException",
            InsufficientCapacityException,
            503,
        ),
        ("AccessDeniedException", AccessDeniedException, 403),
        ("BadRequest", BadRequest, 400),
        ("ExpiredTokenException", ExpiredTokenException, 403),
        ("InvalidSignatureException", InvalidSignatureException, 403),
        (
            "MissingAuthenticationTokenException",
            MissingAuthenticationTokenException,
            400,
        ),
        ("SerializationException", SerializationException, 400),
        (
            "UnrecognizedClientException",
            UnrecognizedClientException,
            400,
        ),
    ];
    for (text, code, status) in table {
        assert_eq!(ErrorCode::from_text(text), code, "{text}");
        let e = parse(
            status,
            &format!(r#"{{"code":"{text}","message":"m","type":"Client"}}"#),
        );
        assert_eq!((e.code, e.code_text.as_str()), (code, text));
    }
    // Distinct codes: no two table rows map alike.
    for (i, a) in table.iter().enumerate() {
        for b in &table[i + 1..] {
            assert_ne!(a.1, b.1);
        }
    }
}

#[test]
fn unknown_codes_are_other_with_their_text() {
    let e = parse(400, r#"{"code":"SomethingNewException","message":"new"}"#);
    assert_eq!(e.code, ErrorCode::Other);
    assert_eq!(e.code_text.as_str(), "SomethingNewException");
    assert_eq!(e.error_type, ErrorType::Unknown);
    // Case matters: codes are identifiers.
    assert_eq!(
        ErrorCode::from_text("throttlingexception"),
        ErrorCode::Other
    );
    assert_eq!(ErrorCode::from_text(""), ErrorCode::Other);
    assert_eq!(
        ErrorCode::from_text("ThrottlingException "),
        ErrorCode::Other
    );
}

#[test]
fn type_field() {
    for (text, ty) in [
        ("Client", ErrorType::Client),
        ("Server", ErrorType::Server),
        ("Unknown", ErrorType::Unknown),
        ("client", ErrorType::Unknown),
        ("Something", ErrorType::Unknown),
    ] {
        let e = parse(500, &format!(r#"{{"code":"X","type":"{text}"}}"#));
        assert_eq!(e.error_type, ty, "{text}");
    }
    // A non-string type is skipped.
    assert_eq!(
        parse(500, r#"{"code":"X","type":3}"#).error_type,
        ErrorType::Unknown
    );
}

#[test]
fn type_fallback_and_sanitising() {
    // smithy-rs: `code` first, else `__type`.
    let e = parse(
        400,
        r#"{"__type":"com.amazonaws.glacier#ThrottlingException","message":"slow"}"#,
    );
    assert_eq!(e.code, ErrorCode::ThrottlingException);
    assert_eq!(e.code_text.as_str(), "ThrottlingException");
    assert_eq!(e.retry_class(), RetryClass::Throttling);
    let e = parse(400, r#"{"__type":"Foo","code":"BadRequest"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = parse(400, r#"{"code":"BadRequest","__type":"Foo"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    // `namespace#Code:suffix` → Code.
    for raw in [
        "aws.glacier#ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.validate/",
        "ResourceNotFoundException:http://internal.amazon.com/",
        "com.amazon.coral.service#ResourceNotFoundException",
        "ResourceNotFoundException:",
        "#ResourceNotFoundException",
        // smithy-rs order: the `:` suffix goes first, so a '#' inside the
        // suffix (a URL fragment) does not pick the code.
        "ResourceNotFoundException:http://internal.amazon.com/doc#section",
        "ns#ResourceNotFoundException:http://example.com/a#b",
    ] {
        let e = parse(404, &format!(r#"{{"code":"{raw}"}}"#));
        assert_eq!(e.code, ErrorCode::ResourceNotFoundException, "{raw}");
        assert_eq!(e.code_text.as_str(), "ResourceNotFoundException", "{raw}");
    }
    // Only the first '#' ends the namespace (smithy-rs `find('#')`).
    let e = parse(400, r#"{"code":"a#b#c"}"#);
    assert_eq!(e.code_text.as_str(), "b#c");
    // A long namespace does not push the code out of the kept text.
    let long_ns = format!(
        "{}#ThrottlingException:{}",
        "n".repeat(200),
        "u".repeat(200)
    );
    let e = parse(400, &format!(r#"{{"code":"{long_ns}"}}"#));
    assert_eq!(e.code, ErrorCode::ThrottlingException);
    // A code that is empty after sanitising is no code.
    for raw in ["", ":suffix", "ns#", "ns#:x"] {
        assert_eq!(
            ServiceError::parse(400, format!(r#"{{"code":"{raw}"}}"#).as_bytes()),
            Err(Error::InvalidErrorBody),
            "{raw:?}"
        );
    }
    // Over-long codes are cut to MAX_CODE_LEN and stay Other.
    let long = "X".repeat(MAX_CODE_LEN + 10);
    let e = parse(400, &format!(r#"{{"code":"{long}"}}"#));
    assert_eq!(e.code, ErrorCode::Other);
    assert_eq!(e.code_text.len(), MAX_CODE_LEN);
}

#[test]
fn message_keys() {
    for key in ["message", "Message", "errorMessage"] {
        let e = parse(400, &format!(r#"{{"code":"BadRequest","{key}":"hello"}}"#));
        assert_eq!(e.message.as_str(), "hello", "{key}");
    }
    // The first message key wins.
    let e = parse(
        400,
        r#"{"Message":"first","code":"BadRequest","message":"second"}"#,
    );
    assert_eq!(e.message.as_str(), "first");
    // Other keys are not messages.
    let e = parse(400, r#"{"code":"BadRequest","msg":"no","MESSAGE":"no"}"#);
    assert_eq!(e.message.as_str(), "");
    assert_eq!(e.to_string(), "BadRequest (HTTP 400)");
    // A non-string message is skipped.
    let e = parse(400, r#"{"code":"BadRequest","message":null}"#);
    assert_eq!(e.message.as_str(), "");
}

#[test]
fn string_escapes() {
    let e = parse(
        400,
        r#"{"code":"BadRequest","message":"q\" b\\ s\/ \b\f\n\r\t A\u0041 \u00e9 \u20AC \ud83d\ude00 end"}"#,
    );
    assert_eq!(
        e.message.as_str(),
        "q\" b\\ s/ \u{8}\u{c}\n\r\t AA é € 😀 end"
    );
    // Lone surrogates become U+FFFD; a high surrogate followed by a
    // non-surrogate escape keeps that escape.
    let e = parse(
        400,
        r#"{"code":"X","message":"\ud800 \udc00 \ud83dx \ud83d\u0041"}"#,
    );
    assert_eq!(e.message.as_str(), "\u{fffd} \u{fffd} \u{fffd}x \u{fffd}A");
    // Raw UTF-8 passes through.
    let e = parse(400, r#"{"code":"X","message":"Grüße, 世界 🌍"}"#);
    assert_eq!(e.message.as_str(), "Grüße, 世界 🌍");
    // Escapes in keys and codes work too.
    let e = parse(400, r#"{"c\u006fde":"Bad\u0052equest"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    // Bad escapes and control characters are not JSON.
    for body in [
        r#"{"code":"X","message":"\x"}"#,
        r#"{"code":"X","message":"\u12"}"#,
        r#"{"code":"X","message":"\u12G4"}"#,
        "{\"code\":\"X\",\"message\":\"a\nb\"}",
        "{\"code\":\"X\",\"message\":\"a\tb\"}",
        r#"{"code":"X","message":"\"#,
    ] {
        assert_eq!(
            ServiceError::parse(400, body.as_bytes()),
            Err(Error::InvalidErrorBody),
            "{body:?}"
        );
    }
    // Invalid UTF-8 in a string.
    for bytes in [
        &[0xffu8][..],
        &[0xc3],
        &[0xc3, 0x28],
        &[0xe2, 0x82],
        &[0x80],
    ] {
        let mut body = br#"{"code":"X","message":"a"#.to_vec();
        body.extend_from_slice(bytes);
        body.extend_from_slice(br#""}"#);
        assert_eq!(
            ServiceError::parse(400, &body),
            Err(Error::InvalidErrorBody),
            "{bytes:?}"
        );
    }
}

#[test]
fn long_messages_are_truncated_and_flagged() {
    let exact = "m".repeat(MAX_MESSAGE_LEN);
    let e = parse(400, &format!(r#"{{"code":"X","message":"{exact}"}}"#));
    assert_eq!(e.message.len(), MAX_MESSAGE_LEN);
    assert!(!e.message_truncated);
    assert!(!e.to_string().ends_with('…'));

    let long = "m".repeat(MAX_MESSAGE_LEN + 1);
    let e = parse(400, &format!(r#"{{"code":"X","message":"{long}"}}"#));
    assert_eq!(e.message.as_str(), &long[..MAX_MESSAGE_LEN]);
    assert!(e.message_truncated);
    assert!(e.to_string().ends_with('…'));

    // Cut on a character boundary: 255 ASCII bytes then a 2-byte 'é' does not fit.
    let text = format!("{}é and more", "m".repeat(MAX_MESSAGE_LEN - 1));
    let e = parse(400, &format!(r#"{{"code":"X","message":"{text}"}}"#));
    assert_eq!(e.message.as_str(), &"m".repeat(MAX_MESSAGE_LEN - 1));
    assert!(e.message_truncated);
    // Fields after a long message are still read.
    let e = parse(
        400,
        &format!(r#"{{"message":"{long}","type":"Server","code":"BadRequest"}}"#),
    );
    assert_eq!(
        (e.code, e.error_type),
        (ErrorCode::BadRequest, ErrorType::Server)
    );
}

#[test]
fn nested_and_other_values_are_skipped() {
    let body = r#"{
        "extra": {"a": [1, 2.5, -3e10, true, false, null, {"b": "c\"}"}], "d": {}},
        "list": [],
        "obj": {},
        "n": -0.5E+3,
        "code": "ThrottlingException",
        "t": true, "f": false, "z": null,
        "message": "slow down"
    }"#;
    let e = parse(400, body);
    assert_eq!(e.code, ErrorCode::ThrottlingException);
    assert_eq!(e.message.as_str(), "slow down");
    // A code that is not a string is no code.
    assert_eq!(
        ServiceError::parse(400, br#"{"code":42}"#),
        Err(Error::InvalidErrorBody)
    );
    // Deep nesting is bounded, not a stack overflow.
    let deep = format!(
        r#"{{"x":{}1{},"code":"X"}}"#,
        "[".repeat(10),
        "]".repeat(10)
    );
    assert!(ServiceError::parse(400, deep.as_bytes()).is_ok());
    let too_deep = format!(
        r#"{{"x":{}1{},"code":"X"}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        ServiceError::parse(400, too_deep.as_bytes()),
        Err(Error::InvalidErrorBody)
    );
}

#[test]
fn malformed_bodies() {
    for body in [
        "",
        "   ",
        "404 Not Found", // moto before a job completes (docs/protocol.md §11)
        "<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>", // moto, unknown job
        "{}",
        "[]",
        "null",
        r#""code""#,
        r#"{"message":"no code"}"#,
        r#"{"code":"X"} trailing"#,
        r#"{"code":"X"}}"#,
        r#"{"code":"X""#,
        r#"{"code":"X","#,
        r#"{"code":"X",}"#,
        r#"{"code" "X"}"#,
        r#"{code:"X"}"#,
        r#"{"code":'X'}"#,
        r#"{"code":"X" "type":"Client"}"#,
        r#"{"code":"X","extra":tru}"#,
        r#"{"code":"X","extra":[1,]}"#,
        r#"{"code":"X","extra":{"a"}}"#,
        r#"{"code":"X","extra":undefined}"#,
        r#"{"code":"X"#,
    ] {
        assert_eq!(
            ServiceError::parse(404, body.as_bytes()),
            Err(Error::InvalidErrorBody),
            "{body:?}"
        );
    }
    // Surrounding whitespace is fine.
    assert!(ServiceError::parse(404, b" \r\n\t{\"code\":\"X\"}\r\n ").is_ok());
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = ServiceError::parse(400, &bytes);
    }

    #[test]
    fn any_message_round_trips(message in "\\PC{0,80}") {
        // Every printable string, JSON-escaped, comes back (up to the cap).
        let escaped: String = message
            .chars()
            .map(|c| match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
                c => c.to_string(),
            })
            .collect();
        let body = format!(r#"{{"code":"BadRequest","message":"{escaped}"}}"#);
        let e = ServiceError::parse(400, body.as_bytes()).unwrap();
        if message.len() <= MAX_MESSAGE_LEN {
            prop_assert_eq!(e.message.as_str(), message.as_str());
            prop_assert!(!e.message_truncated);
        } else {
            prop_assert!(message.starts_with(e.message.as_str()));
            prop_assert!(e.message_truncated);
        }
    }
}

// --- retry classes (docs/protocol.md §3, §9.5) -----------------------------------------------------------------

#[test]
fn throttling_codes_retry_as_throttling() {
    for code in [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    ] {
        assert_eq!(classify(400, Some(code)), RetryClass::Throttling, "{code}");
        assert_eq!(classify(403, Some(code)), RetryClass::Throttling, "{code}");
        let e = parse(400, &format!(r#"{{"code":"{code}"}}"#));
        assert_eq!(e.retry_class(), RetryClass::Throttling, "{code}");
    }
    // mt-aws-glacier retries 400 with ThrottlingException (docs/protocol.md §6).
    assert_eq!(
        classify(400, Some("ThrottlingException")),
        RetryClass::Throttling
    );
    // PriorRequestNotComplete is in both SDK lists; it is retried either way.
    assert_ne!(
        classify(400, Some("PriorRequestNotComplete")),
        RetryClass::Fatal
    );
    assert_eq!(classify(429, None), RetryClass::Throttling);
    assert_eq!(classify(429, Some("Unknown")), RetryClass::Throttling);
}

#[test]
fn transient_codes_and_statuses_retry_as_transient() {
    for code in ["RequestTimeout", "RequestTimeoutException"] {
        assert_eq!(classify(400, Some(code)), RetryClass::Transient, "{code}");
    }
    assert_eq!(
        parse(408, r#"{"code":"RequestTimeoutException"}"#).retry_class(),
        RetryClass::Transient
    );
    for status in [408, 500, 502, 503, 504] {
        assert_eq!(classify(status, None), RetryClass::Transient, "{status}");
        assert_eq!(
            classify(status, Some("SomethingElse")),
            RetryClass::Transient,
            "{status}"
        );
    }
    // ServiceUnavailableException comes with 500; InsufficientCapacity with 503 (dev guide).
    assert_eq!(
        parse(
            500,
            r#"{"code":"ServiceUnavailableException","type":"Server"}"#
        )
        .retry_class(),
        RetryClass::Transient
    );
    assert_eq!(
        parse(503, r#"{"code":"InsufficientCapacityException"}"#).retry_class(),
        RetryClass::Transient
    );
}

#[test]
fn everything_else_is_fatal() {
    for status in [
        400, 401, 403, 404, 405, 409, 410, 413, 416, 501, 505, 200, 206,
    ] {
        assert_eq!(classify(status, None), RetryClass::Fatal, "{status}");
    }
    for (status, code) in [
        (404, "ResourceNotFoundException"),
        (400, "InvalidParameterValueException"),
        (400, "MissingParameterValueException"),
        (400, "NoLongerSupportedException"),
        (403, "AccessDeniedException"),
        (403, "InvalidSignatureException"),
        (403, "ExpiredTokenException"),
        (400, "SerializationException"),
        (400, "PolicyEnforcedException"),
        (400, "throttlingexception"), // case matters
    ] {
        assert_eq!(classify(status, Some(code)), RetryClass::Fatal, "{code}");
    }
}
