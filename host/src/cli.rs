//! Commands, shaped like the AWS CLI's `aws glacier …` so one can be swapped
//! for the other.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use glacier_verify_core::{Digest, MIB, RangeRequest};

use crate::client::{Client, ClientConfig, JobLocation};
use crate::download::{self, Download, Log, OutputPaths, Plan, Request, RetryPolicy};
use crate::error::{HostError, exit};
use crate::outfile::{self, OutputLock};
use crate::progress::Progress;
use crate::render::{Query, Stream};
use crate::report::{Attempts, Report};

const EXIT_CODES: &str = "\
Exit codes:
  0  verified (or, for commands that verify nothing, success)
  1  verification failed: sizes, ranges or tree hash do not match
  2  usage or configuration error: arguments, credentials, region, endpoint, CA bundle,
     proxy variables; an untrusted certificate or a proxy refusing the tunnel
  3  Glacier returned an error or an answer no Glacier sends, or the job is not complete or failed
  4  network failure that retries did not overcome
  5  local I/O error (disk full, permissions, a link where OUTFILE's files go)
  6  another run is writing the same OUTFILE (it holds OUTFILE.part.lock)
  7  wait / get-job-output --wait: the job had not completed within --timeout
  8  vault-exit: stopped with archives left that --max-bytes-per-day holds back
  130, 143  stopped by SIGINT / SIGTERM: what was verified is kept; rerun to resume
            (a second signal exits at once)";

/// Download Amazon S3 Glacier job output and verify it: sizes, ranges and
/// SHA-256 tree hashes, checked as the bytes stream in.
#[derive(Parser, Debug)]
#[command(name = "glacier-verify", version, propagate_version = true, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Options every command accepts, as in the AWS CLI.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// AWS region (else AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config).
    #[arg(long, global = true)]
    region: Option<String>,
    /// Profile in the shared credentials and config files (else AWS_PROFILE, `default`).
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Endpoint URL (else AWS_ENDPOINT_URL_GLACIER, AWS_ENDPOINT_URL, https://glacier.REGION.amazonaws.com).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// PEM file of certificate authorities to trust besides the default roots
    /// (else AWS_CA_BUNDLE, ca_bundle in ~/.aws/config).
    #[arg(long, global = true, value_name = "FILE")]
    ca_bundle: Option<String>,
    /// Roots to verify certificates against: `bundled` (Mozilla's, built in) or `os`
    /// (the operating system's store; on Linux SSL_CERT_FILE / SSL_CERT_DIR apply).
    #[arg(long, global = true, value_enum, default_value_t = TrustStoreArg::Bundled)]
    trust_store: TrustStoreArg,
    /// Do not verify TLS certificates (as in the AWS CLI; warns on every run).
    #[arg(long, global = true)]
    no_verify_ssl: bool,
    /// Trace requests and responses on stderr (Authorization and tokens redacted).
    #[arg(long, global = true)]
    debug: bool,
    /// No progress line.
    #[arg(long, global = true)]
    quiet: bool,
    /// How JSON answers are printed: json, text (tab-separated) or table
    /// (else AWS_DEFAULT_OUTPUT, `output` in ~/.aws/config, json).
    #[arg(long, global = true, value_name = "FORMAT", value_parser = crate::render::Format::NAMES)]
    output: Option<String>,
    /// A JMESPath expression applied to the JSON answer before it is printed
    /// (e.g. `--query checksum --output text` prints the verified tree hash alone).
    #[arg(long, global = true, value_name = "JMESPATH", value_parser = Query::parse)]
    query: Option<Query>,
    /// Colour in table output: on, off, or auto (when stdout is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// list-jobs and list-vaults: one request only; its Marker is printed when more follow.
    #[arg(long, global = true)]
    no_paginate: bool,
    /// Seconds to wait for a connection to open; 0 waits as long as the
    /// operating system does. The AWS CLI's default.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
    cli_connect_timeout: u64,
    /// Longest silence from the server, in seconds, before a request counts as
    /// failed (and is retried); 0 never gives up. The AWS CLI's default.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
    cli_read_timeout: u64,
}

/// `--color`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ColorArg {
    /// Always colour tables.
    On,
    /// Never.
    Off,
    /// When stdout is a terminal.
    Auto,
}

/// `--trust-store`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum TrustStoreArg {
    /// Mozilla's roots, built into the binary.
    Bundled,
    /// The operating system's trust store.
    Os,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Download a job's output into OUTFILE, verified (`-` = stdout).
    #[command(after_help = GET_AFTER_HELP)]
    GetJobOutput(GetJobOutput),
    /// Print DescribeJob for a job as JSON.
    DescribeJob(JobArgs),
    /// Print Glacier tree hashes of files, like sha256sum; or check them.
    TreeHash(TreeHashArgs),
    /// Check a file downloaded with another tool, against the response head it came with.
    Verify(VerifyArgs),
    /// Print the archives of a vault inventory (JSON or CSV).
    Inventory(InventoryArgs),
    /// Power-on check: known answers, then a real parallel download from a built-in loopback endpoint.
    Selftest(SelftestArgs),
    /// Start an archive or inventory retrieval job; prints its location and id.
    InitiateJob(crate::jobs::initiate::InitiateJobArgs),
    /// Wait for a condition: `wait job-completed`.
    #[command(subcommand)]
    Wait(crate::jobs::wait::WaitCommand),
    /// List a vault's jobs as JSON, following markers to the end.
    ListJobs(crate::jobs::list::ListJobsArgs),
    /// List the account's vaults as JSON, following markers to the end.
    ListVaults(crate::jobs::vaults::ListVaultsArgs),
    /// Print DescribeVault for a vault as JSON.
    DescribeVault(crate::jobs::vaults::DescribeVaultArgs),
    /// Print the account's data retrieval policy as JSON.
    GetDataRetrievalPolicy(crate::jobs::vaults::AccountArgs),
    /// Print the account's provisioned capacity units as JSON.
    ListProvisionedCapacity(crate::jobs::vaults::AccountArgs),
    /// Get every archive of a vault out into a directory, each verified three ways; resumable, shardable.
    #[cfg(feature = "vault-exit")]
    #[command(after_help = crate::vault_exit::VAULT_EXIT_CODES)]
    VaultExit(crate::vault_exit::VaultExitArgs),
    /// Print a shell completion script (see README: installing completions).
    #[cfg(feature = "man-and-completions")]
    Completion(CompletionArgs),
    /// Print the manual page (roff): `glacier-verify man > glacier-verify.1`.
    #[cfg(feature = "man-and-completions")]
    Man,
}

#[cfg(feature = "man-and-completions")]
#[derive(Args, Debug)]
struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

const GET_AFTER_HELP: &str = "\
The output is written to OUTFILE.part and renamed to OUTFILE only once verified;
nothing that failed verification is ever left at OUTFILE. OUTFILE.part.journal
records progress durably (verified parts; for a single stream, the bytes on
disk): rerunning the same command after a crash downloads only the rest.
OUTFILE.part holds unverified or partly verified bytes; delete it and
OUTFILE.part.journal to start over. With OUTFILE `-` the output is verified in
a temporary file first, then copied to stdout, and the JSON report goes to
stderr.";

#[derive(Args, Debug, Clone)]
struct JobArgs {
    /// Vault name.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    vault_name: String,
    /// Job id.
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    job_id: String,
    /// 12-digit account id, or `-` for the account of the credentials.
    #[arg(long, default_value = "-", value_parser = parse_account_id)]
    account_id: String,
}

#[derive(Args, Debug)]
struct GetJobOutput {
    #[command(flatten)]
    job: JobArgs,
    /// Download only these bytes of the job output: bytes=FIRST-LAST (inclusive) or bytes=FIRST-.
    #[arg(long, value_parser = parse_range)]
    range: Option<RangeRequest>,
    /// Tree hash the downloaded bytes must have (64 hex digits).
    #[arg(long, value_parser = parse_digest)]
    expected_tree_hash: Option<Digest>,
    /// A saved vault inventory (JSON or CSV): the job's archive's tree hash there is expected.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Skip DescribeJob: check only against the response's own headers.
    #[arg(long)]
    no_describe_job: bool,
    /// Part size for parallel ranged downloads: a power-of-two MiB (e.g. 16MiB, 1GiB).
    #[arg(long, value_parser = parse_part_size)]
    part_size: Option<u64>,
    /// Parallel requests in parts mode.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: u16,
    /// Attempts per request before giving up (retries throttling, 5xx, timeouts, cut or corrupt bodies).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// This command's --cli-read-timeout (kept for existing scripts); wins over it.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    read_timeout: Option<u64>,
    /// First retry backoff in milliseconds (doubles each attempt, with jitter, up to 20 s).
    #[arg(long, default_value_t = 1000, hide = true)]
    retry_base_ms: u64,
    /// First wait until the job has completed (DescribeJob polled, see `wait job-completed`).
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    schedule: crate::jobs::wait::ScheduleArgs,
    /// Where to write the output (`-` = stdout).
    outfile: PathBuf,
}

#[derive(Args, Debug)]
struct TreeHashArgs {
    /// Files (`-` or none = stdin).
    files: Vec<PathBuf>,
    /// Read `HASH  NAME` lines from SUMS and check each file.
    #[arg(long, short = 'c')]
    check: Option<PathBuf>,
    /// Threads hashing leaves (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// The downloaded file.
    file: PathBuf,
    /// The raw response head it came with (as `curl -D` saves it).
    #[arg(long, conflicts_with = "aws_cli_json")]
    headers: Option<PathBuf>,
    /// The JSON the AWS CLI printed for `aws glacier get-job-output`.
    #[arg(long)]
    aws_cli_json: Option<PathBuf>,
    /// The Range that was requested: bytes=FIRST-LAST or bytes=FIRST-.
    #[arg(long, value_parser = parse_range)]
    range: Option<RangeRequest>,
    /// Tree hash the file must have.
    #[arg(long, value_parser = parse_digest)]
    expected_tree_hash: Option<Digest>,
}

#[derive(Args, Debug)]
struct InventoryArgs {
    /// The inventory file (JSON or CSV).
    file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct SelftestArgs {
    /// Size of the generated archive in MiB.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=65536))]
    size_mib: u64,
    /// Only serve the loopback endpoint (a generated archive job, SigV4 checked) for SECONDS,
    /// printing how to reach it: for manual tests and benchmarks.
    #[arg(long, value_name = "SECONDS", hide = true)]
    serve: Option<u64>,
}

fn parse_range(s: &str) -> Result<RangeRequest, String> {
    RangeRequest::parse(s.as_bytes()).map_err(|e| format!("{e} (got {s:?})"))
}

fn parse_digest(s: &str) -> Result<Digest, String> {
    Digest::from_hex(s.as_bytes()).map_err(|e| e.to_string())
}

/// `-` or a 12-digit account id (every command's `--account-id`).
pub(crate) fn parse_account_id(s: &str) -> Result<String, String> {
    if s == "-" || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())) {
        Ok(s.to_string())
    } else {
        Err("expected a 12-digit account id without hyphens, or `-`".into())
    }
}

/// `16MiB`, `1GiB`, `16M`, or a plain byte count; must be a power-of-two MiB.
pub(crate) fn parse_part_size(s: &str) -> Result<u64, String> {
    let bytes = parse_bytes(s)?;
    if bytes < MIB || !bytes.is_multiple_of(MIB) || !(bytes / MIB).is_power_of_two() {
        return Err(format!(
            "{s:?} is not a power-of-two number of MiB: per-part tree hashes compose only for such parts"
        ));
    }
    Ok(bytes)
}

/// A byte count: plain, or with a unit `K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB`.
pub(crate) fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => MIB,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        _ => return Err(format!("unknown unit in {s:?} (use MiB or GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

/// Runs a parsed command; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let g = cli.global;
    if prints_documents(&cli.command) {
        match output_options(&g) {
            Ok(output) => crate::render::install(output),
            Err(e) => {
                eprintln!("glacier-verify: {e}");
                return e.exit_code();
            }
        }
    }
    let result = match cli.command {
        Command::GetJobOutput(a) => get_job_output(&g, a),
        Command::DescribeJob(a) => describe_job(&g, &a),
        Command::TreeHash(a) => {
            crate::treehash_cmd::run(&a.files, a.check.as_deref(), a.threads.map(usize::from))
        }
        Command::Verify(a) => crate::offline::run(
            &a.file,
            a.headers.as_deref(),
            a.aws_cli_json.as_deref(),
            a.range,
            a.expected_tree_hash,
        ),
        Command::Inventory(a) => inventory(&a),
        Command::Selftest(a) => match a.serve {
            Some(secs) => crate::selftest::serve(a.size_mib << 20, Duration::from_secs(secs)),
            None => crate::selftest::run(a.size_mib << 20, g.quiet),
        },
        Command::InitiateJob(a) => vault_command(&g, |c| crate::jobs::initiate::run(c, &a)),
        Command::Wait(w) => vault_command(&g, |c| crate::jobs::wait::run(c, &w, g.quiet)),
        Command::ListJobs(mut a) => {
            a.no_paginate = g.no_paginate;
            vault_command(&g, |c| crate::jobs::list::run(c, &a))
        }
        Command::ListVaults(mut a) => {
            a.no_paginate = g.no_paginate;
            vault_command(&g, |c| crate::jobs::vaults::list_vaults(c, &a))
        }
        Command::DescribeVault(a) => {
            vault_command(&g, |c| crate::jobs::vaults::describe_vault(c, &a))
        }
        Command::GetDataRetrievalPolicy(a) => {
            vault_command(&g, |c| crate::jobs::vaults::data_retrieval_policy(c, &a))
        }
        #[cfg(feature = "vault-exit")]
        Command::VaultExit(mut a) => {
            // Human text unless a document is asked for: `--json`, or
            // `--output` / `--query` given on the command line.
            a.json |= g.output.is_some() || g.query.is_some();
            crate::vault_exit::run(&a, g.quiet, || {
                client(&g, Some(Duration::from_secs(a.read_timeout)))
            })
        }
        Command::ListProvisionedCapacity(a) => {
            vault_command(&g, |c| crate::jobs::vaults::provisioned_capacity(c, &a))
        }
        #[cfg(feature = "man-and-completions")]
        Command::Completion(a) => completion(a.shell),
        #[cfg(feature = "man-and-completions")]
        Command::Man => man_page(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("glacier-verify: {e}");
            e.exit_code()
        }
    }
}

/// Whether the command prints a JSON document (and so reads `--output`).
fn prints_documents(command: &Command) -> bool {
    match command {
        Command::TreeHash(_) | Command::Inventory(_) | Command::Selftest(_) | Command::Wait(_) => {
            false
        }
        #[cfg(feature = "man-and-completions")]
        Command::Completion(_) | Command::Man => false,
        _ => true,
    }
}

/// `--output` (else `AWS_DEFAULT_OUTPUT`, else the profile's `output`),
/// `--query` and `--color`.
fn output_options(g: &Global) -> Result<crate::render::Output, HostError> {
    use crate::credentials::{Env, resolve_output, resolve_profile};
    use crate::render::{Color, Format, Output};
    let env = Env::from_process();
    let profile = resolve_profile(&env, g.profile.as_deref())?;
    let format = match resolve_output(&env, g.output.as_deref(), &profile)? {
        None => Format::Json,
        Some(setting) => Format::parse(&setting.name).ok_or_else(|| {
            HostError::Usage(format!(
                "{}: unknown output format {:?}: glacier-verify prints json, text or table \
                 (not the AWS CLI's yaml or yaml-stream)",
                setting.source, setting.name
            ))
        })?,
    };
    Ok(Output {
        format,
        query: g.query.clone(),
        color: match g.color {
            ColorArg::On => Color::On,
            ColorArg::Off => Color::Off,
            ColorArg::Auto => Color::Auto,
        },
    })
}

/// `--cli-connect-timeout` / `--cli-read-timeout` seconds: 0 is none.
fn timeout(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs))
}

fn client(g: &Global, read_timeout: Option<Duration>) -> Result<Client, HostError> {
    use crate::credentials::{Env, Net, Overrides, provider, resolve, resolve_ca_bundle};
    use crate::transport::{ProxyEnv, Transport, TrustOptions, TrustStore};
    let env = Env::from_process();
    let resolved = resolve(
        &env,
        &Overrides {
            profile: g.profile.as_deref(),
            region: g.region.as_deref(),
            endpoint_url: g.endpoint_url.as_deref(),
        },
    )?;
    let trust = TrustOptions {
        store: match g.trust_store {
            TrustStoreArg::Bundled => TrustStore::Bundled,
            TrustStoreArg::Os => TrustStore::Os,
        },
        ca_bundle: resolve_ca_bundle(&env, g.ca_bundle.as_deref(), &resolved.profile)?,
        no_verify: g.no_verify_ssl,
    };
    if trust.no_verify {
        // The AWS CLI warns on every request; once per run says the same.
        eprintln!(
            "glacier-verify: WARNING: --no-verify-ssl: the certificate of {} is not verified; \
             anyone on the network path can read and change this traffic",
            resolved.endpoint.url.host()
        );
    }
    let proxy_env = ProxyEnv::from_process();
    let transport = Transport::for_endpoint(&resolved.endpoint.url, &trust, &proxy_env)?;
    let credentials = provider(
        resolved.credentials,
        Net {
            trust,
            proxy_env,
            debug: g.debug,
        },
    )?;
    Ok(Client::new(ClientConfig {
        endpoint: resolved.endpoint.url,
        region: resolved.region.region.as_str().to_string(),
        credentials,
        connect_timeout: timeout(g.cli_connect_timeout),
        read_timeout,
        debug: g.debug,
        transport,
    }))
}

/// A command of [`crate::jobs`], run with a client of the global options.
fn vault_command(
    g: &Global,
    command: impl FnOnce(&Client) -> Result<i32, HostError>,
) -> Result<i32, HostError> {
    command(&client(g, timeout(g.cli_read_timeout))?)
}

fn location(a: &JobArgs) -> JobLocation {
    JobLocation {
        account_id: a.account_id.clone(),
        vault: a.vault_name.clone(),
        job_id: a.job_id.clone(),
    }
}

fn describe_job(g: &Global, a: &JobArgs) -> Result<i32, HostError> {
    let c = client(g, timeout(g.cli_read_timeout))?;
    let (_, raw) = crate::jobs::describe_job(&c, &location(a), &RetryPolicy::standard())?;
    crate::render::print("DescribeJob", &raw)?;
    Ok(exit::OK)
}

fn inventory(a: &InventoryArgs) -> Result<i32, HostError> {
    let bytes = std::fs::read(&a.file).map_err(|e| HostError::io(&a.file, e))?;
    let inv = crate::inventory::parse(&bytes)
        .map_err(|e| HostError::Usage(format!("{}: {e}", a.file.display())))?;
    let mut out = std::io::stdout().lock();
    let written = if a.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&inv.to_json()).unwrap_or_default()
        )
    } else {
        inv.write_table(&mut out)
    };
    written.map_err(|e| HostError::io("<stdout>", e))?;
    Ok(exit::OK)
}

fn get_job_output(g: &Global, a: GetJobOutput) -> Result<i32, HostError> {
    let c = client(g, timeout(a.read_timeout.unwrap_or(g.cli_read_timeout)))?;
    let loc = location(&a.job);
    let to_stdout = a.outfile.as_os_str() == "-";
    // Check the output location before spending a request, and hold it.
    let paths = OutputPaths::for_target(&output_target(&a.outfile, &loc, to_stdout)?);
    let lock = OutputLock::acquire(&paths.lock)?;
    // From here a signal stops the download gracefully (a second one at once).
    crate::interrupt::install()
        .map_err(|e| HostError::Internal(format!("signal handlers: {e}")))?;
    let result = get_locked(g, &a, &c, loc, &paths);
    lock.release();
    result
}

/// `get-job-output` once this run holds OUTFILE's lock.
fn get_locked(
    g: &Global,
    a: &GetJobOutput,
    c: &Client,
    loc: JobLocation,
    paths: &OutputPaths,
) -> Result<i32, HostError> {
    let to_stdout = a.outfile.as_os_str() == "-";
    let retry = RetryPolicy {
        max_attempts: a.max_attempts,
        base: Duration::from_millis(a.retry_base_ms),
        cap: Duration::from_secs(20),
    };
    if a.wait {
        crate::jobs::wait::until_completed(c, &loc, &a.schedule, g.quiet).inspect_err(|e| {
            emit_failure(&Report::failed(e, &[], no_attempts(), None), to_stdout)
        })?;
    }
    let facts = if a.no_describe_job {
        None
    } else {
        // A failure here still gets its report, like one in the download.
        let facts = crate::jobs::describe_job(c, &loc, &retry)
            .and_then(|(job, _)| Ok(job.facts()?))
            .inspect_err(|e| {
                emit_failure(&Report::failed(e, &[], no_attempts(), None), to_stdout)
            })?;
        Some(facts)
    };
    let inventory = a.inventory.as_deref().map(read_inventory).transpose()?;
    let request = Request {
        range: a.range,
        expected_tree_hash: a.expected_tree_hash,
        inventory: a.inventory.as_deref().zip(inventory.as_ref()),
        inventory_entry: None,
        part_size: a.part_size,
        parallel: usize::from(a.parallel),
        listed_job: None,
    };
    let plan = Plan::new(loc, facts.as_ref(), &request, retry)?;
    if let Some(len) = plan.target_len() {
        outfile::check_space(paths, len)?;
    }
    let shown = (!to_stdout).then_some(a.outfile.as_path());
    run_download(c, &plan, paths, g.quiet, shown)
}

/// Where the verified output is written: OUTFILE, or for `-` a spool file
/// in the temporary directory named after the job, so that a rerun of the
/// same command resumes it. Checked before any request.
fn output_target(outfile: &Path, loc: &JobLocation, to_stdout: bool) -> Result<PathBuf, HostError> {
    let target = if to_stdout {
        std::env::temp_dir().join(spool_name(loc))
    } else {
        outfile.to_owned()
    };
    outfile::check_target(&target)?;
    Ok(target)
}

/// `glacier-verify-spool-<hash of account, vault and job>-<job id prefix>`.
fn spool_name(loc: &JobLocation) -> String {
    let key = format!("{}\n{}\n{}", loc.account_id, loc.vault, loc.job_id);
    let hash = glacier_verify_core::tree_hash(key.as_bytes()).to_string();
    format!(
        "glacier-verify-spool-{}-{}",
        &hash[..16],
        sanitize(&loc.job_id)
    )
}

fn read_inventory(path: &Path) -> Result<crate::inventory::Inventory, HostError> {
    let bytes = std::fs::read(path).map_err(|e| HostError::io(path, e))?;
    crate::inventory::parse(&bytes)
        .map_err(|e| HostError::Usage(format!("{}: {e}", path.display())))
}

fn no_attempts() -> Attempts {
    Attempts {
        requests: 0,
        retries: Vec::new(),
    }
}

fn attempts(log: &Log) -> Attempts {
    Attempts {
        requests: log.requests(),
        retries: log.retries(),
    }
}

/// Downloads as planned, moves the verified output into place and
/// reports; `outfile` is `None` when the output goes to stdout.
fn run_download(
    c: &Client,
    plan: &Plan,
    paths: &OutputPaths,
    quiet: bool,
    outfile: Option<&Path>,
) -> Result<i32, HostError> {
    let to_stdout = outfile.is_none();
    let progress = Progress::start(!quiet);
    let counters = progress.counters();
    let log = Log::default();
    let result = download::download(&Download {
        client: c,
        plan,
        paths,
        counters: &counters,
        log: &log,
    });
    drop(progress);
    match result {
        Ok(outcome) => {
            outfile::finish(paths)?;
            if to_stdout {
                copy_to_stdout(&paths.target)?;
            }
            let report = Report::verified(plan, outcome, attempts(&log), outfile);
            emit_report(&report, to_stdout)?;
            Ok(exit::OK)
        }
        Err(e) => {
            // A .part that never received a byte is noise, and so is its
            // journal; only regular files are removed (a link is the user's).
            let regular = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
            if regular(&paths.part) && std::fs::metadata(&paths.part).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&paths.part);
                if regular(&paths.journal) {
                    let _ = std::fs::remove_file(&paths.journal);
                }
            }
            let partial = paths.part.exists().then_some(paths.part.as_path());
            // Kept, with OUTFILE `-` too: a rerun of the same command resumes.
            let report = Report::failed(&e, &plan.notes, attempts(&log), partial);
            emit_failure(&report, to_stdout);
            Err(e)
        }
    }
}

/// Prints a report (`--output`, `--query`): on stdout, or on stderr when
/// stdout carries the data.
fn emit_report(report: &Report, to_stdout: bool) -> Result<(), HostError> {
    let stream = if to_stdout {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    crate::render::print_streamed(stream, "GetJobOutput", report)
}

/// Prints the report of a failure; a failure to print it is said on
/// stderr, and the download's own error stays the one that counts.
fn emit_failure(report: &Report, to_stdout: bool) {
    if let Err(e) = emit_report(report, to_stdout) {
        eprintln!("glacier-verify: {e}");
    }
}

/// `completion SHELL`: the completion script for the whole command line.
#[cfg(feature = "man-and-completions")]
fn completion(shell: clap_complete::Shell) -> Result<i32, HostError> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "glacier-verify", &mut out);
    write_stdout(&out)
}

/// `man`: the manual page, with every command and option.
#[cfg(feature = "man-and-completions")]
fn man_page() -> Result<i32, HostError> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| HostError::Internal(format!("man page: {e}")))?;
    write_stdout(&out)
}

#[cfg(feature = "man-and-completions")]
fn write_stdout(bytes: &[u8]) -> Result<i32, HostError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| HostError::io("<stdout>", e))?;
    Ok(exit::OK)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect()
}

fn copy_to_stdout(path: &Path) -> Result<(), HostError> {
    let mut f = File::open(path).map_err(|e| HostError::io(path, e))?;
    let mut out = std::io::stdout().lock();
    let r = std::io::copy(&mut f, &mut out).and_then(|_| out.flush());
    let _ = std::fs::remove_file(path);
    r.map(|_| ()).map_err(|e| HostError::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_must_be_power_of_two_mib() {
        assert_eq!(parse_part_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_part_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_part_size("1048576").unwrap(), 1 << 20);
        assert!(parse_part_size("3MiB").is_err());
        assert!(parse_part_size("512KiB").is_err());
        assert!(parse_part_size("0").is_err());
        assert!(parse_part_size("16XB").is_err());
        assert!(parse_part_size("99999999999999TiB").is_err());
    }

    #[test]
    fn timeouts_of_zero_are_none_and_global_options_go_anywhere() {
        assert_eq!(timeout(0), None);
        assert_eq!(timeout(7), Some(Duration::from_secs(7)));
        let cli = Cli::try_parse_from([
            "glacier-verify",
            "--no-paginate",
            "--cli-read-timeout",
            "0",
            "list-vaults",
            "--output",
            "text",
        ])
        .unwrap();
        assert!(cli.global.no_paginate);
        assert_eq!(cli.global.cli_read_timeout, 0);
        assert_eq!(cli.global.cli_connect_timeout, 60);
        assert_eq!(cli.global.output.as_deref(), Some("text"));
        // The subcommands lost their own --no-paginate to the global one.
        let cli = Cli::try_parse_from([
            "glacier-verify",
            "list-jobs",
            "--vault-name",
            "v",
            "--no-paginate",
        ])
        .unwrap();
        assert!(cli.global.no_paginate);
    }

    #[test]
    fn account_ids() {
        assert!(parse_account_id("-").is_ok());
        assert!(parse_account_id("012345678901").is_ok());
        assert!(parse_account_id("0123-4567-8901").is_err());
        assert!(parse_account_id("12345").is_err());
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for args in [
            vec![
                "glacier-verify",
                "get-job-output",
                "--vault-name",
                "v",
                "--job-id",
                "j",
                "--range",
                "bytes 0-1",
                "out",
            ],
            vec![
                "glacier-verify",
                "get-job-output",
                "--vault-name",
                "v",
                "--job-id",
                "j",
                "--expected-tree-hash",
                "abc",
                "out",
            ],
            vec!["glacier-verify", "get-job-output", "--job-id", "j", "out"],
            vec![
                "glacier-verify",
                "get-job-output",
                "--vault-name",
                "v",
                "--job-id",
                "j",
                "--parallel",
                "0",
                "out",
            ],
            vec!["glacier-verify", "frobnicate"],
            vec![
                "glacier-verify",
                "get-job-output",
                "--vault-name",
                "",
                "--job-id",
                "j",
                "out",
            ],
            vec![
                "glacier-verify",
                "describe-job",
                "--vault-name",
                "v",
                "--job-id",
                "",
            ],
        ] {
            let e = Cli::try_parse_from(&args).unwrap_err();
            assert!(e.use_stderr(), "{args:?}");
        }
    }
}
