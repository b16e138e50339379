/* The channel: whole records in one call, bounded, authenticated, and
 * every byte on the wire counted once on each end.
 */
#include <config.h>

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/test.h"
#include "common/util.h"
#include "stream/crypto.h"
#include "stream/wire.h"

int
main (void)
{
  int sv[2];
  CHECK (socketpair (AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  struct p2v_chan tx = { .fd = sv[0] }, rx = { .fd = sv[1] };
  struct p2v_record_hdr h;
  uint8_t buf[64];

  /* Plain: preamble and a record, the same count on both ends. */
  struct p2v_preamble pre;
  CHECK (p2v_wire_send_preamble (&tx) == 0);
  CHECK (p2v_wire_recv_preamble (&rx, &pre) == 0);
  CHECK (p2v_chan_send (&tx, P2V_REC_KEEPALIVE, "ab", 2, "cde", NULL, 3) == 0);
  CHECK (p2v_chan_recv_record (&rx, &h, buf, sizeof buf) == 1);
  CHECK (h.type == P2V_REC_KEEPALIVE && h.length == 5 && memcmp (buf, "abcde", 5) == 0);
  CHECK (tx.tx_bytes == P2V_PREAMBLE_LEN + P2V_RECORD_HDR_LEN + 5);
  CHECK (rx.rx_bytes == tx.tx_bytes);

  /* Longer than the caller's room: refused before its payload. */
  CHECK (p2v_chan_send (&tx, P2V_REC_KEEPALIVE, buf, sizeof buf, NULL, NULL, 0) == 0);
  errno = 0;
  CHECK (p2v_chan_recv_record (&rx, &h, buf, 10) == -1 && errno == EMSGSIZE);
  CHECK (p2v_chan_skip (&rx, h.length) == 0);

  /* Sealed: the tag is on the wire too, and a flipped bit is caught. */
  struct p2v_keys k;
  uint8_t ns[P2V_NONCE_LEN] = { 1 }, nr[P2V_NONCE_LEN] = { 2 };
  CHECK (p2v_keys_derive ("WXB9-M267-F1HH-8VM9-NNQQ", &k) == 0);
  tx.tx = p2v_aead_new (&k, ns, nr, "s2r", true, true);
  rx.rx = p2v_aead_new (&k, ns, nr, "s2r", true, false);
  CHECK (tx.tx && rx.rx);
  uint64_t t0 = tx.tx_bytes, r0 = rx.rx_bytes;
  uint8_t payload[5] = "hello", sealed[5];
  CHECK (p2v_chan_send (&tx, P2V_REC_KEEPALIVE, NULL, 0, payload, sealed, 5) == 0);
  CHECK (p2v_chan_recv_record (&rx, &h, buf, sizeof buf) == 1);
  CHECK (h.length == 5 && memcmp (buf, "hello", 5) == 0);
  CHECK (tx.tx_bytes - t0 == P2V_RECORD_HDR_LEN + 5 + P2V_TAG_LEN);
  CHECK (rx.rx_bytes - r0 == tx.tx_bytes - t0);

  uint8_t raw[P2V_RECORD_HDR_LEN + 5 + P2V_TAG_LEN];
  CHECK (p2v_chan_send (&tx, P2V_REC_KEEPALIVE, NULL, 0, payload, sealed, 5) == 0);
  CHECK (p2v_read_full (sv[1], raw, sizeof raw) == (ssize_t) sizeof raw);
  raw[P2V_RECORD_HDR_LEN + 2] ^= 1;
  CHECK (p2v_write_full (sv[0], raw, sizeof raw) == 0);
  errno = 0;
  CHECK (p2v_chan_recv_record (&rx, &h, buf, sizeof buf) == -1 && errno == EBADMSG);

  /* A stream cut inside a record, then a clean end. */
  CHECK (write (sv[0], raw, 3) == 3);
  shutdown (sv[0], SHUT_WR);
  errno = EINVAL;
  CHECK (p2v_chan_recv_record (&rx, &h, buf, sizeof buf) == -1 && errno == 0);
  CHECK (p2v_chan_recv_record (&rx, &h, buf, sizeof buf) == 0);

  p2v_aead_free (tx.tx);
  p2v_aead_free (rx.rx);
  close (sv[0]);
  close (sv[1]);
  return TEST_DONE ();
}
