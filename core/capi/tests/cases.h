/*
 * Raw GetJobOutput responses for the C interface's tests, shared by the
 * host test (tests/host.c) and the Cortex-M4F firmware (firmware/main.c).
 *
 * Nothing is stored: each response's head is written into a buffer and its
 * body generated on the fly from the 6.5 MiB job output of
 * docs/protocol.md §7 (byte i is i mod 251), then fed to a gv_verifier in
 * pseudo-random pieces (1 byte to the whole buffer), so that the head,
 * the head/body boundary and the 1 MiB leaves are cut everywhere.
 *
 * Freestanding C11: <stdint.h>, <stddef.h>, <stdbool.h>, <string.h> only.
 */
#ifndef GVT_CASES_H
#define GVT_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glacier_verify.h"

#define GVT_MIB ((uint64_t)1 << 20)
/* The job output of docs/protocol.md §7: 6.5 MiB of i mod 251. */
#define GVT_PAT_LEN (6 * GVT_MIB + GVT_MIB / 2)
#define GVT_PAT_WHOLE "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f"
#define GVT_PAT_2_4 "9e217b1ceb8db81071f9c6e4a2bf0401a83491d10751ce858a2628f5d699dbdb"
#define GVT_PAT_4_END "3e997f13ddc355e8a55035672d60ba90275ece6485044b3616a0966e2b895fc1"

/* Room for the longest head a case writes (over GV_HEAD_MAX on purpose). */
#define GVT_HEAD_CAP (GV_HEAD_MAX + 512)

/* The expectations the cases use (kept small: the table is in flash). */
typedef enum gvt_expect {
    GVT_WHOLE,     /* archive job over the whole pattern, no Range */
    GVT_RANGE_2_4, /* the same job, Range: bytes=2097152-4194303 */
    GVT_FROM_4,    /* the same job, Range: bytes=4194304- */
    GVT_INVENTORY, /* inventory job of 906 bytes, no Range */
} gvt_expect;

/* The gv_expectation of `kind`, with `expected_hash` (64 hex digits or NULL). */
gv_status gvt_expectation(gvt_expect kind, const char *expected_hash, gv_expectation *out);

/* One response and what the verifier must conclude. */
typedef struct gvt_case {
    const char *name;
    const char *prefix;        /* bytes before the head (an interim 100), or NULL */
    unsigned status;           /* status code of the final head */
    bool has_content_range;
    uint64_t cr_first, cr_last; /* of a total of GVT_PAT_LEN */
    bool has_content_length;
    uint64_t content_length;
    const char *header_hash;   /* x-amz-sha256-tree-hash, or NULL */
    size_t description_len;    /* x-amz-archive-description of this many 'd's (0: none) */
    size_t pad_len;            /* an x-pad header of this many 'p's (0: none) */
    uint64_t body_first;       /* body = pattern bytes [body_first, body_first + body_len) */
    uint64_t body_len;
    int64_t flip_at;           /* body offset whose byte is flipped, -1: none */
    int64_t stop_after;        /* the stream ends after this many bytes, -1: at the end */
    gvt_expect expect;         /* what the caller knows, see gvt_expectation */
    const char *expected_hash; /* the expectation's tree hash, or NULL */
    gv_status want;            /* first non-OK status, or GV_OK */
    gv_level want_level;       /* when GV_OK */
    const char *want_hash;     /* the verdict's tree hash when GV_OK, or NULL: not checked */
} gvt_case;

extern const gvt_case gvt_cases[];
extern const size_t gvt_case_count;

/* The response of a case, read like a socket. */
typedef struct gvt_source {
    uint8_t head[GVT_HEAD_CAP];
    size_t head_len, head_pos;
    bool head_overflow;
    uint64_t body_pos;   /* offset in the body */
    uint64_t body_first, body_len;
    uint8_t mod;         /* (body_first + body_pos) mod 251 */
    int64_t flip_at;
    uint64_t left;       /* bytes still to deliver */
} gvt_source;

/* Writes the case's head and resets the body. */
void gvt_source_open(gvt_source *s, const gvt_case *c);
/* Fills up to `cap` bytes of `buf`; 0 at the end of the stream. */
size_t gvt_source_read(gvt_source *s, uint8_t *buf, size_t cap);

/* xorshift64*: the piece sizes. */
typedef struct gvt_rng {
    uint64_t state;
} gvt_rng;
uint64_t gvt_next(gvt_rng *r);
/* A piece size in [1, max]: mostly up to 1460 (an Ethernet segment),
 * sometimes 1 to 7 bytes, sometimes max. */
size_t gvt_piece(gvt_rng *r, size_t max);

/* What running a case gave. */
typedef struct gvt_outcome {
    gv_status status;        /* first non-OK status of init/feed/finish, or GV_OK */
    gv_status finish_status; /* what gv_verifier_finish returned */
    gv_verdict verdict;      /* written when status is GV_OK */
    uint64_t feeds;          /* gv_verifier_feed calls */
    const char *why;         /* NULL when the case passed, else what was wrong */
} gvt_outcome;

/*
 * Runs a case: init, the response fed in pieces of at most `buf_len` bytes
 * (sizes drawn from `seed`), finish; checks the status, that a failure is
 * repeated by a later feed and by finish, that a finished verifier says
 * GV_ALREADY_FINISHED, and the verdict. `v` and `src` are the caller's
 * storage (statics on the firmware). Returns true when the case passed.
 */
bool gvt_run_case(const gvt_case *c, gv_verifier *v, gvt_source *src, uint8_t *buf,
                  size_t buf_len, uint64_t seed, gvt_outcome *out);

#endif /* GVT_CASES_H */
