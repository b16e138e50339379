/* Whole-image digests through OpenSSL EVP: the same algorithms and the
 * same hex text as md5sum/sha1sum/sha256sum/sha512sum, so an admin can
 * check a copy with the tools already on the LiveCD.
 */
#ifndef P2V_DIGEST_H
#define P2V_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P2V_DIGEST_MAX 64           /* bytes: SHA-512 */
#define P2V_DIGEST_HEX_MAX (2 * P2V_DIGEST_MAX + 1)

/* Wire ids: stable numbers carried in the stream header. */
enum p2v_digest_id {
  P2V_DIGEST_MD5 = 1,
  P2V_DIGEST_SHA1 = 2,
  P2V_DIGEST_SHA256 = 3,
  P2V_DIGEST_SHA512 = 4,
  /* SHA-256 over the SHA-256 of each chunk, in order (p2vstream(5)):
   * the chunks hash in parallel on the workers and a zero chunk's hash
   * is a constant, so the whole-image check costs no thread of its own
   * and nothing for unused space.  The same value as
   *   split -b CHUNK --filter=sha256sum DISK | cut -c1-64 \
   *     | tr a-f A-F | basenc --base16 -d | sha256sum
   */
  P2V_DIGEST_SHA256_TREE = 5,
};

struct p2v_digest;

/* "md5", "sha1", "sha256", "sha512", "sha256-tree" → id, or -1. */
int p2v_digest_id_from_name (const char *name);
/* id → name, or NULL for an unknown id. */
const char *p2v_digest_name (int id);
/* id → digest length in bytes, or 0 for an unknown id. */
size_t p2v_digest_size (int id);

/* A tree digest is fed the 32-byte SHA-256 of each chunk, in order,
 * not the chunk's bytes.
 */
static inline int p2v_digest_is_tree (int id) { return id == P2V_DIGEST_SHA256_TREE; }

struct p2v_digest *p2v_digest_new (int id);
void p2v_digest_update (struct p2v_digest *d, const void *buf, size_t n);
/* A chunk's share of the digest: its bytes, or with a tree digest its
 * chunk hash (zh: the zero hashes for this geometry).
 */
struct p2v_zero_hashes;
void p2v_digest_update_chunk (struct p2v_digest *d, bool tree, const struct p2v_zero_hashes *zh,
                              const void *buf, size_t n);
/* Finish: writes the raw digest (p2v_digest_size bytes) to out. */
void p2v_digest_final (struct p2v_digest *d, uint8_t out[P2V_DIGEST_MAX]);
void p2v_digest_free (struct p2v_digest *d);

/* Lower-case hex of n bytes, NUL terminated. */
void p2v_hex (const uint8_t *bytes, size_t n, char *hex);

#endif
