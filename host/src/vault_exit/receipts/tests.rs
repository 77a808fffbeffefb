use super::*;

fn receipt(id: &str, name: &str) -> Receipt {
    Receipt {
        archive_id: id.into(),
        name: name.into(),
        name_format: "path".into(),
        description: String::new(),
        size: 3,
        tree_hash: "ab".repeat(32),
        sha256: "ab".repeat(32),
        job_id: "j".into(),
        tier: "Bulk".into(),
        level: "tree-hash".into(),
        checks: Vec::new(),
        shard: "0/1".into(),
        initiated_at: None,
        verified_at: 1,
    }
}

fn dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("gv-receipts-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(d: &Path, f: &str) -> String {
    std::fs::read_to_string(d.join(f)).unwrap()
}

#[test]
fn a_torn_line_is_cut_and_a_searched_append_never_duplicates() {
    let d = dir("torn");
    append(&d, &d, &receipt("a", "x"), false).unwrap();
    // A crash in the middle of b's RECEIPTS line, after its other lines.
    let b = receipt("b", "y");
    let [s, t, n, r] = lines(&b);
    for (f, l) in FILES.iter().zip([s, t, n]) {
        std::fs::OpenOptions::new()
            .append(true)
            .open(d.join(f))
            .unwrap()
            .write_all(l.as_bytes())
            .unwrap();
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(d.join("RECEIPTS.jsonl"))
        .unwrap()
        .write_all(&r.as_bytes()[..10])
        .unwrap();
    append(&d, &d, &b, true).unwrap();
    // Once more, as a rerun after a crash before the mark would.
    append(&d, &d, &b, true).unwrap();
    for f in FILES {
        let text = read(&d, f);
        assert_eq!(text.lines().count(), 2, "{f}: {text}");
        assert!(text.ends_with('\n'));
    }
    let ids: Vec<String> = read(&d, "RECEIPTS.jsonl")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["archiveId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn backslashes_are_escaped_for_sha256sum() {
    assert_eq!(sha256sum_line("00", "a\\b"), "\\00  a\\\\b\n");
    assert_eq!(sha256sum_line("00", "a b"), "00  a b\n");
}

#[test]
fn archives_verified_together_get_every_line_once_after_a_torn_tail() {
    let d = dir("many");
    append(&d, &d, &receipt("a", "x"), false).unwrap();
    // A writer killed mid-line left a torn RECEIPTS.jsonl tail.
    std::fs::OpenOptions::new()
        .append(true)
        .open(d.join("RECEIPTS.jsonl"))
        .unwrap()
        .write_all(b"{\"archiveId\":\"torn")
        .unwrap();
    let group = [receipt("b", "y"), receipt("c", "z")];
    append_many(&d, &d, &group).unwrap();
    append_many(&d, &d, &[]).unwrap();
    for (i, f) in FILES.iter().enumerate() {
        let text = read(&d, f);
        let want: String = [receipt("a", "x"), group[0].clone(), group[1].clone()]
            .iter()
            .map(|r| lines(r)[i].clone())
            .collect();
        assert_eq!(text, want, "{f}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
