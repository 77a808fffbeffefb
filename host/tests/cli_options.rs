//! End to end: the AWS CLI's global options through the built binary
//! against the loopback endpoint — `--output json|text|table` (and
//! `AWS_DEFAULT_OUTPUT`, `output` in the config file), `--query`, `--color`,
//! `--no-paginate`, `--cli-read-timeout`, `--version` after a command —
//! and the `completion` and `man` commands.

#[path = "e2e/harness.rs"]
mod harness;

use std::time::Duration;

use glacier_verify_loopback::{ArchiveJob, Fault, FaultRule, Offset, Operation, Payload};
use harness::*;
use serde_json::Value;

/// Runs `args`, then the endpoint and `--quiet`.
fn gv(h: &Harness, args: &[&str]) -> Run {
    let url = h.ep.url();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--endpoint-url", url.as_str(), "--quiet"]);
    h.run(&all)
}

fn stdout(r: &Run) -> String {
    assert_eq!(r.code, 0, "expected success:\n{}", r.describe());
    String::from_utf8(r.stdout.clone()).unwrap()
}

fn describe(h: &Harness, extra: &[&str]) -> Run {
    let mut args = vec!["describe-job", "--vault-name", VAULT, "--job-id", "job"];
    args.extend(extra);
    gv(h, &args)
}

fn requests(h: &Harness, op: Operation) -> usize {
    h.all_requests()
        .iter()
        .filter(|r| r.operation == op)
        .count()
}

#[test]
fn describe_job_prints_the_aws_cli_fields_in_the_models_order() {
    let h = Harness::new("cli-describe-json");
    h.archive("job", 2 * MIB, 1);
    let text = stdout(&describe(&h, &[]));
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    // GlacierJobDescription's order; the loopback's nulls (an archive job
    // has no InventorySizeInBytes) are left out, as the AWS CLI leaves them.
    let model = [
        "JobId",
        "JobDescription",
        "Action",
        "ArchiveId",
        "VaultARN",
        "CreationDate",
        "Completed",
        "StatusCode",
        "StatusMessage",
        "ArchiveSizeInBytes",
        "InventorySizeInBytes",
        "SNSTopic",
        "CompletionDate",
        "SHA256TreeHash",
        "ArchiveSHA256TreeHash",
        "RetrievalByteRange",
        "Tier",
        "InventoryRetrievalParameters",
    ];
    let in_model_order: Vec<&str> = model.iter().copied().filter(|k| keys.contains(k)).collect();
    assert_eq!(keys, in_model_order, "{text}");
    assert!(
        keys.contains(&"SHA256TreeHash") && keys.contains(&"Tier"),
        "{text}"
    );
    assert!(!text.contains("null"), "{text}");
    // Indented by four spaces, as the AWS CLI indents.
    assert!(text.starts_with("{\n    \"JobId\": \"job\",\n"), "{text}");
}

#[test]
fn text_and_table_output_of_describe_job() {
    let h = Harness::new("cli-describe-text");
    h.archive("job", 2 * MIB, 1);
    let json: Value = serde_json::from_slice(&describe(&h, &[]).stdout).unwrap();
    let text = stdout(&describe(&h, &["--output", "text"]));
    // One line: the scalar values in the order of their sorted keys.
    let mut sorted: Vec<(&String, &Value)> = json.as_object().unwrap().iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let expected: Vec<String> = sorted
        .iter()
        .map(|(_, v)| match v {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "True".into(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(text, format!("{}\n", expected.join("\t")));

    let table = stdout(&describe(&h, &["--output", "table"]));
    let lines: Vec<&str> = table.lines().collect();
    // Wider than 80 columns with one row: turned vertical, one row per field.
    assert!(lines[1].contains(" DescribeJob "), "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("|  Completed ") && l.contains("|  True ")),
        "{table}"
    );
    assert_eq!(
        lines.len(),
        1 + 1 + 1 + json.as_object().unwrap().len() + 1,
        "{table}"
    );
    let width = lines[0].len();
    assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is a pipe: {table}"
    );
}

#[test]
fn query_checksum_text_prints_the_verified_tree_hash_alone() {
    let h = Harness::new("cli-query-checksum");
    let payload = h.archive("job", 3 * MIB + 5, 2);
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--query", "checksum", "--output", "text"]);
    assert_eq!(stdout(&r), format!("{}\n", payload.tree_hash()));
    assert_eq!(std::fs::read(&out).unwrap(), payload.to_vec());

    // With OUTFILE `-` the data is on stdout and the query's result on stderr.
    let r = h.get(
        "job",
        std::path::Path::new("-"),
        &["--query", "checksum", "--output", "text"],
    );
    assert_eq!(r.code, 0, "{}", r.describe());
    assert_eq!(r.stdout, payload.to_vec());
    assert_eq!(r.stderr, format!("{}\n", payload.tree_hash()));
}

#[test]
fn a_failed_downloads_report_goes_through_the_query_too() {
    let h = Harness::new("cli-query-failure");
    h.job(
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 1, 3)).with_fault(FaultRule::always(
            Fault::FlipBit {
                at: Offset::InBody(10),
                bit: 0,
            },
        )),
    );
    let out = h.path("out.bin");
    let r = h.get(
        "job",
        &out,
        &[
            "--query",
            "verification.error.kind",
            "--output",
            "text",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.describe());
    assert_eq!(String::from_utf8_lossy(&r.stdout), "verification\n");
    // No checksum without a verified output: JMESPath's null, as Python prints it.
    let r = h.get(
        "job",
        &out,
        &[
            "--query",
            "checksum",
            "--output",
            "text",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stdout),
        "None\n",
        "{}",
        r.describe()
    );
    assert!(!out.exists());
}

#[test]
fn bad_output_and_query_values_are_usage_errors_before_any_request() {
    let h = Harness::new("cli-usage");
    h.archive("job", MIB, 4);
    let r = describe(&h, &["--output", "yaml"]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(
        r.stderr
            .contains("invalid value 'yaml' for '--output <FORMAT>'"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("[possible values: json, text, table]"),
        "{}",
        r.describe()
    );
    let r = describe(&h, &["--query", "JobList[?"]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(
        r.stderr
            .contains("invalid value 'JobList[?' for '--query <JMESPATH>'"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("not a JMESPath expression"),
        "{}",
        r.describe()
    );
    assert!(r.stderr.contains("column"), "{}", r.describe());
    // An expression that fails on the answer is a usage error too, in words.
    let r = describe(&h, &["--query", "abs(JobId)"]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(r.stderr.contains("abs(JobId)"), "{}", r.describe());
    assert!(r.stdout.is_empty(), "{}", r.describe());
    assert!(!r.stderr.contains(SECRET));
    // Only the last command reached the endpoint.
    assert_eq!(requests(&h, Operation::DescribeJob), 1);
}

#[test]
fn output_comes_from_the_option_the_environment_or_the_profile() {
    let h = Harness::new("cli-output-config");
    h.archive("job", MIB, 5);
    let aws = h.home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        "[default]\noutput = table\n[profile p]\noutput = text\n",
    )
    .unwrap();
    let url = h.ep.url();
    let base = [
        "describe-job",
        "--vault-name",
        VAULT,
        "--job-id",
        "job",
        "--endpoint-url",
        url.as_str(),
    ];
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = h.command();
        c.envs(env.iter().copied());
        let mut args = base.to_vec();
        args.extend(extra);
        h.run_with(c, &args)
    };
    let table = stdout(&run(&[], &[]));
    assert!(
        table.starts_with("---") && table.contains(" DescribeJob "),
        "{table}"
    );
    // AWS_PROFILE selects [profile p] (the keys stay those of the environment).
    let text = stdout(&run(&[("AWS_PROFILE", "p")], &[]));
    assert!(text.contains("\tjob\t") && !text.contains('|'), "{text}");
    let text = stdout(&run(&[("AWS_DEFAULT_OUTPUT", "text")], &[]));
    assert!(text.contains("\tjob\t") && !text.contains('|'), "{text}");
    let json = stdout(&run(
        &[("AWS_DEFAULT_OUTPUT", "text")],
        &["--output", "json"],
    ));
    assert!(json.starts_with("{\n"), "{json}");
    let r = run(&[("AWS_DEFAULT_OUTPUT", "yaml")], &[]);
    assert_eq!(r.code, 2, "{}", r.describe());
    assert!(
        r.stderr
            .contains("environment variable AWS_DEFAULT_OUTPUT: unknown output format \"yaml\""),
        "{}",
        r.describe()
    );
}

#[test]
fn color_is_for_tables_and_follows_the_option() {
    let h = Harness::new("cli-color");
    let run = |extra: &[&str]| {
        let mut args = vec!["describe-vault", "--vault-name", VAULT];
        args.extend(extra);
        stdout(&gv(&h, &args))
    };
    let on = run(&["--output", "table", "--color", "on"]);
    assert!(
        on.contains(&format!("\x1b[1m\x1b[34m{VAULT}\x1b[0m")),
        "{on}"
    );
    let plain = run(&["--output", "table", "--color", "off"]);
    assert!(!plain.contains('\x1b'), "{plain}");
    // auto: stdout is a pipe here.
    assert_eq!(run(&["--output", "table"]), plain);
    let json = run(&["--color", "on"]);
    assert!(!json.contains('\x1b'), "{json}");
    let r = gv(
        &h,
        &[
            "describe-vault",
            "--vault-name",
            VAULT,
            "--color",
            "sometimes",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.describe());
}

#[test]
fn no_paginate_is_global_and_list_commands_honour_it() {
    let h = Harness::new("cli-no-paginate");
    for i in 0..5 {
        h.ep.add_vault(&format!("more-{i}"));
    }
    // Before the command, where the AWS CLI's global options usually go.
    let url = h.ep.url();
    let r = h.run(&[
        "--no-paginate",
        "--endpoint-url",
        &url,
        "list-vaults",
        "--limit",
        "2",
    ]);
    let v: Value = serde_json::from_str(&stdout(&r)).unwrap();
    assert_eq!(v["VaultList"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["Marker"].is_string(), "{v}");
    assert_eq!(requests(&h, Operation::ListVaults), 1);
    // Without it, every page; the query sees the whole list.
    let names = stdout(&gv(
        &h,
        &[
            "list-vaults",
            "--limit",
            "2",
            "--query",
            "length(VaultList)",
        ],
    ));
    assert_eq!(names, "7\n");
    for i in 0..3 {
        let job = ArchiveJob::new(VAULT, format!("job-{i}"), Payload::pattern(1024, i));
        h.ep.add_archive_job(job).unwrap();
    }
    let r = gv(
        &h,
        &[
            "list-jobs",
            "--vault-name",
            VAULT,
            "--limit",
            "1",
            "--no-paginate",
            "--output",
            "text",
        ],
    );
    let text = stdout(&r);
    // The Marker (a scalar of the top object) first, then one JOBLIST line.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].starts_with("JOBLIST\t"), "{text}");
}

#[test]
fn cli_read_timeout_bounds_a_silent_server_and_zero_waits() {
    let h = Harness::new("cli-read-timeout");
    let stall = |n| {
        ArchiveJob::new(VAULT, "job", Payload::pattern(MIB + 1, 10)).with_fault(FaultRule::nth(
            n,
            Fault::StallBeforeHead(Duration::from_secs(3)),
        ))
    };
    let payload = h.job(stall(1));
    let out = h.path("out.bin");
    let r = h.get("job", &out, &["--cli-read-timeout", "1"]);
    r.verified("header-and-expected-hash");
    assert_eq!(std::fs::read(&out).unwrap(), payload.to_vec());
    assert_eq!(
        h.log("job").len(),
        2,
        "the stalled request timed out and was retried"
    );
    assert!(r.elapsed < Duration::from_secs(3), "{:?}", r.elapsed);

    // 0: no timeout — the same stall is waited out, nothing retried.
    let h = Harness::new("cli-read-timeout-0");
    h.job(stall(1));
    let out = h.path("out.bin");
    let r = h.get(
        "job",
        &out,
        &["--cli-read-timeout", "0", "--cli-connect-timeout", "0"],
    );
    r.verified("header-and-expected-hash");
    assert_eq!(h.log("job").len(), 1);
    assert!(r.elapsed >= Duration::from_secs(3), "{:?}", r.elapsed);
}

#[test]
fn version_after_a_command_is_the_commands_version() {
    let h = Harness::new("cli-version");
    let top = h.run(&["--version"]);
    assert_eq!(top.code, 0);
    let top = String::from_utf8(top.stdout).unwrap();
    assert_eq!(
        top,
        format!("glacier-verify {}\n", env!("CARGO_PKG_VERSION"))
    );
    for args in [
        &["describe-job", "--version"][..],
        &["get-job-output", "--version"],
        &["wait", "job-completed", "--version"],
    ] {
        let r = h.run(args);
        assert_eq!(r.code, 0, "{}", r.describe());
        assert_eq!(String::from_utf8_lossy(&r.stdout), top, "{}", r.describe());
    }
}

#[test]
#[cfg(feature = "man-and-completions")]
fn completions_for_every_shell_and_a_man_page() {
    let h = Harness::new("cli-completion");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = h.run(&["completion", shell]);
        let script = stdout(&r);
        for word in [
            "describe-job",
            "get-job-output",
            "--cli-read-timeout",
            "--output",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash and completes the commands.
    let script = h.path("gv.bash");
    std::fs::write(&script, h.run(&["completion", "bash"]).stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(glacier-verify describe-v) COMP_CWORD=1 && \
             _glacier__verify glacier-verify describe-v glacier-verify && echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .expect("bash");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "describe-vault"
    );

    let man = stdout(&h.run(&["man"]));
    assert!(man.contains(".TH glacier-verify 1"), "{man}");
    for word in [
        "describe\\-job",
        "\\-\\-cli\\-connect\\-timeout",
        "\\-\\-query",
    ] {
        assert!(man.contains(word), "man page lacks {word}");
    }
    let r = h.run(&["completion", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.describe());
}
