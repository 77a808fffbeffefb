/* Raw GetJobOutput responses for the C interface's tests (see cases.h). */
#include "cases.h"

#include <string.h>

#define MIB GVT_MIB
#define PAT GVT_PAT_LEN

#define CR(first, last) .has_content_range = true, .cr_first = (first), .cr_last = (last)
#define CL(n) .has_content_length = true, .content_length = (n)
#define BODY(first, len) .body_first = (first), .body_len = (len)
#define WHOLE_200 .status = 200, CL(PAT), BODY(0, PAT)
#define HEAD_2_4 .status = 206, CR(2 * MIB, 4 * MIB - 1), CL(2 * MIB)
#define PART_2_4 HEAD_2_4, BODY(2 * MIB, 2 * MIB)
#define EXPECT_2_4 .expect = GVT_RANGE_2_4
#define NONE .flip_at = -1, .stop_after = -1

const gvt_case gvt_cases[] = {
    {
        .name = "200 whole output, header hash",
        WHOLE_200, .header_hash = GVT_PAT_WHOLE, NONE,
        .expect = GVT_WHOLE,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_HASH, .want_hash = GVT_PAT_WHOLE,
    },
    {
        .name = "200 whole output, header + DescribeJob hash",
        WHOLE_200, .header_hash = GVT_PAT_WHOLE, NONE,
        .expect = GVT_WHOLE, .expected_hash = GVT_PAT_WHOLE,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_AND_EXPECTED_HASH,
        .want_hash = GVT_PAT_WHOLE,
    },
    {
        .name = "206 bytes 2-4 MiB, header hash",
        PART_2_4, .header_hash = GVT_PAT_2_4, NONE, EXPECT_2_4,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_HASH, .want_hash = GVT_PAT_2_4,
    },
    {
        .name = "206 bytes=4MiB- (open-ended), header + expected hash",
        .status = 206, CR(4 * MIB, PAT - 1), CL(PAT - 4 * MIB), BODY(4 * MIB, PAT - 4 * MIB),
        .header_hash = GVT_PAT_4_END, NONE,
        .expect = GVT_FROM_4, .expected_hash = GVT_PAT_4_END,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_AND_EXPECTED_HASH,
        .want_hash = GVT_PAT_4_END,
    },
    {
        .name = "200 whole output, one flipped byte",
        WHOLE_200, .header_hash = GVT_PAT_WHOLE, .flip_at = 3 * MIB + 17, .stop_after = -1,
        .expect = GVT_WHOLE,
        .want = GV_TREE_HASH_MISMATCH,
    },
    {
        .name = "206 body short by one byte",
        HEAD_2_4, BODY(2 * MIB, 2 * MIB - 1), .header_hash = GVT_PAT_2_4, NONE, EXPECT_2_4,
        .want = GV_BODY_TOO_SHORT,
    },
    {
        .name = "206 body one byte too long",
        HEAD_2_4, BODY(2 * MIB, 2 * MIB + 1), .header_hash = GVT_PAT_2_4, NONE, EXPECT_2_4,
        .want = GV_BODY_TOO_LONG,
    },
    {
        .name = "206 with the wrong Content-Range",
        .status = 206, CR(0, 2 * MIB - 1), CL(2 * MIB), BODY(0, 2 * MIB), NONE, EXPECT_2_4,
        .want = GV_CONTENT_RANGE_MISMATCH,
    },
    {
        .name = "206 aligned part without the hash header Glacier sends",
        PART_2_4, NONE, EXPECT_2_4,
        .want = GV_TREE_HASH_HEADER_MISSING,
    },
    {
        .name = "206 aligned part without the header, expected hash given",
        PART_2_4, NONE, EXPECT_2_4, .expected_hash = GVT_PAT_2_4,
        .want = GV_OK, .want_level = GV_LEVEL_EXPECTED_HASH, .want_hash = GVT_PAT_2_4,
    },
    {
        .name = "206 header matches, expected hash differs",
        PART_2_4, .header_hash = GVT_PAT_2_4, NONE, EXPECT_2_4, .expected_hash = GVT_PAT_WHOLE,
        .want = GV_EXPECTED_TREE_HASH_MISMATCH,
    },
    {
        .name = "200 whole output to a ranged request (Range ignored)",
        WHOLE_200, .header_hash = GVT_PAT_WHOLE, NONE, EXPECT_2_4,
        .want = GV_RANGE_IGNORED,
    },
    {
        .name = "200 inventory without a hash header",
        .status = 200, CL(906), BODY(0, 906), NONE,
        .expect = GVT_INVENTORY,
        .want = GV_OK, .want_level = GV_LEVEL_SIZE_ONLY, .want_hash = NULL,
    },
    {
        .name = "interim 100 Continue, then 206",
        .prefix = "HTTP/1.1 100 Continue\r\n\r\n",
        PART_2_4, .header_hash = GVT_PAT_2_4, NONE, EXPECT_2_4,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_HASH, .want_hash = GVT_PAT_2_4,
    },
    {
        .name = "206 with a 1024-character archive description",
        PART_2_4, .header_hash = GVT_PAT_2_4, .description_len = 1024, NONE, EXPECT_2_4,
        .want = GV_OK, .want_level = GV_LEVEL_HEADER_HASH, .want_hash = GVT_PAT_2_4,
    },
    {
        .name = "head longer than GV_HEAD_MAX",
        PART_2_4, .header_hash = GVT_PAT_2_4, .pad_len = GV_HEAD_MAX, NONE, EXPECT_2_4,
        .want = GV_HEAD_TOO_LARGE,
    },
    {
        .name = "stream ends inside the head",
        PART_2_4, .header_hash = GVT_PAT_2_4, .flip_at = -1, .stop_after = 60, EXPECT_2_4,
        .want = GV_HEAD_INCOMPLETE,
    },
    {
        .name = "403 error response",
        .status = 403, CL(0), BODY(0, 0), NONE, EXPECT_2_4,
        .want = GV_UNEXPECTED_STATUS,
    },
    {
        .name = "206 without Content-Length",
        .status = 206, CR(2 * MIB, 4 * MIB - 1), BODY(2 * MIB, 2 * MIB), NONE, EXPECT_2_4,
        .want = GV_MISSING_CONTENT_LENGTH,
    },
};

const size_t gvt_case_count = sizeof gvt_cases / sizeof gvt_cases[0];

gv_status gvt_expectation(gvt_expect kind, const char *expected_hash, gv_expectation *out) {
    memset(out, 0, sizeof *out);
    if (kind == GVT_INVENTORY) {
        out->job = GV_JOB_INVENTORY;
        out->output_len = 906;
    } else {
        /* An archive job whose output is the whole pattern. */
        out->job = GV_JOB_ARCHIVE;
        out->archive_size = PAT;
        out->retrieval_first = 0;
        out->retrieval_last = PAT - 1;
    }
    if (kind == GVT_RANGE_2_4 || kind == GVT_FROM_4) {
        out->has_range = true;
        out->range_first = kind == GVT_RANGE_2_4 ? 2 * MIB : 4 * MIB;
        out->range_last = kind == GVT_RANGE_2_4 ? 4 * MIB - 1 : UINT64_MAX;
    }
    if (expected_hash == NULL) {
        return GV_OK;
    }
    out->has_tree_hash = true;
    return gv_digest_from_hex(expected_hash, strlen(expected_hash), out->tree_hash);
}

/* --- the response ---------------------------------------------------------- */

static void put_bytes(gvt_source *s, const char *text, size_t n) {
    if (n > sizeof s->head - s->head_len) {
        s->head_overflow = true;
        return;
    }
    memcpy(s->head + s->head_len, text, n);
    s->head_len += n;
}

static void put(gvt_source *s, const char *text) { put_bytes(s, text, strlen(text)); }

static void put_u64(gvt_source *s, uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n] = (char)('0' + v % 10);
        v /= 10;
        n++;
    } while (v != 0);
    put_bytes(s, digits + sizeof digits - n, n);
}

static void put_repeat(gvt_source *s, char c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        put_bytes(s, &c, 1);
    }
}

void gvt_source_open(gvt_source *s, const gvt_case *c) {
    s->head_len = 0;
    s->head_pos = 0;
    s->head_overflow = false;
    if (c->prefix != NULL) {
        put(s, c->prefix);
    }
    put(s, "HTTP/1.1 ");
    put_u64(s, c->status);
    put(s, c->status == 206 ? " Partial Content\r\n" : c->status == 200 ? " OK\r\n" : " Error\r\n");
    put(s, "x-amzn-RequestId: capi-test-request\r\n");
    put(s, "Date: Wed, 10 Feb 2017 12:00:00 GMT\r\n");
    if (c->has_content_range) {
        put(s, "Content-Range: bytes ");
        put_u64(s, c->cr_first);
        put(s, "-");
        put_u64(s, c->cr_last);
        put(s, "/");
        put_u64(s, PAT);
        put(s, "\r\n");
    }
    put(s, "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n");
    if (c->has_content_length) {
        put(s, "Content-Length: ");
        put_u64(s, c->content_length);
        put(s, "\r\n");
    }
    if (c->header_hash != NULL) {
        put(s, "x-amz-sha256-tree-hash: ");
        put(s, c->header_hash);
        put(s, "\r\n");
    }
    if (c->description_len > 0) {
        put(s, "x-amz-archive-description: ");
        put_repeat(s, 'd', c->description_len);
        put(s, "\r\n");
    }
    if (c->pad_len > 0) {
        put(s, "x-pad: ");
        put_repeat(s, 'p', c->pad_len);
        put(s, "\r\n");
    }
    put(s, "\r\n");
    s->body_first = c->body_first;
    s->body_len = c->body_len;
    s->body_pos = 0;
    s->mod = (uint8_t)(c->body_first % 251);
    s->flip_at = c->flip_at;
    s->left = c->stop_after < 0 ? UINT64_MAX : (uint64_t)c->stop_after;
}

size_t gvt_source_read(gvt_source *s, uint8_t *buf, size_t cap) {
    if ((uint64_t)cap > s->left) {
        cap = (size_t)s->left;
    }
    size_t n = 0;
    while (n < cap && s->head_pos < s->head_len) {
        buf[n++] = s->head[s->head_pos++];
    }
    while (n < cap && s->body_pos < s->body_len) {
        uint8_t b = s->mod;
        if (s->flip_at >= 0 && (uint64_t)s->flip_at == s->body_pos) {
            b ^= 0x01;
        }
        buf[n++] = b;
        s->mod = s->mod == 250 ? 0 : (uint8_t)(s->mod + 1);
        s->body_pos++;
    }
    s->left -= n;
    return n;
}

/* --- pieces ------------------------------------------------------------------ */

uint64_t gvt_next(gvt_rng *r) {
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

size_t gvt_piece(gvt_rng *r, size_t max) {
    uint64_t x = gvt_next(r);
    size_t n;
    switch (x % 8) {
    case 0:
        n = (size_t)(1 + (x >> 8) % 7);
        break;
    case 1:
        n = max;
        break;
    default:
        n = (size_t)(1 + (x >> 8) % 1460);
        break;
    }
    return n > max ? max : n;
}

/* --- one case ---------------------------------------------------------------- */

static bool same_hash(const uint8_t digest[32], const char *hex) {
    char text[65];
    return gv_digest_to_hex(digest, text) == GV_OK && memcmp(text, hex, 65) == 0;
}

bool gvt_run_case(const gvt_case *c, gv_verifier *v, gvt_source *src, uint8_t *buf,
                  size_t buf_len, uint64_t seed, gvt_outcome *out) {
    gvt_rng rng = {seed | 1};
    gv_expectation e;
    memset(out, 0, sizeof *out);
    out->why = NULL;
    if (gvt_expectation(c->expect, c->expected_hash, &e) != GV_OK) {
        out->why = "bad expected_hash in the case";
        return false;
    }
    gvt_source_open(src, c);
    if (src->head_overflow) {
        out->why = "head does not fit GVT_HEAD_CAP";
        return false;
    }
    gv_status st = gv_verifier_init(v, &e);
    if (st != GV_OK) {
        out->status = st;
        out->why = "gv_verifier_init failed";
        return false;
    }
    for (;;) {
        size_t n = gvt_source_read(src, buf, gvt_piece(&rng, buf_len));
        if (n == 0) {
            break;
        }
        out->feeds++;
        st = gv_verifier_feed(v, buf, n);
        if (st != GV_OK) {
            out->status = st;
            /* Kept: the next feed repeats it, whatever it brings. */
            if (gv_verifier_feed(v, buf, 1) != st) {
                out->why = "a failure was not repeated by the next feed";
                return false;
            }
            break;
        }
    }
    out->finish_status = gv_verifier_finish(v, &out->verdict);
    if (out->status == GV_OK) {
        out->status = out->finish_status;
    } else if (out->finish_status != out->status) {
        out->why = "gv_verifier_finish did not repeat the feed's failure";
        return false;
    }
    if (gv_verifier_feed(v, buf, 0) != GV_ALREADY_FINISHED) {
        out->why = "a finished verifier did not say GV_ALREADY_FINISHED";
        return false;
    }
    if (out->status != c->want) {
        out->why = "unexpected status";
        return false;
    }
    if (c->want != GV_OK) {
        return true;
    }
    if (out->verdict.level != c->want_level) {
        out->why = "unexpected level";
        return false;
    }
    if (out->verdict.bytes != c->content_length) {
        out->why = "verdict bytes differ from Content-Length";
        return false;
    }
    if (c->want_hash != NULL && !same_hash(out->verdict.tree_hash, c->want_hash)) {
        out->why = "unexpected tree hash";
        return false;
    }
    return true;
}
