//! The INI dialect of the credentials and config files (see the parent module's docs).

use std::fmt;

/// A parsed INI file: sections in file order (repeats kept as separate entries).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ini {
    sections: Vec<IniSection>,
}

impl Ini {
    /// All sections in file order.
    pub fn sections(&self) -> &[IniSection] {
        &self.sections
    }

    /// The value of `key` in section `section` (exact name; key case-insensitive). When the
    /// section or key repeats, the last occurrence wins.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        lookup(self.sections.iter().filter(|s| s.name == section), key).map(|(v, _)| v)
    }
}

/// One `[section]` and its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniSection {
    name: String,
    line: usize,
    entries: Vec<IniEntry>,
}

impl IniSection {
    /// The name between the brackets, trimmed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 1-based line of the header.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Entries in file order.
    pub fn entries(&self) -> &[IniEntry] {
        &self.entries
    }

    /// The last value of `key`, compared ASCII-case-insensitively (as `configparser`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }
}

/// One `key = value` entry.
///
/// `Debug` hides the value when the key mentions a secret or token.
#[derive(Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// Key, trimmed (case kept).
    pub key: String,
    /// Value, trimmed, inline comment removed; continuation lines appended after `\n`.
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

impl fmt::Debug for IniEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.key.to_ascii_lowercase();
        let secret = k.contains("secret") || k.contains("token") || k.contains("password");
        f.debug_struct("IniEntry")
            .field("key", &self.key)
            .field("value", if secret { &"***" } else { &self.value })
            .field("line", &self.line)
            .finish()
    }
}

/// A syntax error: where and what. The message never quotes the line (it may hold a secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IniError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: IniErrorKind,
}

/// The kinds of INI syntax errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IniErrorKind {
    /// `[` without a closing `]`.
    UnclosedSectionHeader,
    /// `[]` or `[   ]`.
    EmptySectionName,
    /// Something other than a comment after `]`.
    TrailingCharacters,
    /// A `key = value` line before any `[section]`.
    EntryOutsideSection,
    /// A line that is neither a section, an entry, a comment nor a continuation.
    MissingDelimiter,
    /// `= value` with nothing before the `=`.
    EmptyKey,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            IniErrorKind::UnclosedSectionHeader => "section header without closing ']'",
            IniErrorKind::EmptySectionName => "empty section name",
            IniErrorKind::TrailingCharacters => "unexpected characters after section header",
            IniErrorKind::EntryOutsideSection => "setting before the first [section] header",
            IniErrorKind::MissingDelimiter => "expected 'key = value', a [section] or a comment",
            IniErrorKind::EmptyKey => "setting with an empty name",
        };
        write!(f, "line {}: {what}", self.line)
    }
}

impl std::error::Error for IniError {}

/// Drops an inline comment: `#` or `;` preceded by a space or tab.
fn strip_inline_comment(value: &str) -> &str {
    let b = value.as_bytes();
    for i in 1..b.len() {
        if matches!(b[i], b'#' | b';') && matches!(b[i - 1], b' ' | b'\t') {
            return value[..i].trim_end();
        }
    }
    value
}

/// Parses an AWS credentials/config file (see the module docs for the syntax).
/// Never panics; runs in time linear in the input.
///
/// ```
/// use glacier_verify::credentials::parse_ini;
/// let ini = parse_ini("# comment\n[profile prod]\nregion = eu-west-1 ; inline\n").unwrap();
/// assert_eq!(ini.get("profile prod", "region"), Some("eu-west-1"));
/// assert_eq!(parse_ini("region = x").unwrap_err().to_string(), "line 1: setting before the first [section] header");
/// ```
pub fn parse_ini(text: &str) -> Result<Ini, IniError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<IniSection> = Vec::new();
    // Whether an indented line continues the previous entry's value.
    let mut in_entry = false;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let err = |kind| IniError {
            line: line_no,
            kind,
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            in_entry = false;
            continue;
        }
        if trimmed.starts_with(['#', ';']) {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented
            && in_entry
            && let Some(entry) = sections.last_mut().and_then(|s| s.entries.last_mut())
        {
            entry.value.push('\n');
            entry.value.push_str(strip_inline_comment(trimmed));
            continue;
        }
        if let Some(inner) = trimmed.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or(err(IniErrorKind::UnclosedSectionHeader))?;
            let name = inner[..close].trim();
            if name.is_empty() {
                return Err(err(IniErrorKind::EmptySectionName));
            }
            let rest = inner[close + 1..].trim_start();
            if !rest.is_empty() && !rest.starts_with(['#', ';']) {
                return Err(err(IniErrorKind::TrailingCharacters));
            }
            sections.push(IniSection {
                name: name.to_string(),
                line: line_no,
                entries: Vec::new(),
            });
            in_entry = false;
            continue;
        }
        let section = sections
            .last_mut()
            .ok_or(err(IniErrorKind::EntryOutsideSection))?;
        let delim = trimmed
            .find(['=', ':'])
            .ok_or(err(IniErrorKind::MissingDelimiter))?;
        let key = trimmed[..delim].trim();
        if key.is_empty() {
            return Err(err(IniErrorKind::EmptyKey));
        }
        let value = strip_inline_comment(trimmed[delim + 1..].trim());
        section.entries.push(IniEntry {
            key: key.to_string(),
            value: value.to_string(),
            line: line_no,
        });
        in_entry = true;
    }
    Ok(Ini { sections })
}

/// Looks `key` up in `sections` (later wins); returns the value and the section name.
pub(super) fn lookup<'a>(
    sections: impl Iterator<Item = &'a IniSection>,
    key: &str,
) -> Option<(&'a str, &'a str)> {
    sections
        .filter_map(|s| s.get(key).map(|v| (v, s.name())))
        .last()
}

#[cfg(test)]
mod tests;
