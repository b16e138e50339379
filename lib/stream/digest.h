/* Whole-image digests through OpenSSL EVP, for all four programs.
 *
 * Two kinds:
 *
 * - plain: md5, sha1, sha256, sha512 of the whole byte stream, the same
 *   hex text md5sum/sha1sum/sha256sum/sha512sum print.  Sequential by
 *   nature: one core, about 2 GB/s for SHA-256 here, zeros included.
 *
 * - blkhash (the default, blkhash-sha256): the construction of the
 *   nirs/blkhash project, which `blksum`, `nbdcopy --blkhash` and
 *   virt-v2v's checksums print.  For a message of length L cut into
 *   blocks of B = 64 KiB (the last one may be short):
 *
 *     blkhash = H( H(block 0) || ... || H(block n-1) || le64(L) )
 *
 *   The block digests are independent, so they are computed on every
 *   core (p2v_digest_blocks, called by the pipelines' workers), and an
 *   all-zero block's digest is a constant, so unused space costs a
 *   memcmp.  Only the 16..64 bytes per block are folded in order.
 *
 * A context is fed either bytes (p2v_digest_update: any kind, any
 * lengths) or, for blkhash, whole runs of blocks already hashed
 * (p2v_digest_add_blocks) and zeros (p2v_digest_add_zeros); those two
 * need the position to be on a block boundary, as every chunk is.
 */
#ifndef P2V_DIGEST_H
#define P2V_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P2V_DIGEST_MAX 64           /* bytes: SHA-512 */
#define P2V_DIGEST_HEX_MAX (2 * P2V_DIGEST_MAX + 1)

/* blkhash's block: fixed by the construction, not a tuning knob. */
#define P2V_BLKHASH_BLOCK (64u * 1024)

/* Wire ids: stable numbers carried in the stream header. */
enum p2v_digest_id {
  P2V_DIGEST_MD5 = 1,
  P2V_DIGEST_SHA1 = 2,
  P2V_DIGEST_SHA256 = 3,
  P2V_DIGEST_SHA512 = 4,
  /* 5 was sha256-tree (4 MiB leaves, checkable by nothing else): retired,
   * refused on the wire; the name is an alias of blkhash-sha256.
   */
  P2V_DIGEST_BLKHASH_MD5 = 6,
  P2V_DIGEST_BLKHASH_SHA1 = 7,
  P2V_DIGEST_BLKHASH_SHA256 = 8,
  P2V_DIGEST_BLKHASH_SHA512 = 9,
};

#define P2V_DIGEST_DEFAULT P2V_DIGEST_BLKHASH_SHA256

struct p2v_digest;

/* "md5", "sha1", "sha256", "sha512", "blkhash-md5" .. "blkhash-sha512",
 * "blkhash" (= blkhash-sha256) → id, or -1.  "sha256-tree" is accepted
 * as blkhash-sha256 with *obsolete set (may be NULL).
 */
int p2v_digest_id_from_name (const char *name, bool *obsolete);
/* id → name, or NULL for an unknown id. */
const char *p2v_digest_name (int id);
/* id → digest length in bytes, or 0 for an unknown id. */
size_t p2v_digest_size (int id);
/* Is id a blkhash (block digests, fed by p2v_digest_add_blocks)? */
bool p2v_digest_is_blocks (int id);
/* The names p2v_digest_id_from_name takes, for usage messages. */
#define P2V_DIGEST_NAMES \
  "blkhash-sha256 (default), blkhash-md5, blkhash-sha1, blkhash-sha512, md5, sha1, sha256, sha512"

/* Block digests of n bytes that start on a block boundary:
 * p2v_digest_nblocks (n) digests of p2v_digest_size (id) bytes each,
 * into out.  Zero blocks cost a memcmp.  Thread-safe.
 */
void p2v_digest_blocks (int id, const void *buf, size_t n, uint8_t *out);
static inline size_t p2v_digest_nblocks (uint64_t n)
{
  return (size_t) ((n + P2V_BLKHASH_BLOCK - 1) / P2V_BLKHASH_BLOCK);
}
/* Room for the block digests of the largest chunk. */
#define P2V_BLOCK_DIGESTS_MAX ((16u * 1024 * 1024 / P2V_BLKHASH_BLOCK) * P2V_DIGEST_MAX)

struct p2v_digest *p2v_digest_new (int id);
int p2v_digest_id (const struct p2v_digest *d);
/* Bytes, in order. */
void p2v_digest_update (struct p2v_digest *d, const void *buf, size_t n);
/* n bytes of the message whose block digests (p2v_digest_blocks) are
 * in blocks.  blkhash only, on a block boundary.
 */
void p2v_digest_add_blocks (struct p2v_digest *d, const uint8_t *blocks, size_t n);
/* n zero bytes: for blkhash without hashing them (on a block boundary),
 * for a plain digest the zeros are hashed.
 */
void p2v_digest_add_zeros (struct p2v_digest *d, uint64_t n);
/* One chunk of a pipeline, in order: n zeros, or the chunk's block
 * digests when blocks is not NULL (blkhash), else its bytes raw.
 */
void p2v_digest_add_chunk (struct p2v_digest *d, bool zero, const uint8_t *blocks,
                           const void *raw, size_t n);
/* Bytes fed so far. */
uint64_t p2v_digest_length (const struct p2v_digest *d);
/* Finish: writes the raw digest (p2v_digest_size bytes) to out. */
void p2v_digest_final (struct p2v_digest *d, uint8_t out[P2V_DIGEST_MAX]);
void p2v_digest_free (struct p2v_digest *d);

/* The algorithm's tag in a digest file, as `sha256sum --tag` writes it:
 * "SHA256", "BLKHASH-SHA256".
 */
void p2v_digest_tag (int id, char *tag, size_t n);

/* Lower-case hex of n bytes, NUL terminated. */
void p2v_hex (const uint8_t *bytes, size_t n, char *hex);

#endif
