//! `for_each_archive` reads a 200,000-archive inventory in memory that does
//! not grow with the archive count: the peak resident set (VmHWM, reset
//! through /proc/self/clear_refs) is measured around the read. A control
//! run that keeps the archives shows the measurement would see a parser that
//! collected the list. One test in its own binary, so no other test's
//! allocations share the process.

use std::io::{self, Read};
use std::ops::ControlFlow;

use glacier_verify::inventory::{Format, for_each_archive};

const HASH: &str = "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a";
const ARCHIVES: usize = 200_000;

/// An inventory generated record by record, never held whole.
struct Generated {
    format: Format,
    next: usize,
    count: usize,
    pending: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Generated {
    fn new(format: Format, count: usize) -> Self {
        let head = match format {
            Format::Json => {
                r#"{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/v","ArchiveList":["#
                    .to_string()
            }
            Format::Csv => {
                "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n".to_string()
            }
        };
        Generated {
            format,
            next: 0,
            count,
            pending: head.into_bytes(),
            pos: 0,
            done: false,
        }
    }

    fn refill(&mut self) {
        self.pending.clear();
        self.pos = 0;
        let i = self.next;
        // A Glacier-sized id (138 characters) and a realistic description.
        let id = format!("{i:0>138}");
        if i == self.count {
            if self.format == Format::Json {
                self.pending
                    .extend_from_slice(br#"],"InventoryDate":"2011-12-12T14:19:01Z"}"#);
            }
            self.done = true;
        } else {
            let record = match self.format {
                Format::Json => format!(
                    r#"{}{{"ArchiveId":"{id}","ArchiveDescription":"<m><v>4</v><p>cGhvdG9zLzIwMTIvSU1HXzAwMDEuanBn</p><lm>20120515T171946Z</lm></m>","CreationDate":"2012-05-15T17:19:46.700Z","Size":{i},"SHA256TreeHash":"{HASH}"}}"#,
                    if i == 0 { "" } else { "," }
                ),
                Format::Csv => format!(
                    "{id},\"photos/2012/IMG_{i}.jpg, a \\\"copy\\\"\",2012-05-15T17:19:46.700Z,{i},{HASH}\n"
                ),
            };
            self.pending.extend_from_slice(record.as_bytes());
        }
        self.next += 1;
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.pending.len() {
            if self.done {
                return Ok(0);
            }
            self.refill();
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// VmHWM and VmRSS of this process, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Peak resident growth while `run` runs, in KiB.
fn peak_growth(run: impl FnOnce()) -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident set");
    let before = status_kib("VmRSS:");
    run();
    status_kib("VmHWM:").saturating_sub(before)
}

#[test]
fn memory_does_not_grow_with_the_archive_count() {
    for format in [Format::Json, Format::Csv] {
        // Warm up (buffers, lazily mapped pages), then measure.
        for_each_archive(Generated::new(format, 1_000), |_| ControlFlow::Continue(())).unwrap();
        let mut count = 0u64;
        let mut last_size = 0;
        let growth = peak_growth(|| {
            let summary = for_each_archive(Generated::new(format, ARCHIVES), |archive| {
                count += 1;
                last_size = archive.size;
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(summary.archives, ARCHIVES as u64);
            assert_eq!(summary.format, format);
        });
        assert_eq!(count, ARCHIVES as u64);
        assert_eq!(last_size, ARCHIVES as u64 - 1);
        assert!(
            growth < 4 * 1024,
            "{format:?}: peak grew {growth} KiB for {ARCHIVES} archives"
        );
    }

    // The control, last (freed memory may stay resident): keeping the
    // archives, as a parser that collected the list would, is visible to the
    // same measurement (about 50 MB for 200,000 archives).
    let mut kept = Vec::new();
    let growth = peak_growth(|| {
        for_each_archive(Generated::new(Format::Csv, ARCHIVES), |archive| {
            kept.push(archive);
            ControlFlow::Continue(())
        })
        .unwrap();
    });
    assert_eq!(kept.len(), ARCHIVES);
    assert!(growth > 16 * 1024, "control grew only {growth} KiB");
}
