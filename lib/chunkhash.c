#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "chunkhash.h"
#include "codec.h"
#include "util.h"

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

void
p2v_zero_hashes_init (struct p2v_zero_hashes *z, uint32_t chunk_size, uint32_t last_len)
{
  z->full_len = chunk_size;
  z->last_len = last_len;
  hash_zeros (chunk_size, z->full);
  if (last_len == chunk_size)
    memcpy (z->last, z->full, sizeof z->last);
  else
    hash_zeros (last_len, z->last);
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
  else
    p2v_sha256 (buf, n, out);
}
