//! JSON descriptions (docs/names.md): QNAP's `{"type": …, "path": …}` and
//! CloudBerry's / AWS's vault-transfer solution's object with `Path` (or
//! `path`). CloudBerry writes `Path` in UTF-7 (RFC 2152), which is decoded;
//! a `Path` that is not valid UTF-7 is taken as written.

use serde_json::{Map, Value};

use super::NameFormat;

/// The format and path of a JSON object description; `Err` with a reason
/// when it is JSON without a usable path, `Ok(None)` when it is not a JSON
/// object at all.
pub(super) fn decode(description: &str) -> Result<Option<(NameFormat, String)>, String> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(description) else {
        return Ok(None);
    };
    let format = if object.contains_key("type") && object.contains_key("path") {
        NameFormat::Qnap
    } else {
        NameFormat::CloudBerry
    };
    path(&object).map(|path| Some((format, path)))
}

fn path(object: &Map<String, Value>) -> Result<String, String> {
    if let Some(Value::String(path)) = object.get("Path") {
        return Ok(utf7(path).unwrap_or_else(|| path.clone()));
    }
    match object.get("Path").or_else(|| object.get("path")) {
        Some(Value::String(path)) => Ok(path.clone()),
        Some(_) => Err("path is not a string".into()),
        None => Err("no Path or path field".into()),
    }
}

/// The value of one base64 digit (RFC 2152's set B: the standard alphabet).
fn base64_digit(c: char) -> Option<u32> {
    const DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    DIGITS.find(c).and_then(|index| u32::try_from(index).ok())
}

/// RFC 2152 UTF-7 decoded: `+` starts modified base64 of UTF-16BE, ended by
/// `-` (absorbed) or any other character; `+-` is `+`. `None` when a
/// shifted run is not whole UTF-16 (leftover bits) or not valid UTF-16.
#[allow(clippy::arithmetic_side_effects)] // bit counts stay below 32
fn utf7(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '+' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'-') {
            chars.next();
            out.push('+');
            continue;
        }
        let (mut bits, mut count, mut units) = (0u32, 0u32, Vec::new());
        while let Some(value) = chars.peek().copied().and_then(base64_digit) {
            chars.next();
            bits = (bits << 6) | value;
            count += 6;
            if count >= 16 {
                count -= 16;
                units.push(u16::try_from((bits >> count) & 0xFFFF).ok()?);
                bits &= (1 << count) - 1;
            }
        }
        if count >= 6 || bits != 0 || units.is_empty() {
            return None;
        }
        if chars.peek() == Some(&'-') {
            chars.next();
        }
        for unit in char::decode_utf16(units) {
            out.push(unit.ok()?);
        }
    }
    Some(out)
}
