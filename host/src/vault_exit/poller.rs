//! Stage 4's ListJobs polls on a thread of their own. A listing holds
//! every completed job of the vault, at most 50 a page (200 requests for
//! 10,000 staged jobs), and while it runs the engine's thread goes on
//! handing out downloads and recording them; before, every poll stopped
//! the downloads for as long as it took.
//!
//! The poller reads no state: the engine sends the ids of the jobs it
//! waits for, and records what comes back against its state as it is
//! then (see [`super::engine`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::jobs::{self, Vault};
use crate::client::Client;
use crate::download::RetryPolicy;
use crate::error::HostError;

/// A completed job the engine waited for: its id, and its description
/// (the JSON object ListJobs gave, as DescribeJob would) if it succeeded,
/// or the `StatusMessage` it failed with.
pub type Completed = (String, Result<String, String>);

/// One poll's answer.
#[derive(Debug)]
pub struct Polled {
    /// The waited-for jobs the listing showed completed.
    pub completed: Vec<Completed>,
    /// How long the listing took.
    pub took: Duration,
}

/// Serves polls until `asks` closes: for each set of job ids, one listing
/// of the completed jobs, answered on `answers`. Once `stop` is set, a
/// listing under way ends at its next job with what it found.
pub fn run(
    client: &Client,
    vault: &Vault,
    retry: &RetryPolicy,
    asks: &mpsc::Receiver<HashSet<String>>,
    answers: &mpsc::Sender<Result<Polled, HostError>>,
    stop: &AtomicBool,
) {
    while let Ok(waiting) = asks.recv() {
        let started = Instant::now();
        let answer = list_completed(client, vault, retry, &waiting, stop).map(|completed| Polled {
            completed,
            took: started.elapsed(),
        });
        if answers.send(answer).is_err() {
            return;
        }
    }
}

/// The jobs of `waiting` that one listing shows completed.
fn list_completed(
    client: &Client,
    vault: &Vault,
    retry: &RetryPolicy,
    waiting: &HashSet<String>,
    stop: &AtomicBool,
) -> Result<Vec<Completed>, HostError> {
    let mut completed = Vec::new();
    let mut stopped = false;
    let listed = jobs::list_jobs(client, vault, true, retry, |job| {
        if stop.load(Ordering::SeqCst) || crate::interrupt::requested() {
            stopped = true;
            return Err(HostError::Internal("the poll was stopped".into()));
        }
        if let Some(found) = completed_of(job, waiting)? {
            completed.push(found);
        }
        Ok(())
    });
    match listed {
        // What was found before the stop is as true as a whole listing.
        Err(_) if stopped => Ok(completed),
        other => other.map(|()| completed),
    }
}

/// `job`, if it is one of `waiting` and completed.
fn completed_of(
    job: &serde_json::Value,
    waiting: &HashSet<String>,
) -> Result<Option<Completed>, HostError> {
    let Some(id) = jobs::text(job, "JobId").filter(|id| waiting.contains(*id)) else {
        return Ok(None);
    };
    Ok(match jobs::text(job, "StatusCode") {
        Some("Succeeded") => {
            let text = serde_json::to_string(job)
                .map_err(|e| HostError::Internal(format!("job {id}: {e}")))?;
            Some((id.to_owned(), Ok(text)))
        }
        Some("Failed") => {
            let msg = jobs::text(job, "StatusMessage").unwrap_or("(no StatusMessage)");
            Some((id.to_owned(), Err(msg.to_owned())))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn waiting(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_waited_for_jobs_that_completed_are_kept() {
        let w = waiting(&["a", "b", "c"]);
        let ok = json!({"JobId": "a", "StatusCode": "Succeeded", "ArchiveId": "x"});
        let found = completed_of(&ok, &w).unwrap().unwrap();
        assert_eq!(found.0, "a");
        let described: serde_json::Value = serde_json::from_str(found.1.as_ref().unwrap()).unwrap();
        assert_eq!(described, ok, "the description is the listed object");
        let failed = json!({"JobId": "b", "StatusCode": "Failed", "StatusMessage": "gone"});
        assert_eq!(
            completed_of(&failed, &w).unwrap(),
            Some(("b".to_owned(), Err("gone".to_owned())))
        );
        let running = json!({"JobId": "c", "StatusCode": "InProgress"});
        assert_eq!(completed_of(&running, &w).unwrap(), None);
        let other = json!({"JobId": "z", "StatusCode": "Succeeded"});
        assert_eq!(completed_of(&other, &w).unwrap(), None, "not ours");
    }
}
