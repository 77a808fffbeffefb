use std::fs::OpenOptions;

use super::*;

fn header() -> JournalHeader {
    JournalHeader {
        vault: "my vault".into(),
        job_id: "job-1".into(),
        output_len: 100 << 20,
        part_size: 16 << 20,
    }
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("gv-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[test]
fn records_survive_reopen_and_torn_lines_are_ignored() {
    let dir = Dir::new("torn");
    let path = dir.0.join("a.part.journal");
    let h = Digest([7; 32]);
    {
        let mut o = Journal::open_parts(&path, &header()).unwrap();
        assert!(o.records.is_empty());
        o.journal.record(3, &h, HeaderHash::Matched(h)).unwrap();
        o.journal.record(0, &h, HeaderHash::NotSent).unwrap();
        o.journal
            .record(1, &h, HeaderHash::MissingButExpected)
            .unwrap();
    }
    // A crash mid-append leaves a torn line.
    append(&path, "part 5 abc");
    let o = Journal::open_parts(&path, &header()).unwrap();
    assert_eq!(
        o.records,
        vec![
            (0, h, HeaderHash::NotSent),
            (1, h, HeaderHash::MissingButExpected),
            (3, h, HeaderHash::Matched(h)),
        ]
    );
    assert!(o.notes.is_empty(), "{:?}", o.notes);
    drop(o);
    // The torn line was cut off: a new record after it reads back.
    let mut o = Journal::open_parts(&path, &header()).unwrap();
    o.journal.record(4, &h, HeaderHash::NotSent).unwrap();
    drop(o);
    assert_eq!(
        Journal::open_parts(&path, &header()).unwrap().records.len(),
        4
    );
    // Another layout starts over.
    let mut other = header();
    other.part_size = 32 << 20;
    assert!(
        Journal::open_parts(&path, &other)
            .unwrap()
            .records
            .is_empty()
    );
    assert!(
        Journal::open_parts(&path, &header())
            .unwrap()
            .records
            .is_empty(),
        "the journal was rewritten for the other layout"
    );
}

#[test]
fn repeated_lines_count_once_and_contradictions_are_dropped() {
    let dir = Dir::new("dups");
    let path = dir.0.join("a.part.journal");
    let (a, b) = (Digest([1; 32]), Digest([2; 32]));
    drop(Journal::open_parts(&path, &header()).unwrap());
    let line = format!("part 2 {a} header\n");
    append(&path, &line.repeat(3));
    append(&path, &format!("part 4 {a} header\npart 4 {b} header\n"));
    append(&path, &format!("part 99 {a} header\ngarbage\n"));
    let o = Journal::open_parts(&path, &header()).unwrap();
    assert_eq!(o.records, vec![(2, a, HeaderHash::Matched(a))]);
    let notes = o.notes.join(" | ");
    assert!(notes.contains("contradicts itself"), "{notes}");
    assert!(notes.contains("2 journal line(s)"), "{notes}");
}

#[test]
fn a_hundred_thousand_copies_of_a_line_are_discarded_unread() {
    let dir = Dir::new("copies");
    let path = dir.0.join("a.part.journal");
    drop(Journal::open_parts(&path, &header()).unwrap());
    let a = Digest([1; 32]);
    append(&path, &format!("part 2 {a} header\n").repeat(100_000));
    let started = std::time::Instant::now();
    let o = Journal::open_parts(&path, &header()).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(o.records.is_empty());
    assert!(
        o.notes.iter().any(|n| n.contains("larger than")),
        "{:?}",
        o.notes
    );
}

#[test]
fn a_journal_larger_than_the_job_could_need_is_discarded() {
    let dir = Dir::new("big");
    let path = dir.0.join("a.part.journal");
    drop(Journal::open_parts(&path, &header()).unwrap());
    // Seven parts need well under 2 KiB of journal; this is 64 KiB.
    append(&path, &"x".repeat(64 << 10));
    let o = Journal::open_parts(&path, &header()).unwrap();
    assert!(o.records.is_empty());
    assert!(
        o.notes.iter().any(|n| n.contains("larger than")),
        "{:?}",
        o.notes
    );
    // The fresh journal is small again.
    assert!(std::fs::metadata(&path).unwrap().len() < 200);
}

#[test]
fn a_line_longer_than_any_record_discards_the_journal() {
    let dir = Dir::new("long");
    let path = dir.0.join("s.part.journal");
    let head = stream_head("v", "j", None, None);
    let mut o = Journal::open_stream(&path, &head, None).unwrap();
    o.journal.record_line(&format!("upto {}", 1 << 20)).unwrap();
    drop(o);
    append(&path, &format!("{}\n", "9".repeat(400)));
    let o = Journal::open_stream(&path, &head, None).unwrap();
    assert_eq!(o.records, StreamState::default());
    assert!(o.notes.iter().any(|n| n.contains("longer than any record")));
}

#[test]
fn stream_state_takes_the_last_sound_record() {
    let dir = Dir::new("stream");
    let path = dir.0.join("s.part.journal");
    let head = stream_head("v", "j", Some(64 << 20), None);
    let h = Digest([5; 32]);
    {
        let mut o = Journal::open_stream(&path, &head, Some(64 << 20)).unwrap();
        o.journal.record_line(&format!("first-header {h}")).unwrap();
        o.journal.record_line("upto 16777216").unwrap();
        o.journal.record_line("upto 33554432").unwrap();
        // Not a whole MiB, past the output: not ours.
        o.journal.record_line("upto 33554433").unwrap();
        o.journal.record_line("upto 134217728").unwrap();
    }
    let o = Journal::open_stream(&path, &head, Some(64 << 20)).unwrap();
    assert_eq!(
        o.records,
        StreamState {
            upto: 32 << 20,
            first_header: Some(h)
        }
    );
}

#[test]
fn links_and_other_files_are_refused_not_followed() {
    let dir = Dir::new("links");
    let target = dir.0.join("unrelated.txt");
    std::fs::write(&target, b"keep me").unwrap();
    let path = dir.0.join("a.part.journal");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let e = Journal::open_parts(&path, &header())
        .err()
        .expect("refused");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(e.exit_code(), crate::error::exit::IO);
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    // A directory in its place.
    let path = dir.0.join("b.part.journal");
    std::fs::create_dir(&path).unwrap();
    let e = Journal::open_parts(&path, &header())
        .err()
        .expect("refused");
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[test]
fn a_stream_journal_is_created_by_its_first_durable_record_only() {
    let dir = Dir::new("lazy");
    let path = dir.0.join("s.part.journal");
    let head = stream_head("v", "j", Some(64 << 20), None);
    let h = glacier_verify_core::tree_hash(b"x");
    // Verified before any checkpoint: no file, whatever was noted.
    let mut o = Journal::open_stream(&path, &head, Some(64 << 20)).unwrap();
    o.journal.record_line_later(&format!("first-header {h}"));
    assert!(!o.journal.exists());
    o.journal.sync().unwrap();
    drop(o);
    assert!(!path.exists(), "a journal without a record was created");
    // The first record creates it, with the noted line before it.
    let mut o = Journal::open_stream(&path, &head, Some(64 << 20)).unwrap();
    o.journal.record_line_later(&format!("first-header {h}"));
    o.journal.record_line("upto 16777216").unwrap();
    assert!(o.journal.exists());
    drop(o);
    let o = Journal::open_stream(&path, &head, Some(64 << 20)).unwrap();
    assert_eq!(
        o.records,
        StreamState {
            upto: 16 << 20,
            first_header: Some(h),
        }
    );
    assert!(o.journal.exists());
}
