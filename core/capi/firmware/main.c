/*
 * The C interface as Cortex-M4F firmware under QEMU (mps2-an386): the raw
 * responses of tests/cases.c fed to a gv_verifier through a 512-byte
 * receive buffer in pseudo-random pieces, and a few tree hashes, each with
 * its peak stack measured. Output goes over semihosting; the last lines are
 * STACK_PEAK_BYTES=<largest peak> and RESULT: N passed, M failed, and the
 * exit status is 0 only if every check passed. run.sh reads both lines and
 * enforces the budgets.
 *
 * The states are statics (where a gateway would keep them); the stack
 * peak is what the calls need, the 512-byte receive buffer included.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "glacier_verify.h"

#define RECV_BUF 512
#define PAINT 0xDEADBEEFu

extern uint32_t _estack, _stack_limit;

static gv_verifier verifier;
static gv_tree_hasher hasher;
static gvt_source source;
static unsigned passed, failed;
static uint32_t peak_max;

static void out(const char *s) { (void)write(1, s, strlen(s)); }

static void out_u(uint64_t v) {
    char d[21];
    size_t n = sizeof d;
    d[--n] = '\0';
    do {
        d[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out(d + n);
}

/* Paints the free stack below this frame with PAINT. */
__attribute__((noinline)) static void paint_stack(void) {
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = &_stack_limit; (uint32_t)p < sp - 64; p++) {
        *p = PAINT;
    }
}

/* Bytes from the top of the stack down to the deepest word written since
 * paint_stack; 0 if the painted region was used up (overflow). */
__attribute__((noinline)) static uint32_t stack_peak(void) {
    volatile uint32_t *p = &_stack_limit;
    while (p < &_estack && *p == PAINT) {
        p++;
    }
    return p == &_stack_limit ? 0 : (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

static void result(bool ok, const char *name, uint32_t peak, const char *why, gv_status st) {
    if (peak == 0) {
        ok = false;
        why = "stack measurement overflowed";
    }
    if (peak > peak_max) {
        peak_max = peak;
    }
    ok ? passed++ : failed++;
    out(ok ? "PASS " : "FAIL ");
    out(name);
    out(" (stack ");
    out_u(peak);
    out(" B)");
    if (!ok) {
        out(": ");
        out(why ? why : "");
        out("; status ");
        out_u(st);
        out(" ");
        out(gv_status_str(st));
    }
    out("\n");
}

static void response_cases(void) {
    uint8_t buf[RECV_BUF]; /* the receive buffer, on the stack as in a receive loop */
    for (size_t i = 0; i < gvt_case_count; i++) {
        const gvt_case *c = &gvt_cases[i];
        gvt_outcome o;
        paint_stack(); /* below this frame, so the buffer counts */
        bool ok = gvt_run_case(c, &verifier, &source, buf, sizeof buf, 0xF1A5 + i, &o);
        result(ok, c->name, stack_peak(), o.why, o.status);
    }
}

static bool same(const uint8_t d[32], const char *hex) {
    uint8_t want[32];
    return gv_digest_from_hex(hex, 64, want) == GV_OK && memcmp(d, want, 32) == 0;
}

/* 'a' x (4 MiB + 20) through the streaming hasher in 509-byte pieces
 * (docs/protocol.md §7), and "hello world" in one call. */
static void tree_hashes(void) {
    static uint8_t chunk[509];
    uint8_t d[32];
    memset(chunk, 'a', sizeof chunk);
    paint_stack();
    gv_tree_hasher_init(&hasher);
    gv_status st = GV_OK;
    for (uint32_t left = 4 * 1048576 + 20; left > 0 && st == GV_OK;) {
        uint32_t n = left < sizeof chunk ? left : sizeof chunk;
        st = gv_tree_hasher_update(&hasher, chunk, n);
        left -= n;
    }
    st = st ? st : gv_tree_hasher_finish(&hasher, d);
    bool ok = st == GV_OK &&
              same(d, "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f");
    result(ok, "tree hash of 'a' x (4 MiB + 20), streamed", stack_peak(), "wrong hash", st);

    paint_stack();
    st = gv_tree_hash((const uint8_t *)"hello world", 11, d);
    ok = st == GV_OK &&
         same(d, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    result(ok, "tree hash of 'hello world', one call", stack_peak(), "wrong hash", st);
}

int main(void) {
    out("capi firmware: glacier_verify.h on Cortex-M4F, ");
    out_u(gvt_case_count);
    out(" responses through a ");
    out_u(RECV_BUF);
    out("-byte receive buffer\n");
    response_cases();
    tree_hashes();
    out("STACK_PEAK_BYTES=");
    out_u(peak_max);
    out("\nRESULT: ");
    out_u(passed);
    out(" passed, ");
    out_u(failed);
    out(" failed\n");
    return failed == 0 ? 0 : 1;
}
