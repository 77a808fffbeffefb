#!/usr/bin/env bash
# The vault-exit benchmark: one loopback endpoint (host/loopback/examples/
# serve_vault.rs) serving 10,004 generated archives (10,000 of 4-256 KiB and
# 4 of 256 MiB, jobs completing at once, SigV4 checked), and on it, in the
# same run:
#   glacier-verify vault-exit          all 10,004 archives, verified three ways
#   bench/vault_exit_boto3.py          the same work with boto3, 16 threads
#   aws glacier initiate-job / get-job-output in a shell loop, 50 archives,
#                                      extrapolated to the whole vault
#   the disk alone: the same files written and fsynced, no network (baseline)
#   the plan of a generated 1,000,000-archive inventory (parse, plan, state size)
# and prints a markdown table with the goals met or not. The driver is
# bench/vault_exit_bench.py; bench/README.md says what each figure means.
#
# Usage: bash bench/vault-exit.sh [--readme] [--parallel N] [--small N]
#          [--plan-archives N] [--skip-floor] [--skip-boto3] [--skip-cli] [--skip-plan]
#   --readme: also write the table into README.md between the
#             vault-bench markers (default: print only)
# Environment: CARGO_TARGET_DIR (where the release builds are; default target/),
#   GV_VAULT_BENCH_DIR (where archives are written; default target/vault-bench:
#   the machine's disk, never tmpfs, which would hide every fsync).
# Installs what it needs: GNU time, python3 with venv (Debian packages);
# boto3 and awscli from PyPI into target/vault-bench-venv. Needs about 2 GiB
# of free disk and a few minutes once built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
command_line="bash bench/vault-exit.sh${*:+ $*}"

log() { printf '[vault-bench] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------
apt_missing=()
[ -x /usr/bin/time ] || apt_missing+=(time)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_missing+=(python3 python3-venv)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "installing ${apt_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

# --- boto3 and awscli in a venv -------------------------------------------
venv=$root/target/vault-bench-venv
if ! "$venv/bin/python" -c 'import boto3, botocore.utils' >/dev/null 2>&1 || [ ! -x "$venv/bin/aws" ]; then
  log "creating $venv with boto3 and awscli"
  mkdir -p "$root/target"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check boto3 awscli
fi

# --- builds ----------------------------------------------------------------
log "building glacier-verify and the loopback's serve_vault (release)"
cargo build -q --release -p glacier-verify
cargo build -q --release -p glacier-verify-loopback --example serve_vault

work=${GV_VAULT_BENCH_DIR:-$root/target/vault-bench}
mkdir -p "$work"
GV_BENCH_COMMAND="$command_line" exec "$venv/bin/python" "$root/bench/vault_exit_bench.py" \
  --gv "$target/release/glacier-verify" \
  --server "$target/release/examples/serve_vault" \
  --boto3-script "$root/bench/vault_exit_boto3.py" \
  --aws "$venv/bin/aws" \
  --work "$work" \
  --readme-file "$root/README.md" "$@"
