//! FastGlacier's descriptions (docs/names.md).
//!
//! - v1: `<ArchiveMetadata><Path>PATH</Path>…</ArchiveMetadata>`, the path
//!   as XML text (entities such as `&amp;` possible).
//! - v2 to v4: `<m><v>N</v><p>BASE64</p><lm>YYYYMMDDTHHMMSSZ</lm>…</m>`,
//!   the path base64 (standard alphabet) of its UTF-8 bytes; v4 may add a
//!   `<ce>` element, ignored here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
/// The text of the first `<child>` directly inside the root `<root>`,
/// entities resolved; `Err` with a reason when the XML does not have one.
fn child_text(xml: &str, root: &str, child: &str) -> Result<String, String> {
    let document = roxmltree::Document::parse(xml).map_err(|error| error.to_string())?;
    let top = document.root_element();
    if top.tag_name().name() != root {
        return Err("unexpected root element".into());
    }
    top.children()
        .find(|node| node.is_element() && node.tag_name().name() == child)
        .map(|node| node.text().unwrap_or_default().to_string())
        .ok_or_else(|| format!("no <{child}> element"))
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
    child_text(description, "ArchiveMetadata", "Path")
}

/// The path of a v2–v4 description.
pub(super) fn decode_v2(description: &str) -> Result<String, String> {
    let encoded = child_text(description, "m", "p")?;
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(encoded.trim())
        .map_err(|error| format!("<p> is not base64: {error}"))?;
    String::from_utf8(bytes).map_err(|_| "<p> is not UTF-8".to_string())
}
