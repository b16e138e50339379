/* Records on a file descriptor (socket or pipe): the I/O half of the
 * wire format.  Callers add context (how far the stream got) to errors,
 * so these only return status.
 */
#ifndef P2V_WIRE_H
#define P2V_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Header + up to two payload parts in one writev.  0 or -1 (errno). */
int p2v_wire_send (int fd, uint8_t type, const void *a, size_t alen,
                   const void *b, size_t blen);

/* 1 when a header was read, 0 at a clean end of stream, -1 on error or
 * a stream that stops inside the header (errno 0 then).
 */
int p2v_wire_recv_hdr (int fd, struct p2v_record_hdr *h);

/* Exactly n payload bytes.  0, or -1 (errno 0 for a truncated stream). */
int p2v_wire_recv (int fd, void *buf, size_t n);

/* Read and drop n bytes (an optional record we do not know). */
int p2v_wire_skip (int fd, size_t n);

/* Preamble: send ours, or read and check the peer's (0, -1 I/O or
 * truncated, -2 not a p2vstream, -3 unsupported version).
 */
int p2v_wire_send_preamble (int fd);
int p2v_wire_recv_preamble (int fd, struct p2v_preamble *p);

#endif
