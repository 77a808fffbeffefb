//! End to end: the job and vault commands (`initiate-job` with range
//! inventory retrievals, `wait job-completed`, `list-jobs`, `list-vaults`,
//! `describe-vault`, `get-data-retrieval-policy`,
//! `list-provisioned-capacity`), and the permission `describe-job` and
//! `get-job-output` name when denied, run as the built binary against the
//! loopback endpoint, SigV4 checked on every request (docs/protocol.md §12);
//! jobs that expire by themselves.

#[path = "e2e/harness.rs"]
mod harness;

use glacier_verify_loopback::{ArchiveJob, Operation, Payload};
use harness::*;
use serde_json::Value;

/// Runs a vault command against the test's endpoint.
fn vault_cmd(h: &Harness, args: &[&str]) -> Run {
    let url = h.ep.url();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--endpoint-url", url.as_str(), "--quiet"]);
    h.run(&all)
}

/// The JSON a successful command printed.
fn ok_json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "expected success:\n{}", r.describe());
    serde_json::from_slice(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", r.describe()))
}

/// Registers `n` small archive jobs `job-000`…, every third still running.
fn jobs(h: &Harness, n: u64) {
    for i in 0..n {
        let job = ArchiveJob::new(VAULT, format!("job-{i:03}"), Payload::pattern(1024, i))
            .with_completed(i % 3 != 0);
        h.ep.add_archive_job(job).unwrap();
    }
}

fn job_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["JobList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["JobId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn count(h: &Harness, op: Operation) -> usize {
    h.all_requests()
        .iter()
        .filter(|r| r.operation == op)
        .count()
}

#[test]
fn list_jobs_follows_markers_to_the_end() {
    let h = Harness::new("list-jobs-pages");
    jobs(&h, 120);
    let v = ok_json(&vault_cmd(&h, &["list-jobs", "--vault-name", VAULT]));
    let want: Vec<String> = (0..120).map(|i| format!("job-{i:03}")).collect();
    assert_eq!(job_ids(&v), want);
    assert!(v.get("Marker").is_none(), "{v}");
    let first = &v["JobList"][0];
    for field in [
        "JobId",
        "Action",
        "ArchiveId",
        "StatusCode",
        "Completed",
        "VaultARN",
    ] {
        assert!(first.get(field).is_some(), "{field} missing: {first}");
    }
    // 50 a page: three requests.
    assert_eq!(count(&h, Operation::ListJobs), 3);

    let small = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--limit", "7"],
    ));
    assert_eq!(job_ids(&small), want);
    assert_eq!(count(&h, Operation::ListJobs), 3 + 120usize.div_ceil(7));
}

#[test]
fn list_jobs_one_page_then_its_marker() {
    let h = Harness::new("list-jobs-no-paginate");
    jobs(&h, 60);
    let one = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--no-paginate"],
    ));
    assert_eq!(one["JobList"].as_array().unwrap().len(), 50);
    let marker = one["Marker"].as_str().expect("a marker after a full page");
    let rest = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--marker", marker],
    ));
    assert_eq!(rest["JobList"].as_array().unwrap().len(), 10);
    let mut all = job_ids(&one);
    all.extend(job_ids(&rest));
    all.sort();
    assert_eq!(
        all,
        (0..60).map(|i| format!("job-{i:03}")).collect::<Vec<_>>()
    );
}

#[test]
fn list_jobs_filters() {
    let h = Harness::new("list-jobs-filters");
    jobs(&h, 9);
    let running = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--completed", "false"],
    ));
    assert_eq!(job_ids(&running), ["job-000", "job-003", "job-006"]);
    let done = ok_json(&vault_cmd(
        &h,
        &[
            "list-jobs",
            "--vault-name",
            VAULT,
            "--statuscode",
            "Succeeded",
        ],
    ));
    assert_eq!(done["JobList"].as_array().unwrap().len(), 6);
    let failed = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--statuscode", "Failed"],
    ));
    assert_eq!(failed["JobList"], Value::Array(Vec::new()));
    vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--statuscode", "Done"],
    )
    .usage_error("Done");
    vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--completed", "yes"],
    )
    .usage_error("yes");
}

#[test]
fn list_jobs_retries_throttling() {
    let h = Harness::new("list-jobs-throttled");
    jobs(&h, 3);
    h.ep.fail_operation(Operation::ListJobs, 2, 400, "ThrottlingException");
    let v = ok_json(&vault_cmd(&h, &["list-jobs", "--vault-name", VAULT]));
    assert_eq!(job_ids(&v).len(), 3);
    assert_eq!(count(&h, Operation::ListJobs), 3);
}

#[test]
fn service_errors_are_exit_3_and_not_retried() {
    let h = Harness::new("list-jobs-errors");
    let r = vault_cmd(&h, &["list-jobs", "--vault-name", "no-such-vault"]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("ResourceNotFoundException"),
        "{}",
        r.describe()
    );
    assert!(r.stdout.is_empty());
    assert_eq!(count(&h, Operation::ListJobs), 1);

    let r = vault_cmd(
        &h,
        &[
            "list-jobs",
            "--vault-name",
            VAULT,
            "--account-id",
            "999999999999",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    let needed =
        format!("glacier:ListJobs on arn:aws:glacier:{REGION}:999999999999:vaults/{VAULT}");
    assert!(r.stderr.contains(&needed), "{}", r.describe());

    let r = vault_cmd(&h, &["list-vaults", "--account-id", "999999999999"]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("glacier:ListVaults (Resource \"*\")"),
        "{}",
        r.describe()
    );
}

#[test]
fn vaults_are_listed_and_described() {
    let h = Harness::new("vaults");
    h.archive("a", 3 * MIB, 1);
    h.archive("b", MIB, 2);
    for i in 0..12 {
        h.ep.add_vault(&format!("more-{i:02}"));
    }
    let v = ok_json(&vault_cmd(&h, &["list-vaults"]));
    let names: Vec<&str> = v["VaultList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VaultName"].as_str().unwrap())
        .collect();
    // The harness's vault, the endpoint's default one and twelve more.
    assert_eq!(names.len(), 14, "{v}");
    assert!(names.contains(&VAULT));
    assert_eq!(count(&h, Operation::ListVaults), 2);
    let one = ok_json(&vault_cmd(
        &h,
        &["list-vaults", "--limit", "4", "--no-paginate"],
    ));
    assert_eq!(one["VaultList"].as_array().unwrap().len(), 4);
    assert!(one["Marker"].is_string());

    let d = ok_json(&vault_cmd(&h, &["describe-vault", "--vault-name", VAULT]));
    assert_eq!(d["VaultName"], VAULT);
    assert_eq!(d["NumberOfArchives"], 2);
    assert_eq!(d["SizeInBytes"], 4 * MIB);
    assert_eq!(
        d["VaultARN"],
        format!("arn:aws:glacier:{REGION}:012345678901:vaults/{VAULT}")
    );
    assert!(d.get("CreationDate").is_some(), "{d}");
    // Null in the answer: left out, as the AWS CLI prints it.
    assert!(d.get("LastInventoryDate").is_none(), "{d}");
    let r = vault_cmd(&h, &["describe-vault", "--vault-name", "nowhere"]);
    assert_eq!(r.code, 3, "{}", r.describe());
}

#[test]
fn account_policy_and_capacity() {
    let h = Harness::new("account");
    let p = ok_json(&vault_cmd(&h, &["get-data-retrieval-policy"]));
    assert_eq!(p["Policy"]["Rules"][0]["Strategy"], "FreeTier");
    let c = ok_json(&vault_cmd(&h, &["list-provisioned-capacity"]));
    assert_eq!(c["ProvisionedCapacityList"], Value::Array(Vec::new()));
    h.ep.fail_operation(
        Operation::GetDataRetrievalPolicy,
        1,
        503,
        "ServiceUnavailableException",
    );
    ok_json(&vault_cmd(&h, &["get-data-retrieval-policy"]));
    assert_eq!(count(&h, Operation::GetDataRetrievalPolicy), 3);
}

/// A 138-character archive id (Glacier's length, base64url).
fn archive_id(n: u64) -> String {
    format!("{n:0>10}{}", "Ab-_".repeat(32))
}

/// Registers an archive of `len` bytes in the test vault; returns its id.
fn stored_archive(h: &Harness, n: u64, len: u64) -> String {
    let id = archive_id(n);
    h.job(
        ArchiveJob::new(VAULT, format!("upload-{n}"), Payload::pattern(len, n))
            .with_archive_id(&id),
    );
    id
}

/// `initiate-job` with `args`; the job id it printed.
fn initiate(h: &Harness, args: &[&str]) -> String {
    let mut all = vec!["initiate-job", "--vault-name", VAULT];
    all.extend(args);
    let v = ok_json(&vault_cmd(h, &all));
    let id = v["jobId"].as_str().expect("jobId").to_owned();
    assert_eq!(
        v["location"],
        format!("/012345678901/vaults/{VAULT}/jobs/{id}"),
        "{v}"
    );
    id
}

/// `get-job-output` of `job` succeeded; the bytes written.
fn download(h: &Harness, job: &str) -> Vec<u8> {
    let out = h.path(&format!("{job}.out"));
    let r = h.get(job, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_eq!(r.verification()["verdict"], "verified", "{}", r.describe());
    std::fs::read(&out).unwrap()
}

#[test]
fn initiate_archive_jobs_then_download_them() {
    let h = Harness::new("initiate-archive");
    let size = 3 * MIB + MIB / 2;
    let id = stored_archive(&h, 1, size);
    let payload = Payload::pattern(size, 1);
    let whole = initiate(&h, &["--archive-id", &id, "--tier", "Expedited"]);
    assert_eq!(download(&h, &whole), payload.to_vec());
    let d = ok_json(&vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", &whole],
    ));
    assert_eq!(d["Tier"], "Expedited");
    assert_eq!(d["ArchiveId"], id.as_str());

    let aligned = initiate(
        &h,
        &["--archive-id", &id, "--range", "bytes=2097152-3145727"],
    );
    assert_eq!(
        download(&h, &aligned),
        payload.range_to_vec(2 * MIB, 3 * MIB)
    );

    // Ends at the archive's last byte: accepted, with a warning.
    let last = format!("bytes=1048576-{}", size - 1);
    let r = vault_cmd(
        &h,
        &[
            "initiate-job",
            "--vault-name",
            VAULT,
            "--archive-id",
            &id,
            "--range",
            &last,
        ],
    );
    assert!(r.stderr.contains("archive's last"), "{}", r.describe());
    let tail = ok_json(&r)["jobId"].as_str().unwrap().to_owned();
    assert_eq!(download(&h, &tail), payload.range_to_vec(MIB, size));
}

#[test]
fn initiate_inventory_jobs_in_both_formats() {
    let h = Harness::new("initiate-inventory");
    let id = stored_archive(&h, 7, MIB);
    let json = initiate(&h, &["--inventory"]);
    let body: Value = serde_json::from_slice(&download(&h, &json)).unwrap();
    assert_eq!(body["ArchiveList"][0]["ArchiveId"], id.as_str());
    let csv = initiate(&h, &["--inventory", "--format", "CSV"]);
    let text = String::from_utf8(download(&h, &csv)).unwrap();
    assert!(text.starts_with("ArchiveId,"), "{text}");
    assert!(text.contains(&id));
}

#[test]
fn initiate_with_job_parameters_json_and_file() {
    let h = Harness::new("initiate-params");
    let id = stored_archive(&h, 3, 2 * MIB);
    let inline = format!(
        r#"{{"Type":"archive-retrieval","ArchiveId":"{id}","Tier":"Bulk","Description":"restore 1"}}"#
    );
    let job = initiate(&h, &["--job-parameters", &inline]);
    let d = ok_json(&vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", &job],
    ));
    assert_eq!(d["Tier"], "Bulk");
    assert_eq!(d["JobDescription"], "restore 1");
    let file = h.path("params.json");
    write(&file, br#"{"Type":"inventory-retrieval","Format":"CSV"}"#);
    let arg = format!("file://{}", file.display());
    let inv = initiate(&h, &["--job-parameters", &arg]);
    let d = ok_json(&vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", &inv],
    ));
    assert_eq!(d["Action"], "InventoryRetrieval");
}

#[test]
fn initiated_jobs_complete_after_the_tier_delay() {
    let h = Harness::new("initiate-delay");
    let id = stored_archive(&h, 4, MIB);
    h.ep.set_tier_delay("Bulk", std::time::Duration::from_secs(600));
    let slow = initiate(&h, &["--archive-id", &id, "--tier", "Bulk"]);
    let running = ok_json(&vault_cmd(
        &h,
        &["list-jobs", "--vault-name", VAULT, "--completed", "false"],
    ));
    assert_eq!(job_ids(&running), vec![slow.clone()]);
    let r = h.get(&slow, &h.path("slow.out"), &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
}

#[test]
fn throttled_initiate_job_is_retried() {
    let h = Harness::new("initiate-throttled");
    let id = stored_archive(&h, 5, MIB);
    h.ep.fail_operation(Operation::InitiateJob, 2, 400, "ThrottlingException");
    let job = initiate(&h, &["--archive-id", &id]);
    assert_eq!(count(&h, Operation::InitiateJob), 3);
    assert_eq!(download(&h, &job), Payload::pattern(MIB, 5).to_vec());
}

#[test]
fn initiate_job_refuses_locally_what_glacier_would() {
    let h = Harness::new("initiate-refused");
    let id = stored_archive(&h, 6, 4 * MIB);
    let run = |extra: &[&str]| {
        let mut all = vec!["initiate-job", "--vault-name", VAULT];
        all.extend(extra);
        vault_cmd(&h, &all)
    };
    run(&["--archive-id", "not an archive id"]).usage_error("malformed archive id");
    run(&["--archive-id", &id, "--range", "bytes=1-1048575"]).usage_error("multiple of 1 MiB");
    let long = "d".repeat(1025);
    run(&["--archive-id", &id, "--description", &long]).usage_error("at most 1024");
    run(&["--inventory", "--description", "caf\u{e9}"]).usage_error("printable ASCII");
    run(&["--job-parameters", "Type=archive-retrieval"]).usage_error("JSON object");
    run(&["--inventory", "--archive-id", &id]).usage_error("cannot be used");
    assert_eq!(count(&h, Operation::InitiateJob), 0);

    let unaligned = run(&["--archive-id", &id, "--range", "bytes=1048576-3145727"]);
    assert!(
        unaligned.stderr.contains("no checksum"),
        "{}",
        unaligned.describe()
    );
    // Another length than Glacier's: warned about, and asked (an emulator's id).
    let r = run(&["--archive-id", "0cc175b9c0f1b6a831c399e269772661"]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr
            .contains("warning: the archive id has 32 characters"),
        "{}",
        r.describe()
    );
    assert_eq!(count(&h, Operation::InitiateJob), 2);
    let other = archive_id(99);
    let r = run(&["--archive-id", &other]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("ResourceNotFoundException"),
        "{}",
        r.describe()
    );
    let r = run(&["--archive-id", &id, "--account-id", "999999999999"]);
    assert!(
        r.stderr.contains("glacier:InitiateJob on arn:aws:glacier"),
        "{}",
        r.describe()
    );
}

/// `wait job-completed` for `job` with the schedule in milliseconds.
fn wait(h: &Harness, job: &str, extra: &[&str]) -> Run {
    let mut all = vec![
        "wait",
        "job-completed",
        "--vault-name",
        VAULT,
        "--job-id",
        job,
        "--poll-unit-ms",
        "1",
    ];
    all.extend(extra);
    vault_cmd(h, &all)
}

#[test]
fn wait_until_a_job_succeeds() {
    let h = Harness::new("wait-succeeds");
    let id = stored_archive(&h, 8, MIB);
    h.ep.set_tier_delay("Standard", std::time::Duration::from_millis(300));
    let job = initiate(&h, &["--archive-id", &id]);
    let r = wait(&h, &job, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert!(r.stdout.is_empty(), "{}", r.describe());
    assert!(h.describe_count() >= 2);
    assert_eq!(download(&h, &job), Payload::pattern(MIB, 8).to_vec());
}

#[test]
fn get_job_output_waits_first() {
    let h = Harness::new("get-wait");
    let id = stored_archive(&h, 9, 2 * MIB);
    h.ep.set_tier_delay("Expedited", std::time::Duration::from_millis(300));
    let job = initiate(&h, &["--archive-id", &id, "--tier", "Expedited"]);
    let out = h.path("waited.out");
    let r = h.get(&job, &out, &["--wait", "--poll-unit-ms", "1"]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_file_is(&out, &Payload::pattern(2 * MIB, 9).to_vec());
}

#[test]
fn wait_reports_a_failed_job() {
    let h = Harness::new("wait-failed");
    let id = stored_archive(&h, 10, MIB);
    h.ep.set_tier_delay("Standard", std::time::Duration::from_secs(600));
    let job = initiate(&h, &["--archive-id", &id]);
    h.ep.set_failed(&job, "The archive could not be retrieved")
        .unwrap();
    let r = wait(&h, &job, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("The archive could not be retrieved"),
        "{}",
        r.describe()
    );
    let out = h.path("failed.out");
    h.get(&job, &out, &["--wait", "--poll-unit-ms", "1"])
        .failed(3, "The archive could not be retrieved");
}

#[test]
fn wait_times_out() {
    let h = Harness::new("wait-timeout");
    let id = stored_archive(&h, 11, MIB);
    h.ep.set_tier_delay("Bulk", std::time::Duration::from_secs(600));
    let job = initiate(&h, &["--archive-id", &id, "--tier", "Bulk"]);
    let r = wait(&h, &job, &["--timeout", "1s"]);
    assert_eq!(r.code, 7, "{}", r.describe());
    assert!(r.stderr.contains("still InProgress"), "{}", r.describe());
    assert!(r.elapsed < std::time::Duration::from_secs(10));
}

#[test]
fn unknown_and_expired_jobs_are_not_waited_for() {
    let h = Harness::new("wait-unknown");
    let r = wait(&h, "no-such-job", &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("ResourceNotFoundException"),
        "{}",
        r.describe()
    );
    assert_eq!(h.describe_count(), 1);

    let id = stored_archive(&h, 12, MIB);
    let job = initiate(&h, &["--archive-id", &id]);
    h.ep.expire_job(&job).unwrap();
    let r = wait(&h, &job, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
    let out = h.path("expired.out");
    h.get(&job, &out, &[]).failed(3, "The job ID was not found");
}

#[test]
fn initiate_job_errors_are_explained_and_not_retried() {
    let h = Harness::new("initiate-policy");
    let id = stored_archive(&h, 13, MIB);
    h.ep.fail_operation(Operation::InitiateJob, 1, 400, "PolicyEnforcedException");
    let r = vault_cmd(
        &h,
        &["initiate-job", "--vault-name", VAULT, "--archive-id", &id],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("data retrieval policy"),
        "{}",
        r.describe()
    );
    assert_eq!(count(&h, Operation::InitiateJob), 1);
    h.ep.fail_operation(
        Operation::InitiateJob,
        1,
        400,
        "InsufficientCapacityException",
    );
    let r = vault_cmd(
        &h,
        &[
            "initiate-job",
            "--vault-name",
            VAULT,
            "--archive-id",
            &id,
            "--tier",
            "Expedited",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("provisioned capacity"),
        "{}",
        r.describe()
    );
    let r = vault_cmd(
        &h,
        &[
            "initiate-job",
            "--vault-name",
            VAULT,
            "--job-parameters",
            "{}",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("MissingParameterValueException"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("Type in --job-parameters"),
        "{}",
        r.describe()
    );
}

#[test]
fn sigterm_stops_get_job_output_while_it_waits() {
    let h = Harness::new("get-wait-sigterm");
    let id = stored_archive(&h, 14, MIB);
    h.ep.set_tier_delay("Bulk", std::time::Duration::from_secs(600));
    let job = initiate(&h, &["--archive-id", &id, "--tier", "Bulk"]);
    let out = h.path("never.out");
    let args = h.get_args(&job, &out, &["--wait", "--poll-unit-ms", "1000"]);
    let child = h
        .command()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first DescribeJob has been answered: the run is in its 30 s pause.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h
        .ep
        .requests()
        .iter()
        .all(|r| r.operation != Operation::DescribeJob)
    {
        assert!(std::time::Instant::now() < deadline, "no DescribeJob");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let started = std::time::Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let done = child.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_absent(&out);
}

/// Registers archive `n` of the test vault created `days` days after
/// 2020-01-01T00:00:00Z; returns its id.
fn archive_created(h: &Harness, n: u64, days: u64) -> String {
    let id = archive_id(n);
    let created =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800 + days * 86_400);
    h.job(
        ArchiveJob::new(VAULT, format!("dated-{n}"), Payload::pattern(1024, n))
            .with_archive_id(&id)
            .with_archive_created(created),
    );
    id
}

/// The archive ids of a downloaded JSON inventory, in its order.
fn inventory_ids(h: &Harness, job: &str) -> Vec<String> {
    let body: Value = serde_json::from_slice(&download(h, job)).unwrap();
    body["ArchiveList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ArchiveId"].as_str().unwrap().to_owned())
        .collect()
}

/// DescribeJob's `InventoryRetrievalParameters` of `job`.
fn inventory_parameters(h: &Harness, job: &str) -> Value {
    let d = ok_json(&vault_cmd(
        h,
        &["describe-job", "--vault-name", VAULT, "--job-id", job],
    ));
    d["InventoryRetrievalParameters"].clone()
}

#[test]
fn inventory_by_creation_date() {
    let h = Harness::new("inventory-dates");
    let ids: Vec<String> = (0..5).map(|i| archive_created(&h, 20 + i, i)).collect();
    // On or after the start, before the end: days 1, 2 and 3 of 0–4.
    let job = initiate(
        &h,
        &[
            "--inventory",
            "--start-date",
            "2020-01-02T00:00:00Z",
            "--end-date",
            "2020-01-05T00:00:00Z",
        ],
    );
    assert_eq!(inventory_ids(&h, &job), ids[1..4]);
    let p = inventory_parameters(&h, &job);
    assert_eq!(p["StartDate"], "2020-01-02T00:00:00Z", "{p}");
    assert_eq!(p["EndDate"], "2020-01-05T00:00:00Z", "{p}");
    assert_eq!(p["Format"], "JSON", "{p}");
    assert!(p["Limit"].is_null() && p["Marker"].is_null(), "{p}");
    // Only a start (with an offset), then only an end.
    let from = initiate(
        &h,
        &["--inventory", "--start-date", "2020-01-04T01:00:00+01:00"],
    );
    assert_eq!(inventory_ids(&h, &from), ids[3..]);
    let before = initiate(&h, &["--inventory", "--end-date", "2020-01-02T00:00:00Z"]);
    assert_eq!(inventory_ids(&h, &before), ids[..1]);
    // The parameters reach Glacier as InventoryRetrievalParameters in the body.
    let r = vault_cmd(
        &h,
        &[
            "initiate-job",
            "--vault-name",
            VAULT,
            "--inventory",
            "--format",
            "CSV",
            "--end-date",
            "2020-01-03T00:00:00Z",
            "--debug",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.describe());
    assert!(
        r.stderr
            .contains(r#""InventoryRetrievalParameters":{"EndDate":"2020-01-03T00:00:00Z"}"#),
        "{}",
        r.describe()
    );
    let csv = ok_json(&r)["jobId"].as_str().unwrap().to_owned();
    let text = String::from_utf8(download(&h, &csv)).unwrap();
    assert_eq!(text.lines().count(), 3, "a header and two archives: {text}");
}

#[test]
fn inventory_limit_pages_with_the_marker_describe_job_gives() {
    let h = Harness::new("inventory-limit");
    let ids: Vec<String> = (0..5).map(|i| archive_created(&h, 30 + i, i)).collect();
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..4 {
        let mut args = vec!["--inventory", "--limit", "2"];
        if let Some(m) = &marker {
            args.extend(["--marker", m.as_str()]);
        }
        let job = initiate(&h, &args);
        pages.push(inventory_ids(&h, &job));
        let p = inventory_parameters(&h, &job);
        // A string, as in Glacier's model.
        assert_eq!(p["Limit"], "2", "{p}");
        marker = p["Marker"].as_str().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(pages, [&ids[0..2], &ids[2..4], &ids[4..]]);
    // With a date range too: the marker continues within it.
    let first = initiate(
        &h,
        &[
            "--inventory",
            "--limit",
            "1",
            "--start-date",
            "2020-01-02T00:00:00Z",
        ],
    );
    assert_eq!(inventory_ids(&h, &first), ids[1..2]);
    let m = inventory_parameters(&h, &first)["Marker"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = initiate(
        &h,
        &[
            "--inventory",
            "--limit",
            "10",
            "--start-date",
            "2020-01-02T00:00:00Z",
            "--marker",
            &m,
        ],
    );
    assert_eq!(inventory_ids(&h, &next), ids[2..]);
    // A marker Glacier never gave is its error, not ours.
    let r = vault_cmd(
        &h,
        &[
            "initiate-job",
            "--vault-name",
            VAULT,
            "--inventory",
            "--marker",
            "not-a-marker",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("InvalidParameterValueException"),
        "{}",
        r.describe()
    );
}

#[test]
fn inventory_options_are_checked_before_any_request() {
    let h = Harness::new("inventory-refused");
    let run = |extra: &[&str]| {
        let mut all = vec!["initiate-job", "--vault-name", VAULT];
        all.extend(extra);
        vault_cmd(&h, &all)
    };
    run(&["--inventory", "--start-date", "2020-01-02"]).usage_error("ISO 8601");
    run(&["--inventory", "--end-date", "2020-13-01T00:00:00Z"]).usage_error("ISO 8601");
    run(&["--inventory", "--end-date", "2020-01-01T00:00:00.250Z"]).usage_error("in seconds");
    run(&[
        "--inventory",
        "--start-date",
        "2020-01-02T00:00:00Z",
        "--end-date",
        "2020-01-01T00:00:00Z",
    ])
    .usage_error("not before");
    run(&["--inventory", "--limit", "0"]).usage_error("0");
    run(&["--inventory", "--limit", "ten"]).usage_error("ten");
    let id = archive_id(40);
    run(&["--archive-id", &id, "--limit", "5"]).usage_error("cannot be used with");
    run(&["--archive-id", &id, "--start-date", "2020-01-02T00:00:00Z"])
        .usage_error("cannot be used with");
    run(&["--archive-id", &id, "--format", "CSV"]).usage_error("cannot be used with");
    run(&["--job-parameters", "{}", "--marker", "m"]).usage_error("cannot be used with");
    run(&[
        "--job-parameters",
        r#"{"Type":"inventory-retrieval","InventoryRetrievalParameters":{"Limit":5}}"#,
    ])
    .usage_error("must be a string");
    assert_eq!(count(&h, Operation::InitiateJob), 0);
}

/// The permission an AccessDeniedException names for the test vault.
fn needs(action: &str) -> String {
    format!("{action} on arn:aws:glacier:{REGION}:*:vaults/{VAULT}")
}

#[test]
fn describe_job_and_get_job_output_name_the_permission_they_lack() {
    let h = Harness::new("denied");
    h.archive("job-1", 3 * MIB, 1);
    let denied = |op: Operation, times: u32| {
        h.ep.fail_operation(op, times, 403, "AccessDeniedException");
    };

    denied(Operation::DescribeJob, 1);
    let r = vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", "job-1"],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains(&needs("glacier:DescribeJob")),
        "{}",
        r.describe()
    );
    assert!(r.stdout.is_empty());

    // get-job-output asks DescribeJob first: that is the permission it lacks.
    denied(Operation::DescribeJob, 1);
    h.get("job-1", &h.path("a.out"), &[])
        .failed(3, &needs("glacier:DescribeJob"));
    assert!(
        h.log("job-1").is_empty(),
        "no GetJobOutput after the denial"
    );

    // DescribeJob allowed, GetJobOutput denied: once, not retried.
    denied(Operation::GetJobOutput, 1);
    let out = h.path("b.out");
    h.get("job-1", &out, &[])
        .failed(3, &needs("glacier:GetJobOutput"));
    assert_eq!(h.log("job-1").len(), 1);
    assert_absent(&out);

    // In parallel parts too.
    denied(Operation::GetJobOutput, 10);
    h.get("job-1", &out, &["--part-size", "1MiB", "--parallel", "2"])
        .failed(3, &needs("glacier:GetJobOutput"));
    assert_absent(&out);

    // Another account's vault: the loopback's own refusal, with that account in the ARN.
    let r = vault_cmd(
        &h,
        &[
            "describe-job",
            "--vault-name",
            VAULT,
            "--job-id",
            "job-1",
            "--account-id",
            "999999999999",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    let other =
        format!("glacier:DescribeJob on arn:aws:glacier:{REGION}:999999999999:vaults/{VAULT}");
    assert!(r.stderr.contains(&other), "{}", r.describe());
    h.get(
        "job-1",
        &out,
        &["--no-describe-job", "--account-id", "999999999999"],
    )
    .failed(
        3,
        &format!("glacier:GetJobOutput on arn:aws:glacier:{REGION}:999999999999:vaults/{VAULT}"),
    );
    // Nothing else is explained as a permission.
    h.ep.fail_operation(Operation::DescribeJob, 1, 404, "ResourceNotFoundException");
    let r = vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", "job-1"],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(!r.stderr.contains("this command needs"), "{}", r.describe());
}

#[test]
fn jobs_expire_by_themselves_after_the_window() {
    let h = Harness::new("expiry");
    let id = stored_archive(&h, 50, MIB);
    let window = std::time::Duration::from_secs(4);
    h.ep.set_tier_delay("Expedited", std::time::Duration::from_millis(300));
    h.ep.set_expire_after(window);
    let job = initiate(&h, &["--archive-id", &id, "--tier", "Expedited"]);
    let initiated = std::time::Instant::now();
    // The window starts when the job completes, not when it is initiated.
    let r = wait(&h, &job, &[]);
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_eq!(download(&h, &job), Payload::pattern(MIB, 50).to_vec());
    let listed = ok_json(&vault_cmd(&h, &["list-jobs", "--vault-name", VAULT]));
    assert!(job_ids(&listed).contains(&job), "{listed}");

    // Wait for the window to pass by itself.
    let deadline = initiated + window + std::time::Duration::from_secs(20);
    loop {
        let listed = ok_json(&vault_cmd(&h, &["list-jobs", "--vault-name", VAULT]));
        if !job_ids(&listed).contains(&job) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job never expired"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(initiated.elapsed() >= window, "expired before its window");
    let r = vault_cmd(
        &h,
        &["describe-job", "--vault-name", VAULT, "--job-id", &job],
    );
    assert_eq!(r.code, 3, "{}", r.describe());
    assert!(
        r.stderr.contains("ResourceNotFoundException"),
        "{}",
        r.describe()
    );
    h.get(&job, &h.path("late.out"), &[])
        .failed(3, "The job ID was not found");
    let r = wait(&h, &job, &[]);
    assert_eq!(r.code, 3, "{}", r.describe());
}

#[test]
fn initiate_job_retried_after_a_5xx_says_a_second_job_may_exist() {
    let h = Harness::new("initiate-5xx");
    let id = stored_archive(&h, 60, MIB);
    // Glacier started the job, but its answer was lost in a 503.
    h.ep.fail_operation_after(
        Operation::InitiateJob,
        1,
        503,
        "ServiceUnavailableException",
    );
    let r = vault_cmd(
        &h,
        &["initiate-job", "--vault-name", VAULT, "--archive-id", &id],
    );
    let job = ok_json(&r)["jobId"].as_str().unwrap().to_owned();
    assert!(
        r.stderr
            .contains("1 InitiateJob attempt(s) failed after the request may have reached Glacier"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("list-jobs --vault-name"),
        "{}",
        r.describe()
    );
    // The retry started a second job: both are listed (the upload job is the third).
    let listed = ok_json(&vault_cmd(&h, &["list-jobs", "--vault-name", VAULT]));
    let ids = job_ids(&listed);
    assert_eq!(ids.len(), 3, "{listed}");
    assert!(ids.contains(&job));

    // Throttling started nothing: retried without the warning.
    h.ep.fail_operation(Operation::InitiateJob, 1, 400, "ThrottlingException");
    let r = vault_cmd(
        &h,
        &["initiate-job", "--vault-name", VAULT, "--archive-id", &id],
    );
    ok_json(&r);
    assert!(!r.stderr.contains("may have"), "{}", r.describe());
}
