//! The loopback endpoint serving one vault of generated archives, for the
//! `vault-exit` benchmark (`bench/vault-exit.sh`): every client measured in
//! a run talks to the same server, about the same archives, with the same
//! inventory.
//!
//! ```text
//! cargo run --release -p glacier-verify-loopback --example serve_vault -- \
//!     [--small N] [--small-min BYTES] [--small-max BYTES] \
//!     [--large N] [--large-size BYTES] [--seed S] [--inventory FILE] [--lifetime SECS]
//! ```
//!
//! - `--small N` archives (default 10,000) of `--small-min`..=`--small-max`
//!   bytes (default 4 KiB..=256 KiB), their sizes a pure function of the
//!   seed and the index; and `--large N` archives (default 4) of
//!   `--large-size` bytes (default 256 MiB), spread through the vault.
//!   Every payload is a [`Payload::Pattern`]: computed from the offset as it
//!   is sent, so a 256 MiB archive holds no memory (only its 1 MiB leaf
//!   digests, computed once at start).
//! - Jobs InitiateJob creates complete at once (no tier delay), for every
//!   tier.
//! - Every request's SigV4 signature is checked against the fixed bench
//!   credentials below (a key this endpoint alone accepts; never a secret).
//! - `--inventory FILE`: the vault's inventory, as Glacier's JSON
//!   inventory, written before the endpoint says it is ready.
//!
//! When ready it prints one line of JSON on stdout: `port`, `url`,
//! `vault`, `region`, `accessKeyId`, `secretAccessKey`, `archives`,
//! `bytes`. It serves until its standard input is closed (the bench driver
//! holds a pipe to it, so the server never outlives the driver) or
//! `--lifetime` seconds pass, then prints on stderr what it answered.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use glacier_verify_loopback::{
    Config, Endpoint, Payload, PreloadedArchive, SigV4Auth, inventory_json, iso8601,
};
use glacier_verify_sigv4::Credentials;

const VAULT: &str = "bench-vault";
const AKID: &str = "AKIDVAULTEXITBENCH00";
/// A bench key accepted only by this endpoint; never a real secret.
const SECRET: &str = "vault/exit/bench/secret/not/a/real/one/0";
const REGION: &str = "us-east-1";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The command line.
struct Args {
    small: u64,
    small_min: u64,
    small_max: u64,
    large: u64,
    large_size: u64,
    seed: u64,
    inventory: Option<PathBuf>,
    lifetime: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        small: 10_000,
        small_min: 4 * KIB,
        small_max: 256 * KIB,
        large: 4,
        large_size: 256 * MIB,
        seed: 1,
        inventory: None,
        lifetime: Duration::from_secs(4 * 3600),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value (see the file's docs)"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value:?}"))
        };
        match flag.as_str() {
            "--small" => a.small = number()?,
            "--small-min" => a.small_min = number()?,
            "--small-max" => a.small_max = number()?,
            "--large" => a.large = number()?,
            "--large-size" => a.large_size = number()?,
            "--seed" => a.seed = number()?,
            "--lifetime" => a.lifetime = Duration::from_secs(number()?),
            "--inventory" => a.inventory = Some(PathBuf::from(&value)),
            other => return Err(format!("unknown option {other:?} (see the file's docs)")),
        }
    }
    if a.small_min == 0 || a.small_min > a.small_max || a.large_size == 0 {
        return Err("sizes: 0 < --small-min <= --small-max, --large-size > 0".into());
    }
    Ok(a)
}

/// SplitMix64's output function: the sizes and ids from the seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The vault's archives, in inventory order: the large ones spread evenly
/// among the small ones. The same arguments give the same archives.
fn archives(a: &Args) -> Vec<PreloadedArchive> {
    let total = a.small + a.large;
    let large_at: Vec<u64> = (0..a.large).map(|k| k * total / a.large.max(1)).collect();
    let span = a.small_max - a.small_min + 1;
    (0..total)
        .map(|i| {
            let size = if large_at.contains(&i) {
                a.large_size
            } else {
                a.small_min + mix(a.seed ^ (i << 20)) % span
            };
            let key = format!("vault-exit-bench:{}:{i}", a.seed);
            let h1 = glacier_verify_core::tree_hash(key.as_bytes()).to_string();
            let h2 = glacier_verify_core::tree_hash(h1.as_bytes()).to_string();
            PreloadedArchive {
                // 138 characters of [0-9a-f_-], like Glacier's archive ids.
                archive_id: format!("{h1}{h2}_-{}", &h1[..8]),
                description: format!("bench/d{:02}/archive-{i:05}.bin", i % 100),
                payload: Payload::pattern(size, mix(a.seed.wrapping_add(i))),
            }
        })
        .collect()
}

fn start(a: &Args) -> Result<(Endpoint, u64, u64), String> {
    let ep = Endpoint::start(
        Config {
            region: REGION.into(),
            vaults: vec![VAULT.into()],
            // 16 client threads, the CLI's fresh connections, and slack.
            max_connections: 256,
            ..Config::default()
        }
        .with_auth(SigV4Auth {
            credentials: Credentials::new(AKID, SECRET, None),
            region: REGION.into(),
        })
        .with_max_lifetime(a.lifetime),
    )
    .map_err(|e| format!("cannot start the endpoint: {e}"))?;
    let list = archives(a);
    let bytes = list.iter().map(|x| x.payload.len()).sum();
    for x in &list {
        ep.add_archive(VAULT, x);
    }
    ep.warm_up();
    if let Some(path) = &a.inventory {
        let entries = ep.vault_entries(VAULT);
        let text = inventory_json(&ep.vault_arn(VAULT), &iso8601(SystemTime::now()), &entries);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok((ep, list.len() as u64, bytes))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("serve_vault: {e}");
            return ExitCode::from(2);
        }
    };
    let (ep, n, bytes) = match start(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("serve_vault: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = serde_json::json!({
        "port": ep.addr().port(), "url": ep.url(), "vault": VAULT, "region": REGION,
        "accessKeyId": AKID, "secretAccessKey": SECRET, "archives": n, "bytes": bytes,
    });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{ready}").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    // Until stdin closes (or the lifetime ends: the endpoint stops itself).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = [0u8; 256];
        while std::io::stdin().read(&mut sink).is_ok_and(|k| k > 0) {}
        let _ = tx.send(());
    });
    while rx.recv_timeout(Duration::from_millis(200)).is_err() && !ep.is_stopped() {}
    let initiated: u64 = ep.initiate_counts().values().map(|&c| u64::from(c)).sum();
    eprintln!(
        "serve_vault: {} requests answered, {initiated} archive jobs initiated, {} body bytes sent",
        ep.requests().len(),
        ep.body_bytes_sent()
    );
    ep.shutdown();
    ExitCode::SUCCESS
}
