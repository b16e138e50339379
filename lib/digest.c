#include <config.h>

#include <string.h>

#include <openssl/evp.h>

#include "chunkhash.h"
#include "digest.h"
#include "util.h"

struct p2v_digest {
  EVP_MD_CTX *ctx;
};

static const struct {
  int id;
  const char *name;
  size_t size;
} algos[] = {
  { P2V_DIGEST_MD5, "md5", 16 },
  { P2V_DIGEST_SHA1, "sha1", 20 },
  { P2V_DIGEST_SHA256, "sha256", 32 },
  { P2V_DIGEST_SHA512, "sha512", 64 },
  { P2V_DIGEST_SHA256_TREE, "sha256-tree", 32 },
};

int
p2v_digest_id_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
    if (strcmp (name, algos[i].name) == 0)
      return algos[i].id;
  return -1;
}

const char *
p2v_digest_name (int id)
{
  for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
    if (algos[i].id == id)
      return algos[i].name;
  return NULL;
}

size_t
p2v_digest_size (int id)
{
  for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
    if (algos[i].id == id)
      return algos[i].size;
  return 0;
}

struct p2v_digest *
p2v_digest_new (int id)
{
  const char *name = p2v_digest_name (id);
  /* A tree's outer hash is a plain SHA-256 over the chunks' hashes. */
  const EVP_MD *md = p2v_digest_is_tree (id) ? EVP_sha256 ()
    : name ? EVP_get_digestbyname (name) : NULL;
  if (!md) {
    p2v_error ("digest algorithm %d is not available in OpenSSL", id);
    return NULL;
  }
  struct p2v_digest *d = xmalloc (sizeof *d);
  d->ctx = EVP_MD_CTX_new ();
  if (!d->ctx || EVP_DigestInit_ex (d->ctx, md, NULL) != 1) {
    p2v_error ("cannot initialise the %s digest", name);
    EVP_MD_CTX_free (d->ctx);
    free (d);
    return NULL;
  }
  return d;
}

void
p2v_digest_update (struct p2v_digest *d, const void *buf, size_t n)
{
  /* EVP_DigestUpdate only fails on a broken context, which
   * p2v_digest_new already ruled out.
   */
  EVP_DigestUpdate (d->ctx, buf, n);
}

void
p2v_digest_update_chunk (struct p2v_digest *d, bool tree, const struct p2v_zero_hashes *zh,
                         const void *buf, size_t n)
{
  if (!tree) {
    p2v_digest_update (d, buf, n);
    return;
  }
  uint8_t leaf[P2V_CHUNK_HASH_LEN];
  p2v_chunk_hash (zh, buf, n, leaf);
  p2v_digest_update (d, leaf, sizeof leaf);
}

void
p2v_digest_final (struct p2v_digest *d, uint8_t out[P2V_DIGEST_MAX])
{
  unsigned len = 0;
  EVP_DigestFinal_ex (d->ctx, out, &len);
}

void
p2v_digest_free (struct p2v_digest *d)
{
  if (d) {
    EVP_MD_CTX_free (d->ctx);
    free (d);
  }
}

void
p2v_hex (const uint8_t *bytes, size_t n, char *hex)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 15];
  }
  hex[2 * n] = '\0';
}
