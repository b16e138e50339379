#include <config.h>

#include <stdlib.h>

#include <zlib.h>

#include "stream/codec.h"
#include "common/test.h"

static void
round_trip (int id, int level, const uint8_t *src, size_t n, int expect_stored)
{
  struct p2v_coder *c = p2v_coder_new (id, level);
  size_t cap = p2v_codec_bound (id, n);
  uint8_t *enc = malloc (cap), *out = malloc (n);
  long z = p2v_compress (c, src, n, enc, cap);
  CHECK (z >= 0);
  if (expect_stored)
    CHECK (z == 0);                 /* did not pay: stored raw */
  else {
    CHECK (z > 0 && (size_t) z < n);
    CHECK (p2v_decompress (c, id, enc, z, out, n) == 0);
    CHECK (memcmp (out, src, n) == 0);
    /* A decoder asked for fewer bytes than the data holds must refuse,
     * not overrun: that is what stops a decompression bomb.
     */
    CHECK (p2v_decompress (c, id, enc, z, out, n / 2) == -1);
    /* Truncated input is corrupt. */
    CHECK (p2v_decompress (c, id, enc, z / 2, out, n) == -1);
    /* A flipped byte is caught (by the codec or its length check). */
    enc[z / 2] ^= 0x55;
    int r = p2v_decompress (c, id, enc, z, out, n);
    CHECK (r == -1 || memcmp (out, src, n) != 0);
    /* The context is reusable after an error. */
    enc[z / 2] ^= 0x55;
    CHECK (p2v_decompress (c, id, enc, z, out, n) == 0 && memcmp (out, src, n) == 0);
  }
  p2v_coder_free (c);
  free (enc);
  free (out);
}

int
main (void)
{
  size_t n = 1 << 20;
  uint8_t *text = malloc (n), *noise = malloc (n), *zero = calloc (1, n), *out = malloc (n);
  static const char words[] = "root:x:0:0:root:/root:/bin/bash\n/dev/cciss/c0d0p1 /boot ext3 ";
  for (size_t i = 0; i < n; i++)
    text[i] = words[i % (sizeof words - 1)];
  srand (42);
  for (size_t i = 0; i < n; i++)
    noise[i] = (uint8_t) (rand () >> 7);

  CHECK (p2v_codec_from_name ("zlib") == P2V_CODEC_ZLIB);
  CHECK (p2v_codec_from_name ("none") == P2V_CODEC_STORED);
  CHECK (p2v_codec_from_name ("zero") == -1);      /* not selectable */
  CHECK (p2v_codec_from_name ("gzip") == -1);

  int ids[] = { P2V_CODEC_ZLIB, P2V_CODEC_ZSTD, P2V_CODEC_LZ4 };
  for (size_t i = 0; i < 3; i++) {
    if (!p2v_codec_available (ids[i]))
      continue;
    int min, def, max;
    p2v_codec_levels (ids[i], &min, &def, &max);
    round_trip (ids[i], def, text, n, 0);
    round_trip (ids[i], max, text, n, 0);
    round_trip (ids[i], def, noise, n, 1);
  }

  /* The zlib codec's chunks are the zlib format whatever library made
   * them (libdeflate where built with it): zlib itself decodes ours, and
   * we decode zlib's, so either end may be built without libdeflate.
   */
  for (int level = 1; level <= 9; level += 8) {
    struct p2v_coder *zc = p2v_coder_new (P2V_CODEC_ZLIB, level);
    size_t cap = p2v_codec_bound (P2V_CODEC_ZLIB, n);
    uint8_t *enc = malloc (cap);
    long z = p2v_compress (zc, text, n, enc, cap);
    uLongf got = n;
    CHECK (z > 0 && uncompress (out, &got, enc, (uLong) z) == Z_OK
           && got == n && memcmp (out, text, n) == 0);
    uLongf zn = compressBound (n);
    uint8_t *theirs = malloc (zn);
    CHECK (compress2 (theirs, &zn, text, n, level) == Z_OK);
    memset (out, 0, n);
    CHECK (p2v_decompress (zc, P2V_CODEC_ZLIB, theirs, zn, out, n) == 0
           && memcmp (out, text, n) == 0);
    /* Trailing bytes after the stream are corrupt, as zlib says. */
    theirs[zn] = 0;
    CHECK (p2v_decompress (zc, P2V_CODEC_ZLIB, theirs, zn + 1, out, n) == -1);
    free (theirs);
    free (enc);
    p2v_coder_free (zc);
  }

  /* Stored and zero chunks through the same decoder entry point. */
  struct p2v_coder *c = p2v_coder_new (P2V_CODEC_STORED, 0);
  CHECK (p2v_compress (c, text, n, out, n) == 0);
  CHECK (p2v_decompress (c, P2V_CODEC_STORED, noise, n, out, n) == 0
         && memcmp (out, noise, n) == 0);
  CHECK (p2v_decompress (c, P2V_CODEC_STORED, noise, n - 1, out, n) == -1);
  memset (out, 0xff, n);
  CHECK (p2v_decompress (c, P2V_CODEC_ZERO, NULL, 0, out, n) == 0
         && memcmp (out, zero, n) == 0);
  CHECK (p2v_decompress (c, P2V_CODEC_ZERO, noise, 1, out, n) == -1);
  CHECK (p2v_decompress (c, 77, noise, 10, out, n) == -1);
  p2v_coder_free (c);

  CHECK (p2v_is_zero (zero, n));
  CHECK (p2v_is_zero (zero, 0));
  CHECK (p2v_is_zero (zero, 7));
  zero[n - 1] = 1;
  CHECK (!p2v_is_zero (zero, n));
  zero[n - 1] = 0;
  zero[3] = 1;
  CHECK (!p2v_is_zero (zero, n));
  CHECK (!p2v_is_zero (zero, 5));
  zero[3] = 0;
  zero[17] = 1;
  CHECK (!p2v_is_zero (zero, n));

  free (text);
  free (noise);
  free (zero);
  free (out);
  /* The chunk CRC is zlib's value whichever library computes it, at
   * every length and alignment (libdeflate's fast path has both).
   */
  {
    size_t len = (1 << 20) + 77;
    unsigned char *b = malloc (len);
    for (size_t i = 0; i < len; i++)
      b[i] = (unsigned char) (i * 2654435761u >> 13);
    size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 4095, 65536, len - 5 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
      for (size_t off = 0; off < 5; off++)
        CHECK (p2v_crc32 (b + off, lens[k]) == (uint32_t) crc32_z (0, b + off, lens[k]));
    CHECK (p2v_crc32 ("123456789", 9) == 0xcbf43926u);      /* the CRC-32 check value */
    free (b);
  }
  return TEST_DONE ();
}
