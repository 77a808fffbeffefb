#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (called by .ci/run).
#
#   bash fuzz/run.sh                 # all targets, FUZZ_SECONDS each
#   bash fuzz/run.sh head verifier   # just these
#
# Environment:
#   FUZZ_SECONDS  time per target (default 30)
#   FUZZ_JOBS     targets fuzzed at once (default: 2 on machines with 2+ cores)
#   FUZZ_MAX_LEN  longest input libFuzzer generates (default 4096; longer
#                 seeds are cut to it while fuzzing, the replay tests use
#                 them whole)
#   FUZZ_STABLE=1 use the default (stable) toolchain without a sanitizer
#                 even if nightly is installed
#
# With a nightly toolchain the targets run under AddressSanitizer; without
# one, on the default stable toolchain with `-s none` (libFuzzer's coverage
# guidance, no ASan).
# New corpus entries go to target/fuzz-corpus/<target> (scratch, ignored by
# git); the committed seeds in fuzz/seeds/<target> are read, never written.
# A crash, leak, timeout or out-of-memory fails the script; the input is
# printed as base64 so it can be recovered from a CI log and added as
# fuzz/seeds/<target>/crash-<name> (the replay tests then keep it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(head range service_error digest inventory_json inventory_csv inventory_stream names credentials tree_hash verifier assembly)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
seconds=${FUZZ_SECONDS:-30}
max_len=${FUZZ_MAX_LEN:-4096}
cores=$(nproc 2>/dev/null || echo 1)
jobs=${FUZZ_JOBS:-$(( cores >= 2 ? 2 : 1 ))}
start=$(date +%s)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

if [ "${FUZZ_STABLE:-0}" != 1 ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  mode="nightly, AddressSanitizer"
  fuzz=(cargo +nightly fuzz)
  sanitizer=()
else
  # The default toolchain (a new machine has only the one stable Rust):
  # libFuzzer's coverage guidance, no sanitizer (ASan needs nightly).
  mode="$(rustc --version | cut -d' ' -f1-2), no sanitizer"
  fuzz=(cargo fuzz)
  sanitizer=(-s none)
fi
# Shorter builds: the fuzz crate pulls in the whole host crate (TLS, CLI).
build_opts=("${sanitizer[@]}" --codegen-units 16)

echo "fuzz: $(cargo-fuzz --version 2>/dev/null || echo cargo-fuzz), $mode, ${seconds}s per target, $jobs at a time"
logs="$root/target/fuzz-logs"
rm -rf "$logs"
mkdir -p "$logs"
if ! "${fuzz[@]}" build "${build_opts[@]}" >"$logs/build.log" 2>&1; then
  cat "$logs/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi
grep -Ev '^ +(Compiling|Downloaded|Downloading|Locking|Adding|Updating) ' "$logs/build.log" || true
built=$(date +%s)

run_one() {
  local t=$1
  local corpus="$root/target/fuzz-corpus/$t"
  mkdir -p "$corpus" "$root/fuzz/artifacts/$t"
  # -timeout: no input may take 10 s (a quadratic parser would);
  # -max_len: the head seed past the 64 KiB head limit would otherwise make
  # libFuzzer generate inputs that long, 4x slower for little gain;
  # -print_final_stats: the execution counts for the summary.
  local rc=0
  "${fuzz[@]}" run "${build_opts[@]}" "$t" "$corpus" "$root/fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 \
    >"$logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$t.rc"
}

# Run the targets, `jobs` at a time.
running=0
for t in "${targets[@]}"; do
  if [ ! -d "fuzz/seeds/$t" ]; then
    echo "fuzz: unknown target $t (no fuzz/seeds/$t)" >&2
    exit 2
  fi
  echo "fuzz: $t"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# Summary: libFuzzer's final stats (or its "Done N runs in S second(s)").
failed=0
printf '\n%-16s %-8s %12s %10s %8s\n' target result executions execs/s seconds
for t in "${targets[@]}"; do
  log="$logs/$t.log"
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    execs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)
  fi
  if [ -z "$rate" ] && [ -n "$execs" ] && [ -n "$secs" ] && [ "$secs" -gt 0 ]; then
    rate=$((execs / secs))
  fi
  result=ok
  if [ "$rc" != 0 ]; then
    result=FAILED
    failed=1
  fi
  printf '%-16s %-8s %12s %10s %8s\n' "$t" "$result" "${execs:--}" "${rate:--}" "${secs:--}"
done
end=$(date +%s)
echo "fuzz: build $((built - start))s, fuzzing $((end - built))s, total $((end - start))s"

if [ "$failed" != 0 ]; then
  for t in "${targets[@]}"; do
    [ "$(cat "$logs/$t.rc" 2>/dev/null || echo 1)" = 0 ] && continue
    echo
    echo "=== fuzz target $t FAILED; end of its log:"
    tail -n 60 "$logs/$t.log"
    for a in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logs/$t.log"); do
      echo "--- input $a (base64); save as fuzz/seeds/$t/crash-<name>, fix, and the replay test keeps it:"
      base64 "$a" | head -c 200000
      echo
      echo "--- reproduce: ${fuzz[*]} run ${build_opts[*]} $t $a"
    done
  done
  exit 1
fi
