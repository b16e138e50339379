#include <config.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif

#include "stream/codec.h"
#include "common/util.h"

struct p2v_coder {
  int id;
  int level;
  z_stream zc;          /* deflate state, reset per chunk */
  bool zc_ready;
  z_stream zd;          /* inflate state, reset per chunk */
  bool zd_ready;
#ifdef HAVE_LIBDEFLATE
  /* The zlib codec's chunks are whole buffers, where libdeflate is about
   * twice zlib's speed both ways for the same zlib format on the wire
   * (lib/test-codec checks that each decodes the other's).
   */
  struct libdeflate_compressor *ldc;
  struct libdeflate_decompressor *ldd;
#endif
#ifdef HAVE_ZSTD
  ZSTD_CCtx *zstd_c;
  ZSTD_DCtx *zstd_d;
#endif
};

static const struct {
  int id;
  const char *name;
  int min, def, max;
} codecs[] = {
  { P2V_CODEC_STORED, "none", 0, 0, 0 },
  { P2V_CODEC_ZERO, "zero", 0, 0, 0 },
  { P2V_CODEC_ZLIB, "zlib", 1, 1, 9 },
  { P2V_CODEC_ZSTD, "zstd", 1, 1, 19 },
  { P2V_CODEC_LZ4, "lz4", 1, 1, 1 },
};

bool
p2v_codec_available (int id)
{
  switch (id) {
  case P2V_CODEC_STORED: case P2V_CODEC_ZERO: case P2V_CODEC_ZLIB:
    return true;
#ifdef HAVE_ZSTD
  case P2V_CODEC_ZSTD: return true;
#endif
#ifdef HAVE_LZ4
  case P2V_CODEC_LZ4: return true;
#endif
  default: return false;
  }
}

int
p2v_codec_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].id != P2V_CODEC_ZERO && strcmp (name, codecs[i].name) == 0)
      return p2v_codec_available (codecs[i].id) ? codecs[i].id : -1;
  return -1;
}

const char *
p2v_codec_name (int id)
{
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].id == id)
      return codecs[i].name;
  return "unknown";
}

void
p2v_codec_levels (int id, int *min, int *def, int *max)
{
  *min = *def = *max = 0;
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].id == id) {
      *min = codecs[i].min;
      *def = codecs[i].def;
      *max = codecs[i].max;
    }
}

size_t
p2v_codec_bound (int id, size_t n)
{
  switch (id) {
#ifdef HAVE_LIBDEFLATE
  case P2V_CODEC_ZLIB: {
    size_t a = compressBound (n), b = libdeflate_zlib_compress_bound (NULL, n);
    return a > b ? a : b;
  }
#else
  case P2V_CODEC_ZLIB: return compressBound (n);
#endif
#ifdef HAVE_ZSTD
  case P2V_CODEC_ZSTD: return ZSTD_compressBound (n);
#endif
#ifdef HAVE_LZ4
  case P2V_CODEC_LZ4: return LZ4_compressBound (n);
#endif
  default: return n;
  }
}

struct p2v_coder *
p2v_coder_new (int id, int level)
{
  struct p2v_coder *c = xcalloc (1, sizeof *c);
  c->id = id;
  c->level = level;
  return c;
}

void
p2v_coder_free (struct p2v_coder *c)
{
  if (!c)
    return;
  if (c->zc_ready)
    deflateEnd (&c->zc);
  if (c->zd_ready)
    inflateEnd (&c->zd);
#ifdef HAVE_LIBDEFLATE
  libdeflate_free_compressor (c->ldc);
  libdeflate_free_decompressor (c->ldd);
#endif
#ifdef HAVE_ZSTD
  ZSTD_freeCCtx (c->zstd_c);
  ZSTD_freeDCtx (c->zstd_d);
#endif
  free (c);
}

static long
zlib_compress (struct p2v_coder *c, const void *src, size_t n,
               void *dst, size_t cap)
{
#ifdef HAVE_LIBDEFLATE
  if (!c->ldc && !(c->ldc = libdeflate_alloc_compressor (c->level)))
    return -1;
  /* 0: it did not fit in cap, so it would not have paid either. */
  return (long) libdeflate_zlib_compress (c->ldc, src, n, dst, cap);
#else
  if (!c->zc_ready) {
    if (deflateInit (&c->zc, c->level) != Z_OK)
      return -1;
    c->zc_ready = true;
  }
  else if (deflateReset (&c->zc) != Z_OK)
    return -1;
  c->zc.next_in = (Bytef *) src;
  c->zc.avail_in = n;
  c->zc.next_out = dst;
  c->zc.avail_out = cap;
  if (deflate (&c->zc, Z_FINISH) != Z_STREAM_END)
    return -1;
  return (long) c->zc.total_out;
#endif
}

static int
zlib_decompress (struct p2v_coder *c, const void *src, size_t n,
                 void *dst, size_t raw_len)
{
#ifdef HAVE_LIBDEFLATE
  size_t used, out;
  if (!c->ldd && !(c->ldd = libdeflate_alloc_decompressor ()))
    return -1;
  /* The same rule as below: exactly raw_len out, all the input used. */
  if (libdeflate_zlib_decompress_ex (c->ldd, src, n, dst, raw_len, &used, &out)
      != LIBDEFLATE_SUCCESS || out != raw_len || used != n)
    return -1;
  return 0;
#else
  if (!c->zd_ready) {
    if (inflateInit (&c->zd) != Z_OK)
      return -1;
    c->zd_ready = true;
  }
  else if (inflateReset (&c->zd) != Z_OK)
    return -1;
  c->zd.next_in = (Bytef *) src;
  c->zd.avail_in = n;
  c->zd.next_out = dst;
  c->zd.avail_out = raw_len;
  int r = inflate (&c->zd, Z_FINISH);
  /* The output must end exactly at raw_len and use all the input. */
  if (r != Z_STREAM_END || c->zd.total_out != raw_len || c->zd.avail_in != 0)
    return -1;
  return 0;
#endif
}

void
p2v_coder_set_level (struct p2v_coder *c, int level)
{
  /* zlib's deflate state is set up for one level and reused: a change
   * needs a deflateParams we do not use, and auto only drives zstd.
   */
  if (c->id == P2V_CODEC_ZSTD)
    c->level = level;
}

long
p2v_compress (struct p2v_coder *c, const void *src, size_t n,
              void *dst, size_t cap)
{
  long r;
  switch (c->id) {
  case P2V_CODEC_ZLIB:
    r = zlib_compress (c, src, n, dst, cap);
    break;
#ifdef HAVE_ZSTD
  case P2V_CODEC_ZSTD: {
    if (!c->zstd_c && !(c->zstd_c = ZSTD_createCCtx ()))
      return -1;
    size_t z = ZSTD_compressCCtx (c->zstd_c, dst, cap, src, n, c->level);
    if (ZSTD_isError (z))
      return -1;
    r = (long) z;
    break;
  }
#endif
#ifdef HAVE_LZ4
  case P2V_CODEC_LZ4: {
    if (n > INT_MAX || cap > INT_MAX)
      return -1;
    int z = LZ4_compress_default (src, dst, (int) n, (int) cap);
    if (z <= 0)
      return -1;
    r = z;
    break;
  }
#endif
  default:
    return 0;
  }
  if (r < 0 || (size_t) r >= n)
    return r < 0 ? -1 : 0;
  return r;
}

int
p2v_decompress (struct p2v_coder *c, int id, const void *src, size_t n,
                void *dst, size_t raw_len)
{
  switch (id) {
  case P2V_CODEC_STORED:
    if (n != raw_len)
      return -1;
    memcpy (dst, src, n);
    return 0;
  case P2V_CODEC_ZERO:
    if (n != 0)
      return -1;
    memset (dst, 0, raw_len);
    return 0;
  case P2V_CODEC_ZLIB:
    return zlib_decompress (c, src, n, dst, raw_len);
#ifdef HAVE_ZSTD
  case P2V_CODEC_ZSTD: {
    if (!c->zstd_d && !(c->zstd_d = ZSTD_createDCtx ()))
      return -1;
    size_t z = ZSTD_decompressDCtx (c->zstd_d, dst, raw_len, src, n);
    return !ZSTD_isError (z) && z == raw_len ? 0 : -1;
  }
#endif
#ifdef HAVE_LZ4
  case P2V_CODEC_LZ4: {
    if (n > INT_MAX || raw_len > INT_MAX)
      return -1;
    int z = LZ4_decompress_safe (src, dst, (int) n, (int) raw_len);
    return z >= 0 && (size_t) z == raw_len ? 0 : -1;
  }
#endif
  default:
    return -1;
  }
}

uint32_t
p2v_crc32 (const void *buf, size_t n)
{
#ifdef HAVE_LIBDEFLATE
  return libdeflate_crc32 (0, buf, n);
#else
  return (uint32_t) crc32_z (0, buf, n);
#endif
}

bool
p2v_is_zero (const void *buf, size_t n)
{
  const unsigned char *p = buf;
  /* Check a short head by hand, then compare the buffer with itself
   * shifted: memcmp is vectorised, a byte loop is not.
   */
  size_t head = n < 16 ? n : 16;
  for (size_t i = 0; i < head; i++)
    if (p[i])
      return false;
  return n <= 16 || memcmp (p, p + 16, n - 16) == 0;
}
