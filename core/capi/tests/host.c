/*
 * The C interface on the host: every published tree-hash vector one-shot
 * and fed in random pieces, raw responses (cases.c) fed in random pieces,
 * hex digests, and misuse: NULL pointers, impossible lengths and values,
 * calls out of order. Built by run.sh with
 *   gcc -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined
 * against the x86-64 static library.
 *
 * Also runs the receive loop of docs/c-api.md (examples/receive.c) over a
 * socket pair, a child process playing the server.
 *
 * Usage: host VECTORS_FILE (core/tests/data/tree_hash_vectors.txt).
 * Ends with the line "capi: N passed, N failed"; exits 0 only if none failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "glacier_verify.h"
#include "receive.h"

_Static_assert(sizeof(gv_tree_hasher) == GV_TREE_HASHER_SIZE, "hasher size");
_Static_assert(alignof(gv_tree_hasher) == GV_TREE_HASHER_ALIGN, "hasher alignment");
_Static_assert(sizeof(gv_verifier) == GV_VERIFIER_SIZE, "verifier size");
_Static_assert(alignof(gv_verifier) == GV_VERIFIER_ALIGN, "verifier alignment");
_Static_assert(sizeof(gv_status) == 4, "gv_status is a uint32_t");

static unsigned passed, failed;

static void check(bool ok, const char *what, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static void check_status(gv_status got, gv_status want, const char *what) {
    char detail[200];
    snprintf(detail, sizeof detail, "got %" PRIu32 " (%s), want %" PRIu32 " (%s)", got,
             gv_status_str(got), want, gv_status_str(want));
    check(got == want, what, got == want ? NULL : detail);
}

static void hex(const uint8_t d[32], char out[65]) {
    if (gv_digest_to_hex(d, out) != GV_OK) {
        strcpy(out, "(gv_digest_to_hex failed)");
    }
}

/* A published hash: 64 hex digits, or PREFIX..SUFFIX where the source
 * prints only the ends. */
static bool hash_matches(const uint8_t d[32], const char *want) {
    char got[65];
    hex(d, got);
    const char *dots = strstr(want, "..");
    if (dots == NULL) {
        return strlen(want) == 64 && strcmp(got, want) == 0;
    }
    size_t pre = (size_t)(dots - want), suf = strlen(dots + 2);
    return pre + suf <= 64 && strncmp(got, want, pre) == 0 &&
           strcmp(got + 64 - suf, dots + 2) == 0;
}

/* --- the vector file's input generator (see its header comment) ----------- */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void append(bytes *b, const uint8_t *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) {
            cap *= 2;
        }
        b->p = realloc(b->p, cap);
        if (b->p == NULL) {
            perror("realloc");
            exit(2);
        }
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->p + b->len, src, n);
    }
    b->len += n;
}

static bool number(const char **s, size_t *out) {
    char *end;
    unsigned long long v = strtoull(*s, &end, 10);
    if (end == *s) {
        return false;
    }
    *s = end;
    *out = (size_t)v;
    return true;
}

/* One term: "text", "text"*N, "text"*>=N or mod251(N), then [A..B]. */
static bool term(const char **s, bytes *out) {
    bytes t = {0};
    const char *p = *s;
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        if (end == NULL) {
            return false;
        }
        const uint8_t *text = (const uint8_t *)(p + 1);
        size_t tlen = (size_t)(end - p - 1);
        p = end + 1;
        size_t reps = 1, at_least = 0;
        if (*p == '*') {
            p++;
            bool ge = strncmp(p, ">=", 2) == 0;
            p += ge ? 2 : 0;
            size_t n;
            if (!number(&p, &n)) {
                return false;
            }
            if (ge) {
                at_least = n;
                reps = 0;
            } else {
                reps = n;
            }
        }
        if (at_least > 0) {
            while (t.len < at_least) {
                append(&t, text, tlen);
            }
        } else {
            for (size_t i = 0; i < reps; i++) {
                append(&t, text, tlen);
            }
        }
        if (tlen == 0) {
            append(&t, text, 0);
        }
    } else if (strncmp(p, "mod251(", 7) == 0) {
        p += 7;
        size_t n;
        if (!number(&p, &n) || *p != ')') {
            return false;
        }
        p++;
        uint8_t chunk[251];
        for (int i = 0; i < 251; i++) {
            chunk[i] = (uint8_t)i;
        }
        while (t.len < n) {
            size_t take = n - t.len < 251 ? n - t.len : 251;
            append(&t, chunk, take);
        }
    } else {
        return false;
    }
    size_t from = 0, to = t.len;
    if (*p == '[') {
        p++;
        if (!number(&p, &from) || strncmp(p, "..", 2) != 0) {
            return false;
        }
        p += 2;
        if (!number(&p, &to) || *p != ']' || from > to || to > t.len) {
            return false;
        }
        p++;
    }
    append(out, t.p ? t.p + from : NULL, to - from);
    free(t.p);
    *s = p;
    return true;
}

static bool generate(const char *spec, bytes *out) {
    const char *p = spec;
    for (;;) {
        if (!term(&p, out)) {
            return false;
        }
        if (*p == '\0') {
            return true;
        }
        if (strncmp(p, " + ", 3) != 0) {
            return false;
        }
        p += 3;
    }
}

/* --- tree-hash vectors ---------------------------------------------------------- */

static gv_status hash_in_pieces(const uint8_t *data, size_t len, uint64_t seed, size_t max,
                                uint8_t out[32]) {
    gv_tree_hasher h;
    gvt_rng rng = {seed | 1};
    gv_tree_hasher_init(&h);
    for (size_t at = 0; at < len;) {
        size_t n = gvt_piece(&rng, max);
        if (n > len - at) {
            n = len - at;
        }
        gv_status st = gv_tree_hasher_update(&h, data + at, n);
        if (st != GV_OK) {
            return st;
        }
        at += n;
    }
    return gv_tree_hasher_finish(&h, out);
}

static void vector(const char *name, const char *spec, size_t want_len, const char *want) {
    char what[300];
    bytes data = {0};
    bool ok = generate(spec, &data);
    snprintf(what, sizeof what, "vector %s: generated %zu bytes", name, want_len);
    check(ok && data.len == want_len, what, ok ? "length differs" : "cannot parse the input");
    if (!ok) {
        return;
    }
    uint8_t d[32];
    char got[65];
    gv_status st = gv_tree_hash(data.len ? data.p : NULL, data.len, d);
    hex(d, got);
    snprintf(what, sizeof what, "vector %s: gv_tree_hash", name);
    check(st == GV_OK && hash_matches(d, want), what, got);
    const size_t maxes[3] = {7, 4096, ((size_t)1 << 20) + 3};
    for (int i = 0; i < 3; i++) {
        /* Seven-byte pieces of 100 MiB would take long under ASan. */
        if (maxes[i] < 64 && data.len > ((size_t)8 << 20)) {
            continue;
        }
        st = hash_in_pieces(data.p, data.len, 0x5eed + (uint64_t)i, maxes[i], d);
        hex(d, got);
        snprintf(what, sizeof what, "vector %s: update in random pieces of at most %zu", name,
                 maxes[i]);
        check(st == GV_OK && hash_matches(d, want), what, got);
    }
    free(data.p);
}

static void vectors_file(const char *path) {
    FILE *f = fopen(path, "r");
    check(f != NULL, "open the vectors file", path);
    if (f == NULL) {
        return;
    }
    char line[1024];
    unsigned n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *field[6];
        int k = 0;
        char *p = line;
        while (k < 6) {
            field[k++] = p;
            char *sep = strstr(p, " | ");
            if (sep == NULL) {
                break;
            }
            *sep = '\0';
            p = sep + 3;
        }
        check(k == 6, "vector line has six fields", field[0]);
        if (k != 6) {
            continue;
        }
        vector(field[0], field[1], (size_t)strtoull(field[2], NULL, 10), field[3]);
        n++;
    }
    fclose(f);
    check(n >= 25, "the vectors file holds every published vector", NULL);
}

/* The selftest's known answers (host/src/selftest/known.rs), in the same notation. */
static void known_answers(void) {
    static const struct {
        const char *name, *spec;
        size_t len;
        const char *hash;
    } known[] = {
        {"empty input", "\"\"", 0,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"'a' x 1024", "\"a\"*1024", 1024,
         "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a"},
        {"'a' x 1 MiB", "\"a\"*1048576", 1048576,
         "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360"},
        {"'a' x 2 MiB", "\"a\"*2097152", 2097152,
         "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa"},
        {"'a' x 4 MiB", "\"a\"*4194304", 4194304,
         "9491cb2ed1d4e7cd53215f4017c23ec4ad21d7050a1e6bb636c4f67e8cddb844"},
        {"'a' x (4 MiB + 20)", "\"a\"*4194324", 4194324,
         "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f"},
        {"'0' x 5.5 MiB", "\"0\"*5767168", 5767168,
         "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a"},
        {"'hello world'", "\"hello world\"", 11,
         "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
        {"'Welcome to Amazon Glacier.'", "\"Welcome to Amazon Glacier.\"", 26,
         "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628"},
        {"6.5 MiB bytes(i % 251)", "mod251(6815744)", 6815744, GVT_PAT_WHOLE},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char name[100];
        snprintf(name, sizeof name, "(selftest) %s", known[i].name);
        vector(name, known[i].spec, known[i].len, known[i].hash);
    }
}

/* --- hex ------------------------------------------------------------------------ */

static void hex_digests(void) {
    const char *lower = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    const char *upper = "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9";
    uint8_t a[32], b[32], d[32];
    char text[65];
    check_status(gv_tree_hash((const uint8_t *)"hello world", 11, d), GV_OK, "hash hello world");
    check_status(gv_digest_from_hex(lower, 64, a), GV_OK, "from_hex lower case");
    check_status(gv_digest_from_hex(upper, 64, b), GV_OK, "from_hex upper case");
    check(memcmp(a, d, 32) == 0 && memcmp(b, d, 32) == 0, "from_hex either case", NULL);
    memset(text, 'x', sizeof text);
    check_status(gv_digest_to_hex(d, text), GV_OK, "to_hex");
    check(strcmp(text, lower) == 0 && text[64] == '\0', "to_hex is lower case, NUL-terminated",
          text);
    uint8_t keep[32];
    memset(keep, 0xab, 32);
    memcpy(b, keep, 32);
    check_status(gv_digest_from_hex(lower, 63, b), GV_INVALID_HEX_DIGEST, "from_hex 63 digits");
    check_status(gv_digest_from_hex(lower, 65, b), GV_INVALID_HEX_DIGEST,
                 "from_hex 65 characters (the NUL counted)");
    char bad[65];
    memcpy(bad, lower, 65);
    bad[10] = 'g';
    check_status(gv_digest_from_hex(bad, 64, b), GV_INVALID_HEX_DIGEST, "from_hex non-hex");
    memcpy(bad, lower, 65);
    bad[0] = ' ';
    check_status(gv_digest_from_hex(bad, 64, b), GV_INVALID_HEX_DIGEST, "from_hex a space");
    check_status(gv_digest_from_hex("", 0, b), GV_INVALID_HEX_DIGEST, "from_hex empty");
    check(memcmp(b, keep, 32) == 0, "a refused hex digest leaves out as it was", NULL);
    check_status(gv_digest_from_hex(NULL, 64, b), GV_NULL_POINTER, "from_hex NULL text");
    check_status(gv_digest_from_hex(lower, 64, NULL), GV_NULL_POINTER, "from_hex NULL out");
    check_status(gv_digest_to_hex(NULL, text), GV_NULL_POINTER, "to_hex NULL digest");
    check_status(gv_digest_to_hex(d, NULL), GV_NULL_POINTER, "to_hex NULL out");
    check_status(gv_tree_hash(NULL, 0, d), GV_OK, "tree_hash of NULL, 0");
    hex(d, text);
    check(strcmp(text, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
          "tree_hash of nothing is SHA-256 of nothing", text);
    check_status(gv_tree_hash(NULL, 1, d), GV_NULL_POINTER, "tree_hash NULL data, len 1");
    check_status(gv_tree_hash(d, 1, NULL), GV_NULL_POINTER, "tree_hash NULL out");
    check_status(gv_tree_hash(d, SIZE_MAX, a), GV_INVALID_ARGUMENT,
                 "tree_hash with a length past the address space");
}

/* --- misuse of the hasher -------------------------------------------------------- */

static void hasher_misuse(void) {
    gv_tree_hasher h, copy;
    uint8_t d[32] = {0}, e[32] = {0};
    memset(&h, 0, sizeof h);
    check_status(gv_tree_hasher_update(&h, d, 1), GV_NOT_INITIALIZED, "update zeroed storage");
    check_status(gv_tree_hasher_finish(&h, d), GV_NOT_INITIALIZED, "finish zeroed storage");
    check_status(gv_tree_hasher_update(NULL, d, 1), GV_NULL_POINTER, "update NULL hasher");
    check_status(gv_tree_hasher_finish(NULL, d), GV_NULL_POINTER, "finish NULL hasher");
    gv_tree_hasher_init(NULL); /* nothing happens */
    gv_tree_hasher_init(&h);
    check_status(gv_tree_hasher_update(&h, NULL, 0), GV_OK, "update NULL, 0");
    check_status(gv_tree_hasher_update(&h, NULL, 3), GV_NULL_POINTER, "update NULL, 3");
    check_status(gv_tree_hasher_update(&h, d, SIZE_MAX), GV_INVALID_ARGUMENT,
                 "update with a length past the address space");
    check_status(gv_tree_hasher_update(&h, (const uint8_t *)&h + 8, 16), GV_INVALID_ARGUMENT,
                 "update with bytes of the hasher itself");
    check_status(gv_tree_hasher_update(&h, (const uint8_t *)"hello ", 6), GV_OK, "update");
    copy = h; /* a copy is an independent hasher */
    check_status(gv_tree_hasher_update(&h, (const uint8_t *)"world", 5), GV_OK, "update");
    check_status(gv_tree_hasher_finish(&h, NULL), GV_NULL_POINTER, "finish NULL out");
    check_status(gv_tree_hasher_finish(&h, d), GV_OK, "finish after a refused finish");
    char text[65];
    hex(d, text);
    check(strcmp(text, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9") == 0,
          "the refused calls changed nothing", text);
    check_status(gv_tree_hasher_update(&h, d, 1), GV_ALREADY_FINISHED, "update after finish");
    check_status(gv_tree_hasher_finish(&h, d), GV_ALREADY_FINISHED, "finish twice");
    check_status(gv_tree_hasher_finish(&copy, e), GV_OK, "finish the copy");
    uint8_t want[32];
    gv_tree_hash((const uint8_t *)"hello ", 6, want);
    check(memcmp(e, want, 32) == 0, "the copy hashed its own input", NULL);
    gv_tree_hasher_init(&h);
    check_status(gv_tree_hasher_update(&h, d, 1), GV_OK, "init makes a finished hasher new");
    /* Storage that is not aligned as GV_TREE_HASHER_ALIGN says. */
    alignas(8) static uint8_t raw[GV_TREE_HASHER_SIZE + 8];
    uintptr_t odd = (uintptr_t)raw + 1;
    gv_tree_hasher_init((gv_tree_hasher *)odd); /* nothing happens */
    check_status(gv_tree_hasher_update((gv_tree_hasher *)odd, d, 1), GV_MISALIGNED,
                 "update a misaligned hasher");
}

/* --- the responses ------------------------------------------------------------------- */

static gv_verifier verifier;
static gvt_source source;

static void responses(void) {
    static uint8_t buf[1 << 16];
    const size_t sizes[3] = {1460, 4096, sizeof buf};
    for (size_t i = 0; i < gvt_case_count; i++) {
        const gvt_case *c = &gvt_cases[i];
        for (int k = 0; k < 3; k++) {
            gvt_outcome out;
            bool ok = gvt_run_case(c, &verifier, &source, buf, sizes[k], 0xC0FFEE + (uint64_t)k * 7919,
                                   &out);
            char what[200], detail[300];
            snprintf(what, sizeof what, "response: %s (pieces up to %zu B)", c->name, sizes[k]);
            snprintf(detail, sizeof detail, "%s; status %" PRIu32 " (%s), want %" PRIu32 " (%s)",
                     out.why ? out.why : "", out.status, gv_status_str(out.status), c->want,
                     gv_status_str(c->want));
            check(ok, what, detail);
        }
    }
}

/* Every cut of a small response's head and body in two, and in three. */
static void every_cut(void) {
    const char *body = "Welcome to Amazon Glacier.";
    char raw[400];
    int n = snprintf(raw, sizeof raw,
                     "HTTP/1.1 200 OK\r\nContent-Length: 26\r\nx-amz-sha256-tree-hash: "
                     "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628\r\n\r\n%s",
                     body);
    size_t len = (size_t)n;
    gv_expectation e = {.job = GV_JOB_INVENTORY};
    unsigned bad = 0, runs = 0;
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            gv_verdict v;
            gv_status st = gv_verifier_init(&verifier, &e);
            st = st ? st : gv_verifier_feed(&verifier, (const uint8_t *)raw, a);
            st = st ? st : gv_verifier_feed(&verifier, (const uint8_t *)raw + a, b - a);
            st = st ? st : gv_verifier_feed(&verifier, (const uint8_t *)raw + b, len - b);
            st = st ? st : gv_verifier_finish(&verifier, &v);
            runs++;
            if (st != GV_OK || v.level != GV_LEVEL_HEADER_HASH || v.bytes != 26) {
                bad++;
            }
        }
    }
    char detail[100];
    snprintf(detail, sizeof detail, "%u of %u cuts failed", bad, runs);
    check(bad == 0, "a small response cut in three at every pair of points", detail);
}

/* --- misuse of the verifier ------------------------------------------------------- */

static void verifier_misuse(void) {
    gv_verifier v;
    gv_verdict out;
    const uint8_t *raw = (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    size_t raw_len = strlen((const char *)raw);
    gv_expectation inv = {.job = GV_JOB_INVENTORY};
    memset(&v, 0, sizeof v);
    check_status(gv_verifier_feed(&v, raw, 1), GV_NOT_INITIALIZED, "feed zeroed storage");
    check_status(gv_verifier_finish(&v, &out), GV_NOT_INITIALIZED, "finish zeroed storage");
    check_status(gv_verifier_init(NULL, &inv), GV_NULL_POINTER, "init NULL verifier");
    check_status(gv_verifier_feed(NULL, raw, 1), GV_NULL_POINTER, "feed NULL verifier");
    check_status(gv_verifier_finish(NULL, &out), GV_NULL_POINTER, "finish NULL verifier");
    check_status(gv_verifier_init(&v, &inv), GV_OK, "init");
    check_status(gv_verifier_init(&v, NULL), GV_NULL_POINTER, "init NULL expectation");
    check_status(gv_verifier_feed(&v, raw, 1), GV_NOT_INITIALIZED,
                 "feed after an init that failed");

    gv_expectation e = {.job = 0};
    check_status(gv_verifier_init(&v, &e), GV_INVALID_ARGUMENT, "a zeroed expectation");
    e.job = 7;
    check_status(gv_verifier_init(&v, &e), GV_INVALID_ARGUMENT, "job kind outside the enum");
    e = inv;
    unsigned char two = 2;
    memcpy(&e.has_range, &two, 1); /* a bool byte C itself never writes */
    check_status(gv_verifier_init(&v, &e), GV_INVALID_ARGUMENT, "has_range byte 2");
    e = inv;
    memcpy(&e.has_tree_hash, &two, 1);
    check_status(gv_verifier_init(&v, &e), GV_INVALID_ARGUMENT, "has_tree_hash byte 2");
    gv_expectation arch = {.job = GV_JOB_ARCHIVE, .archive_size = 100, .retrieval_first = 0,
                           .retrieval_last = 99};
    e = arch;
    e.output_len = 50;
    check_status(gv_verifier_init(&v, &e), GV_INVALID_EXPECTATION,
                 "output_len other than the retrieval range's");
    e = arch;
    e.retrieval_last = 100;
    check_status(gv_verifier_init(&v, &e), GV_INVALID_EXPECTATION,
                 "retrieval range past the archive");
    e = arch;
    e.retrieval_first = 60;
    e.retrieval_last = 50;
    check_status(gv_verifier_init(&v, &e), GV_RANGE_START_AFTER_END, "retrieval first > last");
    e = arch;
    e.retrieval_last = UINT64_MAX;
    check_status(gv_verifier_init(&v, &e), GV_RANGE_OVERFLOW, "retrieval last UINT64_MAX");
    e = arch;
    e.has_range = true;
    e.range_first = 10;
    e.range_last = 5;
    check_status(gv_verifier_init(&v, &e), GV_RANGE_START_AFTER_END, "range first > last");
    e.range_first = 100;
    e.range_last = UINT64_MAX;
    check_status(gv_verifier_init(&v, &e), GV_RANGE_NOT_SATISFIABLE, "range past the output");

    check_status(gv_verifier_init(&v, &inv), GV_OK, "init");
    check_status(gv_verifier_feed(&v, NULL, 0), GV_OK, "feed NULL, 0");
    check_status(gv_verifier_feed(&v, NULL, 5), GV_NULL_POINTER, "feed NULL, 5");
    check_status(gv_verifier_feed(&v, raw, SIZE_MAX), GV_INVALID_ARGUMENT,
                 "feed a length past the address space");
    check_status(gv_verifier_feed(&v, (const uint8_t *)&v + 100, 10), GV_INVALID_ARGUMENT,
                 "feed bytes of the verifier itself");
    check_status(gv_verifier_finish(&v, NULL), GV_NULL_POINTER, "finish NULL verdict");
    alignas(8) static uint8_t raw_verdict[sizeof(gv_verdict) + 8];
    check_status(gv_verifier_finish(&v, (gv_verdict *)((uintptr_t)raw_verdict + 4)),
                 GV_MISALIGNED, "finish a misaligned verdict");
    /* The refused calls changed nothing: the response still verifies. */
    check_status(gv_verifier_feed(&v, raw, raw_len), GV_OK, "feed the whole response");
    check_status(gv_verifier_finish(&v, &out), GV_OK, "finish");
    check(out.level == GV_LEVEL_SIZE_ONLY && out.bytes == 2, "inventory verdict: size only",
          NULL);
    check_status(gv_verifier_feed(&v, raw, 1), GV_ALREADY_FINISHED, "feed after finish");
    check_status(gv_verifier_finish(&v, &out), GV_ALREADY_FINISHED, "finish twice");

    /* A verdict is written only on GV_OK. */
    check_status(gv_verifier_init(&v, &inv), GV_OK, "init again after finish");
    memset(&out, 0, sizeof out);
    check_status(gv_verifier_feed(&v, raw, raw_len - 1), GV_OK, "feed a short response");
    check_status(gv_verifier_finish(&v, &out), GV_BODY_TOO_SHORT, "finish a short response");
    check(out.level == 0 && out.bytes == 0, "a failed finish leaves the verdict untouched", NULL);

    /* Storage that is not aligned as GV_VERIFIER_ALIGN says. */
    alignas(8) static uint8_t storage[GV_VERIFIER_SIZE + 8];
    gv_verifier *odd = (gv_verifier *)((uintptr_t)storage + 4);
    check_status(gv_verifier_init(odd, &inv), GV_MISALIGNED, "init a misaligned verifier");
    check_status(gv_verifier_feed(odd, raw, 1), GV_MISALIGNED, "feed a misaligned verifier");
    alignas(8) static uint8_t exp_storage[sizeof(gv_expectation) + 8];
    memcpy(exp_storage + 4, &inv, sizeof inv);
    check_status(gv_verifier_init(&v, (const gv_expectation *)((uintptr_t)exp_storage + 4)),
                 GV_MISALIGNED, "init with a misaligned expectation");
}

/* --- the receive loop of docs/c-api.md ------------------------------------------------ */

/* The server: writes case `c`'s response in random pieces, then closes. */
static void serve(int sock, const gvt_case *c) {
    static uint8_t buf[4096];
    gvt_rng rng = {0xBEEF};
    gvt_source_open(&source, c);
    for (;;) {
        size_t n = gvt_source_read(&source, buf, gvt_piece(&rng, sizeof buf));
        if (n == 0 || send(sock, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
            break; /* done, or the client stopped reading */
        }
    }
    close(sock);
}

static void example_receive_loop(void) {
    const gvt_case *cases[3] = {&gvt_cases[2], &gvt_cases[4], &gvt_cases[6]};
    for (int k = 0; k < 3; k++) {
        const gvt_case *c = cases[k];
        char what[200];
        snprintf(what, sizeof what, "docs/c-api.md receive loop: %s", c->name);
        int sv[2];
        FILE *spool = tmpfile();
        if (spool == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            check(false, what, "no socket pair or spool file");
            return;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            serve(sv[1], c);
            _exit(0);
        }
        close(sv[1]);
        gv_expectation e;
        gv_verdict verdict = {0};
        int got = gvt_expectation(c->expect, c->expected_hash, &e) == GV_OK
                      ? gateway_receive(sv[0], &e, fileno(spool), &verdict)
                      : GATEWAY_IO_ERROR;
        close(sv[0]);
        int child;
        waitpid(pid, &child, 0);
        bool ok = got == (int)c->want && WIFEXITED(child);
        if (ok && got == GV_OK) {
            /* The body is the spool's last verdict.bytes bytes. */
            long size = (fflush(spool), ftell(spool));
            uint8_t *body = malloc(verdict.bytes);
            uint8_t d[32];
            ok = body != NULL && size >= (long)verdict.bytes &&
                 fseek(spool, size - (long)verdict.bytes, SEEK_SET) == 0 &&
                 fread(body, 1, verdict.bytes, spool) == verdict.bytes &&
                 gv_tree_hash(body, verdict.bytes, d) == GV_OK &&
                 memcmp(d, verdict.tree_hash, 32) == 0 && hash_matches(d, c->want_hash);
            free(body);
        }
        char detail[200];
        snprintf(detail, sizeof detail, "returned %d (%s), want %" PRIu32, got,
                 got >= 0 ? gv_status_str((gv_status)got) : "I/O error", c->want);
        check(ok, what, ok ? NULL : detail);
        fclose(spool);
    }
}

/* --- statuses -------------------------------------------------------------------- */

static void statuses(void) {
    unsigned named = 0;
    const char *unknown = gv_status_str(12345);
    check(unknown != NULL && strcmp(unknown, "unknown status") == 0, "gv_status_str(12345)",
          unknown);
    check(strcmp(gv_status_str(GV_OK), "ok") == 0, "gv_status_str(GV_OK)", NULL);
    check(gv_status_str(UINT32_MAX) != NULL, "gv_status_str(UINT32_MAX)", NULL);
    const char *seen[256] = {0};
    for (uint32_t s = 0; s < 256; s++) {
        const char *text = gv_status_str(s);
        if (text == NULL) {
            check(false, "gv_status_str never returns NULL", NULL);
            return;
        }
        if (strcmp(text, "unknown status") == 0) {
            continue;
        }
        for (uint32_t t = 0; t < s; t++) {
            if (seen[t] && strcmp(seen[t], text) == 0) {
                check(false, "distinct status texts", text);
            }
        }
        seen[s] = text;
        named++;
    }
    char detail[40];
    snprintf(detail, sizeof detail, "%u named", named);
    check(named == 51, "51 statuses have a text: GV_OK, 44 core, 6 interface", detail);
    check(seen[GV_HEAD_TOO_LARGE] && seen[GV_UNKNOWN_ERROR] && seen[GV_EXPECTED_TREE_HASH_MISMATCH],
          "the last values of each group are named", NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s core/tests/data/tree_hash_vectors.txt\n", argv[0]);
        return 2;
    }
    vectors_file(argv[1]);
    known_answers();
    hex_digests();
    hasher_misuse();
    responses();
    every_cut();
    verifier_misuse();
    example_receive_loop();
    statuses();
    printf("capi: %u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
