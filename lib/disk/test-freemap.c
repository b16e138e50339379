#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk/freemap.h"
#include "common/test.h"

int
main (void)
{
  struct p2v_freemap m = { 0 };
  /* Out of order, overlapping and touching runs end up merged. */
  p2v_freemap_add (&m, 8192, 4096);
  p2v_freemap_add (&m, 0, 4096);
  p2v_freemap_add (&m, 4096, 2048);
  p2v_freemap_add (&m, 10000, 10000);
  p2v_freemap_add (&m, 100, 0);
  p2v_freemap_seal (&m);
  CHECK (m.n == 2);
  CHECK (m.v[0].off == 0 && m.v[0].len == 6144);
  CHECK (m.v[1].off == 8192 && m.v[1].len == 20000 - 8192);

  CHECK (p2v_freemap_bytes (&m, 0, 40000) == 6144 + 20000 - 8192);
  CHECK (p2v_freemap_bytes (&m, 6000, 3000) == 144 + 808);
  CHECK (p2v_freemap_bytes (&m, 20000, 100) == 0);
  CHECK (p2v_freemap_covers (&m, 0, 6144));
  CHECK (!p2v_freemap_covers (&m, 0, 6145));
  CHECK (p2v_freemap_covers (&m, 9000, 1000));
  CHECK (!p2v_freemap_covers (&m, 9000, 0));

  uint64_t a, b;
  CHECK (p2v_freemap_next (&m, 5000, 30000, 0, &a, &b) && a == 5000 && b == 6144);
  CHECK (p2v_freemap_next (&m, 6144, 30000, 0, &a, &b) && a == 8192 && b == 20000);
  CHECK (p2v_freemap_next (&m, 0, 30000, 8192, &a, &b) && a == 8192 && b == 20000);
  CHECK (!p2v_freemap_next (&m, 20000, 30000, 0, &a, &b));
  CHECK (!p2v_freemap_next (&m, 6144, 8192, 0, &a, &b));

  /* Masking zeros exactly the free bytes of the window. */
  uint8_t buf[12000];
  memset (buf, 0xff, sizeof buf);
  p2v_freemap_mask (&m, buf, sizeof buf, 5000);     /* [5000, 17000) */
  for (size_t i = 0; i < sizeof buf; i++) {
    uint64_t at = 5000 + i;
    int want_zero = at < 6144 || at >= 8192;
    if ((buf[i] == 0) != want_zero) {
      CHECK (!"mask zeroed the wrong byte");
      break;
    }
  }
  p2v_freemap_free (&m);

  /* Past the cap the shortest runs go, never a byte that was not free. */
  struct p2v_freemap big = { 0 };
  for (uint64_t i = 0; i < P2V_FREEMAP_MAX + 10; i++)
    p2v_freemap_add (&big, i * 16384, i % 2 ? 4096 : 12288);
  p2v_freemap_seal (&big);
  CHECK (big.n <= P2V_FREEMAP_MAX);
  CHECK (big.min_len > 4096);
  CHECK (p2v_freemap_covers (&big, 0, 12288));
  CHECK (!p2v_freemap_covers (&big, 16384, 4096));   /* a short run dropped: sent */
  CHECK (p2v_freemap_bytes (&big, 12288, 4096) == 0); /* used stays used */
  p2v_freemap_free (&big);

  /* Nothing free anywhere (every partition sent whole): an empty map. */
  struct p2v_freemap none = { 0 };
  p2v_freemap_seal (&none);
  CHECK (none.n == 0 && !p2v_freemap_covers (&none, 0, 4096));
  CHECK (!p2v_freemap_next (&none, 0, 4096, 0, &a, &b));
  p2v_freemap_free (&none);
  return TEST_DONE ();
}
