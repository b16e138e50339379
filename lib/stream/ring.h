/* The buffer pool both pipelines share: a fixed ring of chunk slots.
 * Chunk number seq always lives in slot seq % n, so the one producer
 * (which fills slots in order) blocks when the slot it needs is still
 * held downstream: that is the backpressure that bounds memory to
 * n slots whatever the disk size.
 *
 * A slot's life: FREE → (producer) FILLED → (a worker) WORKING → DONE
 * → FREE once every in-order consumer holding a reference released it.
 * A producer may publish a slot straight as DONE when it needs no
 * worker (a zero chunk).  One mutex, but a condition variable per kind
 * of waiter: zero chunks go by at thousands a second, and waking every
 * idle worker for each of them cost more CPU than hashing them (on two
 * cores, -j2 took 0.55-0.71 s of system time for 2 GiB of zeros where
 * -j1 took 0.17).
 */
#ifndef P2V_RING_H
#define P2V_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/digest.h"
#include "stream/format.h"

enum p2v_slot_state { P2V_SLOT_FREE, P2V_SLOT_FILLED, P2V_SLOT_WORKING, P2V_SLOT_DONE };

struct p2v_slot {
  uint64_t seq;
  int state;
  int refs;
  struct p2v_chunk_hdr hdr;     /* offset, raw_len, codec, crc */
  uint8_t *raw;                 /* chunk_size bytes: the disk's data */
  uint8_t *enc;                 /* encoded payload */
  size_t enc_cap, enc_len;
  /* blkhash: the block digests of raw, computed by a worker; none when
   * zero is set (all zeros: the digest's share is a constant).
   */
  uint8_t blocks[P2V_BLOCK_DIGESTS_MAX];
  bool zero;
};

struct p2v_ring {
  pthread_mutex_t lock;
  pthread_cond_t space;         /* the producer: a slot became FREE */
  pthread_cond_t work;          /* workers: a slot became FILLED */
  pthread_cond_t ready;         /* in-order consumers: a slot moved on */
  struct p2v_slot *slots;
  size_t n;
  uint64_t produced;            /* next seq to publish: everything below is out */
  uint64_t next_work;           /* next seq a worker may take */
  bool finished;                /* producer published its last slot */
  bool aborted;                 /* someone failed: everyone stops */
};

struct p2v_ring *p2v_ring_new (size_t nslots, size_t raw_cap, size_t enc_cap);
/* A resumed transfer's first chunk number; before anything is published. */
void p2v_ring_start_at (struct p2v_ring *r, uint64_t first_seq);
void p2v_ring_free (struct p2v_ring *r);

/* Producer: wait until the slot for seq is free, or NULL if aborted. */
struct p2v_slot *p2v_ring_acquire (struct p2v_ring *r, uint64_t seq);
/* Producer: hand the slot on to refs in-order consumers; with
 * needs_work a worker processes it first.
 */
void p2v_ring_publish (struct p2v_ring *r, struct p2v_slot *s, int refs, bool needs_work);
/* Producer: no more slots will come. */
void p2v_ring_finish (struct p2v_ring *r);

/* Worker: the next FILLED slot (lowest seq first), or NULL when the
 * producer finished and all work is taken, or on abort.
 */
struct p2v_slot *p2v_ring_take_work (struct p2v_ring *r);
void p2v_ring_work_done (struct p2v_ring *r, struct p2v_slot *s);

/* In-order consumer: wait until chunk seq reached min_state (FILLED or
 * DONE).  NULL at the end of the stream or on abort.
 */
struct p2v_slot *p2v_ring_wait (struct p2v_ring *r, uint64_t seq, int min_state);
/* The same, giving up after seconds (> 0): NULL with *timed_out set, so
 * a consumer can do something useful (a keep-alive) and wait again.
 */
struct p2v_slot *p2v_ring_wait_for (struct p2v_ring *r, uint64_t seq, int min_state,
                                    double seconds, bool *timed_out);
void p2v_ring_release (struct p2v_ring *r, struct p2v_slot *s);

void p2v_ring_abort (struct p2v_ring *r);
bool p2v_ring_aborted (struct p2v_ring *r);

#endif
