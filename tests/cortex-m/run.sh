#!/usr/bin/env bash
# glacier-verify-core on Cortex-M, under QEMU (recipe: docs/embedded.md).
#
#   thumbv7em-none-eabihf  on  mps2-an386    (Cortex-M4F)
#   thumbv7m-none-eabi     on  lm3s6965evb   (Cortex-M3)
#
# For each target: builds and runs
#   verifier        raw responses through embedded-io in 512-byte buffers
#                   (200 whole / 206 ranged / flipped byte / short body);
#   vectors         docs/protocol.md §7 tree-hash vectors generated in firmware,
#                   composition, and Assembly over the parts;
#   verifier-defmt  the verifier logging through defmt-semihosting, decoded by defmt-print;
# and checks the budgets of the `verifier` image: flash (.text + .rodata)
# <= 32 KiB (goal 24 KiB), static RAM (.data + .bss) <= 4 KiB, peak stack
# (measured in firmware: painted stack, high-water mark) <= 8 KiB.
#
# Installs the Debian packages it needs if they are missing (needs root),
# and defmt-print with `cargo install` if it is not installed yet (~1-3 min once).
# Exits non-zero on any failure. Usage: tests/cortex-m/run.sh (from anywhere).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t0=$SECONDS
log() { printf 'cortex-m: %s\n' "$*"; }

# --- Budgets (bytes) ---------------------------------------------------------
FLASH_BUDGET=$((32 * 1024))
FLASH_GOAL=$((24 * 1024))
RAM_BUDGET=$((4 * 1024))
STACK_BUDGET=$((8 * 1024))
QEMU_TIMEOUT=120

# --- Debian packages -----------------------------------------------------------
# shellcheck source=../lib/debian.sh
source "$here/../lib/debian.sh"
ensure_debian_packages rustc-web cargo-web rust-web-src rust-web-llvm lld-22 qemu-system-arm binutils-arm-none-eabi

# --- defmt-print (host tool; the machine's normal cargo builds it) -----------------
cargo_home=${CARGO_HOME:-$HOME/.cargo}
defmt_print=$(command -v defmt-print || true)
[ -n "$defmt_print" ] || { [ -x "$cargo_home/bin/defmt-print" ] && defmt_print=$cargo_home/bin/defmt-print; } || true
if [ -z "$defmt_print" ]; then
    log "installing defmt-print (cargo install --locked; a few minutes, once)"
    s=$SECONDS
    host_cargo=$(command -v cargo || echo /usr/bin/cargo)
    (cd / && env -u RUSTC_BOOTSTRAP -u RUSTFLAGS -u CARGO_TARGET_DIR \
        "$host_cargo" install defmt-print --locked --version '^1' --quiet)
    defmt_print=$cargo_home/bin/defmt-print
    log "defmt-print installed in $((SECONDS - s)) s"
fi
log "$("$defmt_print" --version 2>/dev/null | head -1) at $defmt_print"

# --- Scoped environment of the embedded build (docs/embedded.md) -------------
export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo RUSTC_BOOTSTRAP=1
# A RUSTFLAGS variable would replace .cargo/config.toml's rustflags.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR CARGO_BUILD_RUSTFLAGS
cd "$here" # .cargo/config.toml is read from the current directory
log "$(/usr/bin/cargo --version) / $(/usr/bin/rustc --version)"

logs=$here/target/qemu-logs
mkdir -p "$logs"
pass=0
fail=0
summary=()
ok() { pass=$((pass + 1)); summary+=("PASS  $*"); }
bad() { fail=$((fail + 1)); summary+=("FAIL  $*"); }

machine_of() {
    case $1 in
        thumbv7em-none-eabihf) echo "mps2-an386 cortex-m4" ;;
        thumbv7m-none-eabi) echo "lm3s6965evb cortex-m3" ;;
    esac
}

# run_qemu TARGET ELF LOG [decode]: runs the image, tees its output to LOG,
# returns QEMU's exit status (the firmware's semihosting exit code).
run_qemu() {
    local target=$1 elf=$2 out=$3 decode=${4:-} m
    read -r -a m <<<"$(machine_of "$target")"
    local qemu=(timeout "$QEMU_TIMEOUT" qemu-system-arm -machine "${m[0]}" -cpu "${m[1]}"
        -display none -serial none -monitor none
        -semihosting-config enable=on,target=native -kernel "$elf")
    local rc
    set +e
    if [ -n "$decode" ]; then
        "${qemu[@]}" </dev/null 2>"$out.qemu-stderr" | "$defmt_print" -e "$elf" >"$out" 2>&1
        rc=${PIPESTATUS[0]}
    else
        "${qemu[@]}" </dev/null >"$out" 2>"$out.qemu-stderr"
        rc=$?
    fi
    set -e
    sed 's/^/    /' "$out"
    # QEMU's own messages (lm3s6965evb says "Timer with period zero, disabling").
    sed 's/^/    [qemu] /' "$out.qemu-stderr"
    return "$rc"
}

section() { # ELF NAME -> size of that section (0 if absent)
    arm-none-eabi-size -A "$1" | awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }'
}

for target in thumbv7em-none-eabihf thumbv7m-none-eabi; do
    read -r -a m <<<"$(machine_of "$target")"
    log "=== $target on QEMU ${m[0]} (${m[1]}) ==="
    s=$SECONDS
    if ! /usr/bin/cargo build --release --locked --quiet --target "$target" --bins; then
        bad "$target: build verifier + vectors"
        continue
    fi
    if ! /usr/bin/cargo build --release --locked --quiet --target "$target" --features defmt --bin verifier-defmt; then
        bad "$target: build verifier-defmt"
        continue
    fi
    log "built in $((SECONDS - s)) s"
    dir=$here/target/$target/release

    for bin in verifier vectors verifier-defmt; do
        decode=
        [ "$bin" = verifier-defmt ] && decode=1
        log "--- $bin ($target) ---"
        s=$SECONDS
        if run_qemu "$target" "$dir/$bin" "$logs/$target-$bin.log" $decode; then
            rc=0
        else
            rc=$?
        fi
        if [ "$rc" -eq 0 ] && grep -q '^.*RESULT: [0-9]* passed, 0 failed' "$logs/$target-$bin.log"; then
            ok "$target $bin: ran in $((SECONDS - s)) s"
        elif [ "$rc" -eq 124 ]; then
            bad "$target $bin: QEMU timed out after ${QEMU_TIMEOUT} s"
        else
            bad "$target $bin: exit status $rc"
        fi
    done

    # Budgets of the verifier image (and the defmt one, for information).
    for bin in verifier verifier-defmt; do
        elf=$dir/$bin
        text=$(section "$elf" .text)
        rodata=$(section "$elf" .rodata)
        data=$(section "$elf" .data)
        bss=$(section "$elf" .bss)
        vt=$(section "$elf" .vector_table)
        flash=$((text + rodata))
        ram=$((data + bss))
        stack=$(grep -ao 'STACK_PEAK_BYTES=[0-9]*' "$logs/$target-$bin.log" | tail -1 | cut -d= -f2 || true)
        goal=$([ "$flash" -le "$FLASH_GOAL" ] && echo "goal 24 KiB met" || echo "over the 24 KiB goal")
        line="$target $bin: flash .text+.rodata $flash B (.text $text, .rodata $rodata; +.vector_table $vt, +.data init $data) [$goal]; static RAM .data+.bss $ram B; peak stack ${stack:-?} B"
        log "$line"
        [ "$bin" = verifier ] || continue
        if [ "$flash" -le "$FLASH_BUDGET" ]; then ok "$target verifier flash $flash <= $FLASH_BUDGET B ($goal)"; else bad "$target verifier flash $flash > $FLASH_BUDGET B"; fi
        if [ "$ram" -le "$RAM_BUDGET" ]; then ok "$target verifier static RAM $ram <= $RAM_BUDGET B"; else bad "$target verifier static RAM $ram > $RAM_BUDGET B"; fi
        if [ -n "$stack" ] && [ "$stack" -le "$STACK_BUDGET" ]; then
            ok "$target verifier peak stack $stack <= $STACK_BUDGET B"
        else
            bad "$target verifier peak stack ${stack:-unmeasured} > $STACK_BUDGET B"
        fi
    done
done

log "=== summary ($((SECONDS - t0)) s) ==="
printf '  %s\n' "${summary[@]}"
echo "cortex-m: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
