//! `glacier-verify verify`: the core verifier run offline over a file some
//! other tool downloaded, with the response head it came with — a raw head
//! (`curl -D head.txt`) or the JSON the AWS CLI printed for
//! `aws glacier get-job-output`.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use glacier_verify_core::{
    Assembly, ByteRange, Digest, Expectation, ExpectedHash, HashSource, HeadBuilder, Level,
    MAX_HEAD_LEN, OutputVerdict, Parsed, RangeRequest, ResponseHead, Verifier, parse_head,
};
use serde::Deserialize;
use serde_json::json;

use crate::error::{HostError, exit};

/// The file is read through a buffer of this size.
const READ_BUF_LEN: usize = 256 * 1024;

/// Where the head came from, for the report.
enum HeadSource {
    Raw,
    AwsCli,
    None,
}

/// The fields of `aws glacier get-job-output`'s JSON that describe the
/// response head. Other fields are ignored: `glacier-verify get-job-output`
/// prints the same ones plus `verification`, `outfile`, `partialFile`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct AwsCliHead {
    status: u16,
    content_range: Option<String>,
    checksum: Option<String>,
    content_type: Option<String>,
    accept_ranges: Option<String>,
    archive_description: Option<String>,
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
    let mut notes: Vec<String> = Vec::new();
    // The head borrows from what the head file held.
    let raw;
    let cli;
    let (head, source) = match (headers, aws_cli_json) {
        (Some(h), _) => {
            raw = read_raw_head(h, &mut notes)?;
            (parse_raw_head(&raw, h)?, HeadSource::Raw)
        }
        (None, Some(j)) => {
            cli = read_aws_cli_json(j)?;
            let head = head_from_aws_cli(&cli, file_len, &mut notes)?;
            (head, HeadSource::AwsCli)
        }
        (None, None) => (
            file_only_head(file_len, range, expected, &mut notes)?,
            HeadSource::None,
        ),
    };

    let result = verify_file(&mut f, file, &head, range, expected);
    let source_name = match source {
        HeadSource::Raw => "raw response head",
        HeadSource::AwsCli => "AWS CLI JSON",
        HeadSource::None => "none",
    };
    match result {
        Ok(checked) => {
            let v = checked.verdict;
            let mut comparisons = Vec::new();
            if v.every_header_matched() {
                comparisons.push(json!({"with": HashSource::Header.as_str(), "expected": v.tree_hash.to_string(), "result": "match"}));
            }
            for e in v.matched() {
                comparisons.push(json!({"with": e.source.as_str(), "expected": e.digest.to_string(), "result": "match"}));
            }
            if v.level == Level::SizeOnly {
                notes
                    .push("no tree hash was available: only sizes and ranges were verified".into());
            }
            let report = json!({
                "file": file.display().to_string(),
                "headSource": source_name,
                "verification": {
                    "verdict": "verified",
                    "level": v.level.as_str(),
                    "bytes": v.bytes,
                    "computedTreeHash": v.tree_hash.to_string(),
                    "range": checked.delivered.map(|r| r.to_string()),
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

/// What the file was found to be.
struct Checked {
    /// The bytes of the job output the file holds, as its head stated them.
    delivered: Option<ByteRange>,
    /// The whole file's verdict.
    verdict: OutputVerdict,
}

/// Verifies the file as the one piece of an output: the verifier checks
/// it against its head (docs/protocol.md §9), the assembly compares the
/// tree hash with `--expected-tree-hash` and names the level reached.
fn verify_file(
    f: &mut File,
    path: &Path,
    head: &ResponseHead<'_>,
    range: Option<RangeRequest>,
    expected: Option<Digest>,
) -> Result<Checked, HostError> {
    let mut verifier = Verifier::new(Expectation::unknown(range))?;
    verifier.on_head(head)?;
    let mut buf = vec![0u8; READ_BUF_LEN];
    loop {
        let n = f.read(&mut buf).map_err(|e| HostError::io(path, e))?;
        if n == 0 {
            break;
        }
        verifier.update(&buf[..n])?;
    }
    let piece = verifier.finish_part()?;
    // `on_head` refused a head without Content-Length: the length is known.
    let mut assembly = Assembly::new(head.content_length);
    if let Some(digest) = expected {
        assembly.expect(ExpectedHash {
            source: HashSource::CommandLine,
            digest,
        })?;
    }
    assembly.push(&piece)?;
    Ok(Checked {
        delivered: piece.delivered,
        verdict: assembly.verdict()?,
    })
}

/// Reads a raw head file (`curl -D`), with LF line endings made CRLF.
/// A head is at most `MAX_HEAD_LEN` bytes: never read more than that
/// (plus one byte, to tell a too-large head from a full one).
fn read_raw_head(path: &Path, notes: &mut Vec<String>) -> Result<Vec<u8>, HostError> {
    let mut raw = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_HEAD_LEN as u64 + 1).read_to_end(&mut raw))
        .map_err(|e| HostError::io(path, e))?;
    Ok(normalize_line_endings(raw, notes))
}

/// Parses a raw head read from `path`; anything but one complete head is a
/// usage error.
fn parse_raw_head<'a>(bytes: &'a [u8], path: &Path) -> Result<ResponseHead<'a>, HostError> {
    match parse_head(bytes).map_err(|e| HostError::Usage(format!("{}: {e}", path.display())))? {
        Parsed::Complete { value, .. } => Ok(value),
        Parsed::Partial => Err(HostError::Usage(format!(
            "{}: the head is incomplete (no blank line after the headers)",
            path.display()
        ))),
    }
}

/// Reads the JSON the AWS CLI (or `glacier-verify get-job-output`) printed.
fn read_aws_cli_json(path: &Path) -> Result<AwsCliHead, HostError> {
    let text = std::fs::read(path).map_err(|e| HostError::io(path, e))?;
    serde_json::from_slice(&text)
        .map_err(|e| HostError::Usage(format!("{}: not get-job-output JSON: {e}", path.display())))
}

/// The response head the AWS CLI's JSON describes. The CLI prints no
/// Content-Length: a 206's length follows from its Content-Range; for a
/// 200 only the file itself says (`file_len`), and a note says so.
fn head_from_aws_cli<'a>(
    cli: &'a AwsCliHead,
    file_len: u64,
    notes: &mut Vec<String>,
) -> Result<ResponseHead<'a>, HostError> {
    let mut b =
        HeadBuilder::new(cli.status).map_err(|e| HostError::Usage(format!("status: {e}")))?;
    for (key, name, value) in [
        ("contentRange", &b"Content-Range"[..], &cli.content_range),
        ("checksum", b"x-amz-sha256-tree-hash", &cli.checksum),
        ("contentType", b"Content-Type", &cli.content_type),
        ("acceptRanges", b"Accept-Ranges", &cli.accept_ranges),
        (
            "archiveDescription",
            b"x-amz-archive-description",
            &cli.archive_description,
        ),
    ] {
        if let Some(v) = value {
            b.header(name, v.as_bytes())
                .map_err(|e| HostError::Usage(format!("{key}: {e}")))?;
        }
    }
    let mut head = b.finish().map_err(|e| HostError::Usage(e.to_string()))?;
    let length = match head.content_range {
        Some(cr) => {
            notes.push("expected length taken from contentRange".into());
            cr.range.len()
        }
        None => {
            notes.push("the AWS CLI JSON has no length for a 200 response: the file's own size was taken as Content-Length".into());
            file_len
        }
    };
    head.content_length = Some(length);
    Ok(head)
}

/// No head given: a plain tree-hash check of the file with its own size,
/// which needs `--expected-tree-hash` and cannot check a `--range`.
fn file_only_head(
    file_len: u64,
    range: Option<RangeRequest>,
    expected: Option<Digest>,
    notes: &mut Vec<String>,
) -> Result<ResponseHead<'static>, HostError> {
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
    Ok(ResponseHead {
        status: 200,
        content_length: Some(file_len),
        ..ResponseHead::default()
    })
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
