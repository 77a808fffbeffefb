#!/usr/bin/env bash
# Benchmarks of glacier-verify, on one generated 1 GiB file in the
# page cache, in interleaved rounds, against a baseline measured in the same
# rounds:
#   tree-hash  --threads 1 / all threads  vs  openssl dgst -sha256, botocore
#   get-job-output from nginx on 127.0.0.1  vs  curl -o of the same URL, to tmpfs
#     and to the machine's disk (durable, vs curl -o and curl -o && sync)
#   8 and 64 GiB from `glacier-verify selftest --serve` to disk  vs  curl -o
#   the core's tree hash vs plain sha2 SHA-256 (cargo bench --bench interleaved)
# Prints a table of medians, ratios, peak RSS and goals, and writes it into
# README.md between <!-- bench:begin --> and <!-- bench:end -->.
#
# Usage: bash bench/run.sh [--rounds N] [--wait-idle SECONDS] [--no-readme] [--skip-core]
#   --wait-idle: first wait up to SECONDS for other load on the machine to stop
#   --serve SECONDS: only start nginx and print the commands (for perf)
# Environment: GV_BENCH_ROUNDS (default 7), GV_BENCH_WAIT_IDLE (0), GV_BENCH_SIZE_MIB (1024),
#   GV_BENCH_OUT_DIR (where downloads are written; default /dev/shm, tmpfs),
#   GV_BENCH_DISK_DIR (the disk rows' output; default target/bench-disk),
#   GV_BENCH_BIG_GIB (large sizes in GiB, default 8,64; empty: none),
#   GV_BENCH_BIG_ROUNDS (default 3),
#   GV_BENCH_DATA_DIR (where the source file lives; default target/bench).
# The README is rewritten only when the machine was idle (exit 3 otherwise).
# Installs what it needs: nginx (Debian nginx-light), curl, openssl, GNU time, python3
# with venv; botocore from PyPI into target/bench-venv. Needs ~2.5 GiB of
# memory, free disk space for the large sizes, and about 1.5 minutes once built
# plus about three minutes per 8 GiB of large output on a disk writing 0.4 GiB/s (the first
# run also builds and installs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command_line="bash bench/run.sh${*:+ $*}"

log() { printf '[bench] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------
apt_missing=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || apt_missing+=(nginx-light)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
[ -x /usr/bin/time ] || apt_missing+=(time)
command -v findmnt >/dev/null 2>&1 || apt_missing+=(util-linux)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_missing+=(python3 python3-venv)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "installing ${apt_missing[*]}"
  # Debian starts nginx on port 80 after installing it unless policy-rc.d
  # says no; we want only our own instance on 127.0.0.1.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null; then
    # Debian 13 dropped the nginx-light flavour: plain nginx then.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]/nginx-light/nginx}" >/dev/null
  fi
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

# --- botocore in a venv ----------------------------------------------------
venv=$root/target/bench-venv
if ! "$venv/bin/python" -c 'import botocore.utils' >/dev/null 2>&1; then
  log "creating $venv with botocore"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check botocore
fi

# --- builds ----------------------------------------------------------------
log "building glacier-verify (release)"
cargo build -q --release -p glacier-verify

args=("$@")
core_out=$root/target/bench/core-interleaved.txt
mkdir -p "$root/target/bench"
if [[ " $* " != *" --skip-core "* && " $* " != *" --serve "* ]]; then
  log "core: cargo bench -p glacier-verify-core --bench interleaved"
  cargo bench -q -p glacier-verify-core --bench interleaved > "$core_out.new"
  mv "$core_out.new" "$core_out"
  cat "$core_out" >&2
else
  rm -f "$core_out"
fi

GV_BENCH_COMMAND="$command_line" exec "$venv/bin/python" "$root/bench/bench.py" \
  --gv "$root/target/release/glacier-verify" --core-results "$core_out" \
  --readme "$root/README.md" "${args[@]}"
