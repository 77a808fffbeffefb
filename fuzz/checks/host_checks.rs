//! The checks behind the fuzz targets of the `glacier-verify` host crate
//! (inventory and credentials-file parsers), plus the serde_json
//! differential for the core's error-body parser. One function per
//! target; each takes the raw fuzz input and panics when a property fails.
//!
//! Included twice with `#[path]`: by the targets in `fuzz/fuzz_targets/`
//! and by `host/tests/fuzz_corpus.rs`, which replays the committed seeds in
//! `fuzz/seeds/<target>/` on every `cargo test`. So this file uses only what
//! both have: the host and core crates, `serde`, `serde_json` and `std`.
#![allow(dead_code)]

use std::fmt;

use glacier_verify::credentials::{Env, Overrides, parse_ini, resolve};
use glacier_verify::inventory::{Format, Inventory, detect_format, parse, parse_csv, parse_json};
use glacier_verify_core::{ErrorType, ServiceError};
use glacier_verify_core::{MAX_CODE_LEN, MAX_MESSAGE_LEN};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

#[path = "input.rs"]
mod input;
pub use input::fnv1a;

// ---------------------------------------------------------------------------
// service_error: the core's error-body parser against serde_json

/// A JSON object's members in document order, duplicates kept.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Nesting of a JSON value: 0 for scalars.
fn nesting(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(nesting).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// The longest prefix of `s` that fits in `cap` bytes, whole characters only.
fn fit(s: &str, cap: usize) -> &str {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() > cap {
            break;
        }
        end = i + c.len_utf8();
    }
    &s[..end]
}

/// smithy-rs `sanitize_error_code` (docs/protocol.md §3): cut a `:…` suffix,
/// then a `…#` prefix.
fn sanitize(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    match code.find('#') {
        Some(i) => &code[i + 1..],
        None => code,
    }
}

/// Every body serde_json reads as an object whose values nest at most 16
/// deep: [`ServiceError::parse`] reads it too, with the code from the last
/// string `code` (else `__type`), sanitised and bounded; the message from
/// the first string `message` / `Message` / `errorMessage`, bounded and
/// flagged when cut; the type from the last string `type`. Deeper nesting
/// is refused.
pub fn service_error_differential(data: &[u8]) {
    let Ok(Members(members)) = serde_json::from_slice::<Members>(data) else {
        return;
    };
    let status = 400 + (fnv1a(data) % 200) as u16;
    let got = ServiceError::parse(status, data);
    if members.iter().any(|(_, v)| nesting(v) > 16) {
        assert!(got.is_err(), "nesting beyond 16 accepted");
        return;
    }
    let (mut code, mut type_code, mut message, mut error_type) =
        (None, None, None, ErrorType::Unknown);
    for (key, value) in &members {
        let Value::String(s) = value else { continue };
        match key.as_str() {
            "code" => code = Some(s.as_str()),
            "__type" => type_code = Some(s.as_str()),
            "message" | "Message" | "errorMessage" if message.is_none() => {
                message = Some(s.as_str())
            }
            "type" => {
                error_type = match s.as_str() {
                    "Client" => ErrorType::Client,
                    "Server" => ErrorType::Server,
                    _ => ErrorType::Unknown,
                }
            }
            _ => {}
        }
    }
    let code_text = code.or(type_code).map(|c| fit(sanitize(c), MAX_CODE_LEN));
    match code_text {
        Some(c) if !c.is_empty() => {
            let e = got.unwrap_or_else(|err| panic!("valid error body refused: {err:?}"));
            assert_eq!(e.status, status);
            assert_eq!(e.code_text.as_str(), c, "code");
            let full = message.unwrap_or("");
            let kept = fit(full, MAX_MESSAGE_LEN);
            assert_eq!(e.message.as_str(), kept, "message");
            assert_eq!(
                e.message_truncated,
                kept.len() < full.len(),
                "truncation flag"
            );
            assert_eq!(e.error_type, error_type, "type");
        }
        _ => assert!(got.is_err(), "body without a usable code accepted: {got:?}"),
    }
}

// ---------------------------------------------------------------------------
// inventory_json, inventory_csv

/// [`parse_json`] on the input; see [`inventory`].
pub fn inventory_json(data: &[u8]) {
    inventory(data, Format::Json);
}

/// [`parse_csv`] on the input (see [`inventory`]); and records made from
/// the input bytes, written as Glacier writes CSV, read back as written.
pub fn inventory_csv(data: &[u8]) {
    inventory(data, Format::Csv);
    csv_records_round_trip(data);
}

/// docs/protocol.md §5.3's writer is ambiguous only in appearance: every record
/// it writes must read back (the claim `parse_csv` documents). Fields are drawn
/// from the characters that matter — comma, double quote, backslash — plus a
/// letter and a space.
fn csv_records_round_trip(data: &[u8]) {
    const ALPHABET: &[u8] = b"a,\"\\ ";
    let mut inp = input::Input::new(data);
    let field = |inp: &mut input::Input<'_>| -> String {
        let len = usize::from(inp.pick(10));
        (0..len)
            .map(|_| char::from(ALPHABET[usize::from(inp.pick(ALPHABET.len() as u8))]))
            .collect()
    };
    let hash = glacier_verify_core::Digest([0xab; 32]);
    let mut archives = Vec::new();
    for i in 0..1 + inp.pick(4) {
        let mut archive_id = field(&mut inp);
        if archive_id.is_empty() {
            archive_id.push('i');
        }
        let description = field(&mut inp);
        let creation_date = field(&mut inp);
        archives.push(glacier_verify::inventory::InventoryArchive {
            archive_id,
            description,
            creation_date,
            size: u64::from(i),
            tree_hash: hash,
        });
    }
    let inv = Inventory {
        archives,
        ..Inventory::default()
    };
    let csv = glacier_csv(&inv).expect("one-line fields");
    assert_eq!(
        parse_csv(csv.as_bytes()).map(|i| i.archives),
        Ok(inv.archives),
        "written records read back differently: {csv:?}"
    );
}

/// Never panics; [`parse`] picks the same parser [`detect_format`] names;
/// a parsed inventory prints (table, JSON) and writes back, as Glacier's
/// JSON and — when every field fits on one line — as Glacier's CSV
/// (docs/protocol.md §5.3 quoting), to text that parses to the same inventory.
fn inventory(data: &[u8], format: Format) {
    let r = match format {
        Format::Json => parse_json(data),
        Format::Csv => parse_csv(data),
    };
    if detect_format(data) == format {
        assert_eq!(parse(data), r, "parse() dispatch");
    }
    match r {
        Ok(inv) => {
            let mut table = Vec::new();
            inv.write_table(&mut table).expect("write to a Vec");
            let _ = inv.to_json().to_string();
            let _ = inv.total_size();
            if let Some(first) = inv.archives.first() {
                assert!(inv.find(&first.archive_id).is_some());
            }
            let json = glacier_json(&inv);
            assert_eq!(
                parse_json(json.as_bytes()).as_ref(),
                Ok(&inv),
                "JSON round trip: {json}"
            );
            if let Some(csv) = glacier_csv(&inv) {
                let back = parse_csv(csv.as_bytes());
                assert_eq!(
                    back.as_ref().map(|i| &i.archives),
                    Ok(&inv.archives),
                    "CSV round trip: {csv:?}"
                );
            }
        }
        Err(e) => {
            let _ = e.to_string();
            if let Some(line) = e.line() {
                assert!(line >= 1);
                assert!(
                    line <= data.split(|&b| b == b'\n').count(),
                    "line {line} past the end"
                );
            }
        }
    }
}

/// The inventory as Glacier writes JSON (docs/protocol.md §5.3).
fn glacier_json(inv: &Inventory) -> String {
    let list: Vec<Value> = inv
        .archives
        .iter()
        .map(|a| {
            serde_json::json!({
                "ArchiveId": a.archive_id,
                "ArchiveDescription": a.description,
                "CreationDate": a.creation_date,
                "Size": a.size,
                "SHA256TreeHash": a.tree_hash.to_hex().as_str(),
            })
        })
        .collect();
    serde_json::json!({
        "VaultARN": inv.vault_arn,
        "InventoryDate": inv.inventory_date,
        "ArchiveList": list,
    })
    .to_string()
}

/// The archives as Glacier writes CSV (docs/protocol.md §5.3): a header row; a
/// field with a comma or a double quote in double quotes, each `"` in it as
/// `\"`, backslashes as they are. `None` when a field cannot be written on one
/// line.
fn glacier_csv(inv: &Inventory) -> Option<String> {
    let mut out = String::from("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\r\n");
    for a in &inv.archives {
        let size = a.size.to_string();
        let hash = a.tree_hash.to_hex();
        let fields = [
            &a.archive_id[..],
            &a.description,
            &a.creation_date,
            &size,
            hash.as_str(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if f.contains('\n') {
                return None;
            }
            if i > 0 {
                out.push(',');
            }
            if f.contains([',', '"']) {
                out.push('"');
                out.push_str(&f.replace('"', "\\\""));
                out.push('"');
            } else {
                out.push_str(f);
            }
        }
        out.push_str("\r\n");
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// credentials: the AWS credentials/config file parser

/// [`parse_ini`] on the input (as UTF-8, invalid sequences replaced): never
/// panics; sections and entries are trimmed and non-empty where they must
/// be; `get` is "the last entry of that key, case-insensitively, in
/// sections of that name"; a parsed file written back parses to the same
/// sections and entries; errors name a line of the input. The whole AWS
/// configuration resolution runs on it as both files, without panicking.
pub fn credentials(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let r = parse_ini(&text);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match &r {
        Ok(ini) => {
            for s in ini.sections() {
                assert!(!s.name().is_empty());
                assert_eq!(s.name(), s.name().trim());
                assert!(!s.name().contains([']', '\n']));
                assert!(s.line() >= 1);
                for e in s.entries() {
                    assert!(!e.key.is_empty());
                    assert_eq!(e.key, e.key.trim());
                    assert!(!e.key.contains(['=', ':', '\n']));
                    assert!(e.line >= s.line());
                    for (i, piece) in e.value.split('\n').enumerate() {
                        assert_eq!(piece, piece.trim());
                        assert!(i == 0 || !piece.is_empty(), "empty continuation");
                    }
                }
            }
            // `get` against a plain reading of "last one wins".
            for s in ini.sections() {
                for e in s.entries() {
                    for key in [
                        e.key.clone(),
                        e.key.to_ascii_uppercase(),
                        e.key.to_ascii_lowercase(),
                    ] {
                        let want = ini
                            .sections()
                            .iter()
                            .filter(|t| t.name() == s.name())
                            .flat_map(|t| t.entries())
                            .rfind(|f| f.key.eq_ignore_ascii_case(&key))
                            .map(|f| f.value.as_str());
                        assert_eq!(
                            ini.get(s.name(), &key),
                            want,
                            "get({:?}, {key:?})",
                            s.name()
                        );
                    }
                }
            }
            // Written back, it reads the same.
            let mut written = String::new();
            for s in ini.sections() {
                written.push_str(&format!("[{}]\n", s.name()));
                for e in s.entries() {
                    let mut pieces = e.value.split('\n');
                    written.push_str(&format!("{} = {}\n", e.key, pieces.next().unwrap_or("")));
                    for p in pieces {
                        written.push_str(&format!("\t{p}\n"));
                    }
                }
            }
            let again =
                parse_ini(&written).unwrap_or_else(|e| panic!("written back: {e}\n{written}"));
            let shape =
                |i: &glacier_verify::credentials::Ini| -> Vec<(String, Vec<(String, String)>)> {
                    i.sections()
                        .iter()
                        .map(|s| {
                            let entries = s
                                .entries()
                                .iter()
                                .map(|e| (e.key.clone(), e.value.clone()))
                                .collect();
                            (s.name().to_string(), entries)
                        })
                        .collect()
                };
            assert_eq!(shape(&again), shape(ini), "round trip\n{written}");
        }
        Err(e) => {
            let _ = e.to_string();
            assert!(
                e.line >= 1 && e.line <= text.split('\n').count(),
                "error line {}",
                e.line
            );
        }
    }

    // The resolution on top of it: any outcome but a panic.
    let profile = r.ok().and_then(|ini| {
        ini.sections()
            .first()
            .map(|s| s.name().trim_start_matches("profile ").to_string())
    });
    let mut env = Env::new()
        .with_var("HOME", "/home/fuzz")
        .with_file("/home/fuzz/.aws/credentials", text)
        .with_file("/home/fuzz/.aws/config", text);
    if let Some(p) = &profile {
        env = env.with_var("AWS_PROFILE", p.as_str());
    }
    let _ = resolve(&env, &Overrides::default());
    let _ = resolve(
        &env,
        &Overrides {
            profile: profile.as_deref(),
            region: None,
            endpoint_url: None,
        },
    );
}

// ---------------------------------------------------------------------------
// inventory_stream: the streaming reader against the whole-buffer parser

/// A reader that hands out the input in pieces of 1 to 7 bytes (the piece
/// sizes drawn from the input), so split reads are exercised.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let first = self.data.first().copied().unwrap_or(0);
        self.step = (self.step + usize::from(first)) % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// [`for_each_archive`] over the input, read in small pieces, agrees with
/// [`parse`]: the same archives in order and the same metadata when the
/// whole-buffer parse succeeds (unless a record passes the streaming bound),
/// an error when it fails. Stopping after `k` archives (k from the input's
/// hash) hands over exactly the first `k`.
pub fn inventory_stream(data: &[u8]) {
    use glacier_verify::inventory::{ErrorKind, for_each_archive};
    use std::ops::ControlFlow;

    let mut streamed = Vec::new();
    let result = for_each_archive(Pieces { data, step: 0 }, |archive| {
        streamed.push(archive);
        ControlFlow::Continue(())
    });
    match (parse(data), result) {
        (Ok(whole), Ok(summary)) => {
            assert_eq!(streamed, whole.archives, "archives");
            assert_eq!(summary.vault_arn, whole.vault_arn, "VaultARN");
            assert_eq!(
                summary.inventory_date, whole.inventory_date,
                "InventoryDate"
            );
            assert_eq!(summary.archives, whole.archives.len() as u64, "count");
            assert_eq!(summary.total_size, whole.total_size(), "total size");
            assert_eq!(summary.bytes_read, data.len() as u64, "bytes read");
            assert_eq!(summary.format, detect_format(data), "format");
            let k = (fnv1a(data) as usize) % (whole.archives.len() + 1);
            let mut first = Vec::new();
            let stopped = for_each_archive(data, |archive| {
                first.push(archive);
                if first.len() == k {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .expect("the same input, stopped early");
            let expected = if k == 0 {
                &whole.archives[..]
            } else {
                &whole.archives[..k]
            };
            assert_eq!(first, expected, "stopped after {k}");
            assert_eq!(stopped.archives, expected.len() as u64);
        }
        (Ok(_), Err(e)) => assert!(
            matches!(e.kind, ErrorKind::RecordTooLong { .. }),
            "streaming refused what parse accepts: {e}"
        ),
        (Err(e), Ok(_)) => panic!("streaming accepted what parse refuses: {e}"),
        (Err(_), Err(e)) => {
            // Errors render without panicking.
            let _ = e.to_string();
        }
    }
}

// ---------------------------------------------------------------------------
// names: archive descriptions into safe paths

/// Standard base64 with padding, for wrapping fuzz input in the formats
/// that carry a base64 path.
fn base64(data: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if !url {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

/// [`decode`](glacier_verify::names::decode) never panics and always yields
/// a safe path, for the input as a description and wrapped in each format;
/// what [`disambiguate`](glacier_verify::names::disambiguate) and
/// [`archive_id_name`](glacier_verify::names::archive_id_name) make of it is
/// safe too.
pub fn names(data: &[u8]) {
    use glacier_verify::names::{archive_id_name, decode, disambiguate, is_safe};

    let text = String::from_utf8_lossy(data);
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
    let json = serde_json::to_string(&*text).expect("a string serialises");
    let mt =
        serde_json::to_vec(&serde_json::json!({"filename": &*text, "mtime": "20130101T000000Z"}))
            .expect("an object serialises");
    let descriptions = [
        text.to_string(),
        format!("<ArchiveMetadata><Path>{escaped}</Path></ArchiveMetadata>"),
        format!(
            "<m><v>4</v><p>{}</p><lm>20120515T171946Z</lm></m>",
            base64(data, false)
        ),
        format!("mt2 {}", base64(&mt, true)),
        format!(r#"{{"Path":{json}}}"#),
        format!(r#"{{"type":"file","path":{json}}}"#),
    ];
    let id = archive_id_name(&text);
    assert!(is_safe(&id), "archive id name {id:?}");
    for description in &descriptions {
        let name = decode(description, &text);
        assert!(
            is_safe(&name.path),
            "{description:?} decoded to {:?}",
            name.path
        );
        assert_eq!(decode(description, &text), name, "deterministic");
        let other = disambiguate(&name.path, &text, &text);
        assert!(is_safe(&other), "disambiguated {other:?}");
        assert_ne!(other, name.path, "disambiguation changes the name");
    }
}
