/* Chunk codecs.  Every chunk is compressed on its own, so any worker can
 * take any chunk and a corrupt chunk never spoils its neighbours.  Each
 * worker owns one p2v_coder: compression contexts are reused from chunk
 * to chunk instead of being allocated per chunk.
 */
#ifndef P2V_CODEC_H
#define P2V_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire ids: stable numbers carried in every chunk frame. */
enum p2v_codec_id {
  P2V_CODEC_STORED = 0,   /* raw bytes: compression did not pay */
  P2V_CODEC_ZERO = 1,     /* all zero: no payload at all */
  P2V_CODEC_ZLIB = 2,
  P2V_CODEC_ZSTD = 3,
  P2V_CODEC_LZ4 = 4,
};

/* (config.h, included first by every .c file, says HAVE_ZSTD.)
 * zstd at level 1 compresses several times faster than zlib for a
 * similar ratio on disk data; zlib stays for builds without libzstd.
 */
#ifdef HAVE_ZSTD
#define P2V_CODEC_DEFAULT P2V_CODEC_ZSTD
#else
#define P2V_CODEC_DEFAULT P2V_CODEC_ZLIB
#endif

/* "none", "zlib", "zstd", "lz4" → id, or -1 (also when not built in). */
int p2v_codec_from_name (const char *name);
const char *p2v_codec_name (int id);
/* Whether this build can decode id. */
bool p2v_codec_available (int id);
/* Default and allowed levels for a codec; min == max == 0 means none. */
void p2v_codec_levels (int id, int *min, int *def, int *max);
/* Worst-case compressed size of n bytes, for sizing output buffers. */
size_t p2v_codec_bound (int id, size_t n);

struct p2v_coder;
struct p2v_coder *p2v_coder_new (int id, int level);
void p2v_coder_free (struct p2v_coder *c);
/* Compress the next chunks at another level (--compress=auto). */
void p2v_coder_set_level (struct p2v_coder *c, int level);

/* Compress n bytes into dst (capacity p2v_codec_bound).  Returns the
 * compressed length, or 0 when the result would not be smaller than
 * the input (the caller then stores the chunk raw), or -1 on error.
 */
long p2v_compress (struct p2v_coder *c, const void *src, size_t n,
                   void *dst, size_t cap);

/* Decompress exactly raw_len bytes from src into dst.  Returns 0, or
 * -1 if the data is corrupt or decodes to any other length: a
 * decompression bomb stops at raw_len.
 */
int p2v_decompress (struct p2v_coder *c, int id, const void *src, size_t n,
                    void *dst, size_t raw_len);

/* The stream's per-chunk CRC-32 (zlib's crc32: the gzip polynomial).
 * Through libdeflate where built with it: the same value, several times
 * faster (carry-less multiplication), and every non-zero chunk is
 * checksummed once on each end.
 */
uint32_t p2v_crc32 (const void *buf, size_t n);

/* True when the n bytes are all zero; runs at memcmp speed. */
bool p2v_is_zero (const void *buf, size_t n);

#endif
