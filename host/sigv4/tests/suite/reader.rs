//! Reading the AWS SigV4 test suite's files (`tests/data/sigv4/v4/<case>/`),
//! shared by the signer's tests and the loopback endpoint's verifier tests.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// The suite's folder, from the crate at `manifest_dir` that includes this.
pub fn suite_dir(manifest_dir: &str) -> PathBuf {
    let own = Path::new(manifest_dir).join("tests/data/sigv4/v4");
    if own.is_dir() {
        own
    } else {
        Path::new(manifest_dir).join("../sigv4/tests/data/sigv4/v4")
    }
}

/// A file of a case, with CRLF made LF.
pub fn read_in(dir: &Path, case: &str, file: &str) -> Option<String> {
    fs::read_to_string(dir.join(case).join(file))
        .ok()
        .map(|s| s.replace("\r\n", "\n"))
}

/// An HTTP request as written in the suite files.
pub struct TextRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Parses a request file: header values as written (untrimmed), the
/// target as written.
pub fn parse_request(text: &str) -> TextRequest {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let (method, rest) = request_line.split_once(' ').expect("method");
    // The target may contain spaces (get-space-unnormalized); the version is optional
    // (double-url-encode's signed request has none).
    let target = match rest.rsplit_once(' ') {
        Some((target, version)) if version.starts_with("HTTP/") => target,
        _ => rest,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("continuation without a header");
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_string(), value.to_string()));
        }
    }
    TextRequest {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// Percent-encodes the bytes that may not appear unencoded in a request target.
pub fn wire_target(target: &str) -> String {
    let mut out = String::new();
    for &b in target.as_bytes() {
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
        if allowed {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
