//! mt-aws-glacier's descriptions (docs/names.md), as its `MetaData.pm`
//! specifies them:
//!
//! - `mt2 ` + base64url (`-` `_`, no padding) of UTF-8 JSON
//!   `{"filename": PATH, "mtime": "YYYYMMDDTHHMMSSZ"}`;
//! - `mt1 ` (versions 0.80 to 0.84): the same, except that the JSON's UTF-8
//!   bytes were encoded to UTF-8 once more as if they were Latin-1. Decoding
//!   undoes that: UTF-8, every character ≤ U+00FF taken as one byte, UTF-8
//!   again.
//!
//! Padding and the standard alphabet are accepted too, as mt-aws-glacier's
//! own decoder does.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// `mt1` or `mt2`, and the base64 text after the marker.
pub(super) fn split(description: &str) -> Option<(u8, &str)> {
    let (marker, rest) = description.split_once(' ')?;
    let version = match marker {
        "mt1" => 1,
        "mt2" => 2,
        _ => return None,
    };
    Some((version, rest.trim()))
}

fn base64(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE
        .decode(text)
        .or_else(|_| STANDARD.decode(text))
        .map_err(|error| format!("not base64url: {error}"))
}

/// mt1's double encoding undone: UTF-8 whose characters are all ≤ U+00FF,
/// read back as the bytes they stand for.
fn undo_latin1(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let text = String::from_utf8(bytes).map_err(|_| "mt1 data is not UTF-8".to_string())?;
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| "mt1 data is not double-encoded".into()))
        .collect()
}

/// The `filename` of an `mt1`/`mt2` description.
pub(super) fn decode(version: u8, encoded: &str) -> Result<String, String> {
    let mut bytes = base64(encoded)?;
    if version == 1 {
        bytes = undo_latin1(bytes)?;
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|error| format!("not JSON: {error}"))?;
    match value.get("filename") {
        Some(serde_json::Value::String(name)) => Ok(name.clone()),
        Some(_) => Err("filename is not a string".into()),
        None => Err("no filename".into()),
    }
}
