#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream/net.h"
#include "common/parse.h"
#include "common/test.h"
#include "common/util.h"

int
main (void)
{
  char bound[128], peer[128];
  int l = p2v_listen ("127.0.0.1", "0", bound, sizeof bound);
  CHECK (l >= 0);
  CHECK (strncmp (bound, "127.0.0.1:", 10) == 0);
  const char *port = bound + 10;
  unsigned p;
  CHECK (p2v_parse_uint (port, 1, 65535, &p) == 0);     /* a real port was picked */

  int c = p2v_connect ("127.0.0.1", port);
  CHECK (c >= 0);
  int a = p2v_accept (l, peer, sizeof peer);
  CHECK (a >= 0);
  CHECK (strncmp (peer, "127.0.0.1:", 10) == 0);
  CHECK (p2v_write_full (c, "ping", 4) == 0);
  char buf[8];
  CHECK (p2v_read_full (a, buf, 4) == 4 && memcmp (buf, "ping", 4) == 0);
  close (c);
  CHECK (p2v_read_full (a, buf, 4) == 0);              /* clean EOF */
  close (a);
  close (l);

  /* Nothing listens on the port we just closed. */
  CHECK (p2v_connect ("127.0.0.1", port) == -1);

  /* A deadline bounds the whole read, not each byte. */
  int pfd[2];
  CHECK (pipe (pfd) == 0);
  CHECK (write (pfd[1], "ab", 2) == 2);
  double t0 = p2v_now ();
  errno = 0;
  CHECK (p2v_read_full_by (pfd[0], buf, 4, t0 + 0.3) == -1 && errno == ETIMEDOUT);
  double took = p2v_now () - t0;
  CHECK (took >= 0.25 && took < 2);
  CHECK (write (pfd[1], "cdef", 4) == 4);
  CHECK (p2v_read_full_by (pfd[0], buf, 4, p2v_now () + 1) == 4 && memcmp (buf, "cdef", 4) == 0);
  close (pfd[0]);
  close (pfd[1]);

  l = p2v_listen ("::1", "0", bound, sizeof bound);
  if (l >= 0) {                                        /* hosts without IPv6 skip */
    CHECK (strncmp (bound, "[::1]:", 6) == 0);
    close (l);
  }
  return TEST_DONE ();
}
