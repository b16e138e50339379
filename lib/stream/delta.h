/* The bookkeeping of a delta transfer (p2vsend --delta): a window of
 * the receiver's announced chunk hashes, shared by the threads of one
 * end.
 *
 *   receiver                                   sender
 *   hashes its target ── HASHES(k..) ──►       hashes its source, compares
 *                      ◄── SAME k / CHUNK k ──  in order
 *
 * The receiver announces chunk k only once it has settled (received a
 * verdict for) chunk k - W, W = p2v_delta_window (chunk size); so each
 * end holds at most W hashes, its read-ahead of the target is bounded
 * (256 MiB of disk), and a sender can tell a receiver that runs further
 * ahead than the format allows.  Both ends compute W the same way: it
 * is part of the format (p2vstream(5)).
 *
 * One lock and one condition; hashes are added and settled in chunk
 * order, a few thousand times a second at most.  abort wakes every
 * waiter, as p2v_ring_abort does.
 */
#ifndef P2V_DELTA_H
#define P2V_DELTA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/format.h"

/* How much of the disk the receiver may hash ahead of the verdicts. */
#define P2V_DELTA_AHEAD_BYTES (256u << 20)

struct p2v_delta {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint32_t window;
  uint8_t *hash;            /* window hashes: chunk k at k % window */
  uint64_t nchunks;
  uint64_t known;           /* hashes were added for chunks [0, known) */
  uint64_t settled;         /* chunks [0, settled) are decided: their hashes may go */
  bool aborted;
};

/* W for a chunk size: 256 MiB of disk, at least 16 chunks. */
uint32_t p2v_delta_window (uint32_t chunk_size);

struct p2v_delta *p2v_delta_new (uint64_t nchunks, uint32_t chunk_size);
void p2v_delta_free (struct p2v_delta *d);
void p2v_delta_abort (struct p2v_delta *d);

/* May the hash of chunk k be added now (k < settled + W)?  The blocking
 * form waits for it: 0, or -1 when aborted.
 */
bool p2v_delta_room (struct p2v_delta *d, uint64_t k);
int p2v_delta_wait_room (struct p2v_delta *d, uint64_t k);

/* Add the hashes of chunks [first, first + count), next in order and
 * inside the window.  Never blocks.  NULL, or why not (nothing added).
 */
const char *p2v_delta_add (struct p2v_delta *d, uint64_t first, uint32_t count,
                           const uint8_t *hashes);

/* Sender: wait for the hash of chunk k (k >= settled).  0 with out, or
 * -1 when aborted.
 */
int p2v_delta_get (struct p2v_delta *d, uint64_t k, uint8_t out[P2V_CHUNK_HASH_LEN]);

/* Receiver: was chunk k's hash announced?  And may the sender call
 * chunk k unchanged with this hash: NULL, or why not.
 */
bool p2v_delta_announced (struct p2v_delta *d, uint64_t k);
const char *p2v_delta_check_same (struct p2v_delta *d, uint64_t k,
                                  const uint8_t hash[P2V_CHUNK_HASH_LEN]);

/* Hashes added so far (chunks [0, known)): for progress. */
uint64_t p2v_delta_known (struct p2v_delta *d);

/* Chunk k is decided (in order): its hash is no longer needed, and the
 * window moves on.
 */
void p2v_delta_settle (struct p2v_delta *d, uint64_t k);

#endif
