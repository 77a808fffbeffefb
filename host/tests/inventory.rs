//! Inventory parsing (JSON and Glacier's CSV dialect), lookup and output,
//! through the public API (docs/protocol.md §5.3).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use glacier_verify::inventory::{
    ErrorKind, Format, Inventory, InventoryError, Location, detect_format, parse, parse_csv,
    parse_json,
};
use glacier_verify_core::Digest;
use serde_json::json;

const HEADER: &str = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash";
const HASH: &str = "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a";
const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn data(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/inventory", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn digest(hex: &str) -> Digest {
    Digest::from_hex(hex.as_bytes()).unwrap()
}

/// A one-record CSV inventory in Glacier's column order.
fn csv_with(record: &str) -> String {
    format!("{HEADER}\n{record}\n")
}

fn csv_err(text: &str) -> InventoryError {
    parse_csv(text.as_bytes()).unwrap_err()
}

fn json_err(text: &str) -> InventoryError {
    parse_json(text.as_bytes()).unwrap_err()
}

fn line(line: usize, column: Option<usize>) -> Location {
    Location::Line { line, column }
}

/// Glacier's CSV quoting (docs/protocol.md §5.3): quote fields with `,` or `"`, write
/// `"` as `\"`, leave backslashes alone.
fn aws_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\\\""))
    } else {
        text.to_owned()
    }
}

/// xorshift64*: deterministic pseudo-random numbers for the generated cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// --- JSON -------------------------------------------------------------------

#[test]
fn spec_json_example() {
    let inventory = parse_json(&data("spec-example.json")).unwrap();
    assert_eq!(
        inventory.vault_arn.as_deref(),
        Some("arn:aws:glacier:us-west-2:012345678901:vaults/examplevault")
    );
    assert_eq!(
        inventory.inventory_date.as_deref(),
        Some("2011-12-12T14:19:01Z")
    );
    assert_eq!(inventory.archives.len(), 2);
    let first = &inventory.archives[0];
    assert!(
        first
            .archive_id
            .starts_with("DMTmICA2n5Tdqq5BV2z7og-A20xnpAPKt3UXw")
    );
    assert_eq!(first.description, "my archive1");
    assert_eq!(first.creation_date, "2012-05-15T17:19:46.700Z");
    assert_eq!(first.size, 2_140_123);
    assert_eq!(
        first.tree_hash,
        digest("6b9d4cf8697bd3af6aa1b590a0b27b337da5b18988dbcc619a3e608a554a1e62")
    );
    assert_eq!(inventory.archives[1].description, "my archive2");
    assert_eq!(inventory.total_size(), 2 * 2_140_123);
    // Auto-detection picks JSON.
    assert_eq!(parse(&data("spec-example.json")).unwrap(), inventory);
}

#[test]
fn json_extra_fields_null_description_and_uppercase_hash() {
    let inventory = parse(&data("extra-fields.json")).unwrap();
    let archive = inventory.find("id-with-extras").unwrap();
    assert_eq!(archive.description, "");
    assert_eq!(archive.size, 0);
    assert_eq!(archive.tree_hash, digest(EMPTY_HASH));
}

#[test]
fn json_empty_archive_list() {
    let inventory = parse(&data("empty.json")).unwrap();
    assert!(inventory.archives.is_empty());
    assert_eq!(inventory.total_size(), 0);
    // Vault ARN and date are optional.
    let bare = parse_json(b"{\"ArchiveList\": []}").unwrap();
    assert_eq!(bare, Inventory::default());
    let nulls = parse_json(br#"{"VaultARN": null, "InventoryDate": null, "ArchiveList": []}"#);
    assert_eq!(nulls.unwrap(), Inventory::default());
}

#[test]
fn json_malformed_reports_line_and_column() {
    let err = json_err("{\n  \"ArchiveList\": [\n    {\"ArchiveId\": \"a\",,}\n]}");
    assert!(matches!(err.kind, ErrorKind::Json(_)), "{err:?}");
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().starts_with("line 3, column "), "{err}");

    for text in [
        "{",
        "{\"ArchiveList\": []} trailing",
        "{\"ArchiveList\": [}",
        "{\"ArchiveList\": \"none\"}",
        "{\"ArchiveList\": [\"not an object\"]}",
        "[]",
        "[\"arn\", \"date\", []]",
        "{\"ArchiveList\": [[\"a\", \"d\", \"t\", 1, \"h\"]]}",
        "",
        "{\"ArchiveList\": [], \"ArchiveList\": []}",
    ] {
        let err = json_err(text);
        assert!(matches!(err.kind, ErrorKind::Json(_)), "{text:?}: {err:?}");
    }
}

#[test]
fn json_missing_fields() {
    assert_eq!(
        json_err("{\"VaultARN\": \"x\"}"),
        InventoryError {
            location: Location::Document,
            kind: ErrorKind::MissingField("ArchiveList"),
        }
    );
    assert_eq!(
        json_err("{\"ArchiveList\": null}").kind,
        ErrorKind::MissingField("ArchiveList")
    );
    let full = json!({"ArchiveId": "a", "ArchiveDescription": "d",
        "CreationDate": "2012-05-15T17:19:46.700Z", "Size": 1, "SHA256TreeHash": HASH});
    for field in [
        "ArchiveId",
        "ArchiveDescription",
        "CreationDate",
        "Size",
        "SHA256TreeHash",
    ] {
        let mut archive = full.clone();
        archive.as_object_mut().unwrap().remove(field);
        let text = json!({"ArchiveList": [full, archive]}).to_string();
        assert_eq!(
            json_err(&text),
            InventoryError {
                location: Location::Archive { index: 1 },
                kind: ErrorKind::MissingField(field),
            },
            "{field}"
        );
    }
    // Null is as good as missing for required fields.
    let mut archive = full.clone();
    archive["Size"] = json!(null);
    let err = json_err(&json!({"ArchiveList": [archive]}).to_string());
    assert_eq!(err.kind, ErrorKind::MissingField("Size"));
    assert_eq!(err.to_string(), "ArchiveList[0]: missing field Size");
}

#[test]
fn json_wrong_types_and_bad_values() {
    let full = json!({"ArchiveId": "a", "ArchiveDescription": "d",
        "CreationDate": "2012-05-15T17:19:46.700Z", "Size": 1, "SHA256TreeHash": HASH});
    let with = |field: &str, value: serde_json::Value| {
        let mut archive = full.clone();
        archive[field] = value;
        json_err(&json!({"ArchiveList": [archive]}).to_string())
    };
    assert_eq!(
        with("Size", json!("1")).kind,
        ErrorKind::WrongType {
            field: "Size",
            expected: "a non-negative integer",
            found: "a string",
        }
    );
    assert_eq!(
        with("ArchiveId", json!(7)).kind,
        ErrorKind::WrongType {
            field: "ArchiveId",
            expected: "a string",
            found: "a number",
        }
    );
    assert_eq!(
        with("CreationDate", json!([])).kind,
        ErrorKind::WrongType {
            field: "CreationDate",
            expected: "a string",
            found: "an array",
        }
    );
    assert_eq!(
        with("ArchiveDescription", json!(true)).kind,
        ErrorKind::WrongType {
            field: "ArchiveDescription",
            expected: "a string",
            found: "a boolean",
        }
    );
    assert_eq!(
        with("SHA256TreeHash", json!({})).kind,
        ErrorKind::WrongType {
            field: "SHA256TreeHash",
            expected: "a string",
            found: "an object",
        }
    );
    assert_eq!(
        with("Size", json!(-1)).kind,
        ErrorKind::BadSize("-1".into())
    );
    assert_eq!(
        with("Size", json!(1.5)).kind,
        ErrorKind::BadSize("1.5".into())
    );
    // Past u64::MAX serde_json reads a float, so the error shows its value.
    let too_big = json_err(&format!(
        r#"{{"ArchiveList": [{{"ArchiveId": "a", "ArchiveDescription": "", "CreationDate": "", "Size": 18446744073709551616, "SHA256TreeHash": "{HASH}"}}]}}"#
    ));
    assert!(matches!(too_big.kind, ErrorKind::BadSize(_)), "{too_big:?}");
    assert_eq!(
        with("SHA256TreeHash", json!("6b9d4cf8")).kind,
        ErrorKind::BadTreeHash("6b9d4cf8".into())
    );
    let not_hex = format!("{}g", &HASH[..63]);
    let err = with("SHA256TreeHash", json!(not_hex));
    assert_eq!(err.kind, ErrorKind::BadTreeHash(not_hex));
    assert_eq!(err.location, Location::Archive { index: 0 });
    assert_eq!(with("ArchiveId", json!("")).kind, ErrorKind::EmptyArchiveId);
    assert_eq!(
        json_err("{\"VaultARN\": 1, \"ArchiveList\": []}"),
        InventoryError {
            location: Location::Document,
            kind: ErrorKind::WrongType {
                field: "VaultARN",
                expected: "a string",
                found: "a number",
            },
        }
    );
    // u64::MAX itself is a size.
    let inventory = parse_json(
        json!({"ArchiveList": [{"ArchiveId": "a", "ArchiveDescription": "",
            "CreationDate": "", "Size": u64::MAX, "SHA256TreeHash": HASH}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(inventory.archives[0].size, u64::MAX);
}

// --- CSV --------------------------------------------------------------------

#[test]
fn csv_glacier_sample_with_crlf() {
    let bytes = data("glacier-crlf.csv");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"));
    let inventory = parse(&bytes).unwrap();
    assert_eq!(inventory.vault_arn, None);
    assert_eq!(inventory.inventory_date, None);
    let descriptions: Vec<(&str, &str)> = inventory
        .archives
        .iter()
        .map(|a| (a.archive_id.as_str(), a.description.as_str()))
        .collect();
    assert_eq!(
        descriptions,
        [
            ("plain-1", "my archive1"),
            ("comma-2", "photos, 2012"),
            // The two examples of the AWS documentation (docs/protocol.md §5.3).
            ("quote-3", r#"my archive description,1"2"#),
            ("backslash-quote-4", r#"my archive description,1\"2"#),
            ("trailing-backslash-5", r"C:\Backups\,old\"),
            ("unquoted-backslash-6", r"C:\temp\"),
            ("empty-description-7", ""),
            ("quote-comma-8", r#"say "hi", then "bye""#),
        ]
    );
    let first = &inventory.archives[0];
    assert_eq!(first.creation_date, "2012-05-15T17:19:46.700Z");
    assert_eq!(first.size, 1024);
    assert_eq!(first.tree_hash, digest(HASH));
    assert_eq!(inventory.archives[6].tree_hash, digest(EMPTY_HASH));
    assert_eq!(inventory.archives[4].size, 4_194_324);

    // The same file with LF line endings reads the same.
    let lf = String::from_utf8(bytes).unwrap().replace("\r\n", "\n");
    assert_eq!(parse_csv(lf.as_bytes()).unwrap(), inventory);
    // ... and without the final newline, or with extra empty lines at the end.
    assert_eq!(parse_csv(lf.trim_end().as_bytes()).unwrap(), inventory);
    assert_eq!(
        parse_csv(format!("{lf}\n\r\n\n").as_bytes()).unwrap(),
        inventory
    );
}

#[test]
fn csv_documented_backslash_examples() {
    // docs/protocol.md §5.3: `my archive description,1"2` → `"my archive description,1\"2"`,
    // `my archive description,1\"2` → `"my archive description,1\\"2"`.
    for (written, meant) in [
        (
            r#""my archive description,1\"2""#,
            r#"my archive description,1"2"#,
        ),
        (
            r#""my archive description,1\\"2""#,
            r#"my archive description,1\"2"#,
        ),
    ] {
        for record in [
            format!("id,{written},2012-05-15T17:19:46Z,1,{HASH}"),
            // Last column: the closing quote is followed by the end of line.
            format!("id,2012-05-15T17:19:46Z,1,{HASH},{written}"),
        ] {
            let header = if record.starts_with("id,\"") {
                HEADER.to_owned()
            } else {
                "ArchiveId,CreationDate,Size,SHA256TreeHash,ArchiveDescription".to_owned()
            };
            let inventory = parse_csv(format!("{header}\r\n{record}\r\n").as_bytes()).unwrap();
            assert_eq!(inventory.archives[0].description, meant, "{record}");
        }
    }
}

#[test]
fn csv_columns_by_name_with_extra_columns() {
    let inventory = parse(&data("reordered-extra-columns.csv")).unwrap();
    assert_eq!(inventory.archives.len(), 2);
    let a1 = inventory.find("a1").unwrap();
    assert_eq!(a1.description, "first, archive");
    assert_eq!(a1.size, 1024);
    assert_eq!(a1.creation_date, "2012-05-15T17:19:46.700Z");
    assert_eq!(a1.tree_hash, digest(HASH));
    assert_eq!(inventory.find("a2").unwrap().description, "second");
}

#[test]
fn csv_header_only_is_an_empty_inventory() {
    for text in [
        HEADER.to_owned(),
        format!("{HEADER}\r\n"),
        format!("{HEADER}\n\n"),
    ] {
        assert_eq!(parse(text.as_bytes()).unwrap(), Inventory::default());
    }
}

#[test]
fn csv_quoted_header_names() {
    let text = format!(
        "\"ArchiveId\",\"ArchiveDescription\",\"CreationDate\",\"Size\",\"SHA256TreeHash\"\n\
         \"a\",\"b\",\"c\",\"5\",\"{HASH}\"\n"
    );
    let inventory = parse_csv(text.as_bytes()).unwrap();
    assert_eq!(inventory.archives[0].size, 5);
    assert_eq!(inventory.archives[0].description, "b");
}

#[test]
fn csv_no_header() {
    for text in ["", "\n", "\r\n\r\n", "\u{feff}"] {
        assert_eq!(
            csv_err(text),
            InventoryError {
                location: Location::Document,
                kind: ErrorKind::NoHeader,
            },
            "{text:?}"
        );
    }
    assert_eq!(
        csv_err("\nArchiveId").kind,
        ErrorKind::EmptyLine,
        "empty first line"
    );
}

#[test]
fn csv_missing_and_duplicate_columns() {
    for missing in [
        "ArchiveId",
        "ArchiveDescription",
        "CreationDate",
        "Size",
        "SHA256TreeHash",
    ] {
        let header: Vec<&str> = HEADER.split(',').filter(|c| *c != missing).collect();
        let text = format!("{}\r\nx,y,z,w\r\n", header.join(","));
        let err = csv_err(&text);
        assert_eq!(err.kind, ErrorKind::MissingColumn(missing));
        assert_eq!(err.line(), Some(1));
    }
    // Names are matched exactly.
    assert_eq!(
        csv_err("archiveid,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n").kind,
        ErrorKind::MissingColumn("ArchiveId")
    );
    let err = csv_err(&format!("{HEADER},Size\n"));
    assert_eq!(err.kind, ErrorKind::DuplicateColumn("Size".into()));
    assert_eq!(err.location, line(1, Some(63)));
}

#[test]
fn csv_bad_size() {
    for size in [
        "",
        "-1",
        "+1",
        "1.0",
        "1e3",
        " 1",
        "18446744073709551616",
        "0x10",
    ] {
        let err = csv_err(&format!(
            "{HEADER}\nok,d,2012-05-15T17:19:46Z,1,{HASH}\nbad,d,2012-05-15T17:19:46Z,{size},{HASH}\n"
        ));
        assert_eq!(err.kind, ErrorKind::BadSize(size.into()), "{size:?}");
        assert_eq!(err.location, line(3, None));
    }
    let ok = parse_csv(csv_with(&format!("a,d,t,18446744073709551615,{HASH}")).as_bytes());
    assert_eq!(ok.unwrap().archives[0].size, u64::MAX);
    let err = csv_err(&csv_with(&format!("a,d,t,12x,{HASH}")));
    assert_eq!(
        err.to_string(),
        "line 2: Size is not a byte count (decimal u64): \"12x\""
    );
}

#[test]
fn csv_bad_hash() {
    let short = &HASH[..62];
    let err = csv_err(&csv_with(&format!("a,d,t,1,{short}")));
    assert_eq!(err.kind, ErrorKind::BadTreeHash(short.into()));
    assert_eq!(err.line(), Some(2));
    let err = csv_err(&csv_with(&format!("a,d,t,1,{}z", &HASH[..63])));
    assert!(matches!(err.kind, ErrorKind::BadTreeHash(_)));
    // Long garbage is shortened in the error.
    let long = "x".repeat(10_000);
    let err = csv_err(&csv_with(&format!("a,d,t,1,{long}")));
    match err.kind {
        ErrorKind::BadTreeHash(text) => assert!(text.chars().count() <= 81),
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_empty_archive_id() {
    let err = csv_err(&csv_with(&format!(",d,t,1,{HASH}")));
    assert_eq!(err.kind, ErrorKind::EmptyArchiveId);
}

#[test]
fn csv_unterminated_quote() {
    let err = csv_err(&format!(
        "{HEADER}\r\nok,d,t,1,{HASH}\r\nbad,\"never closed,t,1,{HASH}\r\n"
    ));
    assert_eq!(err.kind, ErrorKind::UnterminatedQuote);
    assert_eq!(err.location, line(3, Some(5)));
    assert_eq!(
        err.to_string(),
        "line 3, column 5: quoted field is not closed on its line"
    );
    // A quote escaped with a backslash does not close the field either.
    let err = csv_err(&csv_with(&format!("bad,\"open\\\"x,t,1,{HASH}")));
    assert_eq!(err.kind, ErrorKind::UnterminatedQuote);
    // Fields do not continue on the next line.
    let err = csv_err(&format!("{HEADER}\nbad,\"two\nlines\",t,1,{HASH}\n"));
    assert_eq!(err.kind, ErrorKind::UnterminatedQuote);
    assert_eq!(err.line(), Some(2));
}

#[test]
fn csv_stray_quotes() {
    let err = csv_err(&csv_with(&format!("bad,say \"hi\",t,1,{HASH}")));
    assert_eq!(err.kind, ErrorKind::QuoteInUnquotedField);
    assert_eq!(err.location, line(2, Some(9)));
    // RFC 4180 quote doubling is not Glacier's dialect.
    let err = csv_err(&csv_with(&format!("bad,\"say \"\"hi\"\"\",t,1,{HASH}")));
    assert_eq!(err.kind, ErrorKind::TextAfterClosingQuote);
    let err = csv_err(&csv_with(&format!("bad,\"quoted\"tail,t,1,{HASH}")));
    assert_eq!(err.kind, ErrorKind::TextAfterClosingQuote);
    assert_eq!(err.location, line(2, Some(13)));
}

#[test]
fn csv_field_count() {
    let err = csv_err(&csv_with(&format!("a,d,t,1,{HASH},extra")));
    assert_eq!(
        err.kind,
        ErrorKind::FieldCount {
            expected: 5,
            found: 6,
        }
    );
    assert_eq!(err.location, line(2, None));
    let err = csv_err(&csv_with("a,d,t,1"));
    assert_eq!(
        err.kind,
        ErrorKind::FieldCount {
            expected: 5,
            found: 4,
        }
    );
    // A trailing comma is an empty sixth field.
    let err = csv_err(&csv_with(&format!("a,d,t,1,{HASH},")));
    assert!(matches!(err.kind, ErrorKind::FieldCount { found: 6, .. }));
}

#[test]
fn csv_empty_line_between_records() {
    let err = csv_err(&format!("{HEADER}\na,d,t,1,{HASH}\n\nb,d,t,1,{HASH}\n"));
    assert_eq!(
        err,
        InventoryError {
            location: line(3, None),
            kind: ErrorKind::EmptyLine,
        }
    );
}

#[test]
fn csv_invalid_utf8() {
    let mut bytes = format!("{HEADER}\na,").into_bytes();
    bytes.extend_from_slice(b"caf\xe9");
    bytes.extend_from_slice(format!(",t,1,{HASH}\n").as_bytes());
    let err = parse_csv(&bytes).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidUtf8);
    assert_eq!(err.location, line(2, Some(3)));
}

/// Records written with Glacier's quoting read back exactly, whatever the
/// description holds and wherever its column is (docs/protocol.md §5.3).
#[test]
fn csv_round_trips_glacier_quoting() {
    let alphabet = ['a', ',', '"', '\\', ' ', 'é'];
    let layouts: [&[&str]; 3] = [
        &[
            "ArchiveId",
            "ArchiveDescription",
            "CreationDate",
            "Size",
            "SHA256TreeHash",
        ],
        &[
            "ArchiveDescription",
            "ArchiveId",
            "CreationDate",
            "Size",
            "SHA256TreeHash",
        ],
        &[
            "ArchiveId",
            "CreationDate",
            "Size",
            "SHA256TreeHash",
            "ArchiveDescription",
        ],
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut descriptions: Vec<String> = Vec::new();
    // Every description of up to 4 characters over the alphabet...
    let mut frontier = vec![String::new()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for prefix in &frontier {
            for c in alphabet {
                next.push(format!("{prefix}{c}"));
            }
        }
        descriptions.extend(frontier);
        frontier = next;
    }
    descriptions.extend(frontier);
    // ... and random longer ones.
    for _ in 0..3000 {
        let len = 5 + rng.below(30);
        descriptions.push(
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect(),
        );
    }
    for layout in layouts {
        let mut text = layout.join(",");
        text.push_str("\r\n");
        for (n, description) in descriptions.iter().enumerate() {
            let fields: Vec<String> = layout
                .iter()
                .map(|column| match *column {
                    "ArchiveId" => format!("id-{n}"),
                    "ArchiveDescription" => aws_field(description),
                    "CreationDate" => "2012-05-15T17:19:46.700Z".to_owned(),
                    "Size" => n.to_string(),
                    _ => HASH.to_owned(),
                })
                .collect();
            text.push_str(&fields.join(","));
            text.push_str("\r\n");
        }
        let inventory = parse_csv(text.as_bytes()).unwrap();
        assert_eq!(inventory.archives.len(), descriptions.len());
        for (n, (archive, description)) in inventory.archives.iter().zip(&descriptions).enumerate()
        {
            assert_eq!(&archive.description, description, "{layout:?}");
            assert_eq!(archive.archive_id, format!("id-{n}"));
            assert_eq!(archive.size, n as u64);
        }
    }
}

/// Two free-text columns next to each other: still exactly one reading.
#[test]
fn csv_round_trips_two_free_text_columns() {
    let alphabet = ['x', ',', '"', '\\'];
    let mut rng = Rng(42);
    let mut text = format!("{HEADER},Note\n");
    let mut expected = Vec::new();
    for n in 0..3000 {
        let mut word = || -> String {
            let len = rng.below(9);
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        };
        let (description, note) = (word(), word());
        text.push_str(&format!(
            "id-{n},{},t,1,{HASH},{}\n",
            aws_field(&description),
            aws_field(&note)
        ));
        expected.push(description);
    }
    let inventory = parse_csv(text.as_bytes()).unwrap();
    let got: Vec<&str> = inventory
        .archives
        .iter()
        .map(|a| a.description.as_str())
        .collect();
    assert_eq!(got, expected);
}

// --- detection, robustness ---------------------------------------------------

#[test]
fn format_detection() {
    assert_eq!(detect_format(b"{}"), Format::Json);
    assert_eq!(detect_format(b" \r\n\t{"), Format::Json);
    assert_eq!(detect_format(b"\xEF\xBB\xBF{"), Format::Json);
    assert_eq!(detect_format(HEADER.as_bytes()), Format::Csv);
    assert_eq!(detect_format(b""), Format::Csv);
    assert_eq!(detect_format(b"[]"), Format::Csv);
    // A byte-order mark is skipped in both formats.
    let mut json = b"\xEF\xBB\xBF".to_vec();
    json.extend(data("empty.json"));
    assert!(parse(&json).unwrap().archives.is_empty());
    let mut csv = b"\xEF\xBB\xBF".to_vec();
    csv.extend(data("glacier-crlf.csv"));
    assert_eq!(parse(&csv).unwrap().archives.len(), 8);
}

/// What the fuzz target does, briefly: `parse` on arbitrary and on mutated
/// inputs returns, never panics.
#[test]
fn parse_never_panics() {
    let mut rng = Rng(7);
    let seeds = [
        data("spec-example.json"),
        data("extra-fields.json"),
        data("glacier-crlf.csv"),
        data("reordered-extra-columns.csv"),
    ];
    let interesting = b",\"\\\r\n{}[]:0aZ\xff";
    for round in 0..20_000 {
        let mut bytes = if round % 4 == 0 {
            let len = rng.below(200);
            (0..len)
                .map(|_| interesting[rng.below(interesting.len())])
                .collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        for _ in 0..1 + rng.below(8) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = interesting[rng.below(interesting.len())],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, interesting[rng.below(interesting.len())]),
            }
        }
        let _ = parse(&bytes);
        let _ = parse_csv(&bytes);
        let _ = parse_json(&bytes);
    }
}

/// Lines built to make a backtracking splitter explode still split in
/// linear time.
#[test]
fn csv_pathological_lines_are_fast() {
    let started = Instant::now();
    for unit in ["\\\",", "\\\",\"", ",\"\\\"", "\"\\\",\","] {
        let line = format!("\"{}", unit.repeat(200_000));
        let text = format!("{HEADER}\n{line}\n");
        let _ = parse_csv(text.as_bytes());
        let _ = parse_csv(format!("{HEADER}\n{line}\"\n").as_bytes());
    }
    let commas = format!("{HEADER}\n{}\n", ",".repeat(1_000_000));
    assert!(matches!(
        csv_err(&commas).kind,
        ErrorKind::FieldCount { .. }
    ));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

// --- lookup and output ------------------------------------------------------

#[test]
fn find_by_archive_id() {
    let inventory = parse(&data("glacier-crlf.csv")).unwrap();
    assert_eq!(inventory.find("comma-2").unwrap().size, 1_048_576);
    assert!(inventory.find("comma").is_none());
    assert!(inventory.find("").is_none());
    assert!(inventory.find("COMMA-2").is_none());
}

#[test]
fn table_output() {
    let inventory = parse(&data("reordered-extra-columns.csv")).unwrap();
    let mut out = Vec::new();
    inventory.write_table(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let hash2 = "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360";
    let expected = format!(
        "ARCHIVE ID     SIZE  TREE HASH{pad}  DESCRIPTION\n\
         a1             1024  {HASH}  first, archive\n\
         a2          1048576  {hash2}  second\n",
        pad = " ".repeat(64 - 9)
    );
    assert_eq!(text, expected);

    // Full ids, control characters escaped, empty list has just the header.
    let mut inventory = parse(&data("spec-example.json")).unwrap();
    inventory.archives[0].description = "line\nbreak\t\u{1b}[31m \u{202e}rtl \\ \"q\" é".into();
    let mut out = Vec::new();
    inventory.write_table(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&inventory.archives[0].archive_id));
    assert!(lines[2].starts_with(&inventory.archives[1].archive_id));
    assert!(
        lines[1].ends_with(r#"line\nbreak\t\u{1b}[31m \u{202e}rtl \ "q" é"#),
        "{}",
        lines[1]
    );
    // Columns line up: every tree hash starts at the same offset.
    let offset = lines[0].find("TREE HASH").unwrap();
    assert_eq!(lines[1].find("6b9d4cf8"), Some(offset));
    assert_eq!(lines[2].find("7f2fe580"), Some(offset));

    let mut out = Vec::new();
    Inventory::default().write_table(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "ARCHIVE ID  SIZE  TREE HASH  DESCRIPTION\n"
    );
}

#[test]
fn json_output() {
    let inventory = parse(&data("spec-example.json")).unwrap();
    let value = inventory.to_json();
    assert_eq!(
        value["vaultArn"],
        "arn:aws:glacier:us-west-2:012345678901:vaults/examplevault"
    );
    assert_eq!(value["inventoryDate"], "2011-12-12T14:19:01Z");
    assert_eq!(value["archives"].as_array().unwrap().len(), 2);
    assert_eq!(
        value["archives"][0],
        json!({
            "archiveId": inventory.archives[0].archive_id,
            "size": 2_140_123,
            "treeHash": "6b9d4cf8697bd3af6aa1b590a0b27b337da5b18988dbcc619a3e608a554a1e62",
            "description": "my archive1",
            "creationDate": "2012-05-15T17:19:46.700Z",
        })
    );
    // CSV inventories have no vault ARN or date; hashes come out lowercase.
    let csv = parse(&data("glacier-crlf.csv")).unwrap().to_json();
    assert_eq!(csv["vaultArn"], serde_json::Value::Null);
    assert_eq!(csv["inventoryDate"], serde_json::Value::Null);
    assert_eq!(csv["archives"][6]["treeHash"], EMPTY_HASH);
    assert_eq!(
        csv["archives"][3]["description"],
        r#"my archive description,1\"2"#
    );
}
