//! `wait job-completed`: DescribeJob polled until the job completes, with
//! a capped backoff — 30 s, then 1, 2, 4 and 8 minutes, then every
//! 15 minutes (Expedited jobs take minutes, Standard 3–5 h, Bulk 5–12 h:
//! docs/protocol.md §12). Also used by `get-job-output --wait`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::client::{Client, JobLocation};
use crate::download::RetryPolicy;
use crate::error::{HostError, exit};
use crate::job::JobError;

/// The first wait between two DescribeJob requests, in schedule units.
const FIRST_POLL: u32 = 30;
/// The longest wait, in schedule units (15 minutes).
const MAX_POLL: u32 = 15 * 60;
/// How long `wait` waits by default: longer than any tier takes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// `wait`'s waiters.
#[derive(Subcommand, Debug)]
pub enum WaitCommand {
    /// Wait until a job has completed: exit 0 when it Succeeded, 3 when it Failed, 7 on timeout.
    JobCompleted(WaitArgs),
}

/// `wait job-completed`'s options.
#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Vault name.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    vault_name: String,
    /// Job id.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    job_id: String,
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = crate::cli::parse_account_id)]
    account_id: String,
    #[command(flatten)]
    schedule: ScheduleArgs,
}

/// How long and how often to poll.
#[derive(Args, Debug, Clone, Copy)]
pub struct ScheduleArgs {
    /// With waiting: give up after this long (90s, 30m, 12h, 2d or seconds).
    #[arg(long, value_parser = parse_duration, default_value = "24h")]
    timeout: Duration,
    /// Length of one schedule unit in milliseconds (default 1000: the schedule in seconds).
    #[arg(long, default_value_t = 1000, hide = true)]
    poll_unit_ms: u64,
}

impl ScheduleArgs {
    /// The wait after poll number `n` (from 0).
    pub fn interval(&self, n: u32) -> Duration {
        let units = FIRST_POLL.saturating_mul(1 << n.min(10)).min(MAX_POLL);
        Duration::from_millis(self.poll_unit_ms.saturating_mul(u64::from(units)))
    }
}

/// `90s`, `30m`, `12h`, `2d`, or whole seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("unknown unit in {s:?} (use s, m, h or d)")),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration too long: {s:?}"))
}

/// Runs `wait`.
pub fn run(c: &Client, w: &WaitCommand, quiet: bool) -> Result<i32, HostError> {
    let WaitCommand::JobCompleted(a) = w;
    let loc = JobLocation {
        account_id: a.account_id.clone(),
        vault: a.vault_name.clone(),
        job_id: a.job_id.clone(),
    };
    until_completed(c, &loc, &a.schedule, quiet)?;
    Ok(exit::OK)
}

/// Polls DescribeJob until the job completed: `Ok` when it Succeeded, the
/// job's failure when it Failed, [`HostError::WaitTimeout`] after the
/// timeout. Progress goes to stderr when it is a terminal.
pub fn until_completed(
    c: &Client,
    loc: &JobLocation,
    schedule: &ScheduleArgs,
    quiet: bool,
) -> Result<(), HostError> {
    let started = Instant::now();
    let show = !quiet && std::io::stderr().is_terminal();
    let mut polls = 0u32;
    loop {
        let raw = describe(c, loc)?;
        let status = raw["StatusCode"].as_str().unwrap_or("").to_owned();
        match status.as_str() {
            "Succeeded" => {
                finish(show);
                return Ok(());
            }
            "Failed" => {
                finish(show);
                let message = raw["StatusMessage"].as_str().unwrap_or("").to_owned();
                return Err(HostError::Job(JobError::Failed { message }));
            }
            _ => {}
        }
        let elapsed = started.elapsed();
        let pause = schedule.interval(polls);
        if elapsed + pause > schedule.timeout {
            finish(show);
            return Err(HostError::WaitTimeout {
                job_id: loc.job_id.clone(),
                waited: elapsed,
                status,
            });
        }
        if show {
            eprint!(
                "\rjob {}: {status} after {}s; next check in {}s   ",
                loc.job_id,
                elapsed.as_secs(),
                pause.as_secs()
            );
            let _ = std::io::stderr().flush();
        }
        // Cut short by SIGINT/SIGTERM when `get-job-output` installed its handlers.
        crate::interrupt::sleep(pause);
        if crate::interrupt::requested() {
            finish(show);
            return Err(crate::download::interrupted(
                "still waiting for the job; nothing downloaded".into(),
            ));
        }
        polls += 1;
    }
}

fn finish(show: bool) {
    if show {
        eprintln!();
    }
}

/// DescribeJob, retried like the other read-only requests.
fn describe(c: &Client, loc: &JobLocation) -> Result<Value, HostError> {
    super::describe_job(c, loc, &RetryPolicy::standard()).map(|(_, raw)| raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_starts_often_and_is_capped_at_15_minutes() {
        let s = ScheduleArgs {
            timeout: DEFAULT_TIMEOUT,
            poll_unit_ms: 1000,
        };
        let secs: Vec<u64> = (0..8).map(|n| s.interval(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(s.interval(u32::MAX).as_secs(), 900);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43200));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172800));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
