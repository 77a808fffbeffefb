#!/usr/bin/env bash
# Host-only no_std link proof of glacier-verify-core (docs: docs/embedded.md,
# "Host-only no_std proof").
#
# Builds a #![no_std] #![no_main] x86_64-linux binary that calls every public
# entry point of the core, twice: with the core's `defmt` feature off and on.
# Each build fails if anything links `std` (E0152 duplicate lang item
# `panic_impl`) or uses `alloc` ("no global memory allocator found"). Each
# binary is then run: it checks a few known answers and exits 0.
#
# Then (unless NOSTD_PROOF_SELF_TEST=0) it proves the harness itself catches
# violations: scratch copies with `extern crate std;` in the proof, with an
# `alloc::vec::Vec` in the proof, and with a dependency that uses std, or
# alloc, must each FAIL to build with the expected error.
#
# Uses the machine's normal (rustup) cargo; no embedded toolchain needed.
# Usage: tests/nostd-proof/run.sh        (from anywhere)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
core_dir=$(cd "$here/../../core" && pwd)
cd "$here"

# This step is the ordinary toolchain; keep the embedded step's overrides out.
unset RUSTC_BOOTSTRAP RUSTC CARGO CARGO_BUILD_TARGET CARGO_TARGET_DIR
export CARGO_TARGET_DIR="$here/target"
bin="$CARGO_TARGET_DIR/release/glacier-verify-nostd-proof"

pass=0
fail=0
log() { printf 'nostd-proof: %s\n' "$*"; }

echo "nostd-proof: $(cargo --version) / $(rustc --version)"

for variant in plain defmt; do
    args=(--release --locked --quiet)
    [ "$variant" = defmt ] && args+=(--features defmt)
    start=$SECONDS
    if ! cargo build "${args[@]}"; then
        log "FAIL: build ($variant) — something links std/alloc or does not compile"
        fail=$((fail + 1))
        continue
    fi
    # No libc, no dynamic libraries: only our own code.
    if command -v readelf >/dev/null && readelf -d "$bin" | grep -q NEEDED; then
        log "FAIL: $variant binary needs a shared library:"
        readelf -d "$bin" | grep NEEDED
        fail=$((fail + 1))
    fi
    set +e
    timeout 60 "$bin"
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
        log "ok: $variant: built and ran (exit 0) in $((SECONDS - start)) s; $(stat -c %s "$bin") bytes"
        pass=$((pass + 1))
    else
        log "FAIL: $variant binary exited $rc (1 = a known-answer check failed, 101 = panic)"
        fail=$((fail + 1))
    fi
done

# --- self-test: the proof must reject std and alloc --------------------------
# Each case builds a scratch copy and must fail with the expected message.
expect_failure() { # name, dir, expected-regex
    local name=$1 dir=$2 want=$3 out
    if out=$(cd "$dir" && cargo build --release --quiet 2>&1); then
        log "FAIL: self-test '$name' built, but must not"
        fail=$((fail + 1))
    elif grep -Eq "$want" <<<"$out"; then
        log "ok: self-test '$name' rejected: $(grep -Eo "$want" <<<"$out" | head -1)"
        pass=$((pass + 1))
    else
        log "FAIL: self-test '$name' failed for another reason:"
        printf '%s\n' "$out" | tail -20
        fail=$((fail + 1))
    fi
}

if [ "${NOSTD_PROOF_SELF_TEST:-1}" != 0 ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    # Same target dir: the registry dependencies are already built there.
    mk_copy() { # name -> $scratch/name (proof copy pointing at $2 as core)
        local d=$scratch/$1 core=$2
        mkdir -p "$d"
        cp -r "$here/src" "$here/build.rs" "$here/Cargo.lock" "$d/"
        sed "s|path = \"../../core\"|path = \"$core\"|" "$here/Cargo.toml" >"$d/Cargo.toml"
        printf '%s\n' "$d"
    }

    d=$(mk_copy std "$core_dir")
    sed -i 's|^mod mem;|extern crate std;\nmod mem;|' "$d/src/main.rs"
    expect_failure "extern crate std in the binary" "$d" \
        'E0152|duplicate lang item|found duplicate lang item'

    d=$(mk_copy alloc "$core_dir")
    sed -i 's|^mod mem;|extern crate alloc;\nmod mem;|' "$d/src/main.rs"
    sed -i 's|^    let mut c = Checks(0);|    let mut c = Checks(0);\n    let v: alloc::vec::Vec<u8> = alloc::vec![black_box(1u8); black_box(3)];\n    black_box(\&v);|' "$d/src/main.rs"
    expect_failure "alloc::vec::Vec in the binary" "$d" \
        'no global memory allocator found'

    # A dependency that links std / uses alloc (what a careless change to the
    # core or to one of its dependencies would amount to).
    mk_dep() { # name, lib.rs text -> crate at $scratch/dep-name
        local d=$scratch/dep-$1
        mkdir -p "$d/src"
        printf '[package]\nname = "leaky"\nversion = "0.0.0"\nedition = "2024"\n\n[workspace]\n' >"$d/Cargo.toml"
        printf '%s\n' "$2" >"$d/src/lib.rs"
        printf '%s\n' "$d"
    }
    for kind in std alloc; do
        if [ "$kind" = std ]; then
            dep=$(mk_dep std 'pub fn leak() -> usize { std::process::id() as usize }')
            want='E0152|duplicate lang item'
        else
            dep=$(mk_dep alloc '#![no_std]
extern crate alloc;
pub fn leak() -> usize { alloc::vec![1u8; 3].len() }')
            want='no global memory allocator found'
        fi
        d=$(mk_copy "dep$kind" "$core_dir")
        sed -i "s|^\[dependencies\]|[dependencies]\nleaky = { path = \"$dep\" }|" "$d/Cargo.toml"
        sed -i 's|^    let mut c = Checks(0);|    let mut c = Checks(0);\n    black_box(leaky::leak());|' "$d/src/main.rs"
        expect_failure "a dependency that uses $kind" "$d" "$want"
    done
fi

echo "nostd-proof: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
