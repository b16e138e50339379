#include <config.h>

#include <errno.h>
#include <sys/uio.h>

#include "util.h"
#include "wire.h"

int
p2v_wire_send (int fd, uint8_t type, const void *a, size_t alen,
               const void *b, size_t blen)
{
  uint8_t hdr[P2V_RECORD_HDR_LEN];
  p2v_pack_record_hdr (hdr, type, (uint32_t) (alen + blen));
  struct iovec iov[3] = {
    { hdr, sizeof hdr }, { (void *) a, alen }, { (void *) b, blen },
  };
  struct iovec *v = iov;
  int cnt = 3;
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
p2v_wire_recv_hdr (int fd, struct p2v_record_hdr *h)
{
  uint8_t buf[P2V_RECORD_HDR_LEN];
  ssize_t r = p2v_read_full (fd, buf, sizeof buf);
  if (r == 0)
    return 0;
  if (r < 0)
    return -1;
  p2v_unpack_record_hdr (buf, h);
  return 1;
}

int
p2v_wire_recv (int fd, void *buf, size_t n)
{
  if (n == 0)
    return 0;
  ssize_t r = p2v_read_full (fd, buf, n);
  if (r == 0)
    errno = 0;
  return r == (ssize_t) n ? 0 : -1;
}

int
p2v_wire_skip (int fd, size_t n)
{
  char buf[4096];
  while (n > 0) {
    size_t k = n < sizeof buf ? n : sizeof buf;
    if (p2v_wire_recv (fd, buf, k) == -1)
      return -1;
    n -= k;
  }
  return 0;
}

int
p2v_wire_send_preamble (int fd)
{
  uint8_t buf[P2V_PREAMBLE_LEN];
  p2v_pack_preamble (buf);
  return p2v_write_full (fd, buf, sizeof buf);
}

int
p2v_wire_recv_preamble (int fd, struct p2v_preamble *p)
{
  uint8_t buf[P2V_PREAMBLE_LEN];
  if (p2v_wire_recv (fd, buf, sizeof buf) == -1)
    return -1;
  switch (p2v_unpack_preamble (buf, p)) {
  case 0: return 0;
  case -1: return -2;
  default: return -3;
  }
}
