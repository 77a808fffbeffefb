//! Archive descriptions into file names, for `vault-exit` (docs/names.md).
//!
//! Glacier keeps no file names, only a free-text description per archive;
//! the tools that uploaded archives wrote the file's path there, each in its
//! own format. [`decode`] recognises FastGlacier v1 and v2–v4 (`fastglacier.rs`),
//! CloudBerry / AWS-solution and QNAP JSON (`json.rs`), mt-aws-glacier `mt1`
//! and `mt2` (`mtaws.rs`) and plain paths, and falls back to the archive id.
//! Every path it returns has passed `safety.rs`: relative, `/`-separated, no
//! `.`/`..`/empty component, no NUL or control character, components ≤ 255
//! bytes, whole ≤ 4096 bytes; what sanitising changed is recorded, nothing
//! is dropped. [`prepare_under`] creates the parent directories under the
//! destination without following symlinks.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod fastglacier;
mod json;
mod mtaws;
mod safety;

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

pub use safety::{MAX_COMPONENT_BYTES, MAX_PATH_BYTES, is_safe};

/// Where a name came from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameFormat {
    /// FastGlacier v1: `<ArchiveMetadata><Path>…</Path>…`.
    FastGlacierV1,
    /// FastGlacier v2–v4: `<m><v>N</v><p>BASE64</p>…</m>`.
    FastGlacier,
    /// CloudBerry / AWS-solution JSON with `Path` or `path`.
    CloudBerry,
    /// mt-aws-glacier `mt1 …` / `mt2 …`.
    MtAwsGlacier,
    /// QNAP JSON `{"type": …, "path": …}`.
    Qnap,
    /// The description itself, read as a path.
    PlainPath,
    /// The archive id (no usable description, or asked for).
    ArchiveId,
}

impl NameFormat {
    /// The name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            NameFormat::FastGlacierV1 => "fastglacier-v1",
            NameFormat::FastGlacier => "fastglacier",
            NameFormat::CloudBerry => "cloudberry",
            NameFormat::MtAwsGlacier => "mt-aws-glacier",
            NameFormat::Qnap => "qnap",
            NameFormat::PlainPath => "path",
            NameFormat::ArchiveId => "archive-id",
        }
    }
}

/// A decoded, safe name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedName {
    /// Safe relative path, '/'-separated, no empty/`.`/`..` component, no
    /// NUL/control chars, not absolute, each component ≤ 255 bytes, whole ≤
    /// 4096 bytes.
    pub path: String,
    /// The format the path was decoded from.
    pub format: NameFormat,
    /// What sanitising changed and why (None when the decoded path was safe
    /// as is).
    pub sanitised: Option<String>,
}

/// A format's path, before sanitising; `Err` when the description has the
/// format's marker but does not decode.
fn decode_raw(description: &str) -> Option<(NameFormat, Result<String, String>)> {
    let text = description.trim();
    if fastglacier::is_v1(text) {
        return Some((NameFormat::FastGlacierV1, fastglacier::decode_v1(text)));
    }
    if fastglacier::is_v2(text) {
        return Some((NameFormat::FastGlacier, fastglacier::decode_v2(text)));
    }
    if let Some((version, encoded)) = mtaws::split(text) {
        return Some((NameFormat::MtAwsGlacier, mtaws::decode(version, encoded)));
    }
    if text.starts_with('{') {
        match json::decode(text) {
            Ok(Some((format, path))) => return Some((format, Ok(path))),
            Ok(None) => {}
            Err(reason) => return Some((NameFormat::CloudBerry, Err(reason))),
        }
    }
    if text.is_empty() {
        return None;
    }
    Some((NameFormat::PlainPath, Ok(description.to_string())))
}

/// Decodes an archive description into a safe relative path; falls back to
/// the archive id.
///
/// ```
/// use glacier_verify::names::{decode, NameFormat};
/// let name = decode("mt2 eyJmaWxlbmFtZSI6InBob3Rvcy9hLmpwZyIsIm10aW1lIjoiMjAxMzAxMDFUMTIwMDAwWiJ9", "ID");
/// assert_eq!((name.path.as_str(), name.format), ("photos/a.jpg", NameFormat::MtAwsGlacier));
/// let name = decode("../../etc/passwd", "ID");
/// assert_eq!(name.path, "__/__/etc/passwd");
/// assert!(name.sanitised.is_some());
/// ```
pub fn decode(description: &str, archive_id: &str) -> DecodedName {
    let fallback = |note: String| DecodedName {
        path: archive_id_name(archive_id),
        format: NameFormat::ArchiveId,
        sanitised: Some(note),
    };
    let Some((format, raw)) = decode_raw(description) else {
        return DecodedName {
            path: archive_id_name(archive_id),
            format: NameFormat::ArchiveId,
            sanitised: None,
        };
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(reason) => {
            return fallback(format!(
                "{} description does not decode ({reason}); archive id used",
                format.as_str()
            ));
        }
    };
    let sanitised = safety::sanitise(&raw);
    match sanitised.path.clone() {
        Some(path) => DecodedName {
            path,
            format,
            sanitised: sanitised.note(),
        },
        None => fallback(format!(
            "{} name is empty once made safe; archive id used",
            format.as_str()
        )),
    }
}

/// The name used when archive ids are asked for (`--names archive-id`) or
/// nothing decodes: the id, with any character outside Glacier's id alphabet
/// (`A-Z a-z 0-9 - _`) replaced by `_` and cut to 255 bytes; `archive` for
/// an empty id.
pub fn archive_id_name(archive_id: &str) -> String {
    let name: String = archive_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_COMPONENT_BYTES)
        .collect();
    if name.is_empty() {
        "archive".to_string()
    } else {
        name
    }
}

/// `YYYYMMDDTHHMMSSZ` from an ISO-8601 creation date (its first 14 digits);
/// the digits found when there are fewer.
fn compact_date(creation_date: &str) -> String {
    let digits: String = creation_date
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    match (digits.get(..8), digits.get(8..)) {
        (Some(day), Some(time)) if digits.len() == 14 => format!("{day}T{time}Z"),
        _ => digits,
    }
}

/// The name of the second and later archives that decode to one path:
/// `path` with a suffix made of the creation date (YYYYMMDDTHHMMSSZ) and the
/// first 8 characters of the archive id, before the extension.
///
/// ```
/// use glacier_verify::names::disambiguate;
/// assert_eq!(
///     disambiguate("photos/a.jpg", "2012-05-15T17:19:46.700Z", "EXAMPLEid123"),
///     "photos/a.20120515T171946Z-EXAMPLEi.jpg"
/// );
/// ```
pub fn disambiguate(path: &str, creation_date: &str, archive_id: &str) -> String {
    let id: String = archive_id_name(archive_id).chars().take(8).collect();
    let suffix = format!(".{}-{id}", compact_date(creation_date));
    let (directory, name) = match path.rsplit_once('/') {
        Some((directory, name)) => (Some(directory), name),
        None => (None, path),
    };
    let extension = safety::extension(name).unwrap_or_default();
    let stem = name
        .get(..name.len().saturating_sub(extension.len()))
        .unwrap_or_default();
    let room = MAX_COMPONENT_BYTES
        .saturating_sub(suffix.len())
        .saturating_sub(extension.len());
    let name = format!("{}{suffix}{extension}", safety::prefix(stem, room));
    let joined = match directory {
        Some(directory) => format!("{directory}/{name}"),
        None => name,
    };
    // Still safe for a safe `path`; re-checked for any other.
    safety::sanitise(&joined).path.unwrap_or(joined)
}

fn errno_error(errno: Errno, what: &Path) -> io::Error {
    let error = io::Error::from(errno);
    io::Error::new(error.kind(), format!("{}: {error}", what.display()))
}

/// A directory opened without following a symlink: `Ok(None)` when absent.
fn open_dir(parent: impl AsFd, name: &str, shown: &Path) -> io::Result<Option<OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(&parent, name, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::LOOP | Errno::NOTDIR) => Err(not_a_directory(&parent, name, shown)),
        Err(errno) => Err(errno_error(errno, shown)),
    }
}

/// The error for a component that exists but is not a directory: a
/// symlink is named as one.
fn not_a_directory(parent: impl AsFd, name: &str, shown: &Path) -> io::Error {
    let is_link = rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Symlink);
    if is_link {
        io::Error::other(format!(
            "{} is a symbolic link; refusing to follow it",
            shown.display()
        ))
    } else {
        io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} exists and is not a directory", shown.display()),
        )
    }
}

/// Opens/creates the parent directories of `rel` under `root` without
/// following any symlink (a symlinked component is an error naming it),
/// returns the full path to create the file at.
///
/// Each directory is opened with `O_NOFOLLOW | O_DIRECTORY` relative to the
/// one before (`openat`), and created with `mkdirat` when absent, so no
/// symlink under `root` is followed while walking, whatever it points to;
/// `root` itself is the caller's and may be a symlink. The final component
/// must not be a symlink either. The race accepted: the path returned is
/// resolved again when the caller opens the file, so a directory swapped
/// for a symlink in between would be followed. The destination is the
/// running user's, not shared with an adversary; the caller opens the file
/// itself with `O_NOFOLLOW` (`crate::disk`), which closes the race for the
/// last component.
pub fn prepare_under(root: &Path, rel: &str) -> io::Result<PathBuf> {
    if !is_safe(rel) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{rel:?} is not a safe relative path"),
        ));
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir =
        rustix::fs::open(root, flags, Mode::empty()).map_err(|errno| errno_error(errno, root))?;
    let mut shown = root.to_path_buf();
    let (parents, name) = match rel.rsplit_once('/') {
        Some((parents, name)) => (Some(parents), name),
        None => (None, rel),
    };
    for component in parents.into_iter().flat_map(|parents| parents.split('/')) {
        shown.push(component);
        let next = match open_dir(&dir, component, &shown)? {
            Some(fd) => fd,
            None => {
                match rustix::fs::mkdirat(&dir, component, Mode::from_raw_mode(0o777)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(errno) => return Err(errno_error(errno, &shown)),
                }
                open_dir(&dir, component, &shown)?.ok_or_else(|| {
                    io::Error::other(format!("{} vanished after mkdir", shown.display()))
                })?
            }
        };
        dir = next;
    }
    shown.push(name);
    match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
            Err(io::Error::other(format!(
                "{} is a symbolic link; refusing to follow it",
                shown.display()
            )))
        }
        Ok(_) | Err(Errno::NOENT) => Ok(shown),
        Err(errno) => Err(errno_error(errno, &shown)),
    }
}
