//! Turning a decoded name into a safe relative path (docs/names.md, "Safety").
//!
//! The rules, for every format:
//! - `\` is read as a path separator: the formats that carry paths come
//!   from Windows tools as often as not, and `a\..\..\b` must not survive as
//!   one odd file name on Linux while meaning a traversal elsewhere;
//! - NUL and control characters (C0, DEL, C1) become `_`;
//! - a leading `/` (absolute) and a leading Windows drive (`C:`) are removed;
//! - empty and `.` components are removed, `..` becomes `__`;
//! - a component longer than [`MAX_COMPONENT_BYTES`] is cut at a character
//!   boundary, keeping a short extension;
//! - a path longer than [`MAX_PATH_BYTES`] keeps its file name and as many
//!   leading directories as fit.
//!
//! Nothing is dropped silently: each change is described in the note
//! returned beside the path.

/// The longest component, in bytes (Linux `NAME_MAX`).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// The longest path, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// Extensions up to this many bytes (with the dot) survive a cut component.
const MAX_KEPT_EXTENSION: usize = 16;

/// A safe path and what was changed to make it so.
pub(crate) struct Sanitised {
    /// `None` when nothing of the name survives.
    pub path: Option<String>,
    /// One entry per kind of change.
    pub changes: Vec<&'static str>,
}

impl Sanitised {
    /// The changes as one note, `None` when there were none.
    pub fn note(&self) -> Option<String> {
        (!self.changes.is_empty()).then(|| self.changes.join("; "))
    }
}

fn note(changes: &mut Vec<&'static str>, change: &'static str) {
    if !changes.contains(&change) {
        changes.push(change);
    }
}

/// Whether `path` already meets every rule (what [`sanitise`] returns
/// unchanged).
pub fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_PATH_BYTES
        && path.split('/').all(|component| {
            !component.is_empty()
                && component != "."
                && component != ".."
                && component.len() <= MAX_COMPONENT_BYTES
                && !component.chars().any(|c| c.is_control() || c == '\\')
        })
        && !is_drive(path.split('/').next().unwrap_or_default())
}

fn is_drive(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.len() == 2
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(1) == Some(&b':')
}

/// Makes `raw` a safe relative path (see the module docs).
pub(crate) fn sanitise(raw: &str) -> Sanitised {
    let mut changes = Vec::new();
    let mut text = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\\' => {
                note(&mut changes, "backslashes read as path separators");
                text.push('/');
            }
            '\0' => {
                note(&mut changes, "NUL replaced by _");
                text.push('_');
            }
            c if c.is_control() => {
                note(&mut changes, "control characters replaced by _");
                text.push('_');
            }
            c => text.push(c),
        }
    }
    let trimmed = text.trim_start_matches('/');
    if trimmed.len() != text.len() {
        note(
            &mut changes,
            "leading / removed (absolute path made relative)",
        );
    }
    let mut components: Vec<String> = Vec::new();
    for (index, component) in trimmed.split('/').enumerate() {
        match component {
            "" | "." => {
                if !trimmed.is_empty() {
                    note(&mut changes, "empty and . components removed");
                }
            }
            ".." => {
                note(&mut changes, ".. components replaced by __");
                components.push("__".to_string());
            }
            drive if index == 0 && is_drive(drive) => {
                note(&mut changes, "Windows drive removed");
            }
            component if component.len() > MAX_COMPONENT_BYTES => {
                note(&mut changes, "components cut to 255 bytes");
                components.push(cut_component(component, MAX_COMPONENT_BYTES));
            }
            component => components.push(component.to_string()),
        }
    }
    let path = fit_path(components, &mut changes);
    Sanitised { path, changes }
}

/// The longest prefix of `text` of at most `limit` bytes, whole characters.
pub(crate) fn prefix(text: &str, limit: usize) -> &str {
    let mut end = 0;
    for (index, c) in text.char_indices() {
        let next = index.saturating_add(c.len_utf8());
        if next > limit {
            break;
        }
        end = next;
    }
    text.get(..end).unwrap_or_default()
}

/// The extension of a file name (`.jpg`), if it has a short one. A leading
/// dot (`.bashrc`) is not an extension.
pub(crate) fn extension(name: &str) -> Option<&str> {
    let dot = name.rfind('.').filter(|&dot| dot > 0)?;
    let extension = name.get(dot..)?;
    (extension.len() <= MAX_KEPT_EXTENSION).then_some(extension)
}

/// `component` cut to `limit` bytes, keeping a short extension.
pub(crate) fn cut_component(component: &str, limit: usize) -> String {
    match extension(component) {
        Some(extension) => {
            let stem = component
                .get(..component.len().saturating_sub(extension.len()))
                .unwrap_or_default();
            let mut out = prefix(stem, limit.saturating_sub(extension.len())).to_string();
            out.push_str(extension);
            out
        }
        None => prefix(component, limit).to_string(),
    }
}

/// Joins the components; when the path is too long, keeps the file name and
/// the leading directories that fit.
fn fit_path(components: Vec<String>, changes: &mut Vec<&'static str>) -> Option<String> {
    let (name, directories) = components.split_last()?;
    let mut path = String::new();
    let budget = MAX_PATH_BYTES.saturating_sub(name.len());
    for directory in directories {
        // The directory and the separator after it.
        if path.len().saturating_add(directory.len()).saturating_add(1) > budget {
            note(changes, "directories cut to fit 4096 bytes");
            break;
        }
        path.push_str(directory);
        path.push('/');
    }
    path.push_str(name);
    Some(path)
}
