#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stream/chunkhash.h"
#include "stream/codec.h"
#include "stream/digest.h"
#include "common/util.h"

/* EVP fails only when it cannot allocate a context: end as xmalloc
 * does, rather than compare chunks against a hash never computed.
 */
static void
evp_failed (void)
{
  p2v_error ("cannot compute SHA-256: out of memory");
  exit (P2V_EXIT_IO);
}

void
p2v_sha256 (const void *buf, size_t n, uint8_t out[P2V_CHUNK_HASH_LEN])
{
  unsigned len = P2V_CHUNK_HASH_LEN;
  /* One-shot: a context per call costs nothing next to 64 KiB or more
   * of hashing, and keeps every caller free of shared state.
   */
  if (EVP_Digest (buf, n, out, &len, EVP_sha256 (), NULL) != 1)
    evp_failed ();
}

/* Hash n zero bytes without a chunk-sized buffer of zeros. */
static void
hash_zeros (size_t n, uint8_t out[P2V_CHUNK_HASH_LEN])
{
  static const uint8_t zeros[64 * 1024];
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned len = P2V_CHUNK_HASH_LEN;
  if (!ctx || EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) != 1)
    evp_failed ();
  for (; n > 0; n -= n < sizeof zeros ? n : sizeof zeros)
    EVP_DigestUpdate (ctx, zeros, n < sizeof zeros ? n : sizeof zeros);
  EVP_DigestFinal_ex (ctx, out, &len);
  EVP_MD_CTX_free (ctx);
}

bool
p2v_chunk_hash_from_blocks (int digest_id)
{
  return digest_id == P2V_DIGEST_BLKHASH_SHA256 || digest_id == P2V_DIGEST_BLKHASH_SHA512;
}

/* The hash of n zeros by the rule of z. */
static void
zero_hash (const struct p2v_zero_hashes *z, size_t n, uint8_t out[P2V_CHUNK_HASH_LEN])
{
  if (!z->blocks_id) {
    hash_zeros (n, out);
    return;
  }
  static const uint8_t zeros[P2V_BLKHASH_BLOCK];
  size_t ds = p2v_digest_size (z->blocks_id), nb = p2v_digest_nblocks (n);
  uint8_t *blocks = xmalloc (nb * ds);
  for (size_t i = 0; i < nb; i++) {
    size_t len = i + 1 < nb || n % P2V_BLKHASH_BLOCK == 0 ? P2V_BLKHASH_BLOCK : n % P2V_BLKHASH_BLOCK;
    p2v_digest_blocks (z->blocks_id, zeros, len, blocks + i * ds);
  }
  p2v_sha256 (blocks, nb * ds, out);
  free (blocks);
}

void
p2v_zero_hashes_init (struct p2v_zero_hashes *z, uint32_t chunk_size, uint32_t last_len,
                      int digest_id)
{
  z->full_len = chunk_size;
  z->last_len = last_len;
  z->blocks_id = p2v_chunk_hash_from_blocks (digest_id) ? digest_id : 0;
  zero_hash (z, chunk_size, z->full);
  if (last_len == chunk_size)
    memcpy (z->last, z->full, sizeof z->last);
  else
    zero_hash (z, last_len, z->last);
}

const uint8_t *
p2v_zero_hash (const struct p2v_zero_hashes *z, size_t n)
{
  return n == z->full_len ? z->full : n == z->last_len ? z->last : NULL;
}

void
p2v_chunk_hash (const struct p2v_zero_hashes *z, const void *buf, size_t n,
                uint8_t out[P2V_CHUNK_HASH_LEN])
{
  const uint8_t *zh = p2v_zero_hash (z, n);
  if (zh && p2v_is_zero (buf, n))
    memcpy (out, zh, P2V_CHUNK_HASH_LEN);
  else if (z->blocks_id) {
    uint8_t blocks[P2V_BLOCK_DIGESTS_MAX];
    p2v_digest_blocks (z->blocks_id, buf, n, blocks);
    p2v_chunk_hash_of_blocks (z, blocks, n, out);
  }
  else
    p2v_sha256 (buf, n, out);
}

void
p2v_chunk_hash_of_blocks (const struct p2v_zero_hashes *z, const uint8_t *blocks, size_t n,
                          uint8_t out[P2V_CHUNK_HASH_LEN])
{
  p2v_sha256 (blocks, p2v_digest_nblocks (n) * p2v_digest_size (z->blocks_id), out);
}
