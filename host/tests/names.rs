//! Archive descriptions into safe relative paths (docs/names.md): each
//! format with real-looking examples, hostile names, collisions, and
//! creating parents under a destination without following symlinks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use glacier_verify::names::{
    DecodedName, MAX_COMPONENT_BYTES, MAX_PATH_BYTES, NameFormat, archive_id_name, decode,
    disambiguate, is_safe, prepare_under,
};

const ID: &str = "EXAMPLEArchiveId-xyz_0123456789";

fn decoded(description: &str) -> DecodedName {
    let name = decode(description, ID);
    assert!(
        is_safe(&name.path),
        "{description:?} gave unsafe {:?}",
        name.path
    );
    name
}

fn clean(description: &str, path: &str, format: NameFormat) {
    assert_eq!(
        decoded(description),
        DecodedName {
            path: path.to_string(),
            format,
            sanitised: None
        },
        "{description:?}"
    );
}

/// Decodes to `path`, with a note mentioning `why`.
fn sanitised(description: &str, path: &str, format: NameFormat, why: &str) {
    let name = decoded(description);
    assert_eq!(
        (name.path.as_str(), name.format),
        (path, format),
        "{description:?}"
    );
    let note = name.sanitised.unwrap_or_default();
    assert!(
        note.contains(why),
        "{description:?}: note {note:?} lacks {why:?}"
    );
}

#[test]
fn fastglacier_v2_to_v4() {
    clean(
        "<m><v>2</v><p>cGhvdG9zLzIwMTIvSU1HXzAwMDEuanBn</p><lm>20120515T171946Z</lm></m>",
        "photos/2012/IMG_0001.jpg",
        NameFormat::FastGlacier,
    );
    clean(
        "<m><v>4</v><p>0KTQvtGC0L4v0LvQtdGC0L4gMjAxMy5qcGc=</p><lm>20130701T080000Z</lm><ce>c=0;e=0</ce></m>",
        "Фото/лето 2013.jpg",
        NameFormat::FastGlacier,
    );
    // A hostile path inside the base64 is still made safe.
    sanitised(
        "<m><v>3</v><p>Li4vLi4vLi4vZXRjL2Nyb24uZC94</p><lm>20130101T000000Z</lm></m>",
        "__/__/__/etc/cron.d/x",
        NameFormat::FastGlacier,
        "..",
    );
    // Broken: not base64, no <p>, not XML.
    for broken in [
        "<m><v>2</v><p>***</p></m>",
        "<m><v>2</v><lm>20130101T000000Z</lm></m>",
        "<m><v>2</v><p>cGhvdG9z",
    ] {
        sanitised(
            broken,
            &archive_id_name(ID),
            NameFormat::ArchiveId,
            "fastglacier",
        );
    }
}

#[test]
fn fastglacier_v1_with_entities() {
    clean(
        "<ArchiveMetadata><Path>docs/R&amp;D/plan &lt;v2&gt;.txt</Path><Size>12</Size></ArchiveMetadata>",
        "docs/R&D/plan <v2>.txt",
        NameFormat::FastGlacierV1,
    );
    clean(
        "<ArchiveMetadata><Path>caf&#233;/&#x41;.txt</Path></ArchiveMetadata>",
        "café/A.txt",
        NameFormat::FastGlacierV1,
    );
    sanitised(
        "<ArchiveMetadata><Path>a&#10;b</Path></ArchiveMetadata>",
        "a_b",
        NameFormat::FastGlacierV1,
        "control",
    );
    sanitised(
        "<ArchiveMetadata><Size>1</Size></ArchiveMetadata>",
        &archive_id_name(ID),
        NameFormat::ArchiveId,
        "no <Path>",
    );
}

#[test]
fn cloudberry_and_aws_solution_json() {
    sanitised(
        r#"{"Path":"C:\\Users\\bob\\report.docx","UTCDateModified":"20130101T000000Z"}"#,
        "Users/bob/report.docx",
        NameFormat::CloudBerry,
        "backslash",
    );
    clean(
        r#"{"path":"backup/2020/db.sql","size":10}"#,
        "backup/2020/db.sql",
        NameFormat::CloudBerry,
    );
    // CloudBerry's Path is UTF-7; invalid UTF-7 is taken as written.
    sanitised(
        r#"{"Path":"c:\\Photos\\+BCQEPgRCBD4-.jpg","UTCDateModified":"20130101T000000Z","Flags":0}"#,
        "Photos/Фото.jpg",
        NameFormat::CloudBerry,
        "drive",
    );
    clean(r#"{"Path":"a+-b/c"}"#, "a+b/c", NameFormat::CloudBerry);
    clean(r#"{"Path":"a+b.txt"}"#, "a+b.txt", NameFormat::CloudBerry);
    clean(r#"{"path":"x+BCQ-"}"#, "x+BCQ-", NameFormat::CloudBerry);
    sanitised(
        r#"{"Path":1}"#,
        &archive_id_name(ID),
        NameFormat::ArchiveId,
        "not a string",
    );
    sanitised(
        r#"{"Name":"x"}"#,
        &archive_id_name(ID),
        NameFormat::ArchiveId,
        "no Path",
    );
}

#[test]
fn qnap_json() {
    sanitised(
        r#"{"type":"file","path":"/share/Public/photo.jpg","mtime":1357000000}"#,
        "share/Public/photo.jpg",
        NameFormat::Qnap,
        "absolute",
    );
}

#[test]
fn mt_aws_glacier_mt1_and_mt2() {
    clean(
        "mt2 eyJmaWxlbmFtZSI6ICLQpNC-0YLQvi9hIGIudHh0IiwgIm10aW1lIjogIjIwMTMwMTAxVDEyMDAwMFoifQ",
        "Фото/a b.txt",
        NameFormat::MtAwsGlacier,
    );
    // mt1: the same JSON, double-encoded (UTF-8 read as Latin-1, encoded again).
    clean(
        "mt1 eyJmaWxlbmFtZSI6ICLDkMKkw5DCvsORwoLDkMK-L2EgYi50eHQiLCAibXRpbWUiOiAiMjAxMzAxMDFUMTIwMDAwWiJ9",
        "Фото/a b.txt",
        NameFormat::MtAwsGlacier,
    );
    // Padding and the standard alphabet are accepted.
    clean(
        "mt2 eyJmaWxlbmFtZSI6InBob3Rvcy9hLmpwZyIsIm10aW1lIjoiMjAxMzAxMDFUMTIwMDAwWiJ9",
        "photos/a.jpg",
        NameFormat::MtAwsGlacier,
    );
    for broken in [
        "mt2 !!!!",
        "mt2 e30",
        "mt1 eyJmaWxlbmFtZSI6ICLQpNC-0YLQvi9hIGIudHh0IiwgIm10aW1lIjogIjIwMTMwMTAxVDEyMDAwMFoifQ",
    ] {
        sanitised(
            broken,
            &archive_id_name(ID),
            NameFormat::ArchiveId,
            "mt-aws-glacier",
        );
    }
}

#[test]
fn plain_paths_and_the_archive_id() {
    clean(
        "backup-2013.tar.gz",
        "backup-2013.tar.gz",
        NameFormat::PlainPath,
    );
    clean(
        "my archive description",
        "my archive description",
        NameFormat::PlainPath,
    );
    clean(
        "photos/2012/a.jpg",
        "photos/2012/a.jpg",
        NameFormat::PlainPath,
    );
    assert_eq!(
        decoded(""),
        DecodedName {
            path: ID.to_string(),
            format: NameFormat::ArchiveId,
            sanitised: None
        }
    );
    assert_eq!(decoded("   ").format, NameFormat::ArchiveId);
    for nothing in ["/", ".", "./", "//.//"] {
        sanitised(nothing, ID, NameFormat::ArchiveId, "empty");
    }
}

#[test]
fn unsafe_plain_paths_are_sanitised_not_dropped() {
    let path = NameFormat::PlainPath;
    sanitised("/etc/passwd", "etc/passwd", path, "absolute");
    sanitised("a/../../b", "a/__/__/b", path, "..");
    sanitised("..", "__", path, "..");
    sanitised("a\0b", "a_b", path, "NUL");
    sanitised("a\nb\u{1b}[31m\u{7f}\u{85}", "a_b_[31m__", path, "control");
    sanitised(
        "..\\..\\windows\\system32",
        "__/__/windows/system32",
        path,
        "backslash",
    );
    sanitised("./a//b/", "a/b", path, "empty");

    let long = format!("{}.jpg", "x".repeat(300));
    let name = decoded(&long);
    assert_eq!(name.path.len(), MAX_COMPONENT_BYTES);
    assert!(name.path.ends_with("xxx.jpg"));
    assert!(name.sanitised.unwrap().contains("255"));

    // A multi-byte character is never split.
    let name = decoded(&"é".repeat(200));
    assert!(name.path.len() <= MAX_COMPONENT_BYTES && name.path.chars().all(|c| c == 'é'));

    let deep = format!("{}file.txt", "directory/".repeat(1000));
    let name = decoded(&deep);
    assert!(name.path.len() <= MAX_PATH_BYTES);
    assert!(name.path.starts_with("directory/directory/"));
    assert!(name.path.ends_with("/file.txt"));
    assert!(name.sanitised.unwrap().contains("4096"));
}

#[test]
fn archive_id_names() {
    assert_eq!(archive_id_name(ID), ID);
    assert_eq!(archive_id_name("a/b\0c"), "a_b_c");
    assert_eq!(archive_id_name(""), "archive");
    assert_eq!(
        archive_id_name(&"i".repeat(1000)).len(),
        MAX_COMPONENT_BYTES
    );
}

#[test]
fn disambiguated_names() {
    let date = "2012-05-15T17:19:46.700Z";
    assert_eq!(
        disambiguate("photos/a.jpg", date, ID),
        "photos/a.20120515T171946Z-EXAMPLEA.jpg"
    );
    assert_eq!(
        disambiguate("README", date, ID),
        "README.20120515T171946Z-EXAMPLEA"
    );
    assert_eq!(
        disambiguate("d/.bashrc", date, ID),
        "d/.bashrc.20120515T171946Z-EXAMPLEA"
    );
    let long = format!("{}.tar", "n".repeat(MAX_COMPONENT_BYTES - 4));
    let name = disambiguate(&long, date, ID);
    assert!(
        name.len() <= MAX_COMPONENT_BYTES && name.ends_with("-EXAMPLEA.tar"),
        "{name}"
    );
    assert!(is_safe(&disambiguate("a/b", "not a date", "../..")));
    assert_ne!(
        disambiguate("a", date, "AAAAAAAA1"),
        disambiguate("a", date, "BBBBBBBB1")
    );
}

/// A fresh directory under the system temp dir, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "gv-names-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn prepare_under_creates_parents() {
    let root = Scratch::new();
    let file = prepare_under(&root.0, "a/b/c.txt").unwrap();
    assert_eq!(file, root.0.join("a/b/c.txt"));
    assert!(root.0.join("a/b").is_dir());
    assert!(!file.exists());
    // Again, with the parents there.
    assert_eq!(
        prepare_under(&root.0, "a/b/d.txt").unwrap(),
        root.0.join("a/b/d.txt")
    );
    assert_eq!(
        prepare_under(&root.0, "top.txt").unwrap(),
        root.0.join("top.txt")
    );
}

#[test]
fn prepare_under_refuses_symlinks_and_unsafe_paths() {
    let root = Scratch::new();
    let outside = Scratch::new();
    std::os::unix::fs::symlink(&outside.0, root.0.join("link")).unwrap();
    let err = prepare_under(&root.0, "link/x/file.txt").unwrap_err();
    assert!(err.to_string().contains("link is a symbolic link"), "{err}");
    assert!(!outside.0.join("x").exists(), "followed the link");

    // A symlink deeper down, and as the final component.
    std::fs::create_dir(root.0.join("real")).unwrap();
    std::os::unix::fs::symlink(&outside.0, root.0.join("real/deep")).unwrap();
    let err = prepare_under(&root.0, "real/deep/file").unwrap_err();
    assert!(err.to_string().contains("deep is a symbolic link"), "{err}");
    std::os::unix::fs::symlink(outside.0.join("target"), root.0.join("real/file")).unwrap();
    let err = prepare_under(&root.0, "real/file").unwrap_err();
    assert!(err.to_string().contains("file is a symbolic link"), "{err}");

    // A file where a directory should be.
    std::fs::write(root.0.join("plain"), b"x").unwrap();
    let err = prepare_under(&root.0, "plain/file").unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");

    for bad in ["", "/abs", "a/../b", "a//b", "a\0b"] {
        let err = prepare_under(&root.0, bad).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
    assert!(std::fs::read_dir(&outside.0).unwrap().next().is_none());
}

#[test]
fn prepare_under_a_missing_root_is_an_error() {
    let err = prepare_under(Path::new("/nonexistent/gv-names"), "a/b").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("/nonexistent/gv-names"));
}
