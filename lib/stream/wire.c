#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"
#include "stream/wire.h"

static int
writev_full (int fd, struct iovec *v, int cnt)
{
  while (cnt > 0) {
    ssize_t r = writev (fd, v, cnt);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    while (cnt > 0 && (size_t) r >= v->iov_len) {
      r -= v->iov_len;
      v++;
      cnt--;
    }
    if (cnt > 0) {
      v->iov_base = (char *) v->iov_base + r;
      v->iov_len -= r;
    }
  }
  return 0;
}

int
p2v_chan_send (struct p2v_chan *c, uint8_t type, const void *a, size_t alen,
               const void *b_in, void *b_out, size_t blen)
{
  uint8_t hdr[P2V_RECORD_HDR_LEN], tag[P2V_TAG_LEN];
  if (!c->tx) {
    p2v_pack_record_hdr (hdr, type, 0, (uint32_t) (alen + blen));
    struct iovec iov[3] = { { hdr, sizeof hdr }, { (void *) a, alen }, { (void *) b_in, blen } };
    if (writev_full (c->fd, iov, 3) == -1)
      return -1;
    c->tx_bytes += sizeof hdr + alen + blen;
    return 0;
  }

  p2v_pack_record_hdr (hdr, type, P2V_RECF_SEALED, (uint32_t) (alen + blen + P2V_TAG_LEN));
  bool enc = p2v_aead_encrypts (c->tx);
  /* The small first part is sealed into a copy; the bulk (b) where the
   * caller said, so a chunk is never copied just to be encrypted.
   */
  uint8_t small[256], *acopy = alen <= sizeof small ? small : xmalloc (alen);
  int r = -1;
  if (p2v_aead_begin (c->tx, hdr, sizeof hdr) == -1
      || p2v_aead_update (c->tx, a, enc ? acopy : NULL, alen) == -1
      || p2v_aead_update (c->tx, b_in, enc ? b_out : NULL, blen) == -1
      || p2v_aead_seal_final (c->tx, tag) == -1) {
    errno = EPROTO;
    goto out;
  }
  struct iovec iov[4] = {
    { hdr, sizeof hdr }, { enc ? acopy : (void *) a, alen },
    { enc ? b_out : (void *) b_in, blen }, { tag, sizeof tag },
  };
  r = writev_full (c->fd, iov, 4);
  if (r == 0)
    c->tx_bytes += sizeof hdr + alen + blen + sizeof tag;
 out:
  if (acopy != small)
    free (acopy);
  return r;
}

static ssize_t
chan_read (struct p2v_chan *c, void *buf, size_t n)
{
  ssize_t r = p2v_read_full_by (c->fd, buf, n, c->deadline);
  if (r > 0)
    c->rx_bytes += (uint64_t) r;
  return r;
}

int
p2v_chan_recv_hdr (struct p2v_chan *c, struct p2v_record_hdr *h)
{
  uint8_t buf[P2V_RECORD_HDR_LEN];
  if (c->record_timeout)
    c->deadline = p2v_now () + c->record_timeout;
  ssize_t r = chan_read (c, buf, sizeof buf);
  if (r == 0)
    return 0;
  if (r < 0)
    return -1;
  p2v_unpack_record_hdr (buf, h);
  c->cur_sealed = c->rx && (h->flags & P2V_RECF_SEALED);
  if (c->rx && !c->cur_sealed && !(h->type == P2V_REC_REFUSE && c->plain_refuse_ok)) {
    errno = EBADMSG;
    return -1;
  }
  if (c->cur_sealed) {
    if (h->length < P2V_TAG_LEN) {
      errno = EBADMSG;
      return -1;
    }
    h->length -= P2V_TAG_LEN;
    if (p2v_aead_begin (c->rx, buf, sizeof buf) == -1) {
      errno = EPROTO;
      return -1;
    }
  }
  return 1;
}

int
p2v_chan_recv (struct p2v_chan *c, void *buf, size_t n)
{
  if (n == 0)
    return 0;
  ssize_t r = chan_read (c, buf, n);
  if (r == 0)
    errno = 0;
  if (r != (ssize_t) n)
    return -1;
  if (c->cur_sealed
      && p2v_aead_update (c->rx, buf, p2v_aead_encrypts (c->rx) ? buf : NULL, n) == -1) {
    errno = EPROTO;
    return -1;
  }
  return 0;
}

int
p2v_chan_recv_end (struct p2v_chan *c)
{
  if (!c->cur_sealed)
    return 0;
  uint8_t tag[P2V_TAG_LEN];
  ssize_t r = chan_read (c, tag, sizeof tag);
  if (r != (ssize_t) sizeof tag) {
    if (r >= 0)
      errno = 0;
    return -1;
  }
  if (p2v_aead_open_final (c->rx, tag) == -1) {
    errno = EBADMSG;
    return -1;
  }
  c->plain_refuse_ok = false;
  return 0;
}

int
p2v_chan_recv_record (struct p2v_chan *c, struct p2v_record_hdr *h, void *buf, size_t cap)
{
  int r = p2v_chan_recv_hdr (c, h);
  if (r != 1)
    return r;
  if (h->length > cap) {
    errno = EMSGSIZE;
    return -1;
  }
  if (p2v_chan_recv (c, buf, h->length) == -1 || p2v_chan_recv_end (c) == -1)
    return -1;
  return 1;
}

int
p2v_chan_skip (struct p2v_chan *c, size_t n)
{
  char buf[4096];
  while (n > 0) {
    size_t k = n < sizeof buf ? n : sizeof buf;
    if (p2v_chan_recv (c, buf, k) == -1)
      return -1;
    n -= k;
  }
  return 0;
}

int
p2v_wire_send_preamble (struct p2v_chan *c)
{
  uint8_t buf[P2V_PREAMBLE_LEN];
  p2v_pack_preamble (buf);
  if (p2v_write_full (c->fd, buf, sizeof buf) == -1)
    return -1;
  c->tx_bytes += sizeof buf;
  return 0;
}

int
p2v_wire_recv_preamble (struct p2v_chan *c, struct p2v_preamble *p)
{
  uint8_t buf[P2V_PREAMBLE_LEN];
  ssize_t r = chan_read (c, buf, sizeof buf);
  if (r != (ssize_t) sizeof buf) {
    if (r >= 0)
      errno = 0;
    return -1;
  }
  switch (p2v_unpack_preamble (buf, p)) {
  case 0:
    c->peer_minor = p->minor;
    return 0;
  case -1: return -2;
  default: return -3;
  }
}
