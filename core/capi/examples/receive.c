/*
 * A gateway's receive loop: the raw bytes of one GetJobOutput response,
 * exactly as recv() returns them, go through a gv_verifier and into a
 * spool file. When the response verifies, the last verdict.bytes bytes of
 * the spool are the job output's bytes asked for; until then nothing in
 * the spool may be used. (docs/c-api.md explains each step; run.sh
 * compiles this file and runs it over a socket pair.)
 *
 * The request must have been sent with "Connection: close": the verifier
 * is told the response is over when the server closes the connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "glacier_verify.h"

#include "receive.h"

/* 4 KiB of state: kept static rather than on a small task stack. One
 * download at a time; give each concurrent download its own. */
static gv_verifier verifier;

/* Writes all of buf to fd. */
static int write_all(int fd, const uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int gateway_receive(int sock, const gv_expectation *expect, int spool_fd, gv_verdict *verdict) {
    uint8_t buf[1460]; /* one TCP segment's worth; any size works */
    gv_status st = gv_verifier_init(&verifier, expect);
    if (st != GV_OK) {
        return (int)st; /* the expectation contradicts itself */
    }
    for (;;) {
        ssize_t n = recv(sock, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            (void)gv_verifier_finish(&verifier, verdict); /* release the state */
            return GATEWAY_IO_ERROR;
        }
        if (n == 0) {
            break; /* the server closed: the response is complete */
        }
        st = gv_verifier_feed(&verifier, buf, (size_t)n);
        if (st != GV_OK) {
            /* Nothing after this can make the response pass: stop reading.
             * gv_verifier_finish below returns the same status. */
            break;
        }
        if (write_all(spool_fd, buf, (size_t)n) != 0) {
            (void)gv_verifier_finish(&verifier, verdict);
            return GATEWAY_IO_ERROR;
        }
    }
    /* GV_OK: *verdict says how far the check went (verdict->level) and
     * how many bytes are the body (verdict->bytes, the spool's tail).
     * Anything else: the status names what was wrong, *verdict is untouched. */
    return (int)gv_verifier_finish(&verifier, verdict);
}
