//! Glacier error responses (docs/protocol.md §3): `{"code": …, "message": …, "type": …}`
//! parsed without allocation, typed codes, and the retry classes the SDKs use.

use core::fmt;

use heapless::String;

use crate::Error;

/// Longest message kept from an error body; longer ones are cut at a
/// character boundary and flagged [`ServiceError::message_truncated`].
pub const MAX_MESSAGE_LEN: usize = 256;

/// Longest error code kept (codes are short identifiers).
pub const MAX_CODE_LEN: usize = 64;

/// Deepest JSON nesting skipped inside an error body.
const MAX_DEPTH: u8 = 16;

/// The error codes of docs/protocol.md §3's table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)] // the names are the service's own
#[non_exhaustive]
pub enum ErrorCode {
    InvalidParameterValueException,
    MissingParameterValueException,
    ResourceNotFoundException,
    ServiceUnavailableException,
    NoLongerSupportedException,
    RequestTimeoutException,
    ThrottlingException,
    LimitExceededException,
    PolicyEnforcedException,
    InsufficientCapacityException,
    AccessDeniedException,
    BadRequest,
    ExpiredTokenException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    SerializationException,
    UnrecognizedClientException,
    /// Any other code; its text is in [`ServiceError::code_text`].
    Other,
}

const KNOWN_CODES: &[(&str, ErrorCode)] = &[
    (
        "InvalidParameterValueException",
        ErrorCode::InvalidParameterValueException,
    ),
    (
        "MissingParameterValueException",
        ErrorCode::MissingParameterValueException,
    ),
    (
        "ResourceNotFoundException",
        ErrorCode::ResourceNotFoundException,
    ),
    (
        "ServiceUnavailableException",
        ErrorCode::ServiceUnavailableException,
    ),
    (
        "NoLongerSupportedException",
        ErrorCode::NoLongerSupportedException,
    ),
    (
        "RequestTimeoutException",
        ErrorCode::RequestTimeoutException,
    ),
    ("ThrottlingException", ErrorCode::ThrottlingException),
    ("LimitExceededException", ErrorCode::LimitExceededException),
    (
        "PolicyEnforcedException",
        ErrorCode::PolicyEnforcedException,
    ),
    (
        "InsufficientCapacityException",
        ErrorCode::InsufficientCapacityException,
    ),
    ("AccessDeniedException", ErrorCode::AccessDeniedException),
    ("BadRequest", ErrorCode::BadRequest),
    ("ExpiredTokenException", ErrorCode::ExpiredTokenException),
    (
        "InvalidSignatureException",
        ErrorCode::InvalidSignatureException,
    ),
    (
        "MissingAuthenticationTokenException",
        ErrorCode::MissingAuthenticationTokenException,
    ),
    ("SerializationException", ErrorCode::SerializationException),
    (
        "UnrecognizedClientException",
        ErrorCode::UnrecognizedClientException,
    ),
];

/// Codes the SDKs retry as throttling (botocore standard mode, smithy-rs
/// THROTTLING_ERRORS, Java v1 RetryUtils; docs/protocol.md §3). `LimitExceededException`
/// is a hard limit in Glacier's own semantics (docs/protocol.md §10.14) but every SDK
/// retries it; it never occurs on GetJobOutput, so we follow the SDKs.
const THROTTLING_CODES: &[&str] = &[
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
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Codes retried as transient (botocore standard mode, smithy-rs TRANSIENT_ERRORS).
const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
];

impl ErrorCode {
    /// The code for a code string (already stripped of `…#` / `:…`).
    pub fn from_text(text: &str) -> Self {
        KNOWN_CODES
            .iter()
            .find(|(name, _)| *name == text)
            .map_or(ErrorCode::Other, |(_, code)| *code)
    }
}

/// The `type` field: who is at fault (docs/protocol.md §3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorType {
    /// `"Client"`
    Client,
    /// `"Server"`
    Server,
    /// `"Unknown"`, missing, or anything else.
    Unknown,
}

/// Whether and how a failed request may be tried again (docs/protocol.md §3, §9.5).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RetryClass {
    /// Slow down, then retry (throttling codes, HTTP 429).
    Throttling,
    /// Retry with backoff (HTTP 500/502/503/504, 408, request timeouts).
    Transient,
    /// Do not retry: the same request will fail the same way.
    Fatal,
}

/// Retry class from the status and, when the body had one, the code text.
pub fn classify(status: u16, code: Option<&str>) -> RetryClass {
    if let Some(code) = code {
        if THROTTLING_CODES.contains(&code) {
            return RetryClass::Throttling;
        }
        if TRANSIENT_CODES.contains(&code) {
            return RetryClass::Transient;
        }
    }
    match status {
        429 => RetryClass::Throttling,
        408 | 500 | 502 | 503 | 504 => RetryClass::Transient,
        _ => RetryClass::Fatal,
    }
}

/// A parsed Glacier error response.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceError {
    /// HTTP status of the response.
    pub status: u16,
    /// Typed code.
    pub code: ErrorCode,
    /// The code as the service wrote it, after stripping a `:…` suffix and
    /// then a `…#` namespace prefix (smithy-rs order), at most [`MAX_CODE_LEN`] bytes.
    pub code_text: String<MAX_CODE_LEN>,
    /// The message, at most [`MAX_MESSAGE_LEN`] bytes.
    pub message: String<MAX_MESSAGE_LEN>,
    /// Whether `message` was cut.
    pub message_truncated: bool,
    /// The `type` field.
    pub error_type: ErrorType,
}

impl ServiceError {
    /// Parses an error body of a response with status `status`.
    ///
    /// Keys as smithy-rs reads them (docs/protocol.md §3): the code from `code`, else
    /// `__type`; the message from `message`, `Message` or `errorMessage`. A
    /// body that is not a JSON object with a code (moto's plain `404 Not
    /// Found`, an HTML page) is [`Error::InvalidErrorBody`]; use
    /// [`classify`] with the status alone then.
    ///
    /// ```
    /// use glacier_verify_core::{ServiceError, ErrorCode, RetryClass};
    /// let body = br#"{"code":"ResourceNotFoundException","message":"The job ID was not found: x","type":"Client"}"#;
    /// let e = ServiceError::parse(404, body).unwrap();
    /// assert_eq!(e.code, ErrorCode::ResourceNotFoundException);
    /// assert_eq!(e.retry_class(), RetryClass::Fatal);
    /// ```
    pub fn parse(status: u16, body: &[u8]) -> Result<Self, Error> {
        let mut p = JsonCursor { s: body, pos: 0 };
        let mut code: Option<String<MAX_CODE_LEN>> = None;
        let mut type_code: Option<String<MAX_CODE_LEN>> = None;
        let mut message: String<MAX_MESSAGE_LEN> = String::new();
        let mut message_truncated = false;
        let mut have_message = false;
        let mut error_type = ErrorType::Unknown;

        p.ws();
        p.expect(b'{')?;
        p.ws();
        if !p.eat(b'}') {
            loop {
                p.ws();
                let mut key: String<32> = String::new();
                p.string(&mut key)?;
                p.ws();
                p.expect(b':')?;
                p.ws();
                let key = key.as_str();
                if p.peek() == Some(b'"') {
                    match key {
                        "code" | "__type" => {
                            let v = p.code()?;
                            if key == "code" {
                                code = Some(v);
                            } else {
                                type_code = Some(v);
                            }
                        }
                        "message" | "Message" | "errorMessage" if !have_message => {
                            message_truncated = p.string(&mut message)?;
                            have_message = true;
                        }
                        "type" => {
                            let mut v: String<16> = String::new();
                            p.string(&mut v)?;
                            error_type = match v.as_str() {
                                "Client" => ErrorType::Client,
                                "Server" => ErrorType::Server,
                                _ => ErrorType::Unknown,
                            };
                        }
                        _ => p.skip_value(0)?,
                    }
                } else {
                    p.skip_value(0)?;
                }
                p.ws();
                if p.eat(b',') {
                    continue;
                }
                p.expect(b'}')?;
                break;
            }
        }
        p.ws();
        if p.pos != body.len() {
            return Err(Error::InvalidErrorBody);
        }
        let code_text = code.or(type_code).ok_or(Error::InvalidErrorBody)?;
        if code_text.is_empty() {
            return Err(Error::InvalidErrorBody);
        }
        Ok(ServiceError {
            status,
            code: ErrorCode::from_text(&code_text),
            code_text,
            message,
            message_truncated,
            error_type,
        })
    }

    /// How to treat this failure (docs/protocol.md §3).
    pub fn retry_class(&self) -> RetryClass {
        classify(self.status, Some(&self.code_text))
    }

    /// "The job is not currently available for download" (400
    /// InvalidParameterValueException): the job has not finished (docs/protocol.md §1).
    /// Waiting for it is the caller's explicit choice, never a retry (§9.5).
    pub fn is_job_not_ready(&self) -> bool {
        self.code == ErrorCode::InvalidParameterValueException
            && contains(self.message.as_bytes(), b"not currently available")
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HTTP {})", self.code_text, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
            if self.message_truncated {
                f.write_str("…")?;
            }
        }
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Just enough JSON to read one flat object of strings, skipping the rest.
struct JsonCursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl JsonCursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos = self.pos.saturating_add(1);
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Error> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(Error::InvalidErrorBody)
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos = self.pos.saturating_add(1);
        }
    }

    /// Reads a JSON string into `out`, decoding escapes; returns whether it
    /// had to be cut to fit (at a character boundary: nothing after the
    /// first character that did not fit is kept).
    fn string<const N: usize>(&mut self, out: &mut String<N>) -> Result<bool, Error> {
        let mut truncated = false;
        self.chars(|c| {
            if !truncated && out.push(c).is_err() {
                truncated = true;
            }
        })?;
        Ok(truncated)
    }

    /// Reads an error code, sanitised as smithy-rs `sanitize_error_code`
    /// does (docs/protocol.md §3), while it streams: a `:…` suffix (a URL, which may
    /// itself hold a `#`) is cut first, then everything up to the first
    /// `#` (a namespace). Sanitising as the text arrives means a long
    /// namespace cannot push the code out of the kept [`MAX_CODE_LEN`] bytes.
    fn code(&mut self) -> Result<String<MAX_CODE_LEN>, Error> {
        let mut out: String<MAX_CODE_LEN> = String::new();
        let mut in_suffix = false;
        let mut seen_hash = false;
        let mut full = false;
        self.chars(|c| match c {
            _ if in_suffix => {}
            ':' => in_suffix = true,
            '#' if !seen_hash => {
                seen_hash = true;
                out.clear();
                full = false;
            }
            c => {
                if !full && out.push(c).is_err() {
                    full = true;
                }
            }
        })?;
        Ok(out)
    }

    /// Reads a JSON string, decoding escapes, and hands each character to `push`.
    fn chars(&mut self, mut push: impl FnMut(char)) -> Result<(), Error> {
        self.expect(b'"')?;
        loop {
            let c = self.bump().ok_or(Error::InvalidErrorBody)?;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = self.bump().ok_or(Error::InvalidErrorBody)?;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(Error::InvalidErrorBody),
                    };
                    push(ch);
                }
                0x00..=0x1f => return Err(Error::InvalidErrorBody),
                0x20..=0x7f => push(char::from(c)),
                _ => {
                    // A multi-byte UTF-8 sequence: take it whole.
                    let len = match c {
                        0xc2..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf4 => 4,
                        _ => return Err(Error::InvalidErrorBody),
                    };
                    let start = self.pos.saturating_sub(1);
                    let end = start.saturating_add(len);
                    let bytes = self.s.get(start..end).ok_or(Error::InvalidErrorBody)?;
                    let text = core::str::from_utf8(bytes).map_err(|_| Error::InvalidErrorBody)?;
                    self.pos = end;
                    for ch in text.chars() {
                        push(ch);
                    }
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.bump().ok_or(Error::InvalidErrorBody)?;
            let d = char::from(c).to_digit(16).ok_or(Error::InvalidErrorBody)?;
            v = (v << 4) | d;
        }
        Ok(v)
    }

    /// After `\u`: one code point, joining a surrogate pair; a lone
    /// surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let hi = self.hex4()?;
        if (0xd800..0xdc00).contains(&hi)
            && self.s.get(self.pos..self.pos.saturating_add(2)) == Some(b"\\u")
        {
            let save = self.pos;
            self.pos = self.pos.saturating_add(2);
            let lo = self.hex4()?;
            if (0xdc00..0xe000).contains(&lo) {
                let cp = 0x10000u32
                    .saturating_add((hi.saturating_sub(0xd800)) << 10)
                    .saturating_add(lo.saturating_sub(0xdc00));
                return Ok(char::from_u32(cp).unwrap_or('\u{fffd}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{fffd}'))
    }

    fn skip_value(&mut self, depth: u8) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::InvalidErrorBody);
        }
        let next = depth.saturating_add(1);
        match self.peek().ok_or(Error::InvalidErrorBody)? {
            b'"' => self.chars(|_| {}),
            b'{' => {
                self.pos = self.pos.saturating_add(1);
                self.ws();
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip_value_string()?;
                    self.ws();
                    self.expect(b':')?;
                    self.ws();
                    self.skip_value(next)?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    return self.expect(b'}');
                }
            }
            b'[' => {
                self.pos = self.pos.saturating_add(1);
                self.ws();
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip_value(next)?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    return self.expect(b']');
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos = self.pos.saturating_add(1);
                }
                if self.pos == start {
                    Err(Error::InvalidErrorBody)
                } else {
                    Ok(())
                }
            }
            _ => Err(Error::InvalidErrorBody),
        }
    }

    fn skip_value_string(&mut self) -> Result<(), Error> {
        self.chars(|_| {})
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.pos.saturating_add(word.len());
        if self.s.get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(Error::InvalidErrorBody)
        }
    }
}
