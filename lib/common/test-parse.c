#include <config.h>

#include <stdlib.h>

#include "common/parse.h"
#include "common/test.h"

static void
hp (const char *s, int port_only, const char *def, int ok, const char *h, const char *p)
{
  char *host, *port;
  int r = p2v_parse_hostport (s, port_only, def, &host, &port);
  if (!ok) {
    if (r != -1)
      fprintf (stderr, "hostport '%s' should be rejected\n", s);
    CHECK (r == -1);
    return;
  }
  CHECK (r == 0);
  if (r == 0) {
    if (h)
      CHECK_STR (host, h);
    else
      CHECK (host == NULL);
    CHECK_STR (port, p);
  }
  free (host);
  free (port);
}

int
main (void)
{
  uint64_t v;
  unsigned u;

  CHECK (p2v_parse_u64 ("0", &v) == 0 && v == 0);
  CHECK (p2v_parse_u64 ("18446744073709551615", &v) == 0 && v == UINT64_MAX);
  CHECK (p2v_parse_u64 ("18446744073709551616", &v) == -1);   /* overflow */
  CHECK (p2v_parse_u64 ("-1", &v) == -1);
  CHECK (p2v_parse_u64 ("+1", &v) == -1);
  CHECK (p2v_parse_u64 (" 1", &v) == -1);
  CHECK (p2v_parse_u64 ("1 ", &v) == -1);
  CHECK (p2v_parse_u64 ("12abc", &v) == -1);
  CHECK (p2v_parse_u64 ("", &v) == -1);
  CHECK (p2v_parse_u64 ("0x10", &v) == -1);

  CHECK (p2v_parse_uint ("4", 1, 64, &u) == 0 && u == 4);
  CHECK (p2v_parse_uint ("0", 1, 64, &u) == -1);
  CHECK (p2v_parse_uint ("65", 1, 64, &u) == -1);
  CHECK (p2v_parse_uint ("4294967297", 0, 4294967295u, &u) == -1);

  CHECK (p2v_parse_size ("4096", &v) == 0 && v == 4096);
  CHECK (p2v_parse_size ("4K", &v) == 0 && v == 4096);
  CHECK (p2v_parse_size ("4k", &v) == 0 && v == 4096);
  CHECK (p2v_parse_size ("4KiB", &v) == 0 && v == 4096);
  CHECK (p2v_parse_size ("4KB", &v) == 0 && v == 4096);
  CHECK (p2v_parse_size ("1M", &v) == 0 && v == 1048576);
  CHECK (p2v_parse_size ("1G", &v) == 0 && v == 1073741824);
  CHECK (p2v_parse_size ("2T", &v) == 0 && v == 2199023255552ull);
  CHECK (p2v_parse_size ("512B", &v) == 0 && v == 512);
  CHECK (p2v_parse_size ("1.5G", &v) == -1);
  CHECK (p2v_parse_size ("-1M", &v) == -1);
  CHECK (p2v_parse_size ("1X", &v) == -1);
  CHECK (p2v_parse_size ("1Mx", &v) == -1);
  CHECK (p2v_parse_size ("M", &v) == -1);
  CHECK (p2v_parse_size ("16385P", &v) == -1);                /* overflow */
  CHECK (p2v_parse_size ("16383P", &v) == 0);

  hp ("vm:5000", 0, "5000", 1, "vm", "5000");
  hp ("vm", 0, "5000", 1, "vm", "5000");
  hp ("10.0.0.5:6000", 0, "5000", 1, "10.0.0.5", "6000");
  hp ("[::1]:5001", 0, "5000", 1, "::1", "5001");
  hp ("[fe80::1]", 0, "5000", 1, "fe80::1", "5000");
  hp ("::1", 0, "5000", 0, NULL, NULL);                /* bare IPv6 */
  hp ("vm:", 0, "5000", 0, NULL, NULL);
  hp ("vm:65536", 0, "5000", 0, NULL, NULL);
  hp ("vm:-1", 0, "5000", 0, NULL, NULL);
  hp ("vm:50x", 0, "5000", 0, NULL, NULL);
  hp (":5000", 0, "5000", 0, NULL, NULL);              /* a sender needs a host */
  hp ("", 0, "5000", 0, NULL, NULL);
  hp ("[::1", 0, "5000", 0, NULL, NULL);
  hp ("[]:5000", 0, "5000", 0, NULL, NULL);
  hp ("[::1]x", 0, "5000", 0, NULL, NULL);
  hp ("a b:5000", 0, "5000", 0, NULL, NULL);
  /* p2vrecv --listen */
  hp ("5001", 1, "5000", 1, NULL, "5001");
  hp ("0", 1, "5000", 1, NULL, "0");
  hp (":5001", 1, "5000", 1, NULL, "5001");
  hp ("127.0.0.1:0", 1, "5000", 1, "127.0.0.1", "0");
  hp ("[::]:7000", 1, "5000", 1, "::", "7000");
  hp ("70000", 1, "5000", 0, NULL, NULL);
  /* Per-disk options: once per disk or not at all. */
  {
    const char *list[2];
    unsigned n = 0;
    CHECK (p2v_opt_repeat ("--manifest", "a.json", list, &n, 2) == 0);
    CHECK (p2v_opt_repeat ("--manifest", "b.json", list, &n, 2) == 0);
    CHECK (p2v_opt_repeat ("--manifest", "c.json", list, &n, 2) == -1);
    CHECK (n == 2 && strcmp (list[1], "b.json") == 0);
    CHECK (p2v_opt_per_disk ("--manifest", 2, 2) == 0);
    CHECK (p2v_opt_per_disk ("--manifest", 0, 3) == 0);
    CHECK (p2v_opt_per_disk ("--manifest", 1, 2) == -1);
  }
  /* MACs as guests and manifests write them, canonical out. */
  char mac[18];
  CHECK (p2v_parse_mac ("00:1B:78:aa:bb:CC", 17, mac));
  CHECK_STR (mac, "00:1b:78:aa:bb:cc");
  CHECK (p2v_parse_mac ("00-1b-78-aa-bb-cc", 17, mac));
  CHECK_STR (mac, "00:1b:78:aa:bb:cc");
  CHECK (!p2v_parse_mac ("00:1b:78:aa:bb", 14, mac));
  CHECK (!p2v_parse_mac ("00:1b:78:aa:bb:cg", 17, mac));
  CHECK (!p2v_parse_mac ("00:1b:78:aa:bb:cc:", 17 + 1, mac));
  CHECK (!p2v_parse_mac ("001b:78:aa:bb:cc:d", 17, mac));
  /* Digits of a span: all of it, at most nine. */
  unsigned long d;
  CHECK (p2v_parse_digits ("12x", 2, &d) && d == 12);
  CHECK (p2v_parse_digits ("999999999", 9, &d) && d == 999999999UL);
  CHECK (!p2v_parse_digits ("1234567890", 10, &d));
  CHECK (!p2v_parse_digits ("", 0, &d));
  CHECK (!p2v_parse_digits ("-1", 2, &d));
  CHECK (!p2v_parse_digits ("1 ", 2, &d));
  return TEST_DONE ();
}
