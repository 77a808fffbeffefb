/* The receive loop of docs/c-api.md (receive.c). */
#ifndef GATEWAY_RECEIVE_H
#define GATEWAY_RECEIVE_H

#include "glacier_verify.h"

/* recv() or write() failed; errno says why. */
#define GATEWAY_IO_ERROR (-1)

/*
 * Reads one raw GetJobOutput response from `sock` until the server closes
 * it, verifying it against `expect` and spooling every byte to `spool_fd`.
 * Returns GV_OK with *verdict written (the spool's last verdict->bytes
 * bytes are the verified body), another gv_status when the response
 * failed, or GATEWAY_IO_ERROR.
 */
int gateway_receive(int sock, const gv_expectation *expect, int spool_fd, gv_verdict *verdict);

#endif /* GATEWAY_RECEIVE_H */
