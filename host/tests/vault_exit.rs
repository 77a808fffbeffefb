//! End to end: `vault-exit` as the built binary against the loopback
//! endpoint with a preloaded vault (SigV4 checked on every request): to
//! completion, a rerun that does nothing, kill -9 at many instants, four
//! shards at once on one directory, lost and corrupted jobs, hostile
//! state files, `--status` and `--dry-run`.

#[path = "e2e/harness.rs"]
mod harness;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use glacier_verify_loopback::{
    Fault, FaultRule, InitiateRule, Offset, Operation, PreloadedArchive, generated_archives,
};
use harness::*;
use serde_json::Value;

/// A vault of `n` generated archives; inventory and archive jobs complete
/// after a short delay.
fn preloaded(name: &str, n: usize) -> (Harness, Vec<PreloadedArchive>) {
    let h = Harness::new(name);
    let archives = generated_archives(n, 11);
    for a in &archives {
        h.ep.add_archive(VAULT, a);
    }
    for tier in ["Bulk", "Standard", "Expedited"] {
        h.ep.set_tier_delay(tier, Duration::from_millis(150));
    }
    (h, archives)
}

fn dest(h: &Harness) -> PathBuf {
    let d = h.path("dest");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `vault-exit` arguments for the test vault into `dest`.
fn exit_args(h: &Harness, dest: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "vault-exit",
        "--vault-name",
        VAULT,
        "--dest",
        dest.to_str().unwrap(),
        "--endpoint-url",
        &h.ep.url(),
        "--quiet",
        "--retry-base-ms",
        "10",
        "--policy-pause-ms",
        "300",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if !extra.contains(&"--poll-interval-ms") {
        v.extend(["--poll-interval-ms".to_string(), "100".to_string()]);
    }
    if !extra.contains(&"--initiate-rate") {
        v.extend(["--initiate-rate".to_string(), "200".to_string()]);
    }
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn vault_exit(h: &Harness, dest: &Path, extra: &[&str]) -> Run {
    let args = exit_args(h, dest, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&refs)
}

/// NAMES.tsv as archive id → file.
fn names(dest: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(dest.join("NAMES.tsv")).unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        let (id, name) = line.split_once('\t').unwrap();
        assert!(
            out.insert(id.to_owned(), name.to_owned()).is_none(),
            "{id} twice in NAMES.tsv"
        );
    }
    out
}

/// Every archive is in DIR under the name NAMES.tsv gives, byte for byte;
/// each receipt file has exactly one line per archive.
fn assert_all_out(dest: &Path, archives: &[PreloadedArchive]) {
    let names = names(dest);
    assert_eq!(names.len(), archives.len(), "NAMES.tsv");
    let mut files = HashSet::new();
    for a in archives {
        let name = names
            .get(&a.archive_id)
            .unwrap_or_else(|| panic!("{} not in NAMES.tsv", a.archive_id));
        assert!(files.insert(name.clone()), "{name} given twice");
        assert!(
            !name.starts_with('/') && !name.split('/').any(|c| c == ".."),
            "{name}"
        );
        assert_file_is(&dest.join(name), &a.payload.to_vec());
    }
    for f in ["SHA256SUMS", "TREEHASHSUMS", "RECEIPTS.jsonl"] {
        let text = std::fs::read_to_string(dest.join(f)).unwrap();
        assert_eq!(text.lines().count(), archives.len(), "{f}");
    }
    let ids: HashSet<String> = std::fs::read_to_string(dest.join("RECEIPTS.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["archiveId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), archives.len(), "RECEIPTS.jsonl ids");
}

fn initiate_calls(h: &Harness) -> usize {
    h.all_requests()
        .iter()
        .filter(|r| r.operation == Operation::InitiateJob)
        .count()
}

fn assert_no_duplicate_jobs(h: &Harness, archives: &[PreloadedArchive]) {
    for a in archives {
        assert_eq!(
            h.ep.initiate_count(&a.archive_id),
            1,
            "InitiateJob calls for {}",
            a.archive_id
        );
    }
}

#[test]
fn a_vault_gets_out_whole_and_a_rerun_does_nothing() {
    let (h, archives) = preloaded("vexit-whole", 200);
    let d = dest(&h);
    let r = vault_exit(&h, &d, &["--parallel", "8"]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_all_out(&d, &archives);
    assert_no_duplicate_jobs(&h, &archives);
    // Names decoded from the descriptions; a shared name survives twice.
    let n = names(&d);
    assert_eq!(n[&archives[0].archive_id], "dir0/fast-0.txt");
    assert_eq!(n[&archives[1].archive_id], "dir1/cloudberry-1.bin");
    assert_eq!(n[&archives[3].archive_id], "dir3/plain 3.txt");
    assert_eq!(n[&archives[6].archive_id], "duplicate/same-name.txt");
    let second = &n[&archives[16].archive_id];
    assert!(
        second.starts_with("duplicate/same-name") && second != "duplicate/same-name.txt",
        "{second}"
    );
    // One inventory job, one job per archive.
    assert_eq!(initiate_calls(&h), archives.len() + 1);
    // The receipts check with the standard tools.
    let sha = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        sha.status.success(),
        "{}",
        String::from_utf8_lossy(&sha.stdout)
    );
    let tree = h
        .command()
        .args(["tree-hash", "--check", "TREEHASHSUMS"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    // Each receipt names the three checks and their sources.
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(d.join("RECEIPTS.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let sources: Vec<&str> = first["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"inventory SHA256TreeHash"), "{first}");
    // The job's hash is the one the ListJobs poll gave: no DescribeJob per
    // archive (the one call is for the inventory job).
    assert!(sources.contains(&"ListJobs SHA256TreeHash"), "{first}");
    let describes = h
        .all_requests()
        .iter()
        .filter(|r| r.operation == Operation::DescribeJob)
        .count();
    assert_eq!(describes, 1, "DescribeJob calls");
    // Connections are reused: 8 downloads and up to 8 InitiateJob calls
    // at a time, between which each worker writes and syncs its file (so
    // many connections wait idle at once: ureq's default pool keeps only
    // 3 per host and the rest would be closed and opened again).
    let connections: std::collections::BTreeSet<u64> =
        h.all_requests().iter().map(|r| r.connection).collect();
    assert!(
        connections.len() <= 24,
        "{} connections for {} requests",
        connections.len(),
        h.all_requests().len()
    );
    assert_eq!(first["tier"], "Bulk");

    // A rerun: no request at all, and it says so.
    h.ep.clear_log();
    let again = vault_exit(&h, &d, &[]);
    assert_eq!(again.code, 0, "{}", again.describe());
    let again_quiet = vault_exit(&h, &d, &["--json"]);
    let summary: Value = serde_json::from_slice(&again_quiet.stdout).unwrap();
    assert_eq!(summary["counts"]["byStatus"]["verified"]["archives"], 200);
    assert!(h.all_requests().is_empty(), "{:?}", h.all_requests());
    assert_all_out(&d, &archives);

    // --status needs only --dest.
    let st = h.run(&[
        "vault-exit",
        "--status",
        "--dest",
        d.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(st.code, 0, "{}", st.describe());
    let v: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["total"]["byStatus"]["verified"]["archives"], 200);
}

#[test]
fn kill_9_at_any_instant_loses_nothing_and_initiates_nothing_twice() {
    let (h, archives) = preloaded("vexit-kill", 60);
    let d = dest(&h);
    // At 2 InitiateJob calls a second (the first at once), 20 runs of at
    // most 730 ms initiate at most 20 * (1 + 2 * 0.73) = 49 jobs (fewer
    // after each start-up): however fast the machine, the killed runs
    // cannot finish the 60 archives, so kills land in every stage
    // (plan, initiation, waiting, downloads interleaved with them).
    let args = exit_args(&h, &d, &["--parallel", "4", "--initiate-rate", "2"]);
    // Deterministic "random" instants from 30 ms to ~730 ms.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut finished_early = false;
    let mut killed = 0;
    for _ in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = Duration::from_millis(30 + x % 700);
        let mut child = h.command().args(&args).spawn().unwrap();
        let started = Instant::now();
        while started.elapsed() < at {
            if child.try_wait().unwrap().is_some() {
                finished_early = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if finished_early {
            let status = child.wait().unwrap();
            assert!(status.success(), "a run ended by itself with {status}");
            break;
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        killed += 1;
    }
    assert!(
        killed >= 10,
        "only {killed} runs were killed before one finished"
    );
    let r = vault_exit(&h, &d, &["--parallel", "4", "--initiate-rate", "40"]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_all_out(&d, &archives);
    assert_no_duplicate_jobs(&h, &archives);
    let sha = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(sha.status.success());
}

/// Runs `vault-exit` once per (shard index, shard count) at the same time
/// on `dest`, and waits for every run to succeed.
fn run_shards_at_once(
    h: &Harness,
    dest: &Path,
    inv: &Path,
    shards: &[(&str, &str)],
    extra: &[&str],
) {
    let children: Vec<_> = shards
        .iter()
        .map(|(i, n)| {
            let mut args = vec![
                "--inventory",
                inv.to_str().unwrap(),
                "--shard-count",
                n,
                "--shard-index",
                i,
            ];
            args.extend_from_slice(extra);
            h.command()
                .args(exit_args(h, dest, &args))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
}

#[test]
fn four_shards_at_once_on_one_directory_get_every_archive_once() {
    let (h, archives) = preloaded("vexit-shards", 120);
    let d = dest(&h);
    // One inventory for all shards (as docs/scale.md advises).
    let inv = saved_inventory(&h);
    run_shards_at_once(
        &h,
        &d,
        &inv,
        &[("0", "4"), ("1", "4"), ("2", "4"), ("3", "4")],
        &[],
    );
    assert_all_out(&d, &archives);
    assert_no_duplicate_jobs(&h, &archives);
    let st = h.run(&[
        "vault-exit",
        "--status",
        "--dest",
        d.to_str().unwrap(),
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["shards"].as_array().unwrap().len(), 4);
    assert_eq!(v["total"]["byStatus"]["verified"]["archives"], 120);
    // The global --output / --query apply as to every other document.
    let q = h.run(&[
        "vault-exit",
        "--status",
        "--dest",
        d.to_str().unwrap(),
        "--output",
        "text",
        "--query",
        "total.byStatus.verified.archives",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        "120\n",
        "{}",
        q.describe()
    );
    let human = h.run(&["vault-exit", "--status", "--dest", d.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("120 archives"),
        "{}",
        human.describe()
    );
}

/// Two runs of different shard layouts at once on one DIR hold different
/// shard locks, and an archive of shard 0 of 2 is also one of shard 0 of
/// 1: each run downloads it into staging files of its own (there is no
/// lock file per archive), so both verify every archive of theirs, and
/// nothing is left in the staging directory.
#[test]
fn two_shard_layouts_at_once_on_one_directory_both_verify_their_archives() {
    let (h, archives) = preloaded("vexit-layouts", 60);
    let d = dest(&h);
    let inv = saved_inventory(&h);
    run_shards_at_once(
        &h,
        &d,
        &inv,
        &[("0", "1"), ("0", "2")],
        &["--parallel", "4"],
    );
    // Every archive once from shard 0 of 1, those of shard 0 of 2 again.
    let names = names_all(&d);
    let twice = names.values().filter(|n| **n == 2).count();
    assert!(
        twice > 0 && twice < archives.len(),
        "{twice} archives twice"
    );
    let ids: HashSet<_> = names.keys().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), archives.len());
    for a in &archives {
        let (_, name) = names.keys().find(|(id, _)| *id == a.archive_id).unwrap();
        assert_file_is(&d.join(name), &a.payload.to_vec());
    }
    let sha = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(sha.status.success(), "{sha:?}");
    let left: Vec<_> = std::fs::read_dir(d.join(".glacier-verify/staging"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in staging: {left:?}");
}

/// NAMES.tsv lines as (archive id, file) → how many times.
fn names_all(dest: &Path) -> HashMap<(String, String), usize> {
    let text = std::fs::read_to_string(dest.join("NAMES.tsv")).unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        let (id, name) = line.split_once('\t').unwrap();
        *out.entry((id.to_owned(), name.to_owned())).or_insert(0) += 1;
    }
    out
}

#[test]
fn lost_jobs_are_initiated_again_and_a_corrupt_archive_fails_alone() {
    let (h, archives) = preloaded("vexit-faults", 12);
    let d = dest(&h);
    let (failed_once, expired, corrupt, always_failing) = (
        &archives[1].archive_id,
        &archives[2].archive_id,
        &archives[3].archive_id,
        &archives[4].archive_id,
    );
    h.ep.on_initiate(
        failed_once,
        InitiateRule::Fail {
            times: 1,
            message: "boom".into(),
        },
    );
    h.ep.on_initiate(
        expired,
        InitiateRule::Faults {
            times: 1,
            rules: vec![FaultRule::always(Fault::status(
                404,
                "ResourceNotFoundException",
                "The job ID was not found",
            ))],
        },
    );
    h.ep.on_initiate(
        corrupt,
        InitiateRule::Faults {
            times: 10,
            rules: vec![FaultRule::always(Fault::FlipBit {
                at: Offset::InBody(0),
                bit: 3,
            })],
        },
    );
    h.ep.on_initiate(
        always_failing,
        InitiateRule::Fail {
            times: 10,
            message: "no luck".into(),
        },
    );
    // Throttling, then the data-retrieval policy, on InitiateJob.
    h.ep.fail_operation(Operation::InitiateJob, 2, 400, "ThrottlingException");
    h.ep.fail_operation(Operation::InitiateJob, 1, 400, "PolicyEnforcedException");
    // A saved inventory: the InitiateJob faults hit archive jobs.
    let inv = h.path("inventory.json");
    let entries = h.ep.vault_entries(VAULT);
    std::fs::write(
        &inv,
        glacier_verify_loopback::inventory_json(
            &h.ep.vault_arn(VAULT),
            "2024-01-01T00:00:00Z",
            &entries,
        ),
    )
    .unwrap();
    let r = vault_exit(
        &h,
        &d,
        &[
            "--inventory",
            inv.to_str().unwrap(),
            "--max-attempts",
            "2",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.describe());
    let summary: Value = serde_json::from_slice(&r.stdout).unwrap();
    let failed: HashMap<String, String> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["archiveId"].as_str().unwrap().to_owned(),
                f["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    // The corrupt one names the hashes: what the bytes had, the inventory's, the job's.
    let why = &failed[corrupt];
    assert!(
        why.contains("inventory SHA256TreeHash") && why.contains("ListJobs SHA256TreeHash"),
        "{why}"
    );
    assert!(
        why.contains(&archives[3].payload.tree_hash().to_string()),
        "{why}"
    );
    assert!(
        failed[always_failing].contains("no luck"),
        "{}",
        failed[always_failing]
    );
    assert_eq!(
        h.ep.initiate_count(always_failing),
        3,
        "--max-job-attempts 3"
    );
    assert_eq!(h.ep.initiate_count(failed_once), 2);
    assert_eq!(h.ep.initiate_count(expired), 2);
    let ok: Vec<_> = archives
        .iter()
        .filter(|a| a.archive_id != *corrupt && a.archive_id != *always_failing)
        .cloned()
        .collect();
    let names = names(&d);
    for a in &ok {
        assert_file_is(&d.join(&names[&a.archive_id]), &a.payload.to_vec());
    }
    assert!(!names.contains_key(corrupt));
}

#[test]
fn an_inventory_that_disagrees_with_describe_job_fails_with_both_values() {
    let (h, archives) = preloaded("vexit-three-way", 5);
    let d = dest(&h);
    let mut entries = h.ep.vault_entries(VAULT);
    let wrong = "ab".repeat(32);
    entries[2].tree_hash = wrong.clone();
    let inv = h.path("inventory.csv");
    std::fs::write(&inv, glacier_verify_loopback::inventory_csv(&entries)).unwrap();
    let r = vault_exit(&h, &d, &["--inventory", inv.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 1, "{}", r.describe());
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{v}");
    assert_eq!(failed[0]["archiveId"], archives[2].archive_id.as_str());
    let why = failed[0]["error"].as_str().unwrap();
    assert!(why.contains(&wrong), "{why}");
    assert!(
        why.contains(&archives[2].payload.tree_hash().to_string()),
        "{why}"
    );
    assert_eq!(names(&d).len(), 4);
}

#[test]
fn hostile_state_and_a_second_run_are_refused_precisely() {
    let (h, _) = preloaded("vexit-hostile", 3);
    let d = dest(&h);
    let state_dir = d.join(".glacier-verify");
    std::fs::create_dir_all(&state_dir).unwrap();
    let state = state_dir.join("state-0-of-1.sqlite");
    std::fs::write(&state, vec![0x5a; 4096]).unwrap();
    let r = vault_exit(&h, &d, &[]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(
        r.stderr.contains("not a usable vault-exit state database"),
        "{}",
        r.describe()
    );
    std::fs::remove_file(&state).unwrap();
    // Another shard's state under this shard's name.
    let first = vault_exit(&h, &d, &["--shard-count", "2", "--shard-index", "1"]);
    assert_eq!(first.code, 0, "{}", first.describe());
    std::fs::rename(state_dir.join("state-1-of-2.sqlite"), &state).unwrap();
    let r = vault_exit(&h, &d, &[]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(r.stderr.contains("shard 1 of 2"), "{}", r.describe());
    std::fs::remove_file(&state).unwrap();
    // A second process on the same shard.
    let lock = std::fs::File::create(state_dir.join("state-0-of-1.lock")).unwrap();
    lock.lock().unwrap();
    let r = vault_exit(&h, &d, &[]);
    assert_eq!(r.code, 6, "{}", r.describe());
    assert!(r.stderr.contains("state-0-of-1.lock"), "{}", r.describe());
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let (h, archives) = preloaded("vexit-dry", 30);
    let d = dest(&h);
    let inv = h.path("inventory.json");
    let entries = h.ep.vault_entries(VAULT);
    std::fs::write(
        &inv,
        glacier_verify_loopback::inventory_json(
            &h.ep.vault_arn(VAULT),
            "2024-01-01T00:00:00Z",
            &entries,
        ),
    )
    .unwrap();
    h.ep.clear_log();
    let r = vault_exit(
        &h,
        &d,
        &["--inventory", inv.to_str().unwrap(), "--dry-run", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.describe());
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let bytes: u64 = archives.iter().map(|a| a.payload.len()).sum();
    assert_eq!(v["plan"]["archives"], 30);
    assert_eq!(v["plan"]["bytes"], bytes);
    assert_eq!(v["requests"]["InitiateJob"], 30);
    assert_eq!(v["alreadyVerified"], 0);
    assert!(h.all_requests().is_empty());
    assert!(!d.join(".glacier-verify/state-0-of-1.sqlite").exists());
    assert!(!d.join("NAMES.tsv").exists());
}

/// A saved JSON inventory of the test vault.
fn saved_inventory(h: &Harness) -> PathBuf {
    let inv = h.path("inventory.json");
    let entries = h.ep.vault_entries(VAULT);
    std::fs::write(
        &inv,
        glacier_verify_loopback::inventory_json(
            &h.ep.vault_arn(VAULT),
            "2024-01-01T00:00:00Z",
            &entries,
        ),
    )
    .unwrap();
    inv
}

#[test]
fn the_byte_budgets_hold_back_initiations() {
    // Staged bytes: five archives of about 1 MiB with room for one: a job
    // is initiated only once the previous archive was downloaded.
    let h = Harness::new("vexit-budgets");
    for tier in ["Bulk", "Standard", "Expedited"] {
        h.ep.set_tier_delay(tier, Duration::from_millis(100));
    }
    let archives: Vec<PreloadedArchive> = generated_archives(5, 3)
        .into_iter()
        .enumerate()
        .map(|(i, a)| PreloadedArchive {
            payload: glacier_verify_loopback::Payload::pattern(MIB + i as u64, i as u64),
            ..a
        })
        .collect();
    for a in &archives {
        h.ep.add_archive(VAULT, a);
    }
    let d = dest(&h);
    let inv = saved_inventory(&h);
    let cap = (MIB + MIB / 2).to_string();
    let r = vault_exit(
        &h,
        &d,
        &[
            "--inventory",
            inv.to_str().unwrap(),
            "--max-staged-bytes",
            &cap,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_all_out(&d, &archives);
    let log = h.all_requests();
    let initiations: Vec<u64> = log
        .iter()
        .filter(|r| r.operation == Operation::InitiateJob)
        .map(|r| r.seq)
        .collect();
    assert_eq!(initiations.len(), archives.len());
    for w in initiations.windows(2) {
        assert!(
            log.iter()
                .any(|r| r.operation == Operation::GetJobOutput && r.seq > w[0] && r.seq < w[1]),
            "two jobs staged at once: InitiateJob {} and {} with no download between: {:?}",
            w[0],
            w[1],
            log.iter()
                .map(|r| (r.seq, r.operation, r.status))
                .collect::<Vec<_>>()
        );
    }

    // Bytes per day: the archives that fit are initiated, the run stops with 8.
    let (h, archives) = preloaded("vexit-budgets-day", 8);
    let d = dest(&h);
    let inv = saved_inventory(&h);
    let sizes: Vec<u64> = archives.iter().map(|a| a.payload.len()).collect();
    let budget = sizes[0] + sizes[1] + sizes[2];
    let r = vault_exit(
        &h,
        &d,
        &[
            "--inventory",
            inv.to_str().unwrap(),
            "--max-bytes-per-day",
            &budget.to_string(),
            "--json",
        ],
    );
    assert_eq!(r.code, 8, "{}", r.describe());
    let initiated: u64 = archives
        .iter()
        .filter(|a| h.ep.initiate_count(&a.archive_id) > 0)
        .map(|a| a.payload.len())
        .sum();
    assert!(
        initiated <= budget,
        "{initiated} bytes initiated, budget {budget}"
    );
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let verified = v["counts"]["byStatus"]["verified"]["archives"]
        .as_u64()
        .unwrap();
    let planned = v["counts"]["byStatus"]["planned"]["archives"]
        .as_u64()
        .unwrap();
    assert!(
        verified >= 1 && planned >= 1 && verified + planned == 8,
        "{v}"
    );
}

#[test]
fn sigterm_stops_cleanly_and_a_rerun_resumes() {
    let (h, archives) = preloaded("vexit-sigterm", 40);
    let d = dest(&h);
    h.ep.set_tier_delay("Bulk", Duration::from_millis(800));
    let args = exit_args(&h, &d, &["--initiate-rate", "20"]);
    let child = h.command().args(&args).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{:?}", out);
    h.ep.set_tier_delay("Bulk", Duration::from_millis(100));
    let r = vault_exit(&h, &d, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_all_out(&d, &archives);
    assert_no_duplicate_jobs(&h, &archives);
}

#[test]
fn initiate_job_keeps_to_the_rate() {
    let (h, archives) = preloaded("vexit-rate", 6);
    let d = dest(&h);
    let inv = saved_inventory(&h);
    let started = Instant::now();
    let r = vault_exit(
        &h,
        &d,
        &["--inventory", inv.to_str().unwrap(), "--initiate-rate", "4"],
    );
    assert_eq!(r.code, 0, "{}", r.describe());
    // Six calls at 4 a second: at least 5 gaps of 250 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(1250),
        "{:?}",
        started.elapsed()
    );
    assert_all_out(&d, &archives);
}

/// 10,000 outlast the test endpoint's 5-minute lifetime in a debug build
/// (about 60 InitiateJob a second: each records two fsynced transactions).
const BENCH_ARCHIVES: usize = 2_000;

/// Measurements for the README (`cargo test --release --test vault_exit -- --ignored --nocapture`):
/// small archives through the whole exit, and the plan of a large
/// inventory.
#[test]
#[ignore]
fn bench_small_archives_and_a_large_plan() {
    let h = Harness::new("vexit-bench");
    let archives: Vec<PreloadedArchive> = generated_archives(BENCH_ARCHIVES, 5)
        .into_iter()
        .enumerate()
        .map(|(i, a)| PreloadedArchive {
            payload: glacier_verify_loopback::Payload::pattern(
                1 + (i as u64 * 7919) % 8192,
                i as u64,
            ),
            ..a
        })
        .collect();
    for a in &archives {
        h.ep.add_archive(VAULT, a);
    }
    let d = dest(&h);
    let inv = saved_inventory(&h);
    let started = Instant::now();
    let r = vault_exit(
        &h,
        &d,
        &[
            "--inventory",
            inv.to_str().unwrap(),
            "--initiate-rate",
            "1000",
            "--parallel",
            "16",
        ],
    );
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.describe());
    eprintln!(
        "BENCH vault-exit: {BENCH_ARCHIVES} archives ({} bytes) in {:.1} s, {:.0} archives/s",
        archives.iter().map(|a| a.payload.len()).sum::<u64>(),
        took.as_secs_f64(),
        BENCH_ARCHIVES as f64 / took.as_secs_f64()
    );
    // The plan of a 200,000-archive inventory (dry run: parse + shard).
    let entries: Vec<_> = (0..200_000)
        .map(|i| glacier_verify_loopback::InventoryEntry {
            archive_id: format!("{i:0>138}"),
            description: format!("dir{}/file-{i}.bin", i % 100),
            creation_date: "2024-01-01T00:00:00Z".into(),
            size: 1 + i,
            tree_hash: "ab".repeat(32),
        })
        .collect();
    let big = h.path("big.json");
    std::fs::write(
        &big,
        glacier_verify_loopback::inventory_json(
            &h.ep.vault_arn(VAULT),
            "2024-01-01T00:00:00Z",
            &entries,
        ),
    )
    .unwrap();
    let d2 = h.path("dest2");
    std::fs::create_dir_all(&d2).unwrap();
    for (label, extra) in [
        ("dry-run (parse + shard)", vec!["--dry-run"]),
        ("plan into SQLite", vec!["--max-bytes-per-day", "0"]),
    ] {
        let started = Instant::now();
        let mut args = vec!["--inventory", big.to_str().unwrap()];
        args.extend(extra);
        let r = vault_exit(&h, &d2, &args);
        assert!(r.code == 0 || r.code == 8, "{}", r.describe());
        eprintln!(
            "BENCH {label}: 200000 archives in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn names_archive_id_names_files_by_archive_id() {
    let (h, archives) = preloaded("vexit-ids", 6);
    let d = dest(&h);
    let r = vault_exit(&h, &d, &["--names", "archive-id"]);
    assert_eq!(r.code, 0, "{}", r.describe());
    let n = names(&d);
    for a in &archives {
        assert_eq!(
            n[&a.archive_id],
            glacier_verify::names::archive_id_name(&a.archive_id)
        );
    }
    assert_all_out(&d, &archives);
}

#[test]
fn a_crash_between_the_verified_record_and_the_rename_downloads_nothing_again() {
    let (h, archives) = preloaded("vexit-rename-crash", 6);
    let d = dest(&h);
    let r = vault_exit(&h, &d, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    // Put the state back to the instant after "verified" was recorded and
    // before the file was renamed: the verified file in its staging place,
    // no receipt written yet.
    let a = &archives[2];
    let name = names(&d)[&a.archive_id].clone();
    let key = glacier_verify_core::tree_hash(a.archive_id.as_bytes()).to_string();
    let staged = d.join(".glacier-verify/staging").join(&key[..32]);
    std::fs::rename(d.join(&name), &staged).unwrap();
    let db = rusqlite::Connection::open(d.join(".glacier-verify/state-0-of-1.sqlite")).unwrap();
    db.execute(
        "UPDATE archives SET receipt = 0 WHERE archive_id = ?1",
        [&a.archive_id],
    )
    .unwrap();
    drop(db);
    for f in ["SHA256SUMS", "TREEHASHSUMS", "NAMES.tsv", "RECEIPTS.jsonl"] {
        let text = std::fs::read_to_string(d.join(f)).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.contains(&a.archive_id) && !l.ends_with(&name))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(d.join(f), kept).unwrap();
    }
    h.ep.clear_log();
    let again = vault_exit(&h, &d, &[]);
    assert_eq!(again.code, 0, "{}", again.describe());
    assert!(
        !h.all_requests()
            .iter()
            .any(|r| r.operation == Operation::GetJobOutput),
        "downloaded again: {:?}",
        h.all_requests()
    );
    assert!(!staged.exists());
    assert_all_out(&d, &archives);
}
