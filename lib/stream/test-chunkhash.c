#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "stream/chunkhash.h"
#include "stream/digest.h"
#include "common/test.h"

static void
hex (const uint8_t *h, char *out)
{
  p2v_hex (h, P2V_CHUNK_HASH_LEN, out);
}

int
main (void)
{
  uint8_t h[P2V_CHUNK_HASH_LEN];
  char x[2 * P2V_CHUNK_HASH_LEN + 1];

  /* Known answers (FIPS 180-2 and sha256sum of empty input). */
  p2v_sha256 ("abc", 3, h);
  hex (h, x);
  CHECK_STR (x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  p2v_sha256 ("", 0, h);
  hex (h, x);
  CHECK_STR (x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  /* The precomputed zero hashes are the real SHA-256 of that many zeros,
   * for a full chunk and a short last one (not a multiple of the
   * internal 64 KiB block either).
   */
  enum { CS = 1 << 20, LAST = 100001 };
  uint8_t *buf = calloc (1, CS);
  struct p2v_zero_hashes z;
  p2v_zero_hashes_init (&z, CS, LAST, P2V_DIGEST_SHA256);
  p2v_sha256 (buf, CS, h);
  CHECK (memcmp (h, z.full, sizeof h) == 0);
  p2v_sha256 (buf, LAST, h);
  CHECK (memcmp (h, z.last, sizeof h) == 0);
  CHECK (memcmp (z.full, z.last, sizeof h) != 0);
  CHECK (p2v_zero_hash (&z, CS) == z.full && p2v_zero_hash (&z, LAST) == z.last);
  CHECK (p2v_zero_hash (&z, 4096) == NULL);

  /* p2v_chunk_hash takes the shortcut for zeros and hashes the rest:
   * either way the answer is SHA-256 of the bytes.
   */
  p2v_chunk_hash (&z, buf, CS, h);
  CHECK (memcmp (h, z.full, sizeof h) == 0);
  uint8_t want[P2V_CHUNK_HASH_LEN];
  p2v_chunk_hash (&z, buf, 4096, h);                   /* zeros, another length */
  p2v_sha256 (buf, 4096, want);
  CHECK (memcmp (h, want, sizeof h) == 0);
  buf[CS - 1] = 1;                                     /* one byte at the very end */
  p2v_chunk_hash (&z, buf, CS, h);
  CHECK (memcmp (h, z.full, sizeof h) != 0);
  p2v_sha256 (buf, CS, want);
  CHECK (memcmp (h, want, sizeof h) == 0);

  /* A full chunk of zeros and a last chunk of zeros of the same length
   * share a hash: the geometry where the size is a multiple of it.
   */
  struct p2v_zero_hashes z2;
  p2v_zero_hashes_init (&z2, 65536, 65536, P2V_DIGEST_MD5);
  CHECK (memcmp (z2.full, z2.last, sizeof h) == 0);

  /* With blkhash-sha256 the chunk hash is SHA-256 of the block digests:
   * zeros, a short last chunk, and data with a zero block inside it.
   */
  struct p2v_zero_hashes zb;
  p2v_zero_hashes_init (&zb, CS, LAST, P2V_DIGEST_BLKHASH_SHA256);
  CHECK (p2v_chunk_hash_from_blocks (P2V_DIGEST_BLKHASH_SHA256)
         && !p2v_chunk_hash_from_blocks (P2V_DIGEST_BLKHASH_MD5)
         && !p2v_chunk_hash_from_blocks (P2V_DIGEST_SHA256));
  memset (buf, 0, CS);
  uint8_t blocks[P2V_BLOCK_DIGESTS_MAX];
  for (size_t n = 0; n < CS / 65536; n++)
    p2v_sha256 (buf, 65536, blocks + 32 * n);
  p2v_sha256 (blocks, 32 * (CS / 65536), want);
  CHECK (memcmp (zb.full, want, sizeof h) == 0);
  CHECK (memcmp (zb.full, z.full, sizeof h) != 0);
  p2v_sha256 (buf, LAST % 65536, blocks + 32 * (LAST / 65536));
  p2v_sha256 (blocks, 32 * (LAST / 65536 + 1), want);
  CHECK (memcmp (zb.last, want, sizeof h) == 0);
  for (size_t i = 0; i < CS / 2; i++)
    buf[i] = (uint8_t) (i * 7 + 1);
  for (size_t n = 0; n < CS / 65536; n++)
    p2v_sha256 (buf + 65536 * n, 65536, blocks + 32 * n);
  p2v_sha256 (blocks, 32 * (CS / 65536), want);
  p2v_chunk_hash (&zb, buf, CS, h);
  CHECK (memcmp (h, want, sizeof h) == 0);
  p2v_chunk_hash_of_blocks (&zb, blocks, CS, h);
  CHECK (memcmp (h, want, sizeof h) == 0);
  free (buf);
  return TEST_DONE ();
}
