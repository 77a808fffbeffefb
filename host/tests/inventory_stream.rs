//! The streaming inventory reader, `for_each_archive`: the same archives and
//! errors as the whole-buffer parser, early stop, order, and bounded records
//! against truncated and hostile inputs.

use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;

use glacier_verify::inventory::{
    ErrorKind, Format, InventoryArchive, InventoryError, InventorySummary, Location,
    MAX_DESCRIPTION_BYTES, MAX_RECORD_BYTES, for_each_archive, parse,
};

const HEADER: &str = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash";
const HASH: &str = "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a";

fn data(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/inventory", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every archive, collected (fine for small test inputs).
fn stream(input: impl Read) -> Result<(InventorySummary, Vec<InventoryArchive>), InventoryError> {
    let mut archives = Vec::new();
    let summary = for_each_archive(input, |archive| {
        archives.push(archive);
        ControlFlow::Continue(())
    })?;
    Ok((summary, archives))
}

fn json_archive(i: usize) -> String {
    format!(
        r#"{{"ArchiveId":"id-{i}","ArchiveDescription":"file {i}.txt","CreationDate":"2012-05-15T17:19:46.700Z","Size":{i},"SHA256TreeHash":"{HASH}"}}"#
    )
}

fn json_inventory(n: usize) -> String {
    let list: Vec<String> = (0..n).map(json_archive).collect();
    format!(
        r#"{{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/v","InventoryDate":"2011-12-12T14:19:01Z","ArchiveList":[{}]}}"#,
        list.join(",")
    )
}

fn csv_inventory(n: usize) -> String {
    let mut out = format!("{HEADER}\r\n");
    for i in 0..n {
        out.push_str(&format!(
            "id-{i},\"file, {i}\",2012-05-15T17:19:46.700Z,{i},{HASH}\r\n"
        ));
    }
    out
}

/// Streaming and whole-buffer reads agree: same archives in order, same
/// metadata, or the same error.
fn assert_agrees(bytes: &[u8]) {
    let whole = parse(bytes);
    let streamed = stream(bytes);
    match (whole, streamed) {
        (Ok(inventory), Ok((summary, archives))) => {
            assert_eq!(archives, inventory.archives);
            assert_eq!(summary.vault_arn, inventory.vault_arn);
            assert_eq!(summary.inventory_date, inventory.inventory_date);
            assert_eq!(summary.archives, inventory.archives.len() as u64);
            assert_eq!(summary.total_size, inventory.total_size());
            assert_eq!(summary.bytes_read, bytes.len() as u64);
        }
        (Err(whole), Err(streamed)) => match (&whole.kind, &streamed.kind) {
            // serde_json reports an error found after a key one column
            // later when it reads from an `io::Read` (it has consumed the
            // byte it peeked at); the kind and the line are the same.
            (ErrorKind::Json(_), ErrorKind::Json(_)) => {
                assert_eq!(streamed.line(), whole.line());
                let column = |e: &InventoryError| match e.location {
                    Location::Line { column, .. } => column.unwrap_or(0),
                    _ => 0,
                };
                assert!(
                    column(&streamed).abs_diff(column(&whole)) <= 1,
                    "{streamed} vs {whole}"
                );
            }
            _ => assert_eq!(streamed, whole),
        },
        (whole, streamed) => panic!(
            "disagree on {:?}: whole {whole:?}, streamed {streamed:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

#[test]
fn test_data_streams_like_parse() {
    for name in std::fs::read_dir(
        [env!("CARGO_MANIFEST_DIR"), "tests/data/inventory"]
            .iter()
            .collect::<PathBuf>(),
    )
    .unwrap()
    {
        let name = name.unwrap().file_name();
        let bytes = data(name.to_str().unwrap());
        assert_agrees(&bytes);
    }
    assert_agrees(json_inventory(3).as_bytes());
    assert_agrees(csv_inventory(3).as_bytes());
}

#[test]
fn archives_arrive_in_order_with_metadata_after_the_list() {
    let list: Vec<String> = (0..5).map(json_archive).collect();
    let json = format!(
        r#"{{"ArchiveList":[{}],"Other":{{"x":[1,2]}},"InventoryDate":"2011-12-12T14:19:01Z","VaultARN":"arn:v"}}"#,
        list.join(",")
    );
    let (summary, archives) = stream(json.as_bytes()).unwrap();
    let ids: Vec<&str> = archives.iter().map(|a| a.archive_id.as_str()).collect();
    assert_eq!(ids, ["id-0", "id-1", "id-2", "id-3", "id-4"]);
    assert_eq!(summary.format, Format::Json);
    assert_eq!(summary.vault_arn.as_deref(), Some("arn:v"));
    assert_eq!(
        summary.inventory_date.as_deref(),
        Some("2011-12-12T14:19:01Z")
    );
    assert_eq!(summary.total_size, 10);
    assert_agrees(json.as_bytes());
}

#[test]
fn break_stops_early_and_reads_no_further() {
    for (text, format) in [
        (json_inventory(10), Format::Json),
        (csv_inventory(10), Format::Csv),
    ] {
        // What follows the third archive is broken: stopping before it must
        // not read it.
        let cut = text.find("id-3").unwrap();
        let broken = format!("{}\u{1}garbage", &text[..cut]);
        let mut seen = Vec::new();
        let summary = for_each_archive(broken.as_bytes(), |archive| {
            seen.push(archive.archive_id);
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen, ["id-0", "id-1"]);
        assert_eq!(
            (summary.format, summary.archives, summary.total_size),
            (format, 2, 1)
        );
        assert!(summary.bytes_read < cut as u64, "{summary:?}");
    }
}

#[test]
fn every_truncation_agrees_with_parse() {
    for text in [json_inventory(3), csv_inventory(3)] {
        let bytes = text.as_bytes();
        for end in 0..bytes.len() {
            assert_agrees(&bytes[..end]);
        }
    }
}

#[test]
fn byte_order_mark_and_leading_whitespace() {
    for text in [
        format!("\u{feff}  \n{}", json_inventory(2)),
        format!("\u{feff}{}", csv_inventory(2)),
        format!("\n\n{}", csv_inventory(2)),
        format!("{}\n\n\n", csv_inventory(2)),
        format!("{HEADER}\n\nid,d,date,1,{HASH}\n"),
        "\u{feff}".to_string(),
        "\u{feff}   ".to_string(),
        String::new(),
    ] {
        assert_agrees(text.as_bytes());
    }
}

#[test]
fn field_rules_are_shared() {
    let long = "d".repeat(MAX_DESCRIPTION_BYTES + 1);
    let cases = [
        format!(
            r#"{{"ArchiveList":[{},{{"ArchiveId":"x","ArchiveDescription":"{long}","CreationDate":"c","Size":1,"SHA256TreeHash":"{HASH}"}}]}}"#,
            json_archive(0)
        ),
        format!("{HEADER}\nx,{long},c,1,{HASH}\n"),
        r#"{"ArchiveList":[{"ArchiveId":"x"}]}"#.to_string(),
        r#"{"ArchiveList":[],"ArchiveList":[]}"#.to_string(),
        r#"{"ArchiveList":null}"#.to_string(),
        r#"{"VaultARN":1,"ArchiveList":[]}"#.to_string(),
        r#"{"ArchiveList":{}}"#.to_string(),
        r#"{"ArchiveList":[]} x"#.to_string(),
        format!("{HEADER}\nx,d,c,-1,{HASH}\n"),
    ];
    for text in &cases {
        assert_agrees(text.as_bytes());
    }
    let err = stream(cases[0].as_bytes()).unwrap_err();
    assert_eq!(err.location, Location::Archive { index: 1 });
    assert_eq!(
        err.kind,
        ErrorKind::FieldTooLong {
            field: "ArchiveDescription",
            limit: MAX_DESCRIPTION_BYTES
        }
    );
}

/// A reader of `head`, then `fill` repeated forever.
struct Endless {
    head: Vec<u8>,
    fill: u8,
    pos: usize,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for byte in buf.iter_mut() {
            *byte = self.head.get(self.pos).copied().unwrap_or(self.fill);
            self.pos += 1;
        }
        Ok(buf.len())
    }
}

fn endless(head: &str, fill: u8) -> Endless {
    Endless {
        head: head.as_bytes().to_vec(),
        fill,
        pos: 0,
    }
}

#[test]
fn an_endless_string_stops_at_the_record_limit() {
    let too_long = ErrorKind::RecordTooLong {
        limit: MAX_RECORD_BYTES,
    };
    let head = format!(
        r#"{{"ArchiveList":[{},{{"ArchiveDescription":""#,
        json_archive(0)
    );
    let err = stream(endless(&head, b'a')).unwrap_err();
    assert_eq!(
        (err.location, &err.kind),
        (Location::Archive { index: 1 }, &too_long)
    );

    let err = stream(endless(r#"{"Unknown":""#, b'a')).unwrap_err();
    assert_eq!((err.location, &err.kind), (Location::Document, &too_long));

    let head = format!("{HEADER}\nid,");
    let err = stream(endless(&head, b'a')).unwrap_err();
    let line2 = Location::Line {
        line: 2,
        column: None,
    };
    assert_eq!((err.location, &err.kind), (line2, &too_long));

    // Endless whitespace before anything: not JSON, and no line ends.
    let err = stream(endless("", b' ')).unwrap_err();
    assert_eq!(err.kind, too_long);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Known fields are read as values: serde_json's recursion limit.
    for head in [
        r#"{"VaultARN":"#.to_string(),
        format!(r#"{{"ArchiveList":[{},{{"Size":"#, json_archive(0)),
    ] {
        let text = format!("{head}{}", "[".repeat(50_000));
        let err = stream(text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Json(message) if message.contains("recursion limit")),
            "{err}"
        );
        assert_agrees(text.as_bytes());
    }
    // Unknown fields are skipped without recursion: deep but closed nesting
    // is read, unclosed nesting ends at the end of the input.
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    for text in [
        format!(r#"{{"Other":{deep},"ArchiveList":[]}}"#),
        format!(r#"{{"ArchiveList":[{}],"Other":{deep}}}"#, json_archive(0)),
        format!(r#"{{"Other":{}"#, "[".repeat(50_000)),
    ] {
        assert_agrees(text.as_bytes());
    }
}

/// Fails with an I/O error after `ok` bytes.
struct Failing<'a> {
    ok: &'a [u8],
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok.is_empty() {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "peer reset"));
        }
        let n = self.ok.len().min(buf.len());
        buf[..n].copy_from_slice(&self.ok[..n]);
        self.ok = &self.ok[n..];
        Ok(n)
    }
}

#[test]
fn reader_failures_are_read_errors() {
    for text in [json_inventory(3), csv_inventory(3)] {
        for cut in [0, 1, text.len() / 2] {
            let err = stream(Failing {
                ok: &text.as_bytes()[..cut],
            })
            .unwrap_err();
            assert!(
                matches!(&err.kind, ErrorKind::Read(message) if message.contains("peer reset")),
                "{err}"
            );
        }
    }
}
