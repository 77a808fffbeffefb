use super::*;

fn key() -> ShardKey {
    ShardKey {
        vault: "v".into(),
        index: 0,
        count: 1,
    }
}

use super::planned_row as row;

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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gv-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sized(id: &str, size: u64) -> Row {
    Row {
        size,
        ..row(id, id)
    }
}

/// The row of `id`, read through [`COLUMNS`].
fn one(s: &State, id: &str) -> Row {
    s.query(
        &format!("SELECT {} FROM archives WHERE archive_id = ?1", s.columns),
        [id],
    )
    .unwrap()
    .pop()
    .unwrap()
}

#[test]
fn the_counts_table_follows_every_change_and_every_rollback() {
    let dir = temp_dir("counts");
    let mut s = State::open(&key().state_path(&dir), &key()).unwrap();
    s.write_plan(|w| {
        for (id, size) in [("a", 1), ("b", 20), ("c", 300), ("d", 4000), ("e", 50000)] {
            w.add(&sized(id, size))?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(s.status_counts().unwrap(), s.counts().unwrap());
    assert_eq!(s.status_counts().unwrap().bytes_of(Status::Planned), 54321);
    s.durable(|| {
        ["a", "b", "c", "d"]
            .iter()
            .try_for_each(|id| s.mark_initiating(id))
    })
    .unwrap();
    s.mark_initiated("a", "j-a", 1).unwrap();
    s.mark_initiated("b", "j-b", 1).unwrap();
    s.mark_initiated("c", "j-c", 1).unwrap();
    s.mark_ready("a", Some("{}")).unwrap();
    s.mark_ready("b", None).unwrap();
    s.mark_downloading("a").unwrap();
    s.mark_verified("a", "t", "h").unwrap();
    s.mark_back("b", Status::Ready).unwrap();
    s.mark_job_lost("c", "expired").unwrap();
    s.mark_back("d", Status::Planned).unwrap();
    s.mark_failed("e", "no").unwrap();
    let before = s.counts().unwrap();
    assert_eq!(s.status_counts().unwrap(), before);
    // A batch that fails leaves the counts as they were.
    let failed: Result<(), HostError> = s.batch(|| {
        s.mark_downloading("b")?;
        s.mark_failed("c", "no")?;
        Err(HostError::Internal("stop".into()))
    });
    assert!(failed.is_err());
    assert_eq!(s.counts().unwrap(), before);
    assert_eq!(s.status_counts().unwrap(), before);
    // A size changed and a row deleted (not done by vault-exit) too.
    s.conn
        .execute_batch("UPDATE archives SET size = 7 WHERE archive_id = 'd'; DELETE FROM archives WHERE archive_id = 'e';")
        .unwrap();
    let after = s.counts().unwrap();
    assert_eq!(s.status_counts().unwrap(), after);
    assert_eq!(
        (after.of(Status::Failed), after.bytes_of(Status::Planned)),
        (0, 307)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The schema of the previous release, which wrote version 1.
const SCHEMA_1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE archives (
    archive_id     TEXT PRIMARY KEY,
    description    TEXT NOT NULL,
    creation_date  TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    inventory_hash TEXT NOT NULL,
    path           TEXT NOT NULL UNIQUE,
    name_format    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN
                   ('planned','initiating','initiated','ready','downloading','verified','failed')),
    job_id         TEXT,
    jobs_initiated INTEGER NOT NULL DEFAULT 0,
    job_failures   INTEGER NOT NULL DEFAULT 0,
    initiated_at   INTEGER,
    ready_at       INTEGER,
    verified_at    INTEGER,
    tree_hash      TEXT,
    sha256         TEXT,
    receipt        INTEGER NOT NULL DEFAULT 0 CHECK (receipt IN (0, 1)),
    error          TEXT
) STRICT;
CREATE INDEX archives_status ON archives (status);
CREATE INDEX archives_job ON archives (job_id);
INSERT INTO meta VALUES ('schema_version', '1'), ('vault', 'v'), ('shard_index', '0'),
    ('shard_count', '1'), ('planned_at', '5');
";

fn version_1_file(path: &Path) {
    let c = Connection::open(path).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    c.execute_batch(SCHEMA_1).unwrap();
    let hash = "00".repeat(32);
    for (id, size, status, job) in [
        ("p", 1, "planned", None),
        ("i", 20, "initiated", Some("j-i")),
        ("r", 300, "ready", Some("j-r")),
        ("v", 4000, "verified", Some("j-v")),
        ("f", 50000, "failed", None),
    ] {
        c.execute(
            "INSERT INTO archives (archive_id, description, creation_date, size, inventory_hash,
             path, name_format, status, job_id) VALUES (?1, '', 'd', ?2, ?3, ?1, 'path', ?4, ?5)",
            params![id, size, hash, status, job],
        )
        .unwrap();
    }
}

fn schema_of(path: &Path) -> (String, Vec<String>) {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let version = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = c
        .prepare("SELECT type || ' ' || name FROM sqlite_schema ORDER BY name")
        .unwrap();
    let names = stmt.query_map([], |r| r.get(0)).unwrap();
    (version, names.map(Result::unwrap).collect())
}

#[test]
fn a_version_1_file_is_upgraded_in_place_and_read_as_it_is() {
    let dir = temp_dir("v1");
    let path = key().state_path(&dir);
    version_1_file(&path);
    let v1 = schema_of(&path);
    assert_eq!(v1.0, "1");
    // Read-only: read, not changed.
    let ro = State::open_read_only(&path).unwrap();
    let c = ro.counts().unwrap();
    assert_eq!((c.total(), c.bytes_of(Status::Ready)), (5, 300));
    assert_eq!(ro.failed().unwrap()[0].job_description, None);
    assert_eq!(ro.by_job("j-r").unwrap().unwrap().archive_id, "r");
    drop(ro);
    assert_eq!(schema_of(&path), v1);
    // Read-write: version 2, every row kept, counted.
    let s = State::open(&path, &key()).unwrap();
    assert_eq!(s.meta("schema_version").unwrap().as_deref(), Some("2"));
    let c = s.counts().unwrap();
    assert_eq!(s.status_counts().unwrap(), c);
    for (st, n, b) in [
        (Status::Planned, 1, 1),
        (Status::Initiated, 1, 20),
        (Status::Ready, 1, 300),
        (Status::Verified, 1, 4000),
        (Status::Failed, 1, 50000),
    ] {
        assert_eq!((c.of(st), c.bytes_of(st)), (n, b), "{st:?}");
    }
    let r = one(&s, "r");
    assert_eq!(
        (r.status, r.job_id.as_deref(), r.job_description),
        (Status::Ready, Some("j-r"), None)
    );
    s.mark_ready("r", Some("{\"JobId\":\"j-r\"}")).unwrap();
    s.mark_downloading("r").unwrap();
    assert_eq!(s.status_counts().unwrap(), s.counts().unwrap());
    drop(s);
    let (version, names) = schema_of(&path);
    assert_eq!(version, "2");
    for t in TRIGGERS {
        assert!(names.contains(&format!("trigger {t}")), "{names:?}");
    }
    // And version 2 read-only, while the run could hold it.
    let ro = State::open_read_only(&path).unwrap();
    assert_eq!(
        one(&ro, "r").job_description.as_deref(),
        Some("{\"JobId\":\"j-r\"}")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tampered_counts_and_triggers_are_made_again_at_open() {
    let dir = temp_dir("tampered");
    let path = key().state_path(&dir);
    let mut s = State::open(&path, &key()).unwrap();
    s.write_plan(|w| {
        w.add(&sized("a", 3))?;
        w.add(&sized("b", 5))
    })
    .unwrap();
    s.mark_failed("b", "no").unwrap();
    // Wrong numbers, a status with none, and a trigger of ours that does
    // nothing.
    s.conn
        .execute_batch(
            "UPDATE status_counts SET archives = 999, bytes = -7;
             INSERT INTO status_counts VALUES ('verified', 5, 5);
             DROP TRIGGER archives_counts_update;
             CREATE TRIGGER archives_counts_update AFTER UPDATE ON archives BEGIN SELECT 1; END;",
        )
        .unwrap();
    assert_ne!(s.status_counts().unwrap(), s.counts().unwrap());
    drop(s);
    let s = State::open(&path, &key()).unwrap();
    let c = s.status_counts().unwrap();
    assert_eq!(c, s.counts().unwrap());
    assert_eq!(
        (c.of(Status::Planned), c.bytes_of(Status::Failed), c.total()),
        (1, 5, 2)
    );
    s.mark_failed("a", "no").unwrap();
    assert_eq!(s.status_counts().unwrap(), s.counts().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_foreign_trigger_is_refused_by_its_name() {
    let dir = temp_dir("trigger");
    let path = key().state_path(&dir);
    drop(State::open(&path, &key()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER sneaky AFTER UPDATE ON archives BEGIN
             UPDATE archives SET receipt = 1; END;",
        )
        .unwrap();
    let e = State::open(&path, &key()).err().unwrap().to_string();
    assert!(
        e.contains("trigger \"sneaky\"") && e.contains("not vault-exit's"),
        "{e}"
    );
    let e = State::open_read_only(&path).err().unwrap().to_string();
    assert!(e.contains("trigger \"sneaky\""), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_job_description_lives_as_long_as_its_job() {
    let dir = temp_dir("jobdesc");
    let mut s = State::open(&key().state_path(&dir), &key()).unwrap();
    let ids = ["verified", "lost", "failed", "again"];
    s.write_plan(|w| ids.iter().try_for_each(|id| w.add(&row(id, id))))
        .unwrap();
    let json = "{\"JobId\":\"j\",\"StatusCode\":\"Succeeded\"}";
    for id in ids {
        s.mark_initiating(id).unwrap();
        s.mark_initiated(id, &format!("j-{id}"), 1).unwrap();
        assert_eq!(one(&s, id).job_description, None);
        s.mark_ready(id, Some(json)).unwrap();
        assert_eq!(one(&s, id).job_description.as_deref(), Some(json), "{id}");
    }
    s.mark_downloading("verified").unwrap();
    assert_eq!(one(&s, "verified").job_description.as_deref(), Some(json));
    s.mark_back("verified", Status::Ready).unwrap();
    assert_eq!(one(&s, "verified").job_description.as_deref(), Some(json));
    s.mark_downloading("verified").unwrap();
    s.mark_verified("verified", "t", "h").unwrap();
    s.mark_job_lost("lost", "expired").unwrap();
    s.mark_failed("failed", "no").unwrap();
    s.mark_initiated("again", "j-again-2", 2).unwrap();
    for id in ids {
        assert_eq!(one(&s, id).job_description, None, "{id}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
