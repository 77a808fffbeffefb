use super::*;

fn key() -> ShardKey {
    ShardKey {
        vault: "v".into(),
        index: 0,
        count: 1,
    }
}

fn row(id: &str, path: &str) -> Row {
    Row {
        archive_id: id.into(),
        description: String::new(),
        creation_date: "2024-01-01T00:00:00Z".into(),
        size: 10,
        inventory_hash: "00".repeat(32),
        path: path.into(),
        name_format: "path".into(),
        status: Status::Planned,
        job_id: None,
        jobs_initiated: 0,
        job_failures: 0,
        initiated_at: None,
        error: None,
        receipt: false,
        hashes: None,
    }
}

#[test]
fn the_plan_is_written_whole_and_states_persist() {
    let dir = std::env::temp_dir().join(format!("gv-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = key().state_path(&dir);
    let mut s = State::open(&path, &key()).unwrap();
    assert!(!s.is_planned().unwrap());
    // A failing fill leaves nothing behind.
    let e = s.write_plan(|w| {
        w.add(&row("a", "x"))?;
        w.add(&row("a", "y"))
    });
    assert!(e.unwrap_err().to_string().contains("twice"));
    assert!(!s.is_planned().unwrap());
    assert_eq!(s.counts().unwrap().total(), 0);
    s.write_plan(|w| {
        assert!(w.claim_name("x")?);
        assert!(!w.claim_name("x")?);
        w.add(&row("a", "x"))?;
        w.add(&row("b", "y"))
    })
    .unwrap();
    s.mark_initiating("a").unwrap();
    s.mark_initiated("a", "job-1", 5).unwrap();
    drop(s);
    let s = State::open(&path, &key()).unwrap();
    assert!(s.is_planned().unwrap());
    assert_eq!(s.by_job("job-1").unwrap().unwrap().archive_id, "a");
    assert_eq!(s.counts().unwrap().of(Status::Initiated), 1);
    assert_eq!(s.staged_bytes().unwrap(), 10);
    assert_eq!(s.bytes_initiated_since(5).unwrap(), 10);
    assert_eq!(s.bytes_initiated_since(6).unwrap(), 0);
    // Another shard's key is refused, precisely.
    let other = ShardKey {
        index: 1,
        count: 2,
        ..key()
    };
    let e = State::open(&path, &other).err().unwrap().to_string();
    assert!(
        e.contains("shard 0 of 1") && e.contains("shard 1 of 2"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_files_are_precise_errors() {
    let dir = std::env::temp_dir().join(format!("gv-state-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state-0-of-1.sqlite");
    std::fs::write(
        &path,
        b"this is not sqlite, just text long enough to be a header....",
    )
    .unwrap();
    let e = State::open(&path, &key()).err().unwrap().to_string();
    assert!(e.contains("not a usable vault-exit state database"), "{e}");
    std::fs::remove_file(&path).unwrap();
    // SQLite, but another schema.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '99');")
        .unwrap();
    let e = State::open(&path, &key()).err().unwrap().to_string();
    assert!(e.contains("schema version 99"), "{e}");
    std::fs::remove_file(&path).unwrap();
    // A link is not followed.
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    let e = State::open(&path, &key()).err().unwrap().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_the_changes_that_cannot_be_redone_wait_for_the_disk() {
    let dir = std::env::temp_dir().join(format!("gv-state-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = State::open(&key().state_path(&dir), &key()).unwrap();
    // NORMAL (1) for the changes a power loss may roll back, FULL (2)
    // inside `durable`, and NORMAL again after it, even when it failed.
    assert_eq!(s.synchronous().unwrap(), 1);
    let inside = s.durable(|| s.synchronous()).unwrap();
    assert_eq!(inside, 2);
    assert_eq!(s.synchronous().unwrap(), 1);
    let failed: Result<(), HostError> = s.durable(|| Err(HostError::Internal("no".into())));
    assert!(failed.is_err());
    assert_eq!(s.synchronous().unwrap(), 1);
    assert_eq!(s.batch(|| s.synchronous()).unwrap(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
