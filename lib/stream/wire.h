/* Records on a file descriptor (socket or pipe): the I/O half of the
 * wire format.  A channel carries plain records until the handshake
 * installs its AEAD contexts; from then on every record is sealed
 * (record length includes the 16-byte tag that follows the payload),
 * and the same calls open them.  Callers add context (how far the
 * stream got) to errors, so these only return status.
 */
#ifndef P2V_WIRE_H
#define P2V_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/crypto.h"
#include "stream/format.h"

struct p2v_chan {
  int fd;
  struct p2v_aead *tx, *rx;     /* NULL: plain records */
  bool cur_sealed;              /* the record being read is sealed */
  /* A receiver that rejects our proof cannot seal its answer: between
   * our AUTH and the first record that opens under the new keys (and
   * only then) a plain REFUSE is the protocol.  Anywhere else it is
   * forged or corrupted, and fails like any other unsealed record.
   */
  bool plain_refuse_ok;
  /* A peer trickling one byte at a time defeats a per-read timeout, so
   * reads run against a deadline: a fixed one (deadline, monotonic
   * seconds, e.g. for the whole handshake), or one reset at each
   * record header (record_timeout seconds for the whole record).  A
   * read past it fails with ETIMEDOUT.  0: no limit.
   */
  double deadline;
  unsigned record_timeout;
  /* The minor version the peer's preamble announced (set when it is
   * read): what the peer understands decides what we may send it.
   */
  uint16_t peer_minor;
  /* Bytes this channel wrote and read, records and preambles, headers
   * and tags included: what went over the wire.  Each counts its own
   * direction's thread (one sender, one reader at a time).
   */
  uint64_t tx_bytes, rx_bytes;
};

/* Header, a, then b (b_in sent as is, or sealed into b_out, which may
 * equal b_in).  0 or -1 (errno).
 */
int p2v_chan_send (struct p2v_chan *c, uint8_t type, const void *a, size_t alen,
                   const void *b_in, void *b_out, size_t blen);

/* 1 when a header was read (h->length is the payload length, tag not
 * counted), 0 at a clean end of stream, -1 on error or a stream that
 * stops inside the header (errno 0 then).  Once rx is installed, the
 * only plain record accepted is REFUSE while plain_refuse_ok holds;
 * anything else unsealed fails with EBADMSG.
 */
int p2v_chan_recv_hdr (struct p2v_chan *c, struct p2v_record_hdr *h);
/* Exactly n payload bytes, opened in place.  0, or -1 (errno 0 for a
 * truncated stream).
 */
int p2v_chan_recv (struct p2v_chan *c, void *buf, size_t n);
/* After the payload: check the tag.  0, or -1 with errno EBADMSG when
 * the record is not authentic (its contents must not be used).
 */
int p2v_chan_recv_end (struct p2v_chan *c);
/* One whole record of at most cap payload bytes into buf: header,
 * payload and tag, authenticated before it returns.  1 (h says its
 * type and length), 0 at a clean end of stream, -1 with errno: 0 for a
 * stream cut short, EMSGSIZE for a record longer than cap (nothing of
 * its payload read), EBADMSG for one that is not authentic, or the
 * read's own.
 */
int p2v_chan_recv_record (struct p2v_chan *c, struct p2v_record_hdr *h, void *buf, size_t cap);
/* Read (and authenticate) n payload bytes we have no use for. */
int p2v_chan_skip (struct p2v_chan *c, size_t n);

/* Preamble: send ours, or read and check the peer's (0, -1 I/O or
 * truncated, -2 not a p2vstream, -3 unsupported version).
 */
int p2v_wire_send_preamble (struct p2v_chan *c);
int p2v_wire_recv_preamble (struct p2v_chan *c, struct p2v_preamble *p);

#endif
