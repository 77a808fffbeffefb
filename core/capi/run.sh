#!/usr/bin/env bash
# The core's C ABI (core/capi, docs/c-api.md): builds, checks and tests it.
#
#   1. cargo fmt --check, clippy -D warnings (with and without the feature
#      prove-no-panic) and the crate's unit tests;
#   2. glacier_verify.h regenerated with cbindgen and compared with the
#      committed one;
#   3. the x86-64 static library, linked with gcc -std=c11 -Wall -Wextra
#      -Werror -fsanitize=address,undefined into tests/host.c (tree-hash
#      vectors, raw responses in random pieces, misuse, and the receive
#      loop of docs/c-api.md, examples/receive.c, over a socket pair); built with
#      prove-no-panic, so that the link itself proves no panic path is left;
#      then the default library, linked plainly (no --gc-sections) into
#      the same test;
#   4. the thumbv7em-none-eabihf static library (Debian's rustc-web,
#      -Zbuild-std=core, as tests/cortex-m/run.sh) linked into the C
#      firmware (firmware/), run under QEMU mps2-an386 with semihosting;
#      its flash (every byte of the image in flash) <= 32 KiB and peak stack
#      (measured by the firmware) <= 8 KiB.
#
# Installs what it needs if missing: Debian packages with apt-get (needs
# root or sudo), cbindgen with `cargo install --locked` (a few minutes,
# once). Exits non-zero on any failure. Usage: core/capi/run.sh (from anywhere).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
t0=$SECONDS
log() { printf 'capi: %s\n' "$*"; }

# --- Budgets (bytes) -----------------------------------------------------------
FLASH_BUDGET=$((32 * 1024))
STACK_BUDGET=$((8 * 1024))
QEMU_TIMEOUT=120
CBINDGEN_VERSION=0.29.4

pass=0
fail=0
summary=()
ok() { pass=$((pass + 1)); summary+=("PASS  $*"); }
bad() { fail=$((fail + 1)); summary+=("FAIL  $*"); }
finish() {
    log "=== summary ($((SECONDS - t0)) s) ==="
    printf '  %s\n' "${summary[@]}"
    echo "capi run.sh: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# --- Debian packages (the Cortex-M set of tests/cortex-m/run.sh, plus the
# C compilers and newlib) ---------------------------------------------------------
# shellcheck source=../../tests/lib/debian.sh
source "$here/../../tests/lib/debian.sh"
ensure_debian_packages rustc-web cargo-web rust-web-src rust-web-llvm lld-22 qemu-system-arm binutils-arm-none-eabi \
    gcc-arm-none-eabi libnewlib-arm-none-eabi gcc libc6-dev

# --- The machine's (rustup) toolchain for the host build, without the
# embedded step's variables ------------------------------------------------------------
host_env=(env -u RUSTC_BOOTSTRAP -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_TARGET
    -u CARGO_TARGET_DIR -u CARGO_BUILD_RUSTFLAGS -u RUSTC -u CARGO)
host_cargo=$(command -v cargo || echo /usr/bin/cargo)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
cd "$here"
mkdir -p target/c target/fw
log "$("$host_cargo" --version)"

# --- cbindgen, pinned: another version may write the header differently ---------------
cbindgen=$(command -v cbindgen || true)
[ -n "$cbindgen" ] || { [ -x "$cargo_home/bin/cbindgen" ] && cbindgen=$cargo_home/bin/cbindgen; } || true
if [ -z "$cbindgen" ] || [ "$("$cbindgen" --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
    log "installing cbindgen $CBINDGEN_VERSION (cargo install --locked; a few minutes, once)"
    s=$SECONDS
    (cd / && "${host_env[@]}" "$host_cargo" install --locked --quiet cbindgen --version "=$CBINDGEN_VERSION")
    cbindgen=$cargo_home/bin/cbindgen
    log "cbindgen installed in $((SECONDS - s)) s"
fi

# --- 1. format, lints, unit tests ------------------------------------------------------
log "=== fmt, clippy, unit tests ==="
if "${host_env[@]}" "$host_cargo" fmt --check; then ok "cargo fmt --check"; else bad "cargo fmt --check"; fi
if "${host_env[@]}" "$host_cargo" clippy --locked --quiet --all-targets -- -D warnings &&
    "${host_env[@]}" "$host_cargo" clippy --locked --quiet --all-targets --features prove-no-panic -- -D warnings; then
    ok "clippy -D warnings (default, prove-no-panic)"
else
    bad "clippy -D warnings"
fi
if "${host_env[@]}" "$host_cargo" test --locked --quiet >target/c/unit.log 2>&1 &&
    grep -q '^test result: ok' target/c/unit.log; then
    ok "unit tests: $(grep '^test result' target/c/unit.log | head -1 | sed 's/^test result: //')"
else
    sed 's/^/    /' target/c/unit.log
    bad "unit tests"
fi

# --- 2. the header is current ---------------------------------------------------------
log "=== glacier_verify.h ==="
if "${host_env[@]}" "$cbindgen" --quiet --config cbindgen.toml --crate glacier-verify-capi \
    --output target/c/glacier_verify.h && diff -u glacier_verify.h target/c/glacier_verify.h; then
    ok "glacier_verify.h is what cbindgen $CBINDGEN_VERSION generates"
else
    bad "glacier_verify.h differs from cbindgen's output (run: cbindgen --config cbindgen.toml --crate glacier-verify-capi --output glacier_verify.h)"
fi
if g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -x c++ glacier_verify.h 2>/dev/null ||
    ! command -v g++ >/dev/null; then
    ok "glacier_verify.h compiles as C++ too (or no g++ here)"
else
    bad "glacier_verify.h does not compile as C++"
fi

# The example of docs/c-api.md §8 is examples/receive.c, verbatim.
awk '/^<!-- examples\/receive.c -->$/ { grab = 1; next }
     grab && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$root/docs/c-api.md" >target/c/receive-from-docs.c
if diff -u examples/receive.c target/c/receive-from-docs.c >/dev/null; then
    ok "docs/c-api.md shows examples/receive.c verbatim"
else
    bad "docs/c-api.md's receive loop differs from examples/receive.c"
fi

# --- 3. x86-64: the C tests under ASan and UBSan -----------------------------------------
log "=== x86-64 ==="
s=$SECONDS
lib=target/release/libglacier_verify_capi.a
if "${host_env[@]}" "$host_cargo" build --locked --quiet --release --features prove-no-panic &&
    cp "$lib" target/c/libgv-proof.a &&
    "${host_env[@]}" "$host_cargo" build --locked --quiet --release &&
    cp "$lib" target/c/libgv.a; then
    log "static libraries built in $((SECONDS - s)) s"
else
    bad "x86-64 static library build"
    finish
    exit 1
fi
cflags=(-std=c11 -Wall -Wextra -Werror -g -I. -Itests -Iexamples)
san=(-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
vectors=$root/core/tests/data/tree_hash_vectors.txt
if gcc "${cflags[@]}" "${san[@]}" tests/host.c tests/cases.c examples/receive.c target/c/libgv-proof.a \
    -Wl,--gc-sections -o target/c/host; then
    ok "x86-64 C tests link with prove-no-panic: no panic path in the library"
    s=$SECONDS
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ./target/c/host "$vectors" >target/c/host.log 2>&1; then rc=0; else rc=$?; fi
    grep -v '^FAIL' target/c/host.log | tail -n 2 | sed 's/^/    /'
    grep '^FAIL' target/c/host.log | sed 's/^/    /' || true
    line=$(grep -E '^capi: [0-9]+ passed, [0-9]+ failed$' target/c/host.log | tail -1 || true)
    if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ "${line##*passed, }" = "0 failed" ]; then
        ok "x86-64 C tests under ASan+UBSan: ${line#capi: } ($((SECONDS - s)) s)"
    else
        bad "x86-64 C tests under ASan+UBSan: exit $rc, ${line:-no closing line}"
    fi
else
    bad "x86-64 C tests do not link with prove-no-panic (a panic path is left, or a build error)"
fi
# The library a gateway links: no sanitizers, no --gc-sections.
if gcc "${cflags[@]}" -O2 tests/host.c tests/cases.c examples/receive.c target/c/libgv.a \
    -o target/c/host-plain &&
    ./target/c/host-plain "$vectors" >target/c/host-plain.log 2>&1 &&
    grep -qE '^capi: [0-9]+ passed, 0 failed$' target/c/host-plain.log; then
    ok "x86-64 C tests, default library linked plainly: $(tail -1 target/c/host-plain.log | sed 's/^capi: //')"
else
    bad "x86-64 C tests with the default library"
    grep '^FAIL' target/c/host-plain.log 2>/dev/null | sed 's/^/    /' || true
fi

# --- 4. Cortex-M4F: the C firmware under QEMU ------------------------------------------
log "=== thumbv7em-none-eabihf (Debian rustc-web, -Zbuild-std=core) ==="
s=$SECONDS
target=thumbv7em-none-eabihf
if (
    # The scoped environment of tests/cortex-m/run.sh (docs/embedded.md §3).
    export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo RUSTC_BOOTSTRAP=1
    unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR CARGO_BUILD_RUSTFLAGS
    log "$(/usr/bin/cargo --version) / $(/usr/bin/rustc --version)"
    # sha2's compact software SHA-256, as in the Rust firmware (about 7 KB less flash).
    /usr/bin/cargo build --locked --quiet --release --features prove-no-panic --target "$target" \
        -Zbuild-std=core --target-dir target/debian \
        --config "target.$target.rustflags=[\"--cfg\", 'sha2_backend_soft=\"compact\"']"
); then
    log "built in $((SECONDS - s)) s"
else
    bad "$target static library build"
    finish
    exit 1
fi
armlib=target/debian/$target/release/libglacier_verify_capi.a
elf=target/fw/capi-firmware.elf
if arm-none-eabi-gcc "${cflags[@]}" -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -Os \
    -ffunction-sections -fdata-sections -T firmware/fw.ld -nostartfiles \
    --specs=nano.specs --specs=rdimon.specs -Wl,--gc-sections -Wl,--no-warn-rwx-segments \
    -Wl,-Map=target/fw/capi-firmware.map -o "$elf" \
    firmware/startup.c firmware/main.c tests/cases.c "$armlib" 2>target/fw/link.log; then
    ok "$target firmware links with prove-no-panic: no panic path in the library"
else
    sed 's/^/    /' target/fw/link.log
    bad "$target firmware does not link (a panic path is left, or a build error)"
    finish
    exit 1
fi
s=$SECONDS
set +e
timeout "$QEMU_TIMEOUT" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 \
    -display none -serial none -monitor none \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null \
    >target/fw/qemu.log 2>target/fw/qemu-stderr.log
rc=$?
set -e
sed 's/^/    /' target/fw/qemu.log
sed 's/^/    [qemu] /' target/fw/qemu-stderr.log
if [ "$rc" -eq 0 ] && grep -q '^RESULT: [0-9]* passed, 0 failed' target/fw/qemu.log; then
    ok "$target firmware under QEMU mps2-an386: $(grep '^RESULT' target/fw/qemu.log | sed 's/^RESULT: //') ($((SECONDS - s)) s)"
elif [ "$rc" -eq 124 ]; then
    bad "$target firmware: QEMU timed out after $QEMU_TIMEOUT s"
else
    bad "$target firmware: exit status $rc"
fi

section() { # ELF NAME -> size of that section (0 if absent)
    arm-none-eabi-size -A "$1" | awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }'
}
vt=$(section "$elf" .vectors)
text=$(section "$elf" .text)
rodata=$(section "$elf" .rodata)
exidx=$(section "$elf" .ARM.exidx)
data=$(section "$elf" .data)
bss=$(section "$elf" .bss)
flash=$((vt + text + rodata + exidx + data))
stack=$(grep -ao 'STACK_PEAK_BYTES=[0-9]*' target/fw/qemu.log | tail -1 | cut -d= -f2 || true)
log "$target C firmware: flash $flash B (.vectors $vt + .text $text + .rodata $rodata + .ARM.exidx $exidx + .data $data; .text+.rodata $((text + rodata))); static RAM .data+.bss $((data + bss)) B (the caller-owned states: gv_verifier 4096, gv_tree_hasher 1536, the test's response source); peak stack ${stack:-?} B"
if [ "$flash" -le "$FLASH_BUDGET" ]; then ok "$target firmware flash $flash <= $FLASH_BUDGET B"; else bad "$target firmware flash $flash > $FLASH_BUDGET B"; fi
if [ -n "$stack" ] && [ "$stack" -le "$STACK_BUDGET" ]; then
    ok "$target firmware peak stack $stack <= $STACK_BUDGET B"
else
    bad "$target firmware peak stack ${stack:-unmeasured} > $STACK_BUDGET B"
fi

finish
