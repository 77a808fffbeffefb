//! TEMPORARY: stand-ins with the exact signatures of the streaming
//! inventory (`crate::inventory::for_each_archive`) and of `crate::names`,
//! which land on main separately; this file is deleted when they do, and
//! every caller then uses the real ones unchanged.

use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};

use crate::inventory::{Format, InventoryArchive, InventoryError};

/// What a streamed inventory held (the signature of `inventory::InventorySummary`).
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct InventorySummary {
    /// JSON or CSV.
    pub format: Format,
    /// `VaultARN`
    pub vault_arn: Option<String>,
    /// `InventoryDate`
    pub inventory_date: Option<String>,
    /// Archives seen.
    pub archives: u64,
    /// Their total size.
    pub total_size: u64,
    /// Bytes of inventory read.
    pub bytes_read: u64,
}

/// The signature of `inventory::for_each_archive` (here over the
/// whole-buffer parser).
pub fn for_each_archive<R: std::io::Read>(
    mut reader: R,
    mut each: impl FnMut(InventoryArchive) -> ControlFlow<()>,
) -> Result<InventorySummary, InventoryError> {
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes);
    let format = crate::inventory::detect_format(&bytes);
    let inv = crate::inventory::parse(&bytes)?;
    let mut summary = InventorySummary {
        format,
        vault_arn: inv.vault_arn.clone(),
        inventory_date: inv.inventory_date.clone(),
        archives: 0,
        total_size: 0,
        bytes_read: bytes.len() as u64,
    };
    for a in inv.archives {
        summary.archives += 1;
        summary.total_size = summary.total_size.saturating_add(a.size);
        if each(a).is_break() {
            break;
        }
    }
    Ok(summary)
}

/// The signature of `names::NameFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameFormat {
    /// A plain path.
    PlainPath,
    /// The archive id.
    ArchiveId,
}

impl NameFormat {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            NameFormat::PlainPath => "path",
            NameFormat::ArchiveId => "archive-id",
        }
    }
}

/// The signature of `names::DecodedName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedName {
    /// Safe relative path.
    pub path: String,
    /// How it was found.
    pub format: NameFormat,
    /// What sanitising changed.
    pub sanitised: Option<String>,
}

/// The signature of `names::decode`: here only plain safe paths are kept.
pub fn decode(description: &str, archive_id: &str) -> DecodedName {
    let safe = !description.is_empty()
        && !description.starts_with('/')
        && !description.chars().any(char::is_control)
        && description.len() <= 4096
        && description
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c.len() <= 255);
    if safe {
        DecodedName {
            path: description.to_owned(),
            format: NameFormat::PlainPath,
            sanitised: None,
        }
    } else {
        DecodedName {
            path: archive_id_name(archive_id),
            format: NameFormat::ArchiveId,
            sanitised: (!description.is_empty()).then(|| "unsafe description".to_owned()),
        }
    }
}

/// The signature of `names::archive_id_name`.
pub fn archive_id_name(archive_id: &str) -> String {
    let s: String = archive_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    format!("archives/{s}")
}

/// The signature of `names::disambiguate`.
pub fn disambiguate(path: &str, creation_date: &str, archive_id: &str) -> String {
    let date: String = creation_date
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let id: String = archive_id.chars().take(8).collect();
    let (stem, ext) = match path.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !s.ends_with('/') && !e.contains('/') => (s, Some(e)),
        _ => (path, None),
    };
    match ext {
        Some(e) => format!("{stem}.{date}Z-{id}.{e}"),
        None => format!("{stem}.{date}Z-{id}"),
    }
}

/// The signature of `names::prepare_under`.
pub fn prepare_under(root: &Path, rel: &str) -> std::io::Result<PathBuf> {
    let mut at = root.to_owned();
    let parts: Vec<_> = Path::new(rel).components().collect();
    let Some((_, dirs)) = parts.split_last() else {
        return Err(std::io::Error::other("empty name"));
    };
    for c in dirs {
        let Component::Normal(c) = c else {
            return Err(std::io::Error::other(format!("unsafe component in {rel}")));
        };
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(std::io::Error::other(format!(
                    "{} is a symbolic link: not followed",
                    at.display()
                )));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory",
                    at.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(root.join(rel))
}
