//! `glacier-verify verify`: the core verifier run offline over a file some
//! other tool downloaded, with the response head it came with — a raw head
//! (`curl -D head.txt`) or the JSON the AWS CLI printed for
//! `aws glacier get-job-output`.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use glacier_verify_core::{
    Digest, Expectation, HeadBuilder, HeaderHash, Level, MAX_HEAD_LEN, Parsed, RangeRequest,
    ResponseHead, Verifier, parse_head,
};
use serde_json::json;

use crate::error::{HostError, exit};

/// Where the head came from, for the report.
enum HeadSource {
    Raw,
    AwsCli { length_from: &'static str },
    None,
}

/// Runs the command; returns the exit code.
pub fn run(
    file: &Path,
    headers: Option<&Path>,
    aws_cli_json: Option<&Path>,
    range: Option<RangeRequest>,
    expected: Option<Digest>,
) -> Result<i32, HostError> {
    let mut f = File::open(file).map_err(|e| HostError::io(file, e))?;
    let file_len = f.metadata().map_err(|e| HostError::io(file, e))?.len();
    let head_bytes;
    let cli_json;
    let mut notes: Vec<String> = Vec::new();
    let cl_text;
    let (head, source): (ResponseHead<'_>, HeadSource) = if let Some(h) = headers {
        // A head is at most MAX_HEAD_LEN bytes: never read more than that
        // (plus one byte, to tell a too-large head from a full one).
        let mut raw = Vec::new();
        File::open(h)
            .and_then(|f| f.take(MAX_HEAD_LEN as u64 + 1).read_to_end(&mut raw))
            .map_err(|e| HostError::io(h, e))?;
        head_bytes = normalize_line_endings(raw, &mut notes);
        match parse_head(&head_bytes)
            .map_err(|e| HostError::Usage(format!("{}: {e}", h.display())))?
        {
            Parsed::Complete { value, .. } => (value, HeadSource::Raw),
            Parsed::Partial => {
                return Err(HostError::Usage(format!(
                    "{}: the head is incomplete (no blank line after the headers)",
                    h.display()
                )));
            }
        }
    } else if let Some(j) = aws_cli_json {
        let text = std::fs::read(j).map_err(|e| HostError::io(j, e))?;
        cli_json = serde_json::from_slice::<serde_json::Value>(&text)
            .map_err(|e| HostError::Usage(format!("{}: not JSON: {e}", j.display())))?;
        let status = cli_json
            .get("status")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| HostError::Usage(format!("{}: no numeric \"status\"", j.display())))?;
        let mut b = HeadBuilder::new(status).map_err(|e| HostError::Usage(e.to_string()))?;
        let field = |k: &str| cli_json.get(k).and_then(serde_json::Value::as_str);
        if let Some(cr) = field("contentRange") {
            b.header(b"Content-Range", cr.as_bytes())
                .map_err(|e| HostError::Usage(format!("contentRange: {e}")))?;
        }
        if let Some(h) = field("checksum") {
            b.header(b"x-amz-sha256-tree-hash", h.as_bytes())
                .map_err(|e| HostError::Usage(format!("checksum: {e}")))?;
        }
        for (k, name) in [
            ("contentType", &b"Content-Type"[..]),
            ("acceptRanges", b"Accept-Ranges"),
            ("archiveDescription", b"x-amz-archive-description"),
        ] {
            if let Some(v) = field(k) {
                b.header(name, v.as_bytes())
                    .map_err(|e| HostError::Usage(format!("{k}: {e}")))?;
            }
        }
        // The AWS CLI prints no Content-Length: a 206's length follows from
        // its Content-Range; for a 200 only the file itself says.
        let mut head = b.finish().map_err(|e| HostError::Usage(e.to_string()))?;
        let length_from = match head.content_range {
            Some(cr) => {
                head.content_length = Some(cr.range.len());
                "contentRange"
            }
            None => {
                head.content_length = Some(file_len);
                notes.push("the AWS CLI JSON has no length for a 200 response: the file's own size was taken as Content-Length".into());
                "file size"
            }
        };
        (head, HeadSource::AwsCli { length_from })
    } else {
        // No head: a plain tree-hash check of the file, with its own size.
        cl_text = file_len.to_string();
        let mut b = HeadBuilder::new(if range.is_some() { 206 } else { 200 })
            .map_err(|e| HostError::Usage(e.to_string()))?;
        b.header(b"Content-Length", cl_text.as_bytes())
            .map_err(|e| HostError::Usage(e.to_string()))?;
        if range.is_some() {
            return Err(HostError::Usage(
                "--range needs --headers or --aws-cli-json".into(),
            ));
        }
        if expected.is_none() {
            return Err(HostError::Usage(
                "nothing to verify against: give --headers, --aws-cli-json or --expected-tree-hash"
                    .into(),
            ));
        }
        notes.push("no response head given: only the tree hash was checked".into());
        (
            b.finish().map_err(|e| HostError::Usage(e.to_string()))?,
            HeadSource::None,
        )
    };

    let mut verifier = Verifier::new(Expectation {
        tree_hash: expected,
        ..Expectation::unknown(range)
    })?;
    let result = (|| -> Result<glacier_verify_core::Verified, HostError> {
        verifier.on_head(&head)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = f.read(&mut buf).map_err(|e| HostError::io(file, e))?;
            if n == 0 {
                break;
            }
            verifier.update(&buf[..n])?;
        }
        Ok(verifier.finish()?)
    })();
    let source_name = match source {
        HeadSource::Raw => "raw response head",
        HeadSource::AwsCli { .. } => "AWS CLI JSON",
        HeadSource::None => "none",
    };
    match result {
        Ok(v) => {
            let level = v.level();
            let mut comparisons = Vec::new();
            if let HeaderHash::Matched(h) = v.header {
                comparisons.push(json!({"with": "x-amz-sha256-tree-hash", "expected": h.to_string(), "result": "match"}));
            }
            if v.expected_hash_matched {
                comparisons.push(json!({"with": "--expected-tree-hash", "expected": v.tree_hash.to_string(), "result": "match"}));
            }
            if let HeadSource::AwsCli { length_from } = source {
                notes.push(format!("expected length taken from {length_from}"));
            }
            if level == Level::SizeOnly {
                notes
                    .push("no tree hash was available: only sizes and ranges were verified".into());
            }
            let report = json!({
                "file": file.display().to_string(),
                "headSource": source_name,
                "verification": {
                    "verdict": "verified",
                    "level": level.as_str(),
                    "bytes": v.body_len,
                    "computedTreeHash": v.tree_hash.to_string(),
                    "range": v.delivered.map(|r| r.to_string()),
                    "comparisons": comparisons,
                    "notes": notes,
                }
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            Ok(exit::OK)
        }
        Err(e) => {
            let report = json!({
                "file": file.display().to_string(),
                "headSource": source_name,
                "verification": {
                    "verdict": "failed",
                    "error": {"kind": e.kind(), "message": e.to_string()},
                    "notes": notes,
                }
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            Err(e)
        }
    }
}

/// A head file edited by hand may have lost its CRs; the core's parser is
/// strict (RFC 9112), so restore them — and say so.
fn normalize_line_endings(raw: Vec<u8>, notes: &mut Vec<String>) -> Vec<u8> {
    if raw.contains(&b'\r') || !raw.contains(&b'\n') {
        return raw;
    }
    notes.push("the head file had LF line endings; read as CRLF".into());
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 16);
    for b in raw {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}
