#!/usr/bin/env bash
# The glacier-verify command on ARM Linux, under qemu-user (docs/embedded.md,
# "The command on ARM Linux").
#
#   aarch64-unknown-linux-gnu        dynamic (glibc), std built from source
#   armv7-unknown-linux-gnueabihf    dynamic (glibc), std built from source
#   aarch64-unknown-linux-gnu        static (glibc, +crt-static), Debian's
#                                    prebuilt arm64 std extracted into a sysroot
#
# For each binary: a release build (--locked, Debian's rustc-web and the
# Debian cross compilers, target dirs target/arm-linux and
# target/arm-linux-static), its size, `selftest` under qemu-user, and one
# HTTPS download (`get-job-output --ca-bundle`, 4 parts, 2 in parallel) from
# the loopback endpoint served over TLS by the x86-64 helper
# host/loopback/examples/serve_tls.rs with a CA made at start: the report
# must say verified with header and expected hash, and the file must equal
# the archive. The static binary must have no program interpreter and no
# NEEDED entry, and runs under qemu without -L (no ARM libraries on the
# machine); its download goes to https://localhost:PORT, so that the static
# glibc's name lookup is exercised too.
#
# Installs the Debian packages it needs if missing (needs root or sudo), and
# downloads (apt-get download, not install) libstd-rust-web-dev:arm64 of the
# installed rustc-web version. Exits non-zero on any failure.
# Usage: tests/arm-linux/run.sh (from anywhere).
#   ARM_LINUX_STATIC=0   skip the static build (it is on by default, and in CI)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
t0=$SECONDS
log() { printf 'arm-linux: %s\n' "$*"; }

QEMU_TIMEOUT=300
ARCHIVE_SIZE=$((3 * 1024 * 1024 + 17)) # 4 parts of 1 MiB, the last one short

pass=0
fail=0
summary=()
ok() { pass=$((pass + 1)); summary+=("PASS  $*"); }
bad() { fail=$((fail + 1)); summary+=("FAIL  $*"); }
finish() {
    log "=== summary ($((SECONDS - t0)) s) ==="
    printf '  %s\n' "${summary[@]}"
    echo "arm-linux: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# --- Debian packages -------------------------------------------------------------
# shellcheck source=../lib/debian.sh
source "$here/../lib/debian.sh"
ensure_debian_packages rustc-web cargo-web rust-web-src rust-web-llvm \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross \
    qemu-user file binutils python3 time

work=$root/target/arm-linux-run
rm -rf "$work"
mkdir -p "$work"

# --- The x86-64 HTTPS endpoint (the machine's normal toolchain, its usual
# target dir: CI's test step has built most of it already) --------------------------
host_env=(env -u RUSTC_BOOTSTRAP -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_TARGET
    -u CARGO_BUILD_RUSTFLAGS -u RUSTC -u CARGO)
host_cargo=$(command -v cargo || echo /usr/bin/cargo)
log "=== x86-64 helper: loopback endpoint over HTTPS ($("$host_cargo" --version)) ==="
s=$SECONDS
if ! (cd "$root" && "${host_env[@]}" "$host_cargo" build --locked --quiet \
    -p glacier-verify-loopback --features tls --example serve_tls); then
    bad "x86-64 helper serve_tls: build"
    finish
    exit 1
fi
serve_tls=${CARGO_TARGET_DIR:-$root/target}/debug/examples/serve_tls
log "serve_tls built in $((SECONDS - s)) s"

# --- Scoped environment of the ARM builds (docs/embedded.md) ---------------------------
export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET CARGO_BUILD_RUSTFLAGS
log "$(/usr/bin/cargo --version) / $(/usr/bin/rustc --version)"
cd "$root"

# cross TARGET -> the Debian cross toolchain's triple prefix
cross() {
    case $1 in
        aarch64-unknown-linux-gnu) echo aarch64-linux-gnu ;;
        armv7-unknown-linux-gnueabihf) echo arm-linux-gnueabihf ;;
    esac
}
qemu_of() {
    case $1 in
        aarch64-unknown-linux-gnu) echo qemu-aarch64 ;;
        armv7-unknown-linux-gnueabihf) echo qemu-arm ;;
    esac
}

# build TARGET TARGET_DIR RUSTFLAGS [cargo args…]: a release build of
# glacier-verify with the cross compiler as linker and as CC for ring's C and
# assembly; RUSTFLAGS apply to the target's crates only, not to build scripts.
build() {
    local target=$1 dir=$2 rustflags=$3 prefix var
    shift 3
    prefix=$(cross "$target")
    var=$(echo "$target" | tr 'a-z-' 'A-Z_')
    # Wall and CPU time: on a busy machine the wall time says little.
    /usr/bin/time -o "$work/${dir##*/}-$target.time" -f '%e s wall, %U+%S s CPU' \
        env "CARGO_TARGET_${var}_LINKER=$prefix-gcc" "CARGO_TARGET_${var}_RUSTFLAGS=$rustflags" \
        "CC_${target//-/_}=$prefix-gcc" "AR_${target//-/_}=$prefix-ar" \
        /usr/bin/cargo build --release --locked --quiet -p glacier-verify \
        --target "$target" --target-dir "$dir" "$@"
}

# selftest NAME QEMU…: runs `selftest` through the given qemu command line.
selftest() {
    local name=$1 out=$work/$1.selftest.log rc s=$SECONDS
    shift
    set +e
    timeout "$QEMU_TIMEOUT" "$@" selftest </dev/null >"$out" 2>&1
    rc=$?
    set -e
    sed 's/^/    /' "$out"
    local line
    line=$(grep -E '^selftest: [0-9]+ checks passed$' "$out" || true)
    if [ "$rc" -eq 0 ] && [ -n "$line" ] && ! grep -q '^  FAIL' "$out"; then
        ok "$name selftest under qemu-user: ${line#selftest: } ($((SECONDS - s)) s)"
    elif [ "$rc" -eq 124 ]; then
        bad "$name selftest: qemu timed out after $QEMU_TIMEOUT s"
    else
        bad "$name selftest: exit status $rc, ${line:-no closing line}"
    fi
}

# --- The HTTPS endpoint, served for every download below (stopped through
# DIR/stop at the end; its own time limit only bounds a leak, and must outlast
# three builds on a busy machine) ----------------------------------------------------
tls=$work/tls
mkdir -p "$tls"
"$serve_tls" "$tls" "$ARCHIVE_SIZE" 7200 >"$work/serve_tls.log" 2>&1 &
serve_pid=$!
stop_endpoint() {
    if [ -n "${serve_pid:-}" ]; then
        touch "$tls/stop"
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=
    fi
}
trap stop_endpoint EXIT
for _ in $(seq 1 300); do # up to 30 s
    [ ! -f "$tls/endpoint.env" ] && kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -f "$tls/endpoint.env" ]; then
    sed 's/^/    /' "$work/serve_tls.log"
    bad "x86-64 helper serve_tls did not start"
    finish
    exit 1
fi
# shellcheck disable=SC1091
source "$tls/endpoint.env"
log "HTTPS endpoint at $ENDPOINT_URL: $SIZE bytes, tree hash $TREE_HASH"

# get_job_output URL OUT REPORT STDERR QEMU… [-- extra options]: one
# get-job-output over TLS in a clean environment (no profile, proxy or CA
# variables of this machine); returns its exit status.
get_job_output() {
    local url=$1 out=$2 report=$3 err=$4 cmd=() rc
    shift 4
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        cmd+=("$1")
        shift
    done
    [ $# -eq 0 ] || shift
    mkdir -p "$work/home"
    set +e
    env -i PATH=/usr/bin:/bin HOME="$work/home" AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
        AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION="$AWS_REGION" \
        timeout "$QEMU_TIMEOUT" "${cmd[@]}" --endpoint-url "$url" get-job-output \
        --vault-name "$VAULT" --job-id "$JOB_ID" --part-size 1MiB --parallel 2 --quiet \
        "$@" "$out" </dev/null >"$report" 2>"$err"
    rc=$?
    set -e
    return "$rc"
}

# https_download NAME URL QEMU…: the download with --ca-bundle, checked.
https_download() {
    local name=$1 url=$2 out=$work/$1.out report=$work/$1.report.json rc s=$SECONDS
    shift 2
    get_job_output "$url" "$out" "$report" "$work/$name.stderr" "$@" -- --ca-bundle "$tls/ca.pem" &&
        rc=0 || rc=$?
    local verdict
    verdict=$(python3 - "$report" "$SIZE" "$TREE_HASH" <<'EOF' 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
v = r["verification"]
want = {"verdict": "verified", "level": "header-and-expected-hash",
        "bytes": int(sys.argv[2]), "computedTreeHash": sys.argv[3]}
bad = [f"{k}={v.get(k)!r}" for k, x in want.items() if v.get(k) != x]
print("; ".join(bad) if bad else f"verified, {v['level']}, {v['requests']} requests")
sys.exit(1 if bad else 0)
EOF
    ) && vrc=0 || vrc=$?
    if [ "$rc" -eq 0 ] && [ "$vrc" -eq 0 ] && cmp -s "$out" "$tls/archive.bin"; then
        ok "$name HTTPS download from $url: $verdict, file equal to the archive ($((SECONDS - s)) s)"
    else
        sed 's/^/    /' "$work/$name.stderr" "$report"
        bad "$name HTTPS download from $url: exit $rc, $verdict$(cmp -s "$out" "$tls/archive.bin" || echo ', file differs')"
    fi
}

# https_refused NAME QEMU…: without --ca-bundle nothing vouches for the
# endpoint's certificate: the binary must refuse it (exit 2) and leave no file,
# so the download above really checked the certificate chain on ARM.
https_refused() {
    local name=$1 out=$work/$1.refused.out rc
    shift
    get_job_output "$ENDPOINT_URL" "$out" "$work/$name.refused.json" "$work/$name.refused.stderr" "$@" &&
        rc=0 || rc=$?
    if [ "$rc" -eq 2 ] && [ ! -e "$out" ] && grep -qi 'certificate' "$work/$name.refused.stderr"; then
        ok "$name refuses the certificate without --ca-bundle: exit 2, $(head -c 120 "$work/$name.refused.stderr" | tr '\n' ' ')"
    else
        sed 's/^/    /' "$work/$name.refused.stderr"
        bad "$name without --ca-bundle: exit $rc (want 2, a certificate error, no file)"
    fi
}

# is_static BIN -> 0 when BIN has no program interpreter and no NEEDED entry.
is_static() {
    [ "$(readelf -d "$1" 2>/dev/null | grep -c '(NEEDED)' || true)" -eq 0 ] &&
        [ "$(readelf -l "$1" | grep -c 'Requesting program interpreter' || true)" -eq 0 ]
}

sizes=()

# --- Dynamic builds: std from source (-Zbuild-std, RUSTC_BOOTSTRAP scoped here) ---------
for target in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    log "=== $target (dynamic, -Zbuild-std) ==="
    s=$SECONDS
    if ! RUSTC_BOOTSTRAP=1 build "$target" "$root/target/arm-linux" "" -Zbuild-std=std,panic_abort; then
        bad "$target: build"
        continue
    fi
    bin=$root/target/arm-linux/$target/release/glacier-verify
    size=$(stat -c %s "$bin")
    sizes+=("$target: $size B")
    ok "$target release build ($(cat "$work/arm-linux-$target.time")): $size B"
    log "$(file -b "$bin")"
    qemu=("$(qemu_of "$target")" -L "/usr/$(cross "$target")" "$bin")
    selftest "$target" "${qemu[@]}"
    https_download "$target" "$ENDPOINT_URL" "${qemu[@]}"
    [ "$target" != aarch64-unknown-linux-gnu ] || https_refused "$target" "${qemu[@]}"
done

# --- Static aarch64: Debian's prebuilt arm64 std in a sysroot of our own ------------------
if [ "${ARM_LINUX_STATIC:-1}" != 0 ]; then
    target=aarch64-unknown-linux-gnu
    log "=== $target (static glibc, prebuilt std) ==="
    s=$SECONDS
    version=$(dpkg-query -W -f='${Version}' rustc-web)
    sysroot=$root/target/arm-linux-sysroot/$version
    if [ ! -d "$sysroot/usr/lib/rustlib/$target/lib" ]; then
        rm -rf "$root/target/arm-linux-sysroot"
        mkdir -p "$sysroot"
        # apt's unprivileged _apt user downloads into it: it must be writable.
        deb_dir=$(mktemp -d)
        chmod 777 "$deb_dir"
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        # Without dpkg --add-architecture: the arm64 package lists for this
        # download only; nothing arm64 is installed.
        if "${sudo[@]}" apt-get -qq -o APT::Architectures::=arm64 update &&
            (cd "$deb_dir" && "${sudo[@]}" apt-get -qq -o APT::Architectures::=arm64 \
                download "libstd-rust-web-dev:arm64=$version") &&
            dpkg -x "$deb_dir"/libstd-rust-web-dev_*_arm64.deb "$sysroot"; then
            log "libstd-rust-web-dev:arm64 $version extracted in $((SECONDS - s)) s"
        else
            bad "libstd-rust-web-dev:arm64 $version (the installed rustc-web's) could not be fetched"
        fi
        rm -rf "$deb_dir"
    fi
    if [ -d "$sysroot/usr/lib/rustlib/$target/lib" ] &&
        build "$target" "$root/target/arm-linux-static" "--sysroot=$sysroot/usr -C target-feature=+crt-static"; then
        bin=$root/target/arm-linux-static/$target/release/glacier-verify
        size=$(stat -c %s "$bin")
        sizes+=("$target static: $size B")
        ok "$target static release build ($(cat "$work/arm-linux-static-$target.time")): $size B"
        log "$(file -b "$bin")"
        if is_static "$bin"; then
            ok "$target static: no program interpreter, no NEEDED library (readelf)"
        else
            readelf -d "$bin" | grep NEEDED | sed 's/^/    /' || true
            bad "$target static: it has a program interpreter or NEEDED libraries"
        fi
        # The same checks tell the dynamic binary apart: it names its loader,
        # and qemu cannot start it without -L.
        dyn=$root/target/arm-linux/$target/release/glacier-verify
        if [ -x "$dyn" ]; then
            if ! is_static "$dyn" && ! timeout 60 "$(qemu_of "$target")" "$dyn" --help >/dev/null 2>&1; then
                ok "$target dynamic binary, by contrast: interpreter and NEEDED found, no start without -L"
            else
                bad "$target dynamic binary passes for static: the check proves nothing"
            fi
        fi
        # No -L: qemu finds no ARM libraries on this machine, so only a
        # static binary can start.
        selftest "$target static" "$(qemu_of "$target")" "$bin"
        https_download "$target-static" "https://localhost:${ENDPOINT_URL##*:}" "$(qemu_of "$target")" "$bin"
    else
        bad "$target static: build"
    fi
fi

stop_endpoint
sed 's/^/    [serve_tls] /' "$work/serve_tls.log"
log "binary sizes: ${sizes[*]}"
finish
