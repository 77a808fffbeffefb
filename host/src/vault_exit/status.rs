//! What vault-exit prints: `--status` (every shard's state in DIR,
//! merged), `--dry-run` (the plan, changing nothing) and the summary at
//! the end of a run. Human text, or JSON with `--json`.

use std::path::Path;

use serde_json::{Value, json};

use super::VaultExitArgs;
use super::destination::STATE_DIR;
use super::state::{Counts, ShardKey, State, Status};
use crate::client::Client;
use crate::error::{HostError, exit};

fn counts_json(c: &Counts) -> Value {
    let mut m = serde_json::Map::new();
    for s in Status::ALL {
        m.insert(
            s.as_str().into(),
            json!({"archives": c.of(s), "bytes": c.bytes_of(s)}),
        );
    }
    json!({"archives": c.total(), "bytes": c.total_bytes(), "byStatus": m})
}

fn counts_text(c: &Counts) -> String {
    let mut out = format!("{} archives, {} bytes\n", c.total(), c.total_bytes());
    for s in Status::ALL {
        if c.of(s) > 0 {
            out.push_str(&format!(
                "  {:<12} {:>10} archives {:>16} bytes\n",
                s.as_str(),
                c.of(s),
                c.bytes_of(s)
            ));
        }
    }
    out
}

fn failures_json(st: &State) -> Result<Vec<Value>, HostError> {
    Ok(st
        .failed()?
        .into_iter()
        .map(|r| json!({"archiveId": r.archive_id, "name": r.path, "error": r.error}))
        .collect())
}

/// `--status --dest DIR`: every `state-I-of-N.sqlite` in DIR, merged.
pub fn print_status(dest: &Path, as_json: bool) -> Result<i32, HostError> {
    let dir = dest.join(STATE_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| HostError::io(&dir, e))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("state-") && n.ends_with(".sqlite"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(HostError::Usage(format!(
            "{}: no vault-exit state (state-I-of-N.sqlite) here",
            dir.display()
        )));
    }
    let mut total = Counts::default();
    let mut shards = Vec::new();
    let mut failures = Vec::new();
    for f in &files {
        let st = State::open_read_only(f)?;
        let key = st.shard_key()?;
        let c = st.counts()?;
        total.add(&c);
        failures.extend(failures_json(&st)?);
        shards.push(json!({
            "vault": key.vault, "shardIndex": key.index, "shardCount": key.count,
            "planned": st.is_planned()?, "counts": counts_json(&c),
        }));
    }
    if as_json {
        let out = json!({"shards": shards, "total": counts_json(&total), "failed": failures});
        crate::render::print("VaultExit", &out)?;
    } else {
        println!("{} shard state file(s) in {}", files.len(), dir.display());
        print!("{}", counts_text(&total));
        for f in &failures {
            println!(
                "  failed {}: {}",
                f["archiveId"].as_str().unwrap_or(""),
                f["error"].as_str().unwrap_or("")
            );
        }
    }
    Ok(exit::OK)
}

/// The summary at the end of a run (stdout).
pub fn print_summary(st: &State, key: &ShardKey, as_json: bool) -> Result<(), HostError> {
    let c = st.counts()?;
    if as_json {
        let out = json!({
            "vault": key.vault, "shardIndex": key.index, "shardCount": key.count,
            "counts": counts_json(&c), "failed": failures_json(st)?,
        });
        crate::render::print("VaultExit", &out)?;
    } else {
        println!(
            "vault-exit {} shard {} of {}: {} of {} archives verified",
            key.vault,
            key.index,
            key.count,
            c.of(Status::Verified),
            c.total()
        );
        print!("{}", counts_text(&c));
        for r in st.failed()? {
            println!(
                "  failed {} ({}): {}",
                r.archive_id,
                r.path,
                r.error.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// `--dry-run`: the plan of the shard from `--inventory` (or the state
/// already written), what exists already and the requests it takes.
pub fn dry_run(
    a: &VaultExitArgs,
    key: &ShardKey,
    state_path: &Path,
    client: impl FnOnce() -> Result<Client, HostError>,
) -> Result<i32, HostError> {
    let existing = if state_path.exists() {
        let st = State::open_read_only(state_path)?;
        st.is_planned()?.then(|| st.counts()).transpose()?
    } else {
        None
    };
    let (counts, source) = match (existing, &a.inventory) {
        (Some(c), _) => (c, format!("the state {}", state_path.display())),
        (None, Some(inv)) => (
            plan_in_memory(inv, a, key)?,
            format!("inventory {}", inv.display()),
        ),
        (None, None) => {
            // Without an inventory, what the vault says it holds.
            let c = client()?;
            let target = crate::jobs::path(&a.account_id, &["vaults", &key.vault]);
            let permission = crate::jobs::Permission::on_vault(
                "glacier:DescribeVault",
                &c.config().region,
                &a.account_id,
                &key.vault,
            );
            let v = crate::jobs::fetch(
                &c,
                &target,
                "DescribeVault",
                &permission,
                &super::inventory::retry_policy(a),
            )?;
            let out = json!({
                "vault": key.vault, "shardIndex": key.index, "shardCount": key.count,
                "inventory": "an inventory job would be initiated (or a completed one reused)",
                "vaultArchives": v["NumberOfArchives"], "vaultBytes": v["SizeInBytes"],
            });
            crate::render::print("VaultExit", &out)?;
            return Ok(exit::OK);
        }
    };
    let part = a.part_size.unwrap_or(0);
    let todo = counts.total() - counts.of(Status::Verified) - counts.of(Status::Failed);
    let out = json!({
        "vault": key.vault, "shardIndex": key.index, "shardCount": key.count,
        "from": source,
        "tier": a.tier.as_str(),
        "plan": counts_json(&counts),
        "alreadyVerified": counts.of(Status::Verified),
        "requests": {
            "InitiateJob": counts.of(Status::Planned) + counts.of(Status::Initiating),
            "GetJobOutputAtLeast": todo,
            "partSize": if part > 0 { Value::from(part) } else { Value::from("default per archive") },
        },
    });
    if a.json {
        crate::render::print("VaultExit", &out)?;
    } else {
        println!(
            "dry run: vault {} shard {} of {} from {source}, tier {}",
            key.vault,
            key.index,
            key.count,
            a.tier.as_str()
        );
        print!("{}", counts_text(&counts));
        println!(
            "  {} InitiateJob requests ({}), {} archives already verified",
            out["requests"]["InitiateJob"],
            a.tier.as_str(),
            counts.of(Status::Verified)
        );
    }
    Ok(exit::OK)
}

/// The shard's plan from an inventory file, counted without writing.
fn plan_in_memory(inv: &Path, a: &VaultExitArgs, key: &ShardKey) -> Result<Counts, HostError> {
    let reader = std::fs::File::open(inv).map_err(|e| HostError::io(inv, e))?;
    let (mut n, mut bytes) = (0u64, 0u64);
    super::inventory::stream(std::io::BufReader::new(reader), |arch| {
        if super::shard_of(&arch.archive_id, key.count) == key.index {
            n += 1;
            bytes = bytes.saturating_add(arch.size);
        }
        std::ops::ControlFlow::Continue(())
    })
    .map_err(|e| HostError::Usage(format!("{}: {e}", inv.display())))?;
    let _ = a;
    Ok(Counts {
        by_status: vec![(Status::Planned, n, bytes)],
    })
}
