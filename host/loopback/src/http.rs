//! The HTTP/1.1 plumbing: reading request heads and parsing them strictly
//! with `httparse` (bounded size, CRLF line ends, token names, no folding),
//! request bodies by `Content-Length`, percent-decoding path segments, and
//! the date formats of responses and DescribeJob.

use std::io::{self, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use glacier_verify_sigv4::civil_from_days;

use crate::auth::Request;

/// Longest request head accepted (request line + headers + blank line).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Most header lines accepted.
pub const MAX_HEADERS: usize = 100;

/// Longest request body accepted (the API's GETs have none).
pub const MAX_BODY_BYTES: u64 = 1 << 20;

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The bytes are not an acceptable HTTP/1.x request: answer 400, close.
    Bad(&'static str),
    /// The connection failed or timed out: close without answering.
    Io,
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Io
    }
}

/// Reads one request from `stream`. `buf` holds bytes already received and
/// keeps any that follow the request (pipelining). `Ok(None)` is a clean
/// end of the connection between requests.
pub(crate) fn read_request(
    stream: &mut impl Read,
    buf: &mut Vec<u8>,
) -> Result<Option<Request>, ReadError> {
    let mut chunk = [0u8; 8192];
    let mut req = loop {
        // RFC 9112 §2.2: ignore empty lines before a request line.
        let blank = buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        buf.drain(..blank);
        if let Some((req, head_len)) = parse_head(buf)? {
            buf.drain(..head_len);
            break req;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Bad("request head too large"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Bad("connection closed inside a request head"))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let length = body_length(&req)?;
    while buf.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ReadError::Bad("connection closed inside a request body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    req.body = buf.drain(..length).collect();
    Ok(Some(req))
}

/// The body length `Content-Length` announces (0 without one); chunked
/// bodies are refused.
fn body_length(req: &Request) -> Result<usize, ReadError> {
    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Bad("Transfer-Encoding is not supported"));
    }
    let mut length: Option<u64> = None;
    for v in req.header_values("content-length") {
        let n = parse_decimal(v).ok_or(ReadError::Bad("invalid Content-Length"))?;
        if length.is_some_and(|l| l != n) {
            return Err(ReadError::Bad("conflicting Content-Length headers"));
        }
        length = Some(n);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(ReadError::Bad("request body too large"));
    }
    Ok(length as usize)
}

/// Parses the request head at the start of `buf` with `httparse`: `None` while
/// it is incomplete, else the request and the head's length (final blank line
/// included). On top of `httparse`'s checks (token method and names, no
/// folding, no control characters in values, HTTP/1.0 or 1.1, at most
/// [`MAX_HEADERS`] headers): at most [`MAX_HEAD_BYTES`], CRLF line ends only,
/// an ASCII origin- or absolute-form target, UTF-8 values, and exactly one
/// `Host` on HTTP/1.1.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(ReadError::Bad(parse_error(e))),
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(ReadError::Bad("request head too large"));
    }
    let head = &buf[..head_len];
    let bare_lf = head
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || head[i - 1] != b'\r'));
    if bare_lf {
        return Err(ReadError::Bad("line not ended by CRLF"));
    }
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(ReadError::Bad("malformed request line"));
    };
    let (path, query) = split_target(target)?;
    let mut owned = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| ReadError::Bad("header value is not UTF-8"))?
            .trim_matches([' ', '\t']);
        owned.push((h.name.to_owned(), value.to_owned()));
    }
    let req = Request {
        method: method.to_owned(),
        path,
        query,
        version: if minor == 0 { "HTTP/1.0" } else { "HTTP/1.1" }.to_owned(),
        headers: owned,
        body: Vec::new(),
    };
    if req.version == "HTTP/1.1" && req.header_values("host").count() != 1 {
        return Err(ReadError::Bad(
            "HTTP/1.1 request needs exactly one Host header",
        ));
    }
    Ok(Some((req, head_len)))
}

/// The 400 message for an `httparse` error.
fn parse_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "malformed header name",
        httparse::Error::HeaderValue => "control character in a header value",
        httparse::Error::NewLine => "line not ended by CRLF",
        httparse::Error::Token | httparse::Error::Status => "malformed request line",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "unsupported HTTP version",
    }
}

/// (path, query) of a request target: origin form, or absolute form with the
/// authority dropped.
fn split_target(target: &str) -> Result<(String, Option<String>), ReadError> {
    if !target.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ReadError::Bad("malformed request target"));
    }
    let origin = if target.starts_with('/') {
        target
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        rest.find('/').map_or("/", |i| &rest[i..])
    } else {
        return Err(ReadError::Bad("unsupported request target form"));
    };
    Ok(match origin.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (origin.to_owned(), None),
    })
}

/// Decimal digits into a `u64` (no sign, no spaces, no overflow).
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decodes `%XX` escapes of one path segment; `None` for a bad escape or
/// a result that is not UTF-8.
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    String::from_utf8(glacier_verify_sigv4::percent_decode(segment)?).ok()
}

/// (days since epoch, seconds of day, milliseconds) of a time (the epoch
/// for a time before it).
fn split_time(t: SystemTime) -> (u64, u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    (secs / 86_400, secs % 86_400, d.subsec_millis())
}

/// ISO-8601 UTC with milliseconds, as DescribeJob writes dates
/// (`2012-03-20T17:03:43.221Z`, docs/protocol.md §5.1).
pub fn iso8601(t: SystemTime) -> String {
    let (days, sod, ms) = split_time(t);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The IMF-fixdate of the `Date` response header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, sod, _) = split_time(t);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(mo - 1) as usize],
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The reason phrase of a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(text: &str) -> Result<Request, &'static str> {
        let mut buf = Vec::new();
        let mut input = text.as_bytes();
        match read_request(&mut input, &mut buf) {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err("eof"),
            Err(ReadError::Bad(why)) => Err(why),
            Err(ReadError::Io) => Err("io"),
        }
    }

    #[test]
    fn parses_a_request() {
        let r = parse(
            "\r\nGET /-/vaults/v/jobs/j/output?x=1 HTTP/1.1\r\nHost: h\r\nRange:  bytes=0-9 \r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.method(), "GET");
        assert_eq!(r.path(), "/-/vaults/v/jobs/j/output");
        assert_eq!(r.query(), Some("x=1"));
        assert_eq!(r.header("range"), Some("bytes=0-9"));
    }

    #[test]
    fn pipelined_requests_and_bodies() {
        let text = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut input = text.as_bytes();
        let mut buf = Vec::new();
        let a = read_request(&mut input, &mut buf).unwrap().unwrap();
        assert_eq!(a.body(), b"abc");
        let b = read_request(&mut input, &mut buf).unwrap().unwrap();
        assert_eq!(b.path(), "/b");
        assert!(read_request(&mut input, &mut buf).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_requests() {
        for bad in [
            "GET /a HTTP/1.1\r\n\r\n",                                  // no Host
            "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n",                      // double space
            "GET /a HTTP/2.0\r\nHost: h\r\n\r\n",                       // version
            "GET /a HTTP/1.1\nHost: h\r\n\r\n",                         // bare LF
            "GET /a HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",            // folding
            "GET /a HTTP/1.1\r\nHost : h\r\n\r\n",                      // space before colon
            "GET /a HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",            // no colon
            "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", // bad length
            "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
            "G(T /a HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\n", // EOF inside the head
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let huge = format!(
            "GET /a HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
            "a".repeat(20_000)
        );
        assert_eq!(parse(&huge).unwrap_err(), "request head too large");
        let endless = "X".repeat(MAX_HEAD_BYTES + 10);
        assert_eq!(parse(&endless).unwrap_err(), "request head too large");
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: v\r\n")).collect();
        let many = format!("GET /a HTTP/1.1\r\nHost: h\r\n{many}\r\n");
        assert_eq!(parse(&many).unwrap_err(), "too many headers");
    }

    #[test]
    fn limits_are_exact() {
        let headers: String = (1..MAX_HEADERS).map(|i| format!("X{i}: v\r\n")).collect();
        let full = format!("GET /a HTTP/1.1\r\nHost: h\r\n{headers}\r\n");
        assert_eq!(parse(&full).unwrap().headers().len(), MAX_HEADERS);
        let fixed = "GET /a HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n".len();
        let at_limit = format!(
            "GET /a HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES - fixed)
        );
        assert_eq!(at_limit.len(), MAX_HEAD_BYTES);
        assert!(parse(&at_limit).is_ok());
        let over = at_limit.replacen("X: ", "X: a", 1);
        assert_eq!(parse(&over).unwrap_err(), "request head too large");
    }

    #[test]
    fn target_forms_and_values() {
        let r = parse("GET http://h:1/x/y?q HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!((r.path(), r.query()), ("/x/y", Some("q")));
        let r = parse("GET /a HTTP/1.0\r\nX:\tv w \t\r\n\r\n").unwrap();
        assert_eq!((r.version(), r.header("x")), ("HTTP/1.0", Some("v w")));
        assert_eq!(
            parse("GET /a HTTP/1.1\r\nHost: h\r\nX: \u{e9}\r\n\r\n")
                .unwrap()
                .header("x"),
            Some("\u{e9}")
        );
        let mut input: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\nX: \xff\r\n\r\n";
        assert!(matches!(
            read_request(&mut input, &mut Vec::new()),
            Err(ReadError::Bad("header value is not UTF-8"))
        ));
        assert_eq!(
            parse("GET /\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n").unwrap_err(),
            "malformed request target"
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nHost: h\n\n").unwrap_err(),
            "line not ended by CRLF"
        );
    }

    #[test]
    fn mangled_requests_never_panic() {
        let valid = b"GET /-/vaults/v/jobs/j/output HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nContent-Length: 2\r\n\r\nab";
        let mut state = 0x1234_5678_u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            let mut req = valid.to_vec();
            for _ in 0..1 + next() % 4 {
                let i = next() % req.len();
                match next() % 4 {
                    0 => req[i] = (next() % 256) as u8,
                    1 => {
                        req.remove(i);
                    }
                    2 => req.insert(i, b"\r\n:% -"[next() % 6]),
                    _ => req.truncate(i),
                }
                if req.is_empty() {
                    break;
                }
            }
            let mut input = req.as_slice();
            let mut buf = Vec::new();
            let _ = read_request(&mut input, &mut buf);
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_millis(1_332_263_023_221);
        assert_eq!(iso8601(t), "2012-03-20T17:03:43.221Z");
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(951_868_799)),
            "Tue, 29 Feb 2000 23:59:59 GMT"
        );
    }
}
