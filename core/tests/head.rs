//! Response heads (docs/protocol.md §2): the DG-GJO example responses, incremental
//! parsing at every split, and the strict rules of RFC 9112 that keep a
//! smuggled or garbled head from deciding what we trust.

use glacier_verify_core::{
    ByteRange, ContentRange, Digest, Error, HeadBuilder, HeaderField, Parsed, ResponseHead,
    parse_head,
};
use glacier_verify_core::{MAX_HEAD_LEN, MAX_LINE_LEN};

/// DG-GJO Example 1, archive: 200 with the tree hash.
const ARCHIVE_200: &str = "HTTP/1.1 200 OK\r\n\
x-amzn-RequestId: AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q\r\n\
x-amz-sha256-tree-hash: beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60\r\n\
Date: Wed, 10 Feb 2017 12:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\n\
Content-Length: 1048576\r\n\
\r\n";

/// DG-GJO Example 2: 206 for `Range: bytes=0-1023`.
const PARTIAL_206: &str = "HTTP/1.1 206 Partial Content\r\n\
x-amzn-RequestId: AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q\r\n\
Date: Wed, 10 Feb 2017 12:00:00 GMT\r\n\
Content-Range: bytes 0-1023/8388608\r\n\
Content-Type: application/octet-stream\r\n\
Content-Length: 1024\r\n\
\r\n";

/// DG-GJO inventory example: JSON, no tree hash.
const INVENTORY_200: &str = "HTTP/1.1 200 OK\r\n\
x-amzn-RequestId: AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q\r\n\
Date: Wed, 10 Feb 2017 12:00:00 GMT\r\n\
Content-Type: application/json\r\n\
Content-Length: 906\r\n\
\r\n";

fn complete(buf: &[u8]) -> (ResponseHead<'_>, usize) {
    match parse_head(buf).unwrap() {
        Parsed::Complete { value, consumed } => (value, consumed),
        Parsed::Partial => panic!("partial: {:?}", String::from_utf8_lossy(buf)),
    }
}

fn err(raw: &str) -> Error {
    parse_head(raw.as_bytes()).expect_err(raw)
}

/// A minimal valid head with one extra header line.
fn with_header(line: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n{line}\r\n\r\n")
}

const DG_HASH: &str = "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60";

#[test]
fn dg_gjo_archive_example() {
    let raw = format!("{ARCHIVE_200}[Archive data.]");
    let (head, consumed) = complete(raw.as_bytes());
    assert_eq!(&raw[consumed..], "[Archive data.]");
    assert_eq!(consumed, ARCHIVE_200.len());
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length, Some(1_048_576));
    assert_eq!(head.content_range, None);
    assert_eq!(head.content_type, Some("application/octet-stream"));
    assert_eq!(
        head.tree_hash,
        Some(Digest::from_hex(DG_HASH.as_bytes()).unwrap())
    );
    assert_eq!(head.tree_hash.unwrap().to_hex().as_str(), DG_HASH);
    assert_eq!(
        head.request_id,
        Some("AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q")
    );
    assert_eq!(head.accept_ranges, None);
    assert_eq!(head.archive_description, None);
    assert!(!head.transfer_encoding);
}

#[test]
fn dg_gjo_partial_example() {
    let (head, consumed) = complete(PARTIAL_206.as_bytes());
    assert_eq!(consumed, PARTIAL_206.len());
    assert_eq!(head.status, 206);
    assert_eq!(head.content_length, Some(1024));
    assert_eq!(
        head.content_range,
        Some(ContentRange {
            range: ByteRange::new(0, 1023).unwrap(),
            total: 8_388_608
        })
    );
    assert_eq!(head.tree_hash, None);
}

#[test]
fn dg_gjo_inventory_example() {
    let (head, _) = complete(INVENTORY_200.as_bytes());
    assert_eq!(head.status, 200);
    assert_eq!(head.content_type, Some("application/json"));
    assert_eq!(head.content_length, Some(906));
    assert_eq!(head.tree_hash, None);
}

#[test]
fn every_split_point_is_partial_until_the_blank_line() {
    for head in [ARCHIVE_200, PARTIAL_206, INVENTORY_200] {
        let raw = format!("{head}BODY");
        let bytes = raw.as_bytes();
        let (full, consumed) = complete(bytes);
        assert_eq!(consumed, head.len());
        for cut in 0..head.len() {
            assert_eq!(parse_head(&bytes[..cut]), Ok(Parsed::Partial), "cut {cut}");
        }
        for cut in head.len()..=bytes.len() {
            assert_eq!(
                parse_head(&bytes[..cut]),
                Ok(Parsed::Complete {
                    value: full,
                    consumed
                }),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn fed_one_byte_at_a_time() {
    // A caller appending one byte per read, as a gateway's socket might.
    let raw = format!("{PARTIAL_206}xyz");
    let mut buf = Vec::new();
    let mut result = None;
    for (i, b) in raw.bytes().enumerate() {
        buf.push(b);
        match parse_head(&buf).unwrap() {
            Parsed::Partial => assert!(i + 1 < PARTIAL_206.len()),
            Parsed::Complete { value, consumed } => {
                result = Some((value.content_length, consumed, i + 1));
                break;
            }
        }
    }
    assert_eq!(
        result,
        Some((Some(1024), PARTIAL_206.len(), PARTIAL_206.len()))
    );
}

#[test]
fn interim_100_continue_is_skipped() {
    let raw = format!("HTTP/1.1 100 Continue\r\n\r\n{PARTIAL_206}body");
    let (head, consumed) = complete(raw.as_bytes());
    assert_eq!(head.status, 206);
    assert_eq!(&raw[consumed..], "body");
    // Two interim heads, one with headers.
    let raw = format!(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-A: b\r\n\r\n{ARCHIVE_200}"
    );
    let (head, consumed) = complete(raw.as_bytes());
    assert_eq!((head.status, consumed), (200, raw.len()));
    // Only the interim head so far: partial.
    assert_eq!(
        parse_head(b"HTTP/1.1 100 Continue\r\n\r\n"),
        Ok(Parsed::Partial)
    );
    assert_eq!(
        parse_head(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
        Ok(Parsed::Partial)
    );
}

#[test]
fn status_lines_accepted() {
    for (line, status) in [
        ("HTTP/1.1 200 OK", 200),
        ("HTTP/1.0 206 Partial Content", 206),
        ("HTTP/2 200", 200), // curl -D for HTTP/2: no reason
        ("HTTP/3 206", 206),
        ("HTTP/1.1 200 ", 200), // empty reason
        ("HTTP/1.1 404 Not Found", 404),
        ("HTTP/1.1 503 Slow Down, please", 503),
        ("HTTP/1.1 999 Whatever", 999),
    ] {
        let raw = format!("{line}\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(complete(raw.as_bytes()).0.status, status, "{line}");
    }
}

#[test]
fn status_lines_refused() {
    for line in [
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTPS/1.1 200 OK",
        "HTTP/1.1200 OK",
        "HTTP/1.1  200 OK",
        "HTTP/11 200 OK",
        "HTTP/1. 200 OK",
        "http/1.1 200 OK",
        "HTTP 200 OK",
        "ICY 200 OK",
        "HTTP/1.1 2x0 OK",
        "HTTP/1.1 099 Low",
        "HTTP/1.1 000 Zero",
        "HTTP/1.1 200 OK\u{1}",
        " HTTP/1.1 200 OK",
        "",
    ] {
        let raw = format!("{line}\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(err(&raw), Error::InvalidStatusLine, "{line:?}");
    }
    // HeadBuilder enforces the same status range.
    assert_eq!(HeadBuilder::new(99).unwrap_err(), Error::InvalidStatusLine);
    assert_eq!(
        HeadBuilder::new(1000).unwrap_err(),
        Error::InvalidStatusLine
    );
    assert!(HeadBuilder::new(100).is_ok() && HeadBuilder::new(999).is_ok());
}

#[test]
fn header_names_are_case_insensitive() {
    let raw = "HTTP/1.1 206 Partial Content\r\n\
        CONTENT-LENGTH: 1024\r\n\
        content-range: bytes 0-1023/8388608\r\n\
        X-Amz-Sha256-Tree-Hash: BEB0FE31A1C7CA8C6C04D574EA906E3F97B31FDCA7571DEFB5B44DCA89B5AF60\r\n\
        CONTENT-type: application/octet-stream\r\n\
        accept-RANGES: bytes\r\n\
        X-AMZ-ARCHIVE-DESCRIPTION: my archive\r\n\
        X-Amzn-RequestId: abc\r\n\r\n";
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(head.content_length, Some(1024));
    assert_eq!(head.content_range.unwrap().total, 8_388_608);
    assert_eq!(head.tree_hash.unwrap().to_hex().as_str(), DG_HASH);
    assert_eq!(head.content_type, Some("application/octet-stream"));
    assert_eq!(head.accept_ranges, Some("bytes"));
    assert_eq!(head.archive_description, Some("my archive"));
    assert_eq!(head.request_id, Some("abc"));
}

#[test]
fn values_are_trimmed_and_unknown_headers_ignored() {
    let raw = "HTTP/1.1 200 OK\r\nContent-Length:\t 42 \t\r\nX-Unknown: \u{7f}ignored?\r\n\r\n";
    // DEL is a control character even in an unknown header.
    assert_eq!(err(raw), Error::InvalidHeaderValue);
    let raw = "HTTP/1.1 200 OK\r\nContent-Length:\t 42 \t\r\nX-Unknown: anything, at all\r\nServer:\r\n\r\n";
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(head.content_length, Some(42));
    // obs-text (bytes >= 0x80) is allowed in values we do not interpret.
    let mut raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX-Note: caf".to_vec();
    raw.extend_from_slice(&[0xc3, 0xa9]);
    raw.extend_from_slice(b"\r\n\r\n");
    assert!(matches!(parse_head(&raw), Ok(Parsed::Complete { .. })));
}

#[test]
fn line_ending_errors() {
    assert_eq!(
        err("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
        Error::BareLineFeed
    );
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n"),
        Error::BareLineFeed
    );
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n"),
        Error::BareLineFeed
    );
    // A CR inside a line.
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"),
        Error::InvalidHeaderValue
    );
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nContent-Length: 4\r\rX: y\r\n\r\n"),
        Error::InvalidHeaderValue
    );
}

#[test]
fn obsolete_line_folding_is_refused() {
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        Error::ObsoleteLineFolding
    );
    assert_eq!(
        err("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\tcontinued\r\n\r\n"),
        Error::ObsoleteLineFolding
    );
}

#[test]
fn malformed_header_names_are_refused() {
    for line in [
        "Content-Length : 3", // space before the colon
        "Content-Length\t: 3",
        "Content Length: 3",
        "Content(Length): 3",
        "Content/Length: 3",
        "@x: y",
        ": no name",
        "NoColonHere",
        "X-Ünicode: 1",
        "X-A\u{0}: 1",
        "\"quoted\": 1",
    ] {
        assert_eq!(
            err(&with_header(line)),
            Error::InvalidHeaderName,
            "{line:?}"
        );
    }
    // tchar punctuation is legal.
    let raw = with_header("X!#$%&'*+-.^_`|~1: ok");
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(head.content_length, Some(3));
    // The builder checks names the same way.
    let mut b = HeadBuilder::new(200).unwrap();
    assert_eq!(
        b.header(b"Content Length", b"1"),
        Err(Error::InvalidHeaderName)
    );
    assert_eq!(b.header(b"", b"1"), Err(Error::InvalidHeaderName));
    assert_eq!(b.header(b"X:Y", b"1"), Err(Error::InvalidHeaderName));
}

#[test]
fn control_characters_in_values_are_refused() {
    for value in ["a\u{0}b", "a\u{1}", "\u{1b}[31m", "x\u{7f}", "a\u{b}b"] {
        assert_eq!(
            err(&with_header(&format!("X-Anything: {value}"))),
            Error::InvalidHeaderValue,
            "{value:?}"
        );
    }
    // Tab and space inside a value are fine.
    let raw = with_header("Content-Type: text/csv;\tcharset=utf-8");
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(head.content_type, Some("text/csv;\tcharset=utf-8"));
    let mut b = HeadBuilder::new(200).unwrap();
    assert_eq!(b.header(b"X-A", b"a\nb"), Err(Error::InvalidHeaderValue));
    assert_eq!(b.header(b"X-A", b"a\rb"), Err(Error::InvalidHeaderValue));
}

#[test]
fn content_length_rules() {
    let cl = |v: &str| {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {v}\r\n\r\n");
        parse_head(raw.as_bytes()).map(|p| match p {
            Parsed::Complete { value, .. } => value.content_length,
            Parsed::Partial => panic!(),
        })
    };
    assert_eq!(cl("0"), Ok(Some(0)));
    assert_eq!(cl("18446744073709551615"), Ok(Some(u64::MAX)));
    assert_eq!(cl("00042"), Ok(Some(42)));
    // RFC 9112 §6.3: a list of identical values is one value.
    assert_eq!(cl("42, 42"), Ok(Some(42)));
    assert_eq!(cl("42,42,42"), Ok(Some(42)));
    assert_eq!(cl("42, 43"), Err(Error::ConflictingContentLength));
    for bad in [
        "",
        "-1",
        "+42",
        "4 2",
        "0x10",
        "42a",
        "18446744073709551616",
        "42,",
        ",42",
        "4.2",
    ] {
        assert_eq!(cl(bad), Err(Error::InvalidContentLength), "{bad:?}");
    }
    // Two headers: identical is fine, different is a conflict (smuggling).
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\ncontent-length: 42\r\n\r\n";
    assert_eq!(complete(raw.as_bytes()).0.content_length, Some(42));
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 43\r\n\r\n";
    assert_eq!(err(raw), Error::ConflictingContentLength);
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 42, 43\r\n\r\n";
    assert_eq!(err(raw), Error::ConflictingContentLength);
}

#[test]
fn duplicate_interpreted_headers() {
    let h1 = DG_HASH;
    let h2 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    // Same value twice (even in another case) is one value.
    let raw = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nx-amz-sha256-tree-hash: {h1}\r\nx-amz-sha256-tree-hash: {}\r\n\r\n",
        h1.to_uppercase()
    );
    assert!(complete(raw.as_bytes()).0.tree_hash.is_some());
    // Different values: refused, naming the header.
    let raw = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nx-amz-sha256-tree-hash: {h1}\r\nx-amz-sha256-tree-hash: {h2}\r\n\r\n"
    );
    assert_eq!(err(&raw), Error::DuplicateHeader(HeaderField::TreeHash));
    let raw = "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\nContent-Range: bytes 10-19/100\r\n\r\n";
    assert_eq!(err(raw), Error::DuplicateHeader(HeaderField::ContentRange));
    let raw = "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\nContent-Range: bytes 0-9/100\r\n\r\n";
    assert!(complete(raw.as_bytes()).0.content_range.is_some());
    for (name, field) in [
        ("Content-Type", HeaderField::ContentType),
        ("Accept-Ranges", HeaderField::AcceptRanges),
        ("x-amz-archive-description", HeaderField::ArchiveDescription),
        ("x-amzn-RequestId", HeaderField::RequestId),
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\n{name}: a\r\n{name}: b\r\n\r\n");
        assert_eq!(err(&raw), Error::DuplicateHeader(field), "{name}");
        assert!(
            Error::DuplicateHeader(field)
                .to_string()
                .contains(field.name())
        );
    }
}

#[test]
fn malformed_tree_hash_header() {
    for value in [
        "",
        "beb0fe31",
        &DG_HASH[..63],
        &format!("{DG_HASH}0"),
        &format!("0x{}", &DG_HASH[2..]),
        &format!("{}zz", &DG_HASH[..62]),
        &format!("{} {}", &DG_HASH[..32], &DG_HASH[32..]),
        "None",
    ] {
        assert_eq!(
            err(&with_header(&format!("x-amz-sha256-tree-hash: {value}"))),
            Error::InvalidTreeHashHeader,
            "{value:?}"
        );
    }
}

#[test]
fn archive_description_rules() {
    let ok = "a".repeat(1024);
    let raw = with_header(&format!("x-amz-archive-description: {ok}"));
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(head.archive_description.map(str::len), Some(1024));
    let printable: String = (0x20u8..=0x7e).map(char::from).collect();
    let raw = with_header(&format!("x-amz-archive-description: x{printable}x"));
    let (head, _) = complete(raw.as_bytes());
    assert_eq!(
        head.archive_description,
        Some(format!("x{printable}x").as_str())
    );
    let too_long = "a".repeat(1025);
    assert_eq!(
        err(&with_header(&format!(
            "x-amz-archive-description: {too_long}"
        ))),
        Error::InvalidArchiveDescription
    );
    assert_eq!(
        err(&with_header("x-amz-archive-description: tab\there")),
        Error::InvalidArchiveDescription
    );
    let mut raw = b"HTTP/1.1 200 OK\r\nx-amz-archive-description: caf".to_vec();
    raw.extend_from_slice(&[0xc3, 0xa9]);
    raw.extend_from_slice(b"\r\n\r\n");
    assert_eq!(parse_head(&raw), Err(Error::InvalidArchiveDescription));
}

#[test]
fn non_ascii_in_interpreted_headers() {
    for (name, field) in [
        ("Content-Type", HeaderField::ContentType),
        ("Accept-Ranges", HeaderField::AcceptRanges),
        ("x-amzn-RequestId", HeaderField::RequestId),
    ] {
        let mut raw = format!("HTTP/1.1 200 OK\r\n{name}: application/").into_bytes();
        raw.extend_from_slice(&[0xff, 0xfe]);
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse_head(&raw),
            Err(Error::NonAsciiHeader(field)),
            "{name}"
        );
    }
    let mut b = HeadBuilder::new(200).unwrap();
    assert_eq!(
        b.header(b"content-type", "text/csv; ü".as_bytes()),
        Err(Error::NonAsciiHeader(HeaderField::ContentType))
    );
}

#[test]
fn transfer_encoding_with_content_length_is_refused() {
    let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n";
    assert_eq!(err(raw), Error::TransferEncodingWithContentLength);
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\ntransfer-encoding: chunked\r\n\r\n";
    assert_eq!(err(raw), Error::TransferEncodingWithContentLength);
    // Alone it is recorded (the verifier then finds no Content-Length).
    let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (head, _) = complete(raw.as_bytes());
    assert!(head.transfer_encoding);
    assert_eq!(head.content_length, None);
}

#[test]
fn line_length_limit() {
    // A line of exactly MAX_LINE_LEN bytes, CRLF included, is accepted.
    let prefix = "X-Pad: ";
    let fill = MAX_LINE_LEN - prefix.len() - 2;
    let raw = with_header(&format!("{prefix}{}", "p".repeat(fill)));
    assert!(matches!(
        parse_head(raw.as_bytes()),
        Ok(Parsed::Complete { .. })
    ));
    // One byte more is not — with or without the rest of the head.
    let long_line = format!("{prefix}{}", "p".repeat(fill + 1));
    let raw = with_header(&long_line);
    assert_eq!(parse_head(raw.as_bytes()), Err(Error::LineTooLong));
    let partial = format!("HTTP/1.1 200 OK\r\n{long_line}\r");
    assert_eq!(parse_head(partial.as_bytes()), Err(Error::LineTooLong));
    // Still partial while the open line is shorter than the limit.
    let partial = format!("HTTP/1.1 200 OK\r\n{}", "p".repeat(MAX_LINE_LEN - 1));
    assert_eq!(parse_head(partial.as_bytes()), Ok(Parsed::Partial));
    // A long status line too.
    let raw = format!("HTTP/1.1 200 {}\r\n\r\n", "R".repeat(MAX_LINE_LEN));
    assert_eq!(parse_head(raw.as_bytes()), Err(Error::LineTooLong));
}

#[test]
fn head_length_limit() {
    // Many short lines: past MAX_HEAD_LEN without a blank line is too large.
    let line = "X-Filler: 0123456789012345678901234567890123456789\r\n";
    let mut raw = String::from("HTTP/1.1 200 OK\r\n");
    while raw.len() < MAX_HEAD_LEN {
        raw.push_str(line);
    }
    assert_eq!(parse_head(raw.as_bytes()), Err(Error::HeadTooLarge));
    // Complete, but longer than MAX_HEAD_LEN: too large as well.
    raw.push_str("Content-Length: 0\r\n\r\n");
    assert_eq!(parse_head(raw.as_bytes()), Err(Error::HeadTooLarge));
    // A complete head just under the limit is fine.
    let mut raw = String::from("HTTP/1.1 200 OK\r\n");
    while raw.len() + line.len() + 4 <= MAX_HEAD_LEN {
        raw.push_str(line);
    }
    raw.push_str("\r\n");
    assert!(raw.len() <= MAX_HEAD_LEN);
    let (_, consumed) = complete(raw.as_bytes());
    assert_eq!(consumed, raw.len());
    // Interim heads count towards the limit.
    let interim = format!(
        "HTTP/1.1 100 Continue\r\n{}\r\n",
        &raw["HTTP/1.1 200 OK\r\n".len()..raw.len() - 2]
    );
    let both = format!("{interim}{ARCHIVE_200}");
    assert!(both.len() > MAX_HEAD_LEN);
    assert_eq!(parse_head(both.as_bytes()), Err(Error::HeadTooLarge));
}

#[test]
fn errors_in_complete_lines_surface_before_the_head_ends() {
    // The parser is strict as soon as a line is complete, so a split buffer
    // reports the same error as the whole one.
    let raw = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\nX-More: y\r\n";
    assert_eq!(
        parse_head(raw.as_bytes()),
        Err(Error::ConflictingContentLength)
    );
    assert_eq!(parse_head(b"HTTP/1.1 20"), Ok(Parsed::Partial));
    assert_eq!(
        parse_head(b"HTTP/1.1 20\r\n"),
        Err(Error::InvalidStatusLine)
    );
}

#[test]
fn head_builder_matches_the_raw_parser() {
    let mut b = HeadBuilder::new(206).unwrap();
    b.header(
        b"x-amzn-RequestId",
        b"AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q",
    )
    .unwrap();
    b.header(b"Date", b"Wed, 10 Feb 2017 12:00:00 GMT").unwrap();
    b.header(b"Content-Range", b" bytes 0-1023/8388608 ")
        .unwrap();
    b.header(b"Content-Type", b"application/octet-stream")
        .unwrap();
    b.header(b"Content-Length", b"1024").unwrap();
    let built = b.finish().unwrap();
    assert_eq!(built, complete(PARTIAL_206.as_bytes()).0);

    let mut b = HeadBuilder::new(200).unwrap();
    b.header(b"Content-Length", b"42").unwrap();
    assert_eq!(
        b.header(b"Content-Length", b"43"),
        Err(Error::ConflictingContentLength)
    );
    assert_eq!(
        b.header(b"Content-Length", b"x"),
        Err(Error::InvalidContentLength)
    );
    assert_eq!(
        b.header(b"Content-Range", b"bytes */42"),
        Err(Error::InvalidContentRange)
    );
    assert_eq!(
        b.header(b"x-amz-sha256-tree-hash", b"abc"),
        Err(Error::InvalidTreeHashHeader)
    );
    b.header(b"Transfer-Encoding", b"chunked").unwrap();
    assert_eq!(b.finish(), Err(Error::TransferEncodingWithContentLength));
}
