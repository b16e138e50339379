#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "stream/format.h"
#include "stream/handshake.h"
#include "common/util.h"

static int
install (struct p2v_chan *ch, const struct p2v_keys *k, const uint8_t ns[P2V_NONCE_LEN],
         const uint8_t nr[P2V_NONCE_LEN], bool encrypt, bool sender)
{
  ch->tx = p2v_aead_new (k, ns, nr, sender ? "s2r" : "r2s", encrypt, true);
  ch->rx = p2v_aead_new (k, ns, nr, sender ? "r2s" : "s2r", encrypt, false);
  return ch->tx && ch->rx ? 0 : P2V_EXIT_IO;
}

int
p2v_handshake_sender (struct p2v_chan *ch, bool two_way, const struct p2v_keys *keys,
                      bool encrypt, const char *peer)
{
  uint8_t hello[P2V_HELLO_LEN], ns[P2V_NONCE_LEN], nr[P2V_NONCE_LEN] = { 0 };
  uint32_t flags = (encrypt ? P2V_HELLO_ENCRYPT : 0) | (keys ? 0 : P2V_HELLO_NOKEY);
  if (p2v_random (ns, sizeof ns) == -1)
    return P2V_EXIT_IO;
  p2v_put32 (hello, flags);
  memcpy (hello + 4, ns, sizeof ns);
  if (p2v_wire_send_preamble (ch) == -1
      || p2v_chan_send (ch, P2V_REC_HELLO, hello, sizeof hello, NULL, NULL, 0) == -1) {
    p2v_error ("cannot send to %s: %s", peer, strerror (errno));
    return P2V_EXIT_NET;
  }
  if (two_way) {
    struct p2v_preamble pre;
    struct p2v_record_hdr h;
    int r = p2v_wire_recv_preamble (ch, &pre);
    if (r == -1 || (r == 0 && p2v_chan_recv_hdr (ch, &h) != 1)) {
      if (errno == ETIMEDOUT) {
        p2v_error ("%s did not answer the handshake in time (p2vsend --timeout)", peer);
        return P2V_EXIT_NET;
      }
      p2v_error ("%s closed the connection during the handshake%s%s", peer,
                 errno ? ": " : "", errno ? strerror (errno) : "");
      return P2V_EXIT_NET;
    }
    if (r < 0 || h.type != P2V_REC_CHALLENGE || h.length != P2V_NONCE_LEN
        || p2v_chan_recv (ch, nr, sizeof nr) == -1) {
      p2v_error ("%s is not a p2vrecv (or speaks an incompatible version)", peer);
      return P2V_EXIT_PROTOCOL;
    }
    uint8_t proof[P2V_PROOF_LEN] = { 0 };
    if (keys)
      p2v_auth_proof (keys, "sender", ns, nr, flags, proof);
    if (p2v_chan_send (ch, P2V_REC_AUTH, proof, sizeof proof, NULL, NULL, 0) == -1) {
      p2v_error ("cannot send to %s: %s", peer, strerror (errno));
      return P2V_EXIT_NET;
    }
  }
  if (!keys) {
    /* Nothing more to say: the receiver will refuse, and the caller
     * reports its words.
     */
    return 0;
  }
  ch->plain_refuse_ok = two_way;
  return install (ch, keys, ns, nr, encrypt, true);
}

static void
refuse_plain (struct p2v_chan *ch, const char *msg)
{
  uint8_t st[P2V_REFUSE_FIXED_LEN];
  p2v_pack_refuse (st, P2V_EXIT_AUTH);
  p2v_chan_send (ch, P2V_REC_REFUSE, st, sizeof st, msg, NULL, strlen (msg));
}

int
p2v_handshake_receiver (struct p2v_chan *ch, bool two_way, const struct p2v_keys *keys,
                        const char *peer)
{
  struct p2v_preamble pre;
  struct p2v_record_hdr h;
  uint8_t hello[P2V_HELLO_LEN], nr[P2V_NONCE_LEN] = { 0 };
  int r = p2v_wire_recv_preamble (ch, &pre);
  if (r == -3) {
    /* Listening, it is one more stranger to ignore; on a pipe, the end. */
    if (two_way)
      p2v_warning ("ignoring connection from %s: it speaks p2vstream version %u, "
                   "this p2vrecv reads version %u", peer, pre.major, P2V_VERSION_MAJOR);
    else
      p2v_error ("%s speaks p2vstream version %u, this p2vrecv reads version %u",
                 peer, pre.major, P2V_VERSION_MAJOR);
    return P2V_EXIT_PROTOCOL;
  }
  if (r < 0 || p2v_chan_recv_record (ch, &h, hello, sizeof hello) != 1
      || h.type != P2V_REC_HELLO || h.length != P2V_HELLO_LEN)
    return -1;
  uint32_t flags = p2v_get32 (hello);
  const uint8_t *ns = hello + 4;

  if (two_way) {
    if (p2v_random (nr, sizeof nr) == -1)
      return P2V_EXIT_IO;
    uint8_t proof[P2V_PROOF_LEN], want[P2V_PROOF_LEN];
    if (p2v_wire_send_preamble (ch) == -1
        || p2v_chan_send (ch, P2V_REC_CHALLENGE, nr, sizeof nr, NULL, NULL, 0) == -1
        || p2v_chan_recv_record (ch, &h, proof, sizeof proof) != 1
        || h.type != P2V_REC_AUTH || h.length != P2V_PROOF_LEN)
      return -1;
    if (flags & P2V_HELLO_NOKEY) {
      refuse_plain (ch, "no key given: run p2vsend with the --key that p2vrecv printed");
      p2v_warning ("%s sent no key; connection refused, still listening", peer);
      return P2V_EXIT_AUTH;
    }
    p2v_auth_proof (keys, "sender", ns, nr, flags, want);
    if (!p2v_proof_equal (proof, want)) {
      refuse_plain (ch, "wrong key: use the --key that p2vrecv printed");
      p2v_warning ("%s does not have the key (wrong --key); connection refused, "
                   "still listening", peer);
      return P2V_EXIT_AUTH;
    }
  }
  else if (flags & P2V_HELLO_NOKEY) {
    p2v_error ("the stream was written without a key");
    return P2V_EXIT_AUTH;
  }
  return install (ch, keys, ns, nr, flags & P2V_HELLO_ENCRYPT, false);
}
