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
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{HostError, exit};
use crate::report::display;

// The file is read through the one buffer size of the crate.
use crate::disk::Buffer;

/// Where the head came from.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum HeadSource {
    /// A raw head file (`--headers`).
    RawResponseHead,
    /// The AWS CLI's JSON (`--aws-cli-json`).
    AwsCliJson,
    /// No head: the file against `--expected-tree-hash` alone.
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
            (parse_raw_head(&raw, h)?, HeadSource::RawResponseHead)
        }
        (None, Some(j)) => {
            cli = read_aws_cli_json(j)?;
            let head = head_from_aws_cli(&cli, file_len, &mut notes)?;
            (head, HeadSource::AwsCliJson)
        }
        (None, None) => (
            file_only_head(file_len, range, expected, &mut notes)?,
            HeadSource::None,
        ),
    };

    let range = range.or_else(|| range_of_partial(&head, &mut notes));
    let result = verify_file(&mut f, file, &head, range, expected);
    let report = Report::new(file, source, &result, notes);
    let printed = crate::render::print("Verify", &report);
    result?;
    printed.map(|()| exit::OK)
}

/// Without `--range`, a 206 head answers the range its `Content-Range`
/// names: that is the request the file came from (as `get-job-output`'s
/// own report of a `--range` download says).
fn range_of_partial(head: &ResponseHead<'_>, notes: &mut Vec<String>) -> Option<RangeRequest> {
    let cr = head.content_range.filter(|_| head.status == 206)?;
    notes.push(format!(
        "no --range given: the requested range was taken from Content-Range ({})",
        cr.range
    ));
    Some(RangeRequest::Closed(cr.range))
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
    let mut buf = Buffer::new();
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

/// The report `verify` prints.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Report {
    file: String,
    head_source: HeadSource,
    verification: Verdict,
}

/// The verdict, and what backs it.
#[derive(Serialize, Debug)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
enum Verdict {
    Verified(Passed),
    Failed(Failure),
}

/// What a verified file was checked against.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Passed {
    #[serde(serialize_with = "display")]
    level: Level,
    bytes: u64,
    #[serde(serialize_with = "display")]
    computed_tree_hash: Digest,
    #[serde(serialize_with = "display_or_null")]
    range: Option<ByteRange>,
    comparisons: Vec<Comparison>,
    notes: Vec<String>,
}

/// One hash the computed tree hash matched.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Comparison {
    #[serde(serialize_with = "source_name")]
    with: HashSource,
    #[serde(serialize_with = "display")]
    expected: Digest,
    result: ComparisonResult,
}

/// A comparison's outcome: a mismatch is a failure, never a comparison.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum ComparisonResult {
    Match,
}

/// Why a file failed.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Failure {
    error: ErrorReport,
    notes: Vec<String>,
}

/// The error, as `get-job-output` reports it too.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ErrorReport {
    kind: &'static str,
    message: String,
}

impl Report {
    fn new(
        file: &Path,
        head_source: HeadSource,
        result: &Result<Checked, HostError>,
        mut notes: Vec<String>,
    ) -> Self {
        let verification = match result {
            Ok(checked) => {
                let v = &checked.verdict;
                if v.level == Level::SizeOnly {
                    notes.push(
                        "no tree hash was available: only sizes and ranges were verified".into(),
                    );
                }
                Verdict::Verified(Passed {
                    level: v.level,
                    bytes: v.bytes,
                    computed_tree_hash: v.tree_hash,
                    range: checked.delivered,
                    comparisons: comparisons(v),
                    notes,
                })
            }
            Err(e) => Verdict::Failed(Failure {
                error: ErrorReport {
                    kind: e.kind(),
                    message: e.to_string(),
                },
                notes,
            }),
        };
        Report {
            file: file.display().to_string(),
            head_source,
            verification,
        }
    }
}

/// The comparisons the verdict records: the response's own header when
/// it matched (the file is the output's one piece, so the header equals
/// the output's tree hash), then every expected hash under its source.
fn comparisons(v: &OutputVerdict) -> Vec<Comparison> {
    let header = v.every_header_matched().then_some(Comparison {
        with: HashSource::Header,
        expected: v.tree_hash,
        result: ComparisonResult::Match,
    });
    let expected = v.matched().map(|e| Comparison {
        with: e.source,
        expected: e.digest,
        result: ComparisonResult::Match,
    });
    header.into_iter().chain(expected).collect()
}

/// Serializes a value as its `Display` text, or `null`.
fn display_or_null<T: std::fmt::Display, S: Serializer>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// Serializes a hash source as its machine-friendly name.
fn source_name<S: Serializer>(source: &HashSource, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(source.describe())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glacier_verify_core::{Error, tree_hash};
    use serde_json::{Value, json};

    /// A file in the temporary directory, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, data: &[u8]) -> Self {
            let path = std::env::temp_dir().join(format!(
                "glacier-verify-offline-{}-{name}",
                std::process::id()
            ));
            std::fs::write(&path, data).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn data() -> Vec<u8> {
        (0..(2u32 << 20) + 7).map(|i| (i % 251) as u8).collect()
    }

    fn check(
        file: &TempFile,
        head: &ResponseHead<'_>,
        expected: Option<Digest>,
    ) -> Result<Checked, HostError> {
        let mut f = File::open(&file.0).unwrap();
        verify_file(&mut f, &file.0, head, None, expected)
    }

    fn to_json(r: &Report) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn get_job_output_report_reads_as_a_head_and_its_own_fields_are_ignored() {
        let report = json!({
            "status": 206,
            "contentType": "application/octet-stream",
            "checksum": "a".repeat(64),
            "contentRange": "bytes 1048576-2097151/3145739",
            "acceptRanges": "bytes",
            "archiveDescription": "photos 2019",
            "verification": {"verdict": "verified", "level": "header-hash", "notes": []},
            "outfile": "out.bin",
            "partialFile": null,
        });
        let cli: AwsCliHead = serde_json::from_value(report).unwrap();
        let mut notes = Vec::new();
        let head = head_from_aws_cli(&cli, 99, &mut notes).unwrap();
        assert_eq!(head.status, 206);
        assert_eq!(head.content_length, Some(1 << 20));
        assert_eq!(head.archive_description, Some("photos 2019"));
        assert_eq!(head.accept_ranges, Some("bytes"));
        assert!(head.tree_hash.is_some());
        assert_eq!(notes, ["expected length taken from contentRange"]);

        // A 200 has no length in the JSON: the file's own size is taken.
        let cli: AwsCliHead = serde_json::from_value(json!({"status": 200})).unwrap();
        let head = head_from_aws_cli(&cli, 99, &mut notes).unwrap();
        assert_eq!(head.content_length, Some(99));
        assert_eq!(notes.len(), 2);

        // get-job-output's failure report has no head: refused.
        let failed = json!({"verification": {"verdict": "failed"}, "outfile": null, "partialFile": "x.part"});
        assert!(serde_json::from_value::<AwsCliHead>(failed).is_err());
    }

    #[test]
    fn the_assembly_compares_the_expected_hash_and_names_the_level() {
        let data = data();
        let hash = tree_hash(&data);
        let file = TempFile::new("assembly", &data);
        let with_header = ResponseHead {
            status: 200,
            content_length: Some(data.len() as u64),
            tree_hash: Some(hash),
            ..ResponseHead::default()
        };
        let checked = check(&file, &with_header, Some(hash)).unwrap();
        assert_eq!(checked.verdict.level, Level::HeaderAndExpectedHash);
        assert_eq!(checked.verdict.tree_hash, hash);
        let report = to_json(&Report::new(
            &file.0,
            HeadSource::RawResponseHead,
            &Ok(checked),
            Vec::new(),
        ));
        assert_eq!(report["headSource"], "raw-response-head");
        let v = &report["verification"];
        assert_eq!(v["verdict"], "verified");
        assert_eq!(v["level"], "header-and-expected-hash");
        assert_eq!(v["bytes"], data.len());
        assert_eq!(v["range"], format!("0-{}", data.len() - 1));
        assert_eq!(
            v["comparisons"],
            json!([
                {"with": "x-amz-sha256-tree-hash", "expected": hash.to_string(), "result": "match"},
                {"with": "--expected-tree-hash", "expected": hash.to_string(), "result": "match"},
            ])
        );

        // No header: the expected hash alone, compared under its source.
        let bare = ResponseHead {
            tree_hash: None,
            ..with_header
        };
        let checked = check(&file, &bare, Some(hash)).unwrap();
        assert_eq!(checked.verdict.level, Level::ExpectedHash);
        let other = tree_hash(b"something else");
        match check(&file, &bare, Some(other)) {
            Err(HostError::Verification {
                source: Error::TreeHashMismatch { source, .. },
                ..
            }) => {
                assert_eq!(source, HashSource::CommandLine);
            }
            r => panic!("{:?}", r.map(|c| c.verdict)),
        }

        // Neither: sizes only, said in a note; no comparison listed.
        let checked = check(&file, &bare, None).unwrap();
        let report = to_json(&Report::new(
            &file.0,
            HeadSource::AwsCliJson,
            &Ok(checked),
            Vec::new(),
        ));
        assert_eq!(report["headSource"], "aws-cli-json");
        assert_eq!(report["verification"]["level"], "size-only");
        assert_eq!(report["verification"]["comparisons"], json!([]));
        assert_eq!(report["verification"]["notes"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_flipped_byte_fails_and_the_report_says_why() {
        let mut data = data();
        let head = ResponseHead {
            status: 200,
            content_length: Some(data.len() as u64),
            tree_hash: Some(tree_hash(&data)),
            ..ResponseHead::default()
        };
        data[(1 << 20) + 3] ^= 0x10;
        let file = TempFile::new("flipped", &data);
        let result = check(&file, &head, None);
        assert!(matches!(
            result,
            Err(HostError::Verification {
                source: Error::TreeHashMismatch {
                    source: HashSource::Header,
                    ..
                },
                ..
            })
        ));
        assert_eq!(
            result.as_ref().err().unwrap().exit_code(),
            exit::VERIFICATION_FAILED
        );
        let report = to_json(&Report::new(
            &file.0,
            HeadSource::None,
            &result,
            vec!["a note".into()],
        ));
        assert_eq!(report["headSource"], "none");
        let v = report["verification"].as_object().unwrap();
        assert_eq!(v["verdict"], "failed");
        assert_eq!(v["error"]["kind"], "verification");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tree hash mismatch")
        );
        assert_eq!(v["notes"], json!(["a note"]));
        assert!(!v.contains_key("level") && !v.contains_key("comparisons"));
    }
}
