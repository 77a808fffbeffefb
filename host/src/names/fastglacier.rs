//! FastGlacier's descriptions (docs/names.md).
//!
//! - v1: `<ArchiveMetadata><Path>PATH</Path>…</ArchiveMetadata>`, the path
//!   as XML text (entities such as `&amp;` possible).
//! - v2 to v4: `<m><v>N</v><p>BASE64</p><lm>YYYYMMDDTHHMMSSZ</lm>…</m>`,
//!   the path base64 (standard alphabet) of its UTF-8 bytes; v4 may add a
//!   `<ce>` element, ignored here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use quick_xml::Reader;
use quick_xml::escape::unescape;
use quick_xml::events::Event;

/// The text of the first `<child>` directly inside the root `<root>`,
/// entities resolved; `Err` with a reason when the XML does not have one.
fn child_text(xml: &str, root: &[u8], child: &[u8]) -> Result<String, String> {
    let mut reader = Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(element)) => {
                let name = element.name();
                if depth == 0 && name.as_ref() != root {
                    return Err("unexpected root element".into());
                }
                if depth == 1 && name.as_ref() == child {
                    let raw = reader
                        .read_text(name.to_owned())
                        .map_err(|error| error.to_string())?;
                    return unescape(&raw)
                        .map(|text| text.into_owned())
                        .map_err(|error| error.to_string());
                }
                depth = depth.saturating_add(1);
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => {
                return Err(format!("no <{}> element", String::from_utf8_lossy(child)));
            }
            Ok(_) => {}
            Err(error) => return Err(error.to_string()),
        }
    }
}

/// v1: `<ArchiveMetadata><Path>…`.
pub(super) fn is_v1(description: &str) -> bool {
    description.starts_with("<ArchiveMetadata>")
}

/// v2–v4: `<m><v>…`.
pub(super) fn is_v2(description: &str) -> bool {
    description.starts_with("<m>")
}

/// The path of a v1 description.
pub(super) fn decode_v1(description: &str) -> Result<String, String> {
    child_text(description, b"ArchiveMetadata", b"Path")
}

/// The path of a v2–v4 description.
pub(super) fn decode_v2(description: &str) -> Result<String, String> {
    let encoded = child_text(description, b"m", b"p")?;
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(encoded.trim())
        .map_err(|error| format!("<p> is not base64: {error}"))?;
    String::from_utf8(bytes).map_err(|_| "<p> is not UTF-8".to_string())
}
