//! The plan of one shard: `DIR/.glacier-verify/state-I-of-N.sqlite`, one
//! row per archive, every state change in a transaction (WAL journal), so
//! that a kill at any instant loses nothing. The
//! schema is documented in docs/vault-exit.md; the file is read as
//! untrusted input: anything that is not this schema is a precise error.
//!
//! Schema version 2. `status_counts` (archives and bytes per status) is
//! kept by three triggers on `archives` inside each change's transaction,
//! so the loop reads its counts in O(1); at every read-write open the
//! triggers are made again and the table counted again from `archives`
//! (one scan), and a trigger that is not one of ours is refused.
//! `archives.job_description` is the current job's description as
//! ListJobs returned it, from `ready` until the job changes or ends;
//! stored as text, parsed by its reader. A version-1 file is upgraded in
//! place at a read-write open (one transaction) and read as it is by a
//! read-only one.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::HostError;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: &str = "2";

/// The version of the previous release, upgraded in place at a
/// read-write open (read-only, read as it is).
const SCHEMA_VERSION_1: &str = "1";

const SCHEMA: &str = "
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
    error          TEXT,
    job_description TEXT
) STRICT;
CREATE INDEX archives_status ON archives (status);
CREATE INDEX archives_job ON archives (job_id);
";

/// Version 1 to 2: the job's ListJobs description. (The counts table and
/// its triggers are made at every read-write open, [`COUNTS`].)
const UPGRADE_1_TO_2: &str = "ALTER TABLE archives ADD COLUMN job_description TEXT;";

/// The triggers of this schema, the only ones a state file may hold.
const TRIGGERS: [&str; 3] = [
    "archives_counts_insert",
    "archives_counts_update",
    "archives_counts_delete",
];

/// The archives and bytes of each status, kept exact by the triggers in
/// the transaction of every change of `archives` (a rolled-back change
/// rolls its counts back). Made again, and counted again from `archives`,
/// at every read-write open, so that their bodies and numbers are ours
/// whatever the file held.
const COUNTS: &str = "
DROP TRIGGER IF EXISTS archives_counts_insert;
DROP TRIGGER IF EXISTS archives_counts_update;
DROP TRIGGER IF EXISTS archives_counts_delete;
DROP TABLE IF EXISTS status_counts;
CREATE TABLE status_counts (
    status  TEXT PRIMARY KEY,
    archives INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
) STRICT;
INSERT INTO status_counts (status, archives, bytes)
    SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM archives GROUP BY status;
CREATE TRIGGER archives_counts_insert AFTER INSERT ON archives BEGIN
    INSERT INTO status_counts (status, archives, bytes) VALUES (NEW.status, 1, NEW.size)
        ON CONFLICT (status) DO UPDATE SET archives = archives + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER archives_counts_update AFTER UPDATE OF status, size ON archives
    WHEN OLD.status IS NOT NEW.status OR OLD.size IS NOT NEW.size BEGIN
    UPDATE status_counts SET archives = archives - 1, bytes = bytes - OLD.size
        WHERE status = OLD.status;
    INSERT INTO status_counts (status, archives, bytes) VALUES (NEW.status, 1, NEW.size)
        ON CONFLICT (status) DO UPDATE SET archives = archives + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER archives_counts_delete AFTER DELETE ON archives BEGIN
    UPDATE status_counts SET archives = archives - 1, bytes = bytes - OLD.size
        WHERE status = OLD.status;
END;
";

/// Where an archive is in the stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// In the plan; no job yet.
    Planned,
    /// InitiateJob is being (or was, just before a crash) called.
    Initiating,
    /// Its job runs.
    Initiated,
    /// Its job completed; the output can be downloaded.
    Ready,
    /// Being downloaded.
    Downloading,
    /// In DIR, verified.
    Verified,
    /// Given up, with the reason in `error`.
    Failed,
}

impl Status {
    /// Every status, in stage order.
    pub const ALL: [Status; 7] = [
        Status::Planned,
        Status::Initiating,
        Status::Initiated,
        Status::Ready,
        Status::Downloading,
        Status::Verified,
        Status::Failed,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Initiating => "initiating",
            Status::Initiated => "initiated",
            Status::Ready => "ready",
            Status::Downloading => "downloading",
            Status::Verified => "verified",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Which shard of which vault a state file is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardKey {
    /// The vault.
    pub vault: String,
    /// `--shard-index`
    pub index: u64,
    /// `--shard-count`
    pub count: u64,
}

impl ShardKey {
    /// `state-I-of-N.sqlite` in `dir`.
    pub fn state_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("state-{}-of-{}.sqlite", self.index, self.count))
    }
}

/// One archive of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Its id.
    pub archive_id: String,
    /// Its description in the inventory.
    pub description: String,
    /// Its creation date in the inventory.
    pub creation_date: String,
    /// Its size in the inventory.
    pub size: u64,
    /// Its tree hash in the inventory (hex).
    pub inventory_hash: String,
    /// Its file under DIR.
    pub path: String,
    /// How its name was found (`names::NameFormat::as_str`).
    pub name_format: String,
    /// Its stage.
    pub status: Status,
    /// Its current (or last) job.
    pub job_id: Option<String>,
    /// Jobs initiated for it.
    pub jobs_initiated: u32,
    /// Jobs that failed or expired.
    pub job_failures: u32,
    /// When its current job was initiated (Unix seconds).
    pub initiated_at: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Whether its receipt lines were written.
    pub receipt: bool,
    /// Its verified tree hash and linear SHA-256 (hex).
    pub hashes: Option<(String, String)>,
    /// Its current job's description as ListJobs returned it (JSON text,
    /// untrusted: the reader parses it), from `ready` until the job ends.
    pub job_description: Option<String>,
}

impl Row {
    /// An archive as the plan records it: its inventory facts and name,
    /// planned, no job yet, nothing verified.
    pub fn planned(
        archive_id: String,
        description: String,
        creation_date: String,
        size: u64,
        inventory_hash: String,
        path: String,
        name_format: String,
    ) -> Row {
        Row {
            archive_id,
            description,
            creation_date,
            size,
            inventory_hash,
            path,
            name_format,
            status: Status::Planned,
            job_id: None,
            jobs_initiated: 0,
            job_failures: 0,
            initiated_at: None,
            error: None,
            receipt: false,
            hashes: None,
            job_description: None,
        }
    }
}

/// A planned row of 10 bytes, for tests.
#[cfg(test)]
pub fn planned_row(id: &str, path: &str) -> Row {
    Row::planned(
        id.into(),
        String::new(),
        "2024-01-01T00:00:00Z".into(),
        10,
        "00".repeat(32),
        path.into(),
        "path".into(),
    )
}

/// The count and bytes of each status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `(status, archives, bytes)` for every status.
    pub by_status: Vec<(Status, u64, u64)>,
}

impl Counts {
    /// Archives in `s`.
    pub fn of(&self, s: Status) -> u64 {
        self.by_status.iter().find(|x| x.0 == s).map_or(0, |x| x.1)
    }

    /// Bytes of the archives in `s`.
    pub fn bytes_of(&self, s: Status) -> u64 {
        self.by_status.iter().find(|x| x.0 == s).map_or(0, |x| x.2)
    }

    /// Every archive.
    pub fn total(&self) -> u64 {
        self.by_status.iter().map(|x| x.1).sum()
    }

    /// Every archive's bytes.
    pub fn total_bytes(&self) -> u64 {
        self.by_status.iter().map(|x| x.2).sum()
    }

    /// Adds another shard's counts.
    pub fn add(&mut self, other: &Counts) {
        for s in Status::ALL {
            let (n, b) = (other.of(s), other.bytes_of(s));
            match self.by_status.iter_mut().find(|x| x.0 == s) {
                Some(x) => {
                    x.1 += n;
                    x.2 += b;
                }
                None => self.by_status.push((s, n, b)),
            }
        }
    }
}

/// A shard's state database, open.
pub struct State {
    conn: Connection,
    path: PathBuf,
    /// The columns its rows are read with: a version-1 file opened
    /// read-only has no `job_description`.
    columns: &'static str,
}

/// A database error, naming the file.
fn db_error(path: &Path, e: rusqlite::Error) -> HostError {
    HostError::Usage(format!(
        "{}: not a usable vault-exit state database: {e} (move it away to start this shard over)",
        path.display()
    ))
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl State {
    /// Opens (creating if missing) the state of `key` at `path`. A file
    /// that is a link, not SQLite, of another schema version, or of
    /// another vault or shard is refused.
    pub fn open(path: &Path, key: &ShardKey) -> Result<State, HostError> {
        refuse_link(path)?;
        let fresh = !path.exists();
        let conn = Connection::open(path).map_err(|e| db_error(path, e))?;
        let state = State {
            conn,
            path: path.to_owned(),
            columns: COLUMNS,
        };
        state.configure()?;
        if fresh {
            state.create(key)?;
        } else {
            let version = state.check_meta(Some(key))?;
            state.make_current(version)?;
        }
        Ok(state)
    }

    /// Opens an existing state read-only (for `--status` and `--dry-run`).
    pub fn open_read_only(path: &Path) -> Result<State, HostError> {
        refuse_link(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| db_error(path, e))?;
        let mut state = State {
            conn,
            path: path.to_owned(),
            columns: COLUMNS,
        };
        state
            .conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| db_error(path, e))?;
        if state.check_meta(None)? == SCHEMA_VERSION_1 {
            state.columns = COLUMNS_V1;
        }
        Ok(state)
    }

    fn err(&self, e: rusqlite::Error) -> HostError {
        db_error(&self.path, e)
    }

    fn configure(&self) -> Result<(), HostError> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(HostError::Usage(format!(
                "{}: the state database cannot use WAL journaling (journal_mode {mode})",
                self.path.display()
            )));
        }
        // Durability. A committed transaction is in the WAL file, so a
        // kill -9 of this process never loses it, whatever `synchronous`
        // says: `synchronous` is only about the machine losing power (or
        // the kernel crashing) before the page cache reaches the disk.
        // With NORMAL, a commit does not wait for an fsync of the WAL; a
        // power loss can then roll back a *suffix* of the transactions
        // (the WAL is appended in order, and an fsync makes every frame
        // before it durable), never leave a torn one, and never touch what
        // a FULL commit after them made durable.
        //
        // Two changes must survive a power loss, because what follows
        // them cannot be undone: `initiating` (InitiateJob is called next;
        // forgotten, the archive would be initiated twice) and `verified`
        // (the staged file is renamed next and its receipt lines written;
        // forgotten, it would be downloaded and its lines appended again).
        // Those are committed with synchronous=FULL ([`State::durable`]).
        // Every other change, rolled back by a power loss, is redone from
        // what the durable ones and Glacier say, at the cost of some
        // requests and nothing else:
        // - initiated (a job id): the row is `initiating` again and its job
        //   is found again in ListJobs and adopted;
        // - ready, downloading: found again by the next poll / taken as
        //   ready again at start;
        // - the receipt mark: the row is verified without it, and the lines
        //   already in the receipt files are searched, not written twice;
        // - failed, a lost job, planned again: retried, or counted again.
        self.conn
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(|e| self.err(e))
    }

    fn create(&self, key: &ShardKey) -> Result<(), HostError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        tx.execute_batch(COUNTS).map_err(|e| self.err(e))?;
        for (k, v) in [
            ("schema_version", SCHEMA_VERSION.to_string()),
            ("vault", key.vault.clone()),
            ("shard_index", key.index.to_string()),
            ("shard_count", key.count.to_string()),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![k, v],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// At a read-write open of an existing file: upgraded from version 1,
    /// the counts table and triggers made again, in one transaction.
    fn make_current(&self, version: &str) -> Result<(), HostError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        if version == SCHEMA_VERSION_1 {
            tx.execute_batch(UPGRADE_1_TO_2).map_err(|e| self.err(e))?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [SCHEMA_VERSION],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.execute_batch(COUNTS).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Refuses a file that is not this schema (version 1 or 2); returns
    /// its version.
    fn check_meta(&self, key: Option<&ShardKey>) -> Result<&'static str, HostError> {
        let version = self.meta("schema_version")?;
        let version = match version.as_deref() {
            Some(SCHEMA_VERSION) => SCHEMA_VERSION,
            Some(SCHEMA_VERSION_1) => SCHEMA_VERSION_1,
            other => {
                return Err(HostError::Usage(format!(
                    "{}: state schema version {} is not {SCHEMA_VERSION} or {SCHEMA_VERSION_1}, the versions this glacier-verify reads",
                    self.path.display(),
                    other.unwrap_or("(none)")
                )));
            }
        };
        // Every column this build reads must be there.
        let columns = if version == SCHEMA_VERSION_1 {
            COLUMNS_V1
        } else {
            COLUMNS
        };
        self.conn
            .prepare(&format!("SELECT {columns} FROM archives LIMIT 0"))
            .map_err(|e| self.err(e))?;
        self.refuse_foreign_trigger()?;
        if let Some(key) = key {
            let found = self.shard_key()?;
            if found != *key {
                return Err(HostError::Usage(format!(
                    "{}: this state is of vault {:?} shard {} of {}, not vault {:?} shard {} of {}",
                    self.path.display(),
                    found.vault,
                    found.index,
                    found.count,
                    key.vault,
                    key.index,
                    key.count
                )));
            }
        }
        Ok(version)
    }

    /// A trigger runs inside every change it is on: one that is not ours
    /// could change any row behind the stages' back.
    fn refuse_foreign_trigger(&self) -> Result<(), HostError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
            .map_err(|e| self.err(e))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        for name in names {
            let name = name.map_err(|e| self.err(e))?;
            if !TRIGGERS.contains(&name.as_str()) {
                return Err(HostError::Usage(format!(
                    "{}: the state database holds a trigger {name:?} that is not vault-exit's: refused",
                    self.path.display()
                )));
            }
        }
        Ok(())
    }

    /// The vault and shard this state is of.
    pub fn shard_key(&self) -> Result<ShardKey, HostError> {
        let number = |k: &str| -> Result<u64, HostError> {
            self.meta(k)?.and_then(|v| v.parse().ok()).ok_or_else(|| {
                HostError::Usage(format!(
                    "{}: meta {k} is missing or not a number",
                    self.path.display()
                ))
            })
        };
        Ok(ShardKey {
            vault: self.meta("vault")?.unwrap_or_default(),
            index: number("shard_index")?,
            count: number("shard_count")?,
        })
    }

    /// A `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, HostError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a `meta` value (one transaction).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), HostError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether the plan was written.
    pub fn is_planned(&self) -> Result<bool, HostError> {
        Ok(self.meta("planned_at")?.is_some())
    }

    /// Writes the whole plan in one transaction: either every row and
    /// `planned_at`, or nothing. `fill` gets a [`PlanWriter`]. The rows
    /// are counted once at the end ([`COUNTS`]) instead of by the insert
    /// trigger at each row, which would double the time of a large plan.
    pub fn write_plan<T>(
        &mut self,
        fill: impl FnOnce(&mut PlanWriter<'_>) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| db_error(&path, e))?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS names_seen (path TEXT PRIMARY KEY);
             DELETE FROM names_seen;
             DROP TRIGGER IF EXISTS archives_counts_insert;",
        )
        .map_err(|e| db_error(&path, e))?;
        let out = {
            let mut w = PlanWriter {
                tx: &tx,
                path: &path,
            };
            fill(&mut w)?
        };
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('planned_at', ?1)",
            [now().to_string()],
        )
        .map_err(|e| db_error(&path, e))?;
        tx.execute_batch("DROP TABLE names_seen;")
            .map_err(|e| db_error(&path, e))?;
        tx.execute_batch(COUNTS).map_err(|e| db_error(&path, e))?;
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(out)
    }

    /// Counts per status.
    pub fn counts(&self) -> Result<Counts, HostError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM archives GROUP BY status",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut counts = Counts::default();
        for row in rows {
            let (s, n, b) = row.map_err(|e| self.err(e))?;
            let status = Status::parse(&s).ok_or_else(|| self.bad(&format!("status {s:?}")))?;
            counts.by_status.push((
                status,
                u64::try_from(n).unwrap_or(0),
                u64::try_from(b).unwrap_or(0),
            ));
        }
        Ok(counts)
    }

    /// Archives and bytes per status, as [`counts`](Self::counts) has
    /// them, from the `status_counts` table (a few rows, kept by the
    /// triggers), so the loop can ask every turn. Only on a read-write
    /// open, which made that table.
    pub fn status_counts(&self) -> Result<Counts, HostError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT status, archives, bytes FROM status_counts WHERE archives <> 0 ORDER BY status",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut counts = Counts::default();
        for row in rows {
            let (s, n, b) = row.map_err(|e| self.err(e))?;
            let status = Status::parse(&s).ok_or_else(|| self.bad(&format!("status {s:?}")))?;
            counts.by_status.push((
                status,
                u64::try_from(n).unwrap_or(0),
                u64::try_from(b).unwrap_or(0),
            ));
        }
        Ok(counts)
    }

    fn bad(&self, what: &str) -> HostError {
        HostError::Usage(format!(
            "{}: the state database holds an invalid {what}",
            self.path.display()
        ))
    }

    /// Rows in `status`, in plan order, at most `limit`.
    pub fn rows(&self, status: Status, limit: u64) -> Result<Vec<Row>, HostError> {
        self.query(
            &format!(
                "SELECT {} FROM archives WHERE status = ?1 ORDER BY rowid LIMIT ?2",
                self.columns
            ),
            params![status.as_str(), to_i64(limit)],
        )
    }

    /// Verified rows whose receipt was not yet written.
    pub fn without_receipt(&self) -> Result<Vec<Row>, HostError> {
        self.query(
            &format!(
                "SELECT {} FROM archives WHERE status = 'verified' AND receipt = 0 ORDER BY rowid",
                self.columns
            ),
            [],
        )
    }

    /// The row whose current job is `job_id`.
    pub fn by_job(&self, job_id: &str) -> Result<Option<Row>, HostError> {
        Ok(self
            .query(
                &format!(
                    "SELECT {} FROM archives WHERE job_id = ?1 LIMIT 1",
                    self.columns
                ),
                [job_id],
            )?
            .pop())
    }

    /// Job id → archive id of the rows whose job runs (`initiated`).
    pub fn initiated_jobs(&self) -> Result<std::collections::HashMap<String, String>, HostError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT job_id, archive_id FROM archives WHERE status = 'initiated' AND job_id IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every failed row (for the summary).
    pub fn failed(&self) -> Result<Vec<Row>, HostError> {
        self.rows(Status::Failed, u64::MAX >> 1)
    }

    fn query(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Row>, HostError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(p, raw_row).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (row, status) = r.map_err(|e| self.err(e))?;
            let status = Status::parse(&status)
                .ok_or_else(|| self.bad(&format!("status {status:?} of {}", row.archive_id)))?;
            if glacier_verify_core::Digest::from_hex(row.inventory_hash.as_bytes()).is_err() {
                return Err(self.bad(&format!("inventory_hash of {}", row.archive_id)));
            }
            out.push(Row { status, ..row });
        }
        Ok(out)
    }

    /// Bytes of the archives whose jobs are staged: initiated, ready or
    /// being downloaded.
    pub fn staged_bytes(&self) -> Result<u64, HostError> {
        self.sum("SELECT COALESCE(SUM(size), 0) FROM archives WHERE status IN ('initiating','initiated','ready','downloading')", [])
    }

    /// Bytes of the jobs initiated since `since` (Unix seconds).
    pub fn bytes_initiated_since(&self, since: i64) -> Result<u64, HostError> {
        self.sum(
            "SELECT COALESCE(SUM(size), 0) FROM archives WHERE initiated_at >= ?1",
            [since],
        )
    }

    fn sum(&self, sql: &str, p: impl rusqlite::Params) -> Result<u64, HostError> {
        let n: i64 = self
            .conn
            .query_row(sql, p, |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn update(&self, sql: &str, p: impl rusqlite::Params) -> Result<(), HostError> {
        // Cached: the same few statements run for every archive.
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(p))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Runs `f`'s changes as one transaction: all of them or none. The
    /// `mark_*` calls inside `f` join it, so a batch of state changes costs
    /// one commit (one WAL fsync) instead of one each. Every rule that
    /// holds for one change holds for the batch: it is committed before
    /// the actions it allows and after the facts it records.
    pub fn batch<T>(&self, f: impl FnOnce() -> Result<T, HostError>) -> Result<T, HostError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let out = f()?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// [`batch`](Self::batch), committed with `synchronous=FULL`: on the
    /// disk when this returns, so that a power loss cannot forget it (see
    /// [`State::open`]'s configuration). For `initiating` and `verified`.
    pub fn durable<T>(&self, f: impl FnOnce() -> Result<T, HostError>) -> Result<T, HostError> {
        self.conn
            .execute_batch("PRAGMA synchronous=FULL")
            .map_err(|e| self.err(e))?;
        let out = self.batch(f);
        let back = self
            .conn
            .execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(|e| self.err(e));
        let out = out?;
        back?;
        Ok(out)
    }

    /// The connection's `PRAGMA synchronous` (1 NORMAL, 2 FULL).
    pub fn synchronous(&self) -> Result<i64, HostError> {
        self.conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Recorded before InitiateJob is called: a crash after the call is
    /// then found again through ListJobs. Only inside [`State::durable`].
    pub fn mark_initiating(&self, id: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'initiating' WHERE archive_id = ?1",
            [id],
        )
    }

    /// Its job runs (a new job: no description yet).
    pub fn mark_initiated(&self, id: &str, job_id: &str, at: i64) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'initiated', job_id = ?2, initiated_at = ?3,
             jobs_initiated = jobs_initiated + 1, job_description = NULL WHERE archive_id = ?1",
            params![id, job_id, at],
        )
    }

    /// Its job completed; `description` is the job's description as
    /// ListJobs returned it (JSON text), kept until the job ends.
    pub fn mark_ready(&self, id: &str, description: Option<&str>) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'ready', ready_at = ?2, job_description = ?3
             WHERE archive_id = ?1",
            params![id, now(), description],
        )
    }

    /// A download started.
    pub fn mark_downloading(&self, id: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'downloading' WHERE archive_id = ?1",
            [id],
        )
    }

    /// Back to `status` (a stopped download, an InitiateJob refused for now).
    pub fn mark_back(&self, id: &str, status: Status) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = ?2 WHERE archive_id = ?1",
            params![id, status.as_str()],
        )
    }

    /// Its job failed or expired: planned again (a new job), with the
    /// reason kept, and counted.
    pub fn mark_job_lost(&self, id: &str, why: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'planned', job_id = NULL, initiated_at = NULL,
             job_failures = job_failures + 1, error = ?2, job_description = NULL
             WHERE archive_id = ?1",
            params![id, why],
        )
    }

    /// Given up.
    pub fn mark_failed(&self, id: &str, why: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'failed', error = ?2, job_description = NULL
             WHERE archive_id = ?1",
            params![id, why],
        )
    }

    /// In DIR, verified; the receipt is still to be written. Only inside
    /// [`State::durable`].
    pub fn mark_verified(&self, id: &str, tree_hash: &str, sha256: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'verified', verified_at = ?2, tree_hash = ?3,
             sha256 = ?4, error = NULL, job_description = NULL WHERE archive_id = ?1",
            params![id, now(), tree_hash, sha256],
        )
    }

    /// Its receipt lines are in DIR.
    pub fn mark_receipt(&self, id: &str) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET receipt = 1 WHERE archive_id = ?1",
            [id],
        )
    }

    /// After a crash: downloads that were running are ready again.
    pub fn recover_downloads(&self) -> Result<(), HostError> {
        self.update(
            "UPDATE archives SET status = 'ready' WHERE status = 'downloading'",
            [],
        )
    }
}

/// The columns of a [`Row`], in [`raw_row`]'s order; the last one is
/// `job_description` (`NULL` in a version-1 file).
macro_rules! columns {
    ($job_description:literal) => {
        concat!(
            "archive_id, description, creation_date, size, inventory_hash, path, name_format, ",
            "status, job_id, jobs_initiated, job_failures, initiated_at, error, receipt, tree_hash, ",
            "sha256, ",
            $job_description
        )
    };
}

const COLUMNS: &str = columns!("job_description");
const COLUMNS_V1: &str = columns!("NULL");

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Row, String)> {
    let size: i64 = r.get(3)?;
    let tree_hash: Option<String> = r.get(14)?;
    let sha256: Option<String> = r.get(15)?;
    Ok((
        Row {
            archive_id: r.get(0)?,
            description: r.get(1)?,
            creation_date: r.get(2)?,
            size: u64::try_from(size).unwrap_or(0),
            inventory_hash: r.get(4)?,
            path: r.get(5)?,
            name_format: r.get(6)?,
            status: Status::Planned,
            job_id: r.get(8)?,
            jobs_initiated: u32::try_from(r.get::<_, i64>(9)?).unwrap_or(u32::MAX),
            job_failures: u32::try_from(r.get::<_, i64>(10)?).unwrap_or(u32::MAX),
            initiated_at: r.get(11)?,
            error: r.get(12)?,
            receipt: r.get::<_, i64>(13)? == 1,
            hashes: tree_hash.zip(sha256),
            job_description: r.get(16)?,
        },
        r.get(7)?,
    ))
}

/// Writes the plan's rows inside [`State::write_plan`]'s transaction.
pub struct PlanWriter<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    path: &'a Path,
}

impl PlanWriter<'_> {
    /// Claims `path` for one archive of the whole inventory (every shard
    /// claims every name, so that all shards name alike); false when an
    /// earlier archive has it.
    pub fn claim_name(&mut self, path: &str) -> Result<bool, HostError> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO names_seen (path) VALUES (?1)")
            .and_then(|mut stmt| stmt.execute([path]))
            .map(|n| n == 1)
            .map_err(|e| db_error(self.path, e))
    }

    /// Adds an archive of this shard, planned.
    pub fn add(&mut self, row: &Row) -> Result<(), HostError> {
        self.tx
            .prepare_cached(
                "INSERT INTO archives (archive_id, description, creation_date, size, inventory_hash,
                 path, name_format, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'planned')",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.archive_id,
                    row.description,
                    row.creation_date,
                    to_i64(row.size),
                    row.inventory_hash,
                    row.path,
                    row.name_format
                ])
            })
            .map(|_| ())
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    HostError::Usage(format!(
                        "the inventory lists archive {} twice",
                        row.archive_id
                    ))
                }
                e => db_error(self.path, e),
            })
    }
}

/// A state file must be a regular file, never a link.
fn refuse_link(path: &Path) -> Result<(), HostError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(HostError::Usage(format!(
            "{}: the state database is not a regular file (a link or a directory): refused",
            path.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
