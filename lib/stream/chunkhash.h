/* Per-chunk hashes for delta transfers (p2vsend --delta): both ends
 * hash each chunk of their disk on its own, the receiver announces its
 * hashes, and the sender sends only the chunks whose hashes differ.
 *
 * SHA-256, not the CRC-32 the stream carries per chunk: here a match
 * means "not sent at all", so a collision would leave a wrong chunk on
 * the target until the whole-image digest caught it at END.  With
 * SHA-256 an accidental collision is out of reach, and a forced one
 * needs a second preimage.
 *
 * With a blkhash digest on SHA-256 or SHA-512 (the default), the chunk's
 * hash is instead the SHA-256 of its block digests, which the whole-
 * image digest needs anyway: each chunk is hashed once per end, and a
 * collision still needs one in SHA-256 or in the block hash.  Both ends
 * know the digest from the SOURCE header, so they agree on which.
 *
 * All-zero chunks are common (unused space) and are recognised at
 * memcmp speed: their hash is computed once per session, not per chunk.
 * Stateless and thread-safe: every worker hashes with its own call.
 */
#ifndef P2V_CHUNKHASH_H
#define P2V_CHUNKHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/format.h"

/* The hashes of a full chunk and of the (possibly shorter) last chunk
 * of zeros, for one source geometry.
 */
struct p2v_zero_hashes {
  uint32_t full_len, last_len;
  int blocks_id;                /* 0, or the blkhash whose block digests are hashed */
  uint8_t full[P2V_CHUNK_HASH_LEN], last[P2V_CHUNK_HASH_LEN];
};

/* SHA-256 of n bytes. */
void p2v_sha256 (const void *buf, size_t n, uint8_t out[P2V_CHUNK_HASH_LEN]);

/* Does the chunk hash come from the block digests of digest_id? */
bool p2v_chunk_hash_from_blocks (int digest_id);

/* Precompute both zero hashes for chunks of chunk_size whose last
 * chunk is last_len long (1 .. chunk_size), in a session whose
 * whole-image digest is digest_id.
 */
void p2v_zero_hashes_init (struct p2v_zero_hashes *z, uint32_t chunk_size, uint32_t last_len,
                           int digest_id);

/* The hash of n zero bytes when n is one of the two lengths, else NULL. */
const uint8_t *p2v_zero_hash (const struct p2v_zero_hashes *z, size_t n);

/* The chunk hash of buf: the precomputed one when it is all zeros. */
void p2v_chunk_hash (const struct p2v_zero_hashes *z, const void *buf, size_t n,
                     uint8_t out[P2V_CHUNK_HASH_LEN]);
/* The chunk hash of n bytes from their block digests (from_blocks). */
void p2v_chunk_hash_of_blocks (const struct p2v_zero_hashes *z, const uint8_t *blocks, size_t n,
                               uint8_t out[P2V_CHUNK_HASH_LEN]);

#endif
