/* One disk's receiving pipeline (recv.c), as the part that listens
 * and routes connections to targets (recv-serve.c) drives it.  Internal
 * to p2vrecv: the programs use stream.h.
 */
#ifndef P2V_RECV_DISK_H
#define P2V_RECV_DISK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/chunkhash.h"
#include "stream/crypto.h"
#include "stream/delta.h"
#include "disk/dev.h"
#include "stream/format.h"
#include "stream/resume.h"
#include "stream/source-desc.h"
#include "stream/stream.h"
#include "stream/wire.h"

struct receiver {
  const struct p2v_recv_opts *o;
  struct p2v_chan ch;
  struct p2v_keys keys;
  char key[P2V_KEY_TEXT_LEN];
  bool is_socket;
  char *state_path;             /* NULL on a pipe: nothing to resume */
  struct p2v_resume_state state;
  uint64_t start;               /* resume offset of this session */
  bool had_state;               /* an earlier session wrote to the target */
  char peer[300];
  struct p2v_source_hdr sh;
  struct p2v_source_desc desc;
  struct p2v_dev dst;
  bool dst_open;
  struct p2v_ring *ring;
  uint64_t nchunks;
  uint8_t *zeros;               /* chunk_size of zeros, read-only */
  uint32_t zero_crc_full, zero_crc_last;
  struct p2v_digest *digest;
  struct p2v_progress *progress;
  uint64_t written;             /* writer thread: bytes on the target */
  uint64_t asked;               /* writer thread: offset of the last checkpoint asked for */
  bool unsynced;                /* writer thread: written to since then */
  /* The checkpointer thread makes offsets durable while the writer goes
   * on (recv.c checkpointer): ck_want is what the writer asked for,
   * checkpoint what is durable and recorded.  Under ck_lock, as are
   * state.durable and io_failed while the pipeline runs.
   */
  pthread_mutex_t ck_lock;
  pthread_cond_t ck_cond;
  /* Held from "no I/O error yet" to the state saved, and by io_fail:
   * no state is recorded once an error was reported.
   */
  pthread_mutex_t save_lock;
  uint64_t ck_want;
  uint64_t checkpoint;
  bool ck_stop;
  bool io_failed;               /* a write or sync of the target failed: no checkpoint
                                 * ever again in this process (see recv.c io_fail) */
  bool taken_over;              /* main thread: a reconnection replaces this session */
  bool cut;                     /* reader: the stream stopped early ... */
  int cut_errno;                /* ... with this errno (0: clean EOF) ... */
  uint64_t cut_at;              /* ... at this offset */
  /* The session ended on a record that failed authentication or its
   * unauthenticated framing: a dropped link (status NET, the sender
   * reconnects), but a protocol error once the retries are spent.
   */
  bool corrupt;
  /* Delta (SOURCE says so): the target's hashes are read and hashed
   * into hring by the hashing threads and announced from the window dw,
   * which the reader consults for every SAME and CHUNK.
   */
  bool delta;
  bool blocks;                  /* blkhash: workers hash each chunk's blocks */
  struct p2v_delta *dw;
  struct p2v_ring *hring;
  struct p2v_zero_hashes zh;
  /* The block digests of the chunks in the window (chunk k at k % W),
   * when the chunk hashes are made of them: a SAME chunk's share of the
   * digest without reading it back.
   */
  uint8_t *dblocks;
  size_t dstride;               /* bytes per chunk in dblocks */
  uint64_t same_chunks, changed_chunks;  /* reader thread */
  double hash_secs;             /* announcer: when the last hash went out */
  pthread_mutex_t lock;
  int status;
  char reason[512];             /* first failure, for the RESULT record */
  int session_status;           /* what session() returned (server thread) */
};

void p2v_receiver_init (struct receiver *r, const struct p2v_recv_opts *o);
void p2v_receiver_free (struct receiver *r);

/* The sealed SOURCE record into r->sh and r->desc.  0, or an exit
 * status (printed).
 */
int p2v_recv_read_source (struct receiver *r);
/* Tell the sender no (REFUSE with status and why), print why; returns
 * status.
 */
int p2v_recv_refuse (struct receiver *r, int status, const char *why);
/* Everything after SOURCE on r->ch: accept or refuse, receive, verify,
 * reply.  Releases the session's resources (not the resume state).
 * Returns the disk's exit status.
 */
int p2v_recv_session (struct receiver *r);

/* Between recv.c and recv-delta.c, the receiver's delta half. */
/* A failure: the first one's status and message win; the pipeline stops. */
void recv_fail (struct receiver *r, int status, const char *fmt, ...)
  __attribute__((format (printf, 3, 4)));
/* A record that failed authentication, or whose frame makes no sense. */
void recv_fail_corrupt (struct receiver *r, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
/* A record out of place at expect, rest bytes of it unread. */
void recv_reject_record (struct receiver *r, uint64_t expect, size_t rest, const char *fmt, ...)
  __attribute__((format (printf, 4, 5)));
/* The stream stopped early at this offset. */
void recv_truncated (struct receiver *r, uint64_t at);
/* Internal marker in a slot's codec, never on the wire: the target
 * holds this chunk already (SAME).
 */
#define CODEC_SAME 0xff
/* Hashing the target and receiving are separate costs in a delta:
 * with plain progress, a line at the bar's pace says how far each got.
 */
#define DELTA_LINE_SECONDS 5.0
void recv_delta_setup (struct receiver *r);
int recv_delta_target_check (struct receiver *r);
void recv_delta_line (struct receiver *r, uint64_t same, uint64_t changed, bool last);
int recv_read_same (struct receiver *r, const struct p2v_record_hdr *h, uint64_t expect,
                    uint64_t seq);
void *recv_target_reader_thread (void *arg);
void *recv_hash_worker_thread (void *arg);
void *recv_announcer_thread (void *arg);

#endif
