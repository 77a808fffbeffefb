//! The loopback endpoint over HTTPS, for a client built for another machine
//! (`tests/arm-linux/run.sh` runs the aarch64 and armv7 binaries under
//! qemu-user against it): a CA and a certificate for `127.0.0.1` and
//! `localhost` are generated at start, one archive job is served, and every
//! request's SigV4 signature is checked.
//!
//! ```text
//! cargo run -p glacier-verify-loopback --features tls --example serve_tls -- DIR SIZE LIFETIME_SECS
//! ```
//!
//! Writes into DIR (which must exist):
//! - `ca.pem`: the CA the client must trust (`--ca-bundle`);
//! - `archive.bin`: the archive's bytes, to compare the download with;
//! - `endpoint.env` (written last: its presence means "ready"): shell
//!   assignments `ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_REGION`, `VAULT`, `JOB_ID`, `SIZE`, `TREE_HASH`.
//!
//! Serves until a file `DIR/stop` appears or LIFETIME_SECS pass, then prints
//! one line per GetJobOutput request it answered and a closing line
//! `served: N GetJobOutput responses over TLS, B body bytes`.

#[path = "../../tests/e2e/pki.rs"]
mod pki;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use glacier_verify_loopback::{ArchiveJob, Config, Endpoint, Payload, SigV4Auth};
use glacier_verify_sigv4::Credentials;

const VAULT: &str = "arm-vault";
const JOB: &str = "arm-tls-job";
const AKID: &str = "AKIDARMLINUXTEST0000";
/// A test key accepted only by this endpoint; never a real secret.
const SECRET: &str = "arm/linux/test/secret/not/a/real/one/00";
const REGION: &str = "us-east-1";

/// The command line: where to write, how big the archive is, how long to serve.
struct Args {
    dir: PathBuf,
    size: u64,
    lifetime: Duration,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: serve_tls DIR SIZE_BYTES LIFETIME_SECS";
    let mut it = std::env::args().skip(1);
    let (Some(dir), Some(size), Some(secs), None) = (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(usage.into());
    };
    let size = size
        .parse::<u64>()
        .map_err(|_| format!("SIZE_BYTES is not a number: {size:?}; {usage}"))?;
    let secs = secs
        .parse::<u64>()
        .map_err(|_| format!("LIFETIME_SECS is not a number: {secs:?}; {usage}"))?;
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(format!("DIR is not a directory: {}", dir.display()));
    }
    Ok(Args {
        dir,
        size,
        lifetime: Duration::from_secs(secs),
    })
}

/// Starts the HTTPS endpoint with one archive job and writes DIR's files.
fn start(args: &Args) -> Result<Endpoint, String> {
    let pki = pki::Pki::localhost();
    let ep = Endpoint::start(
        Config {
            region: REGION.into(),
            ..Config::default()
        }
        .with_auth(SigV4Auth {
            credentials: Credentials::new(AKID, SECRET, None),
            region: REGION.into(),
        })
        .with_tls(pki.identity())
        .with_max_lifetime(args.lifetime),
    )
    .map_err(|e| format!("cannot start the endpoint: {e}"))?;
    let archive = Payload::pattern(args.size, 0xa4c6_4a12);
    ep.add_archive_job(
        ArchiveJob::new(VAULT, JOB, archive.clone()).with_description("arm-linux TLS download"),
    )
    .map_err(|e| e.to_string())?;
    ep.warm_up();
    pki.write(&args.dir);
    write(&args.dir.join("archive.bin"), &archive.to_vec())?;
    let env = format!(
        "ENDPOINT_URL={}\nAWS_ACCESS_KEY_ID={AKID}\nAWS_SECRET_ACCESS_KEY={SECRET}\n\
         AWS_REGION={REGION}\nVAULT={VAULT}\nJOB_ID={JOB}\nSIZE={}\nTREE_HASH={}\n",
        ep.url(),
        args.size,
        archive.tree_hash()
    );
    // Written under another name and renamed: the file appears complete or not at all.
    let tmp = args.dir.join("endpoint.env.tmp");
    write(&tmp, env.as_bytes())?;
    std::fs::rename(&tmp, args.dir.join("endpoint.env"))
        .map_err(|e| format!("cannot rename {}: {e}", tmp.display()))?;
    Ok(ep)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Waits for DIR/stop or the end of the lifetime.
fn serve(args: &Args, ep: &Endpoint) {
    let stop = args.dir.join("stop");
    let until = Instant::now() + args.lifetime;
    while !stop.exists() && !ep.is_stopped() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Prints what was answered.
fn summary(ep: &Endpoint) {
    ep.wait_idle(Duration::from_secs(10));
    let mut log = ep.output_requests(JOB);
    log.sort_by_key(|r| r.seq);
    for r in &log {
        println!(
            "  GetJobOutput {} -> {} ({} of {} body bytes sent)",
            r.range_header.as_deref().unwrap_or("(no Range)"),
            r.status,
            r.body_bytes_sent,
            r.content_length
        );
    }
    println!(
        "served: {} GetJobOutput responses over TLS, {} body bytes",
        log.len(),
        ep.body_bytes_sent()
    );
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("serve_tls: {e}");
            return ExitCode::from(2);
        }
    };
    match start(&args) {
        Ok(ep) => {
            println!("serve_tls: serving {} on {}", JOB, ep.url());
            serve(&args, &ep);
            summary(&ep);
            ep.shutdown();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("serve_tls: {e}");
            ExitCode::FAILURE
        }
    }
}
