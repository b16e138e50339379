#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stream/codec.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "common/util.h"

_Static_assert (P2V_CHUNK_MAX / P2V_BLKHASH_BLOCK * P2V_DIGEST_MAX == P2V_BLOCK_DIGESTS_MAX,
                "P2V_BLOCK_DIGESTS_MAX must cover the largest chunk");
_Static_assert (P2V_CHUNK_MIN % P2V_BLKHASH_BLOCK == 0,
                "every chunk must start on a blkhash block boundary");

static const struct algo {
  int id;
  const char *name;
  const char *evp;              /* OpenSSL's name of H */
  size_t size;
  bool blocks;
} algos[] = {
  { P2V_DIGEST_MD5, "md5", "MD5", 16, false },
  { P2V_DIGEST_SHA1, "sha1", "SHA1", 20, false },
  { P2V_DIGEST_SHA256, "sha256", "SHA256", 32, false },
  { P2V_DIGEST_SHA512, "sha512", "SHA512", 64, false },
  { P2V_DIGEST_BLKHASH_MD5, "blkhash-md5", "MD5", 16, true },
  { P2V_DIGEST_BLKHASH_SHA1, "blkhash-sha1", "SHA1", 20, true },
  { P2V_DIGEST_BLKHASH_SHA256, "blkhash-sha256", "SHA256", 32, true },
  { P2V_DIGEST_BLKHASH_SHA512, "blkhash-sha512", "SHA512", 64, true },
};
#define NALGOS (sizeof algos / sizeof algos[0])

static const struct algo *
algo (int id)
{
  for (size_t i = 0; i < NALGOS; i++)
    if (algos[i].id == id)
      return &algos[i];
  return NULL;
}

/* Fetched once: EVP_sha256 () and friends make every init look the
 * algorithm up again under a lock, which the workers would contend
 * for 64 times per chunk.  Also the digest of one all-zero block.
 */
static EVP_MD *mds[NALGOS];
static uint8_t zero_block[NALGOS][P2V_DIGEST_MAX];
/* ZERO_RUN copies of it, so a run of zeros is folded with one update
 * per ZERO_RUN blocks: a 64 GiB empty disk is a million blocks.
 */
#define ZERO_RUN 256
static uint8_t *zero_run[NALGOS];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void
fetch_all (void)
{
  static const uint8_t zeros[P2V_BLKHASH_BLOCK];
  for (size_t i = 0; i < NALGOS; i++) {
    mds[i] = EVP_MD_fetch (NULL, algos[i].evp, NULL);
    if (mds[i] && EVP_Digest (zeros, sizeof zeros, zero_block[i], NULL, mds[i], NULL) != 1) {
      EVP_MD_free (mds[i]);
      mds[i] = NULL;
    }
    if (algos[i].blocks) {
      zero_run[i] = xmalloc (ZERO_RUN * algos[i].size);
      for (size_t k = 0; k < ZERO_RUN; k++)
        memcpy (zero_run[i] + k * algos[i].size, zero_block[i], algos[i].size);
    }
  }
}

static const EVP_MD *
md_of (const struct algo *a)
{
  pthread_once (&fetch_once, fetch_all);
  return mds[a - algos];
}

/* EVP fails on a working context only when it cannot allocate: end as
 * xmalloc does, rather than go on with a digest never computed.
 */
static void
evp_failed (const struct algo *a)
{
  p2v_error ("cannot compute %s: out of memory", a->name);
  exit (P2V_EXIT_IO);
}

int
p2v_digest_id_from_name (const char *name, bool *obsolete)
{
  if (obsolete)
    *obsolete = false;
  if (strcmp (name, "blkhash") == 0)
    return P2V_DIGEST_BLKHASH_SHA256;
  if (strcmp (name, "sha256-tree") == 0) {
    if (obsolete)
      *obsolete = true;
    return P2V_DIGEST_BLKHASH_SHA256;
  }
  for (size_t i = 0; i < NALGOS; i++)
    if (strcmp (name, algos[i].name) == 0)
      return algos[i].id;
  return -1;
}

const char *
p2v_digest_name (int id)
{
  const struct algo *a = algo (id);
  return a ? a->name : NULL;
}

size_t
p2v_digest_size (int id)
{
  const struct algo *a = algo (id);
  return a ? a->size : 0;
}

bool
p2v_digest_is_blocks (int id)
{
  const struct algo *a = algo (id);
  return a && a->blocks;
}

/* H of n bytes with a context of the caller's. */
static void
hash_with (EVP_MD_CTX *ctx, const struct algo *a, const void *buf, size_t n, uint8_t *out)
{
  if (EVP_DigestInit_ex (ctx, md_of (a), NULL) != 1 || EVP_DigestUpdate (ctx, buf, n) != 1
      || EVP_DigestFinal_ex (ctx, out, NULL) != 1)
    evp_failed (a);
}

void
p2v_digest_blocks (int id, const void *buf, size_t n, uint8_t *out)
{
  const struct algo *a = algo (id);
  const uint8_t *p = buf;
  EVP_MD_CTX *ctx = NULL;
  for (size_t off = 0; off < n; off += P2V_BLKHASH_BLOCK, out += a->size) {
    size_t len = n - off < P2V_BLKHASH_BLOCK ? n - off : P2V_BLKHASH_BLOCK;
    if (len == P2V_BLKHASH_BLOCK && p2v_is_zero (p + off, len)) {
      md_of (a);
      memcpy (out, zero_block[a - algos], a->size);
      continue;
    }
    if (!ctx && !(ctx = EVP_MD_CTX_new ()))
      evp_failed (a);
    hash_with (ctx, a, p + off, len, out);
  }
  EVP_MD_CTX_free (ctx);
}

struct p2v_digest {
  const struct algo *a;
  EVP_MD_CTX *ctx;              /* plain: the digest; blkhash: the outer hash */
  uint64_t length;              /* bytes fed */
  /* blkhash fed bytes: the block being filled, hashed when full. */
  uint8_t *part;
  size_t part_len;
  bool ended;                   /* blkhash: a short block was added, the last */
};

struct p2v_digest *
p2v_digest_new (int id)
{
  const struct algo *a = algo (id);
  const EVP_MD *md = a ? md_of (a) : NULL;
  if (!md) {
    p2v_error ("digest algorithm %d is not available in OpenSSL", id);
    return NULL;
  }
  struct p2v_digest *d = xcalloc (1, sizeof *d);
  d->a = a;
  d->ctx = EVP_MD_CTX_new ();
  if (!d->ctx || EVP_DigestInit_ex (d->ctx, md, NULL) != 1) {
    p2v_error ("cannot initialise the %s digest", a->name);
    EVP_MD_CTX_free (d->ctx);
    free (d);
    return NULL;
  }
  return d;
}

int
p2v_digest_id (const struct p2v_digest *d)
{
  return d->a->id;
}

static void
outer (struct p2v_digest *d, const void *buf, size_t n)
{
  /* EVP_DigestUpdate only fails on a broken context, which
   * p2v_digest_new already ruled out.
   */
  EVP_DigestUpdate (d->ctx, buf, n);
}

/* A caller's bug, never input: stop before a wrong digest is shown. */
static void
misuse (const struct p2v_digest *d, const char *what)
{
  p2v_error ("internal error: %s on a %s digest off a block boundary", what, d->a->name);
  abort ();
}

void
p2v_digest_update (struct p2v_digest *d, const void *buf, size_t n)
{
  if (d->ended && n)
    misuse (d, "p2v_digest_update");
  d->length += n;
  if (!d->a->blocks) {
    outer (d, buf, n);
    return;
  }
  const uint8_t *p = buf;
  uint8_t md[P2V_DIGEST_MAX];
  while (n > 0) {
    /* Whole blocks straight from the caller's buffer. */
    if (d->part_len == 0 && n >= P2V_BLKHASH_BLOCK) {
      uint8_t batch[64 * P2V_DIGEST_MAX];
      size_t whole = n - n % P2V_BLKHASH_BLOCK;
      if (whole > 64 * P2V_BLKHASH_BLOCK)
        whole = 64 * P2V_BLKHASH_BLOCK;
      p2v_digest_blocks (d->a->id, p, whole, batch);
      outer (d, batch, whole / P2V_BLKHASH_BLOCK * d->a->size);
      p += whole;
      n -= whole;
      continue;
    }
    if (!d->part)
      d->part = xmalloc (P2V_BLKHASH_BLOCK);
    size_t take = P2V_BLKHASH_BLOCK - d->part_len < n ? P2V_BLKHASH_BLOCK - d->part_len : n;
    memcpy (d->part + d->part_len, p, take);
    d->part_len += take;
    p += take;
    n -= take;
    if (d->part_len == P2V_BLKHASH_BLOCK) {
      p2v_digest_blocks (d->a->id, d->part, P2V_BLKHASH_BLOCK, md);
      outer (d, md, d->a->size);
      d->part_len = 0;
    }
  }
}

static void
need_boundary (const struct p2v_digest *d, const char *what)
{
  if (!d->a->blocks || d->part_len != 0 || d->ended)
    misuse (d, what);
}

void
p2v_digest_add_blocks (struct p2v_digest *d, const uint8_t *blocks, size_t n)
{
  need_boundary (d, "p2v_digest_add_blocks");
  outer (d, blocks, p2v_digest_nblocks (n) * d->a->size);
  d->length += n;
  /* Only the message's last block may be short: nothing may follow. */
  d->ended = n % P2V_BLKHASH_BLOCK != 0;
}

void
p2v_digest_add_chunk (struct p2v_digest *d, bool zero, const uint8_t *blocks,
                      const void *raw, size_t n)
{
  if (zero)
    p2v_digest_add_zeros (d, n);
  else if (blocks)
    p2v_digest_add_blocks (d, blocks, n);
  else
    p2v_digest_update (d, raw, n);
}

void
p2v_digest_add_zeros (struct p2v_digest *d, uint64_t n)
{
  static const uint8_t zeros[P2V_BLKHASH_BLOCK];
  if (!d->a->blocks) {
    for (uint64_t left = n; left > 0; left -= left < sizeof zeros ? left : sizeof zeros)
      outer (d, zeros, left < sizeof zeros ? left : sizeof zeros);
    d->length += n;
    return;
  }
  need_boundary (d, "p2v_digest_add_zeros");
  const uint8_t *z = zero_run[d->a - algos];
  for (uint64_t left = n / P2V_BLKHASH_BLOCK; left > 0; ) {
    uint64_t k = left < ZERO_RUN ? left : ZERO_RUN;
    outer (d, z, k * d->a->size);
    left -= k;
  }
  d->length += n - n % P2V_BLKHASH_BLOCK;
  if (n % P2V_BLKHASH_BLOCK)
    p2v_digest_update (d, zeros, n % P2V_BLKHASH_BLOCK);
}

uint64_t
p2v_digest_length (const struct p2v_digest *d)
{
  return d->length;
}

void
p2v_digest_final (struct p2v_digest *d, uint8_t out[P2V_DIGEST_MAX])
{
  if (d->a->blocks) {
    uint8_t md[P2V_DIGEST_MAX];
    if (d->part_len) {
      p2v_digest_blocks (d->a->id, d->part, d->part_len, md);
      outer (d, md, d->a->size);
    }
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
      le[i] = (uint8_t) (d->length >> (8 * i));
    outer (d, le, sizeof le);
  }
  EVP_DigestFinal_ex (d->ctx, out, NULL);
}

void
p2v_digest_free (struct p2v_digest *d)
{
  if (d) {
    EVP_MD_CTX_free (d->ctx);
    free (d->part);
    free (d);
  }
}

void
p2v_digest_tag (int id, char *tag, size_t n)
{
  const char *name = p2v_digest_name (id);
  size_t i = 0;
  for (; name && name[i] && i + 1 < n; i++)
    tag[i] = (char) (name[i] >= 'a' && name[i] <= 'z' ? name[i] - 'a' + 'A' : name[i]);
  if (n)
    tag[i] = '\0';
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
