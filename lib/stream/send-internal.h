/* What send.c and send-delta.c share of one disk's sending: the
 * sender's state and the helpers both halves call.  Internal to
 * lib/stream; the programs use stream.h.
 */
#ifndef P2V_SEND_INTERNAL_H
#define P2V_SEND_INTERNAL_H

#include "disk/fsfree.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "disk/dev.h"
#include "disk/salvage.h"
#include "stream/adapt.h"
#include "stream/chunkhash.h"
#include "stream/crypto.h"
#include "stream/delta.h"
#include "stream/digest.h"
#include "stream/pace.h"
#include "stream/progress.h"
#include "stream/ring.h"
#include "stream/stream.h"
#include "stream/wire.h"

/* Internal marker in a slot's codec, never on the wire: the receiver
 * holds this chunk already, send SAME.
 */
#define CODEC_SAME 0xff

struct sender {
  const struct p2v_send_opts *o;
  struct p2v_dev src;
  /* The digest thread's view of src for a resume's prefix: the reader
   * owns src's hole cache.
   */
  struct p2v_dev prefix_src;
  struct p2v_fsfree fsfree;     /* --skip-free: src.free points into it */
  struct p2v_keys keys;
  char fingerprint[2 * 32 + 1];
  struct p2v_chan ch;
  bool is_socket;
  char peer[300];
  struct p2v_ring *ring;
  uint64_t nchunks;
  uint64_t start_seq;           /* first chunk to send (resume) */
  bool accepted_once;           /* a receiver accepted us: drops are worth retrying */
  struct p2v_badmap bad;        /* --ignore-read-errors: the reader's finds */
  struct p2v_badmap bad_prefix; /* ... and the digest thread's, when resuming */
  uint32_t zero_crc_full, zero_crc_last;
  uint8_t *zeros;               /* chunk_size of zeros, read-only: a hole's bytes */
  bool blocks;                  /* blkhash: workers hash each chunk's blocks */
  struct p2v_digest *digest;
  struct p2v_progress *progress;
  /* --compress=auto: the writer decides, the workers read the level and
   * count what they used.  The level carries over to a retry (the link
   * is the same); the counts, like the other figures, start again.
   */
  struct p2v_adapt adapt;       /* writer thread only */
  _Atomic int level;
  _Atomic uint64_t level_chunks[P2V_ADAPT_MAX + 1];
  _Atomic uint64_t compress_ns; /* workers' time in the compressor */
  uint64_t compress_ns_seen;    /* writer: compress_ns at the window's start */
  /* Delta: the receiver's hashes (the hash thread adds, workers read,
   * the writer settles), what the workers hashed, what the writer sent.
   */
  struct p2v_delta *delta;
  struct p2v_zero_hashes zh;
  bool hashes_done;             /* under lock: the hash thread no longer reads */
  _Atomic uint64_t hashed;      /* bytes hashed by the workers */
  _Atomic uint64_t hash_end_ns; /* when the last chunk was hashed, ns after t0 */
  double t0;
  uint64_t same_chunks, changed_chunks, changed_bytes;  /* writer thread only */
  bool digest_done;             /* under lock, with digest_cond */
  pthread_cond_t digest_cond;
  pthread_mutex_t lock;
  int status;                   /* first failure's exit status */
  /* Under lock: why this attempt's link is no good when it was not
   * simply lost (a record that failed authentication, either way, or
   * an unsealed one where only sealed ones count).  Such a link is a
   * dropped one: the retry loop says why and reconnects; corrupted (for
   * the whole run) makes spent retries end as a protocol error.
   */
  char drop_why[1400];
  bool corrupted;
};

/* send.c */
void send_fail (struct sender *s, int status);
/* The receiver said why it stopped: its status beats our "lost link". */
void send_fail_peer (struct sender *s, int status);
void send_fail_corrupt (struct sender *s, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
void send_fail_unauthentic (struct sender *s, const char *during);
int send_peer_verdict (struct sender *s, uint8_t type, const uint8_t *buf, size_t len,
                       struct p2v_result *res);

/* send-delta.c: the sender's half of a delta */
int send_same (struct sender *s, const struct p2v_slot *slot);
void send_delta_line (struct sender *s, bool last);
void send_delta_summary (struct sender *s);
void send_delta_progress (struct sender *s, uint64_t seq);
void *send_hash_thread (void *arg);

#endif
