//! DescribeJob (docs/protocol.md §5.1) and what it tells the verifier (docs/protocol.md §9.1).

use glacier_verify_core::{
    ByteRange, Digest, JobKind, MAX_ARCHIVE_SIZE, parse_retrieval_byte_range,
};
use serde::Deserialize;

/// The DescribeJob fields verification uses. Every field is optional: the
/// service leaves most of them null for one job kind or another, and moto
/// (docs/protocol.md §11) fills some with placeholders.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JobDescription {
    /// `JobId`
    #[serde(rename = "JobId")]
    pub job_id: Option<String>,
    /// `Action`: `ArchiveRetrieval`, `InventoryRetrieval` or `Select`.
    #[serde(rename = "Action")]
    pub action: Option<String>,
    /// `ArchiveId`
    #[serde(rename = "ArchiveId")]
    pub archive_id: Option<String>,
    /// `ArchiveSizeInBytes`: the whole archive, even for ranged retrievals.
    #[serde(rename = "ArchiveSizeInBytes")]
    pub archive_size: Option<u64>,
    /// `ArchiveSHA256TreeHash`: of the whole archive.
    #[serde(rename = "ArchiveSHA256TreeHash")]
    pub archive_tree_hash: Option<String>,
    /// `RetrievalByteRange`: `"first-last"`.
    #[serde(rename = "RetrievalByteRange")]
    pub retrieval_byte_range: Option<String>,
    /// `SHA256TreeHash`: of the retrieved range; null for non-aligned ranges.
    #[serde(rename = "SHA256TreeHash")]
    pub tree_hash: Option<String>,
    /// `InventorySizeInBytes`
    #[serde(rename = "InventorySizeInBytes")]
    pub inventory_size: Option<u64>,
    /// `Completed`
    #[serde(rename = "Completed")]
    pub completed: Option<bool>,
    /// `StatusCode`: `InProgress`, `Succeeded` or `Failed`.
    #[serde(rename = "StatusCode")]
    pub status_code: Option<String>,
    /// `StatusMessage`
    #[serde(rename = "StatusMessage")]
    pub status_message: Option<String>,
}

/// Why a job's output cannot be downloaded (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// `Completed` is not true.
    NotComplete {
        /// `StatusCode`
        status: String,
    },
    /// The job failed.
    Failed {
        /// `StatusMessage`
        message: String,
    },
    /// A `Select` job or an unknown action: not an output this tool verifies.
    UnsupportedAction(String),
    /// DescribeJob contradicts itself or is malformed.
    Inconsistent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::NotComplete { status } => write!(
                f,
                "the job has not completed (StatusCode {status}); its output is not available yet"
            ),
            JobError::Failed { message } => write!(f, "the job failed: {message}"),
            JobError::UnsupportedAction(a) => write!(f, "unsupported job action {a:?}"),
            JobError::Inconsistent(why) => write!(f, "DescribeJob response is inconsistent: {why}"),
        }
    }
}

impl std::error::Error for JobError {}

/// What DescribeJob says the output must be (docs/protocol.md §9.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFacts {
    /// Job kind with archive size and retrieval range, for the header rule.
    pub kind: JobKind,
    /// Expected length of the whole output, when known.
    pub output_len: Option<u64>,
    /// Expected tree hash of the whole output (`SHA256TreeHash`), when known.
    pub output_tree_hash: Option<Digest>,
    /// The archive, for archive jobs.
    pub archive_id: Option<String>,
    /// Things worth telling the user (moto's placeholders and the like).
    pub notes: Vec<String>,
}

impl JobDescription {
    /// Parses a DescribeJob body.
    pub fn parse(body: &[u8]) -> Result<(Self, serde_json::Value), JobError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| JobError::Inconsistent(format!("not JSON: {e}")))?;
        let job = JobDescription::deserialize(&value)
            .map_err(|e| JobError::Inconsistent(format!("unexpected field types: {e}")))?;
        Ok((job, value))
    }

    /// Checks the job is done (docs/protocol.md §9.1) and derives the expectation.
    pub fn facts(&self) -> Result<JobFacts, JobError> {
        let status = self.status_code.clone().unwrap_or_else(|| "unknown".into());
        if status == "Failed" {
            return Err(JobError::Failed {
                message: self.status_message.clone().unwrap_or_default(),
            });
        }
        if self.completed != Some(true) || status != "Succeeded" {
            return Err(JobError::NotComplete { status });
        }
        let mut notes = Vec::new();
        match self.action.as_deref() {
            Some("ArchiveRetrieval") => self.archive_facts(notes),
            Some("InventoryRetrieval") => {
                let output_len = self.inventory_size.filter(|n| *n > 0);
                check_size("InventorySizeInBytes", output_len)?;
                if output_len.is_none() {
                    notes.push("DescribeJob gave no InventorySizeInBytes: size checked against Content-Length only".into());
                }
                Ok(JobFacts {
                    kind: JobKind::Inventory,
                    output_len,
                    output_tree_hash: None,
                    archive_id: None,
                    notes,
                })
            }
            Some(other) => Err(JobError::UnsupportedAction(other.to_string())),
            None => Err(JobError::Inconsistent("no Action".into())),
        }
    }

    fn archive_facts(&self, mut notes: Vec<String>) -> Result<JobFacts, JobError> {
        let hash = |field: &str, v: &Option<String>| -> Result<Option<Digest>, JobError> {
            v.as_deref()
                .map(|h| {
                    Digest::from_hex(h.as_bytes()).map_err(|_| {
                        JobError::Inconsistent(format!("{field} {h:?} is not a SHA-256 hex digest"))
                    })
                })
                .transpose()
        };
        let tree_hash = hash("SHA256TreeHash", &self.tree_hash)?;
        hash("ArchiveSHA256TreeHash", &self.archive_tree_hash)?;
        let size = self.archive_size.filter(|n| *n > 0);
        check_size("ArchiveSizeInBytes", size)?;
        let Some(size) = size else {
            // moto reports ArchiveSizeInBytes 0 (docs/protocol.md §11): nothing to check
            // sizes against but Content-Length.
            notes.push(
                "DescribeJob gave no ArchiveSizeInBytes: sizes checked against Content-Length only"
                    .into(),
            );
            return Ok(JobFacts {
                kind: JobKind::Unknown,
                output_len: None,
                output_tree_hash: tree_hash,
                archive_id: self.archive_id.clone(),
                notes,
            });
        };
        let retrieval = match self.retrieval_byte_range.as_deref() {
            Some(r) => parse_retrieval_byte_range(r.as_bytes())
                .map_err(|e| JobError::Inconsistent(format!("RetrievalByteRange {r:?}: {e}")))?,
            None => ByteRange::whole(size)
                .ok_or_else(|| JobError::Inconsistent("empty archive".into()))?,
        };
        if retrieval.last() >= size {
            return Err(JobError::Inconsistent(format!(
                "RetrievalByteRange {retrieval} lies outside ArchiveSizeInBytes {size}"
            )));
        }
        if tree_hash.is_none() {
            notes.push(
                "DescribeJob gave no SHA256TreeHash (a retrieval range that is not tree-hash aligned): no end-to-end hash check is possible".into(),
            );
        }
        Ok(JobFacts {
            kind: JobKind::Archive {
                archive_size: size,
                retrieval,
            },
            output_len: Some(retrieval.len()),
            output_tree_hash: tree_hash,
            archive_id: self.archive_id.clone(),
            notes,
        })
    }
}

/// A size no archive (and so no inventory) of the service can have is a
/// broken answer, not a download to attempt.
fn check_size(field: &str, size: Option<u64>) -> Result<(), JobError> {
    match size {
        Some(n) if n > MAX_ARCHIVE_SIZE => Err(JobError::Inconsistent(format!(
            "{field} {n} is larger than the largest archive Glacier stores (40 TiB)"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DG_DJ_ARCHIVE: &str = r#"{
      "Action": "ArchiveRetrieval",
      "ArchiveId": "NkbByEejwEggmBz2fTHgJrg0XBoDfjP4q6iu87-TjhqG6eGoOY9Z8i1_AUyUsuhPAdTqLHy8pTl5nfCFJmDl2yEZONi5L26Omw12vcs01MNGntHEQL8MBfGlqrEXAMPLEArchiveId",
      "ArchiveSizeInBytes": 16777216,
      "ArchiveSHA256TreeHash": "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60",
      "Completed": true,
      "CompletionDate": "2012-05-15T17:21:39.339Z",
      "CreationDate": "2012-05-15T17:21:39.339Z",
      "InventorySizeInBytes": null,
      "JobDescription": "My ArchiveRetrieval Job",
      "JobId": "HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID",
      "RetrievalByteRange": "0-16777215",
      "SHA256TreeHash": "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60",
      "SNSTopic": "arn:aws:sns:us-west-2:012345678901:mytopic",
      "StatusCode": "Succeeded",
      "StatusMessage": "Succeeded",
      "Tier": "Bulk",
      "VaultARN": "arn:aws:glacier:us-west-2:012345678901:vaults/examplevault"
    }"#;

    #[test]
    fn archive_job_gives_length_kind_and_hash() {
        let (job, _) = JobDescription::parse(DG_DJ_ARCHIVE.as_bytes()).unwrap();
        let facts = job.facts().unwrap();
        assert_eq!(facts.output_len, Some(16_777_216));
        assert_eq!(
            facts.kind,
            JobKind::Archive {
                archive_size: 16_777_216,
                retrieval: ByteRange::new(0, 16_777_215).unwrap()
            }
        );
        assert_eq!(
            facts.output_tree_hash.unwrap().to_hex().as_str(),
            "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60"
        );
    }

    #[test]
    fn ranged_retrieval_output_is_the_range() {
        let body = DG_DJ_ARCHIVE
            .replace("\"0-16777215\"", "\"2097152-4194303\"")
            .replace(
                "\"SHA256TreeHash\": \"beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60\"",
                "\"SHA256TreeHash\": null",
            );
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        let facts = job.facts().unwrap();
        assert_eq!(facts.output_len, Some(2_097_152));
        assert_eq!(facts.output_tree_hash, None);
        assert!(facts.notes.iter().any(|n| n.contains("no end-to-end hash")));
    }

    #[test]
    fn in_progress_and_failed_jobs_are_refused() {
        let body = DG_DJ_ARCHIVE
            .replace("\"Completed\": true", "\"Completed\": false")
            .replace(
                "\"StatusCode\": \"Succeeded\"",
                "\"StatusCode\": \"InProgress\"",
            );
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        assert!(matches!(job.facts(), Err(JobError::NotComplete { .. })));
        let body = DG_DJ_ARCHIVE.replace(
            "\"StatusCode\": \"Succeeded\"",
            "\"StatusCode\": \"Failed\"",
        );
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        assert!(matches!(job.facts(), Err(JobError::Failed { .. })));
    }

    #[test]
    fn range_outside_archive_and_bad_hash_are_inconsistent() {
        let body = DG_DJ_ARCHIVE.replace("\"0-16777215\"", "\"0-16777216\"");
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        assert!(matches!(job.facts(), Err(JobError::Inconsistent(_))));
        let body = DG_DJ_ARCHIVE.replace("beb0fe31a1c7", "xyz0fe31a1c7");
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        assert!(matches!(job.facts(), Err(JobError::Inconsistent(_))));
    }

    #[test]
    fn moto_placeholders_fall_back_to_content_length() {
        // docs/protocol.md §11: moto's ArchiveSizeInBytes 0, hashes null, InventorySizeInBytes 10000.
        let body = r#"{"Action":"ArchiveRetrieval","ArchiveId":"x","ArchiveSizeInBytes":0,
            "ArchiveSHA256TreeHash":null,"SHA256TreeHash":null,"InventorySizeInBytes":10000,
            "Completed":true,"StatusCode":"Succeeded"}"#;
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        let facts = job.facts().unwrap();
        assert_eq!(facts.kind, JobKind::Unknown);
        assert_eq!(facts.output_len, None);
    }

    #[test]
    fn absurd_sizes_are_a_broken_answer() {
        let body = DG_DJ_ARCHIVE
            .replace(
                "\"ArchiveSizeInBytes\": 16777216",
                "\"ArchiveSizeInBytes\": 18446744073709551615",
            )
            .replace("\"0-16777215\"", "\"0-18446744073709551614\"");
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        let e = job.facts().unwrap_err();
        assert!(
            matches!(&e, JobError::Inconsistent(m) if m.contains("40 TiB")),
            "{e}"
        );
        let body = r#"{"Action":"InventoryRetrieval","InventorySizeInBytes":18446744073709551615,
            "Completed":true,"StatusCode":"Succeeded"}"#;
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        assert!(matches!(job.facts(), Err(JobError::Inconsistent(_))));
    }

    #[test]
    fn inventory_job_uses_inventory_size() {
        let body = r#"{"Action":"InventoryRetrieval","InventorySizeInBytes":906,
            "Completed":true,"StatusCode":"Succeeded","ArchiveSizeInBytes":null}"#;
        let (job, _) = JobDescription::parse(body.as_bytes()).unwrap();
        let facts = job.facts().unwrap();
        assert_eq!(facts.kind, JobKind::Inventory);
        assert_eq!(facts.output_len, Some(906));
    }
}
