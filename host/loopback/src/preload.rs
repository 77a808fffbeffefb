//! A vault preloaded with archives, for whole-vault tests (`vault-exit`):
//! archives registered without any job ([`Endpoint::add_archive`]), a
//! deterministic generator of them ([`generated_archives`]), a count of
//! InitiateJob calls per archive ([`Endpoint::initiate_count`]) and, with
//! `faults`, rules for the jobs InitiateJob creates for one archive
//! ([`Endpoint::on_initiate`]): fail them, or give them fault rules (a
//! corrupted body, an expired output).

use std::collections::HashMap;
use std::sync::Mutex;

#[cfg(feature = "faults")]
use crate::fault::FaultRule;
use crate::job::{Job, Output};
use crate::payload::Payload;
use crate::server::{Endpoint, lock};

/// What to do to the next jobs InitiateJob creates for an archive.
#[cfg(feature = "faults")]
#[derive(Clone, Debug)]
pub enum InitiateRule {
    /// The next `times` jobs fail with this `StatusMessage`.
    Fail {
        /// How many jobs.
        times: u32,
        /// DescribeJob / ListJobs `StatusMessage`.
        message: String,
    },
    /// The next `times` jobs get these fault rules (e.g. a flipped bit, or
    /// a 404 ResourceNotFoundException on every GetJobOutput: an expired job).
    Faults {
        /// How many jobs.
        times: u32,
        /// The rules each such job gets.
        rules: Vec<FaultRule>,
    },
}

/// Per-archive InitiateJob counts and rules, kept by the endpoint.
#[derive(Debug, Default)]
pub(crate) struct InitiateBook {
    counts: Mutex<HashMap<String, u32>>,
    #[cfg(feature = "faults")]
    rules: Mutex<HashMap<String, Vec<InitiateRule>>>,
}

impl InitiateBook {
    /// Counts an archive-retrieval job InitiateJob is creating and applies
    /// the archive's first pending rule to it.
    pub(crate) fn on_initiated(&self, job: Job) -> Job {
        let Output::Archive { archive_id, .. } = &job.output else {
            return job;
        };
        let archive_id = archive_id.clone();
        *lock(&self.counts).entry(archive_id.clone()).or_insert(0) += 1;
        #[cfg(feature = "faults")]
        let job = self.apply_rule(&archive_id, job);
        job
    }

    #[cfg(feature = "faults")]
    fn apply_rule(&self, archive_id: &str, job: Job) -> Job {
        let mut rules = lock(&self.rules);
        let Some(list) = rules.get_mut(archive_id) else {
            return job;
        };
        let Some(rule) = list.first_mut() else {
            return job;
        };
        let (times, job) = match rule {
            InitiateRule::Fail { times, message } => {
                job.lock().failed = Some(message.clone());
                (times, job)
            }
            InitiateRule::Faults { times, rules } => {
                let job = job.with_faults(rules.clone());
                (times, job)
            }
        };
        *times = times.saturating_sub(1);
        if *times == 0 {
            list.remove(0);
        }
        job
    }
}

/// An archive of a preloaded vault.
#[derive(Clone, Debug)]
pub struct PreloadedArchive {
    /// Its archive id (138 characters, like Glacier's).
    pub archive_id: String,
    /// Its description (`ArchiveDescription`), often an encoded file name.
    pub description: String,
    /// Its bytes.
    pub payload: Payload,
}

/// `n` archives generated from `seed`, the same for the same arguments:
/// sizes from 1 byte to a few MiB (Glacier archives have at least one
/// byte), descriptions in the file-name formats backup tools write —
/// FastGlacier v1 XML, CloudBerry and QNAP JSON, plain paths — including
/// unsafe names (`..`, absolute, `.` and empty components, backslashes),
/// empty ones and
/// names shared by two archives.
pub fn generated_archives(n: usize, seed: u64) -> Vec<PreloadedArchive> {
    (0..n).map(|i| generated_archive(i, seed)).collect()
}

fn generated_archive(i: usize, seed: u64) -> PreloadedArchive {
    let key = format!("{seed}:{i}");
    let h1 = glacier_verify_core::tree_hash(key.as_bytes()).to_string();
    let h2 = glacier_verify_core::tree_hash(h1.as_bytes()).to_string();
    // 138 characters of [0-9a-f_-], like Glacier's URL-safe archive ids.
    let archive_id = format!("{h1}{h2}_-{}", &h1[..8]);
    PreloadedArchive {
        archive_id,
        description: generated_description(i),
        payload: Payload::pattern(generated_size(i, seed), seed ^ (i as u64 + 1)),
    }
}

/// Mostly small archives, every 25th a few MiB, and the sizes around the
/// 1 MiB leaf boundary.
fn generated_size(i: usize, seed: u64) -> u64 {
    const MIB: u64 = 1 << 20;
    match i % 25 {
        0 => 3 * MIB + 17,
        1 => 1,
        2 => MIB,
        3 => MIB + 1,
        4 => MIB - 1,
        _ => 1 + (seed.wrapping_mul(31).wrapping_add(i as u64 * 7919)) % (48 << 10),
    }
}

fn generated_description(i: usize) -> String {
    let dir = format!("dir{}", i % 7);
    match i % 10 {
        0 => format!("<ArchiveMetadata><Path>{dir}/fast-{i}.txt</Path></ArchiveMetadata>"),
        1 => format!(r#"{{"Path":"{dir}/cloudberry-{i}.bin"}}"#),
        2 => format!(r#"{{"type":"file","path":"/share/{dir}/qnap-{i}.dat"}}"#),
        3 => format!("{dir}/plain {i}.txt"),
        4 => format!("../../escape-{i}"),
        5 => format!("/absolute/{dir}/abs-{i}"),
        // Every such archive shares its name with the others of its kind.
        6 => "duplicate/same-name.txt".into(),
        7 => String::new(),
        // Glacier takes printable ASCII only: no control character ever
        // reaches a description.
        8 => format!("{dir}/./dots//back\\slash-{i}"),
        _ => format!("{dir}/sub dir/deep-{i}.tar.gz"),
    }
}

impl Endpoint {
    /// Registers an archive in a vault (created if missing) without any
    /// job, as an upload would: it is in the vault's inventories and
    /// InitiateJob retrieves it. Replaces an archive with the same id.
    pub fn add_archive(&self, vault: &str, archive: &PreloadedArchive) {
        self.shared.register_archive(
            vault,
            &archive.archive_id,
            Some(archive.description.clone()).filter(|d| !d.is_empty()),
            &archive.payload,
            None,
        );
    }

    /// How many archive-retrieval jobs InitiateJob created for `archive_id`.
    pub fn initiate_count(&self, archive_id: &str) -> u32 {
        lock(&self.shared.initiate_book.counts)
            .get(archive_id)
            .copied()
            .unwrap_or(0)
    }

    /// InitiateJob's archive-retrieval jobs per archive id.
    pub fn initiate_counts(&self) -> HashMap<String, u32> {
        lock(&self.shared.initiate_book.counts).clone()
    }

    /// Applies `rule` to the next jobs InitiateJob creates for `archive_id`
    /// (rules of one archive apply one after the other).
    #[cfg(feature = "faults")]
    pub fn on_initiate(&self, archive_id: &str, rule: InitiateRule) {
        lock(&self.shared.initiate_book.rules)
            .entry(archive_id.to_owned())
            .or_default()
            .push(rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let a = generated_archives(60, 7);
        let b = generated_archives(60, 7);
        assert_eq!(a.len(), 60);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.archive_id, y.archive_id);
            assert_eq!(x.description, y.description);
            assert_eq!(x.payload.to_vec(), y.payload.to_vec());
        }
        assert!(a.iter().all(|x| x.archive_id.len() == 138));
        assert!(a.iter().all(|x| !x.payload.is_empty()));
        assert!(a.iter().any(|x| x.payload.len() > 3 << 20));
        assert!(a.iter().any(|x| x.description.contains("..")));
        let dup = a
            .iter()
            .filter(|x| x.description == "duplicate/same-name.txt")
            .count();
        assert!(dup >= 2);
        let ids: std::collections::HashSet<_> = a.iter().map(|x| &x.archive_id).collect();
        assert_eq!(ids.len(), 60);
        assert_ne!(generated_archives(3, 8)[0].archive_id, a[0].archive_id);
    }
}
