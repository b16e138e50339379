/* p2vrecv's pipeline: the mirror of send.c (read its design comment).
 *
 *   socket ──► reader ──► ring ──► workers (-j N) ──► writer ──► target
 *              checks      │      decompress +        in order,
 *              framing     │      verify CRC          positioned writes
 *                          └─────────────────────────► digest thread
 *
 * The reader (the main thread) validates every frame before it takes a
 * slot: chunks must arrive in order, contiguous, each exactly the
 * length the header implies, so nothing can be written outside the
 * target's range and no frame can make us buffer more than one chunk.
 * Workers decode into the slot's raw buffer (a decoder never writes
 * past the chunk's declared length) and check the chunk's CRC, so a
 * corrupt chunk is named by its offset.  The writer writes in order;
 * the digest thread hashes what is written, in order.  At END the
 * target is given its size and fsynced before the digests are compared
 * and the verdict is sent back.
 *
 * Nothing is opened before the handshake proved the sender holds the
 * key (handshake.h), and a chunk is published only after its record's
 * AEAD tag verified: a tampered record is never written.  Every
 * checkpoint (256 MiB, when anything was written since the last: zeros
 * left as holes cost nothing to send again) the writer asks the
 * checkpointer thread to fdatasync the target and then record the
 * durable offset in the resume state (resume.h), and goes on writing
 * meanwhile: a sync takes a tenth of a second and more, which in the
 * writer's path stalled the ring and so the link; a later
 * session for the same disk starts there, and the digest thread re-reads
 * the target's prefix so the final digest covers the whole disk.
 *
 * Delta (the SOURCE flag; see delta.h): the target already holds an
 * earlier copy.  Three more threads hash it ahead of the stream:
 *
 *   target ──► hash reader ──► hring ──► hash workers ──► announcer ──► HASHES
 *              at most W chunks ahead of the verdicts (the window)
 *
 * and the sender answers each chunk in order with SAME or CHUNK.  A
 * SAME is accepted only for the very next chunk and only with the hash
 * we announced for it; a worker then reads the chunk back from the
 * target for the digest thread (it was read moments ago, so from the
 * page cache), and the writer leaves it alone.  The digest still covers
 * every byte of the target up to the source's size, kept or written.
 * No resume state: an interrupted delta is cheaply run again.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <zlib.h>

#include "stream/codec.h"
#include "disk/dev.h"
#include "stream/digest.h"
#include "stream/sum.h"
#include "stream/format.h"
#include "common/humanize.h"
#include "common/json.h"
#include "common/manifest.h"
#include "stream/net.h"
#include "stream/progress.h"
#include "stream/recv-disk.h"
#include "stream/handshake.h"
#include "stream/resume.h"
#include "stream/ring.h"
#include "stream/source-desc.h"
#include "stream/stream.h"
#include "common/util.h"
#include "stream/wire.h"

#define CHECKPOINT_BYTES (256ull << 20)

void
recv_fail (struct receiver *r, int status, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&r->lock);
  /* A failing target outranks a dropped link: it is what the admin must
   * fix first, and a reconnection would only write to it again.
   */
  bool first = r->status == P2V_EXIT_OK || (status == P2V_EXIT_IO && r->status == P2V_EXIT_NET);
  if (first) {
    r->status = status;
    snprintf (r->reason, sizeof r->reason, "%s", msg);
  }
  pthread_mutex_unlock (&r->lock);
  if (first)
    p2v_error ("%s", msg);
  if (r->ring)
    p2v_ring_abort (r->ring);
  if (r->hring)
    p2v_ring_abort (r->hring);
  if (r->dw)
    p2v_delta_abort (r->dw);
}

/* A record that failed authentication, or whose unauthenticated frame
 * makes no sense, after the handshake: on a pipe the end, as any
 * malformed stream; on a socket a link that corrupts, dropped like a
 * lost one (the sender reconnects, and resumes from what is durable).
 */
void
recv_fail_corrupt (struct receiver *r, const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (!r->is_socket) {
    recv_fail (r, P2V_EXIT_PROTOCOL, "%s", msg);
    return;
  }
  pthread_mutex_lock (&r->lock);
  bool first = r->status == P2V_EXIT_OK;
  if (first) {
    r->status = P2V_EXIT_NET;
    r->corrupt = true;
    snprintf (r->reason, sizeof r->reason, "%s", msg);
  }
  pthread_mutex_unlock (&r->lock);
  if (first)
    p2v_warning ("%s; dropping the connection", msg);
  recv_fail (r, P2V_EXIT_NET, "%s", msg);
}

/* A record the reader cannot use, judged only once its tag is checked:
 * rest more bytes of it (payload not yet read) are read and
 * authenticated.  An authentic one is the sender's own doing, a
 * malformed stream (fmt says why); one that fails, damage on the way,
 * reported as a cut (report_cut).  Either way the caller stops.
 */
void
recv_reject_record (struct receiver *r, uint64_t expect, size_t rest, const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (p2v_chan_skip (&r->ch, rest) == -1 || p2v_chan_recv_end (&r->ch) == -1) {
    recv_truncated (r, expect);
    return;
  }
  recv_fail (r, P2V_EXIT_PROTOCOL, "%s", msg);
}

/* The source's own words (its host name, its path), for a terminal:
 * they come from the network.
 */
static const char *
peer_text (const char *text, char *buf, size_t n)
{
  return text ? p2v_escape (text, strlen (text), buf, n) : "?";
}

static void *
worker_thread (void *arg)
{
  struct receiver *r = arg;
  struct p2v_coder *c = p2v_coder_new (P2V_CODEC_STORED, 0);
  struct p2v_slot *slot;
  while ((slot = p2v_ring_take_work (r->ring)) != NULL) {
    struct p2v_chunk_hdr *h = &slot->hdr;
    if (h->codec == CODEC_SAME) {
      /* The digest needs the bytes we keep: read them back (unless the
       * announcer kept their block digests: then this is not called).
       */
      if (p2v_dev_pread (&r->dst, slot->raw, h->raw_len, h->offset) == -1) {
        recv_fail (r, P2V_EXIT_IO, "cannot read back %s at offset %llu",
              r->dst.path, (unsigned long long) h->offset);
        break;
      }
      if (r->blocks)
        p2v_digest_blocks (r->sh.digest_id, slot->raw, h->raw_len, slot->blocks);
      p2v_ring_work_done (r->ring, slot);
      continue;
    }
    /* Stored chunks were read straight into raw. */
    if (h->codec != P2V_CODEC_STORED
        && p2v_decompress (c, h->codec, slot->enc, slot->enc_len, slot->raw, h->raw_len) == -1) {
      recv_fail (r, P2V_EXIT_PROTOCOL, "corrupt %s chunk at offset %llu: it does not "
            "decode to %u bytes; nothing of it was written",
            p2v_codec_name (h->codec), (unsigned long long) h->offset, h->raw_len);
      break;
    }
    uint32_t crc = p2v_crc32 (slot->raw, h->raw_len);
    if (crc != h->crc) {
      recv_fail (r, P2V_EXIT_PROTOCOL, "chunk at offset %llu (%u bytes) fails its "
            "checksum (crc32 %08x, expected %08x); nothing of it was written",
            (unsigned long long) h->offset, h->raw_len, crc, h->crc);
      break;
    }
    /* blkhash: this chunk's share of the digest, in parallel. */
    if (r->blocks)
      p2v_digest_blocks (r->sh.digest_id, slot->raw, h->raw_len, slot->blocks);
    p2v_ring_work_done (r->ring, slot);
  }
  p2v_coder_free (c);
  return NULL;
}

/* A write or sync of the target failed.  Whatever was written since
 * the last checkpoint may be lost, and nothing can tell any more: Linux
 * reports a writeback error to fdatasync once, so the next one succeeds
 * although the data never reached the disk.  Hence no checkpoint again
 * in this process, and the state keeps the last offset that was
 * durable, which the message names for the rerun.
 */
static void
io_fail (struct receiver *r, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));

static void
io_fail (struct receiver *r, const char *fmt, ...)
{
  char msg[400], d[P2V_HUMAN_LEN];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&r->save_lock);
  pthread_mutex_lock (&r->ck_lock);
  r->io_failed = true;
  uint64_t durable = r->state.durable;
  pthread_mutex_unlock (&r->ck_lock);
  pthread_mutex_unlock (&r->save_lock);
  if (r->state_path && !r->delta)
    recv_fail (r, P2V_EXIT_IO, "%s; %s is durable only up to offset %llu (%s), where a rerun "
          "resumes", msg, r->o->target, (unsigned long long) durable,
          p2v_human_size (durable, d));
  else
    recv_fail (r, P2V_EXIT_IO, "%s", msg);
}

/* Make everything before `to` durable, then say so in the resume
 * state: the order matters, the state must never claim more than the
 * disk holds.  Every write before `to` has returned, so the fdatasync
 * covers them all, whatever was written after, and a writeback error
 * of any of them is reported here: nothing else on this descriptor
 * waits for writeback while the pipeline runs (sync_file_range only
 * starts it).
 */
static int
checkpoint_to (struct receiver *r, uint64_t to)
{
  pthread_mutex_lock (&r->ck_lock);
  bool skip = !r->state_path || r->delta || r->io_failed || to == r->checkpoint;
  pthread_mutex_unlock (&r->ck_lock);
  if (skip)
    return 0;
  if (fdatasync (r->dst.fd) == -1 && errno != EINVAL) {
    io_fail (r, "cannot flush %s to stable storage: %s", r->dst.path, strerror (errno));
    return -1;
  }
  /* A write that failed while we synced was reported with the offset
   * durable before: the state must not say more than that message.
   */
  pthread_mutex_lock (&r->save_lock);
  pthread_mutex_lock (&r->ck_lock);
  bool failed = r->io_failed;
  if (!failed)
    r->state.durable = to;
  pthread_mutex_unlock (&r->ck_lock);
  int rc = failed ? -1 : p2v_state_save (r->state_path, &r->state);
  pthread_mutex_unlock (&r->save_lock);
  if (failed)
    return -1;
  if (rc == -1) {
    recv_fail (r, P2V_EXIT_IO, "cannot record progress in %s", r->state_path);
    return -1;
  }
  pthread_mutex_lock (&r->ck_lock);
  r->checkpoint = to;
  pthread_mutex_unlock (&r->ck_lock);
  return 0;
}

/* The last offset asked for, once per request; several requests while
 * a sync runs become one.  Ends when told to stop and nothing is
 * pending, or at the first failure (reported; the ring is aborted).
 */
static void *
checkpointer_thread (void *arg)
{
  struct receiver *r = arg;
  pthread_mutex_lock (&r->ck_lock);
  uint64_t done = r->checkpoint;
  for (;;) {
    while (!r->ck_stop && r->ck_want == done)
      pthread_cond_wait (&r->ck_cond, &r->ck_lock);
    if (r->ck_want == done || r->io_failed)
      break;
    uint64_t to = r->ck_want;
    pthread_mutex_unlock (&r->ck_lock);
    int rc = checkpoint_to (r, to);
    pthread_mutex_lock (&r->ck_lock);
    if (rc == -1)
      break;
    done = to;
  }
  pthread_mutex_unlock (&r->ck_lock);
  return NULL;
}

static void
ask_checkpoint (struct receiver *r, uint64_t to)
{
  pthread_mutex_lock (&r->ck_lock);
  r->ck_want = to;
  pthread_cond_signal (&r->ck_cond);
  pthread_mutex_unlock (&r->ck_lock);
  r->asked = to;
  r->unsynced = false;
}

static void
stop_checkpointer (struct receiver *r, pthread_t t)
{
  pthread_mutex_lock (&r->ck_lock);
  r->ck_stop = true;
  pthread_cond_signal (&r->ck_cond);
  pthread_mutex_unlock (&r->ck_lock);
  pthread_join (t, NULL);
}

static void *
writer_thread (void *arg)
{
  struct receiver *r = arg;
  /* Delta progress: this thread's own view, so no counter is shared. */
  uint64_t same = 0, changed = 0;
  double last = p2v_now ();
  bool plain = p2v_progress_has_lines (r->o->progress_mode);
  for (uint64_t seq = r->start / r->sh.chunk_size; seq < r->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (r->ring, seq, P2V_SLOT_DONE);
    if (!slot)
      break;
    /* A copy: once released, the slot may already hold a later chunk. */
    const struct p2v_chunk_hdr hdr = slot->hdr, *h = &hdr;
    /* Zeros on a new file are its holes already: nothing to write. */
    bool writes = h->codec != CODEC_SAME && !(h->codec == P2V_CODEC_ZERO && r->dst.reads_zero);
    int rc = !writes ? 0
      : h->codec == P2V_CODEC_ZERO ? p2v_dev_zero (&r->dst, h->offset, h->raw_len)
      : p2v_dev_pwrite (&r->dst, slot->raw, h->raw_len, h->offset);
    p2v_ring_release (r->ring, slot);
    if (rc == -1) {
      io_fail (r, "cannot write %s at offset %llu",
               r->dst.path, (unsigned long long) h->offset);
      break;
    }
    /* The page cache would otherwise hold everything since the last
     * checkpoint, and its fdatasync stall this thread (and, through the
     * ring, the link) for a tenth of a second or more each time.
     */
    if (writes && p2v_dev_start_writeback (&r->dst, h->offset, h->raw_len) == -1) {
      io_fail (r, "cannot write %s back at offset %llu: %s",
               r->dst.path, (unsigned long long) h->offset, strerror (errno));
      break;
    }
    r->written = h->offset + h->raw_len;
    r->unsynced |= writes;
    p2v_progress_update (r->progress, r->written);
    if (r->delta) {
      if (h->codec == CODEC_SAME)
        same++;
      else
        changed++;
      if (plain && p2v_now () - last >= DELTA_LINE_SECONDS) {
        last = p2v_now ();
        recv_delta_line (r, same, changed, false);
      }
    }
    /* Checkpoints only at full chunks: a resume starts on a chunk. */
    if (r->unsynced && r->written - r->asked >= CHECKPOINT_BYTES
        && h->raw_len == r->sh.chunk_size)
      ask_checkpoint (r, r->written);
  }
  return NULL;
}

/* The prefix's re-read is pointless once the session is over. */
static bool
prefix_stop (void *arg)
{
  struct receiver *r = arg;
  return p2v_ring_aborted (r->ring) || __atomic_load_n (&r->cut, __ATOMIC_ACQUIRE)
    || __atomic_load_n (&r->taken_over, __ATOMIC_ACQUIRE);
}

static void *
digest_thread (void *arg)
{
  struct receiver *r = arg;
  uint32_t cs = r->sh.chunk_size;
  /* Resuming: hash what an earlier session made durable, read back
   * from the target itself.
   */
  if (r->start) {
    /* blkhash on every core: the workers have nothing to do before it
     * is done.  The writer does not write below start, nor look at
     * holes: a copy of the device is this thread's alone.
     */
    struct p2v_dev dst = r->dst;
    dst.hole_from = dst.hole_end = 0;
    struct p2v_sum_cb cb = { .stop = prefix_stop, .arg = r };
    if (p2v_sum_range (r->digest, &dst, 0, r->start, r->o->threads, &cb) == -1 && !prefix_stop (r))
      recv_fail (r, P2V_EXIT_IO, "cannot read back %s to resume", r->dst.path);
  }
  for (uint64_t seq = r->start / cs; seq < r->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (r->ring, seq, P2V_SLOT_DONE);
    if (!slot)
      break;
    p2v_digest_add_chunk (r->digest, slot->zero, r->blocks ? slot->blocks : NULL,
                          slot->raw, slot->hdr.raw_len);
    p2v_ring_release (r->ring, slot);
  }
  return NULL;
}

static void
send_reply (struct receiver *r, uint8_t type, const void *a, size_t alen,
            const char *msg)
{
  if (!r->is_socket)
    return;
  /* One part: sealing encrypts the second part in place, and msg may
   * be a string constant.
   */
  size_t mlen = msg ? strlen (msg) : 0;
  uint8_t *buf = xmalloc (alen + mlen);
  memcpy (buf, a, alen);
  if (mlen)
    memcpy (buf + alen, msg, mlen);
  p2v_chan_send (&r->ch, type, buf, alen + mlen, NULL, NULL, 0);
  free (buf);
}

/* The stream stopped before its end.  Reported only once the workers
 * have finished what arrived before: a corrupt chunk just before the
 * cut is the better explanation, and what did arrive intact is still
 * written (and checkpointed) for a resume.
 */
void
recv_truncated (struct receiver *r, uint64_t at)
{
  r->cut_errno = errno;
  r->cut_at = at;
  /* Read by the digest thread too: a cut session need not finish
   * hashing a resumed prefix nobody will compare (a takeover waits).
   */
  __atomic_store_n (&r->cut, true, __ATOMIC_RELEASE);
}

static void
report_cut (struct receiver *r)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  int e = r->cut_errno;
  p2v_human_size (r->cut_at, a);
  p2v_human_size (r->sh.size, b);
  if (e == EBADMSG && r->is_socket)
    recv_fail_corrupt (r, "record at %s of %s failed authentication (corrupted or tampered "
                  "in transit); it was not written", a, b);
  else if (e == EBADMSG)
    recv_fail (r, P2V_EXIT_PROTOCOL, "record at %s of %s is not authentic (tampered with or "
          "corrupted in transit); it was not written", a, b);
  else if (e == ETIMEDOUT)
    recv_fail (r, P2V_EXIT_NET, "%s is too slow: no complete record within %u s at %s of %s; "
          "%s is incomplete", r->peer, r->o->timeout, a, b, r->o->target);
  else if (e)
    recv_fail (r, P2V_EXIT_NET, "connection from %s failed at %s of %s: %s; %s is incomplete",
          r->peer, a, b, strerror (e), r->o->target);
  else
    recv_fail (r, P2V_EXIT_NET, "stream ended at %s of %s; %s is incomplete", a, b, r->o->target);
}

/* The reader: runs on the calling thread until END or failure.
 * Returns 0 with *end filled, or -1.
 */
static int
read_stream (struct receiver *r, struct p2v_end *end)
{
  uint64_t expect = r->start, seq = r->start / r->sh.chunk_size;
  for (;;) {
    struct p2v_record_hdr h;
    int rc = p2v_chan_recv_hdr (&r->ch, &h);
    if (rc != 1) {
      if (rc == 0)
        errno = 0;
      recv_truncated (r, expect);
      return -1;
    }
    if (h.type == P2V_REC_END) {
      uint8_t buf[P2V_END_FIXED_LEN + P2V_DIGEST_MAX];
      if (h.length > sizeof buf || p2v_chan_recv (&r->ch, buf, h.length) == -1
          || p2v_chan_recv_end (&r->ch) == -1) {
        recv_truncated (r, expect);
        return -1;
      }
      if (p2v_unpack_end (buf, h.length, end) == -1) {
        recv_fail (r, P2V_EXIT_PROTOCOL, "malformed end of stream");
        return -1;
      }
      if (end->disk != r->sh.disk || end->total != r->sh.size || expect != r->sh.size
          || end->digest_len != p2v_digest_size (r->sh.digest_id)) {
        errno = 0;
        recv_truncated (r, expect);
        return -1;
      }
      return 0;
    }
    if (h.type == P2V_REC_SAME) {
      if (recv_read_same (r, &h, expect, seq) == -1)
        return -1;
      expect += r->sh.chunk_size < r->sh.size - expect ? r->sh.chunk_size : r->sh.size - expect;
      seq++;
      continue;
    }
    if (h.type != P2V_REC_CHUNK) {
      if ((h.type & P2V_REC_OPTIONAL) && h.length <= P2V_RECORD_MAX) {
        if (p2v_chan_skip (&r->ch, h.length) == -1 || p2v_chan_recv_end (&r->ch) == -1) {
          recv_truncated (r, expect);
          return -1;
        }
        continue;
      }
      if (h.length <= P2V_RECORD_MAX)
        recv_reject_record (r, expect, h.length, "unexpected record type %u at %llu in the stream",
                       h.type, (unsigned long long) expect);
      else
        recv_fail_corrupt (r, "unexpected record type %u at %llu in the stream",
                      h.type, (unsigned long long) expect);
      return -1;
    }
    if (h.length < P2V_CHUNK_HDR_LEN || h.length - P2V_CHUNK_HDR_LEN > r->sh.chunk_size) {
      recv_fail_corrupt (r, "chunk frame of impossible length %u", h.length);
      return -1;
    }
    uint8_t hb[P2V_CHUNK_HDR_LEN];
    struct p2v_chunk_hdr ch;
    uint32_t payload = h.length - P2V_CHUNK_HDR_LEN;
    if (p2v_chan_recv (&r->ch, hb, sizeof hb) == -1) {
      recv_truncated (r, expect);
      return -1;
    }
    /* Not yet authenticated: used only to reject early and to pick the
     * buffer; nothing is published before the tag verifies.
     */
    p2v_unpack_chunk_hdr (hb, &ch);
    const char *why = p2v_check_chunk (&r->sh, &ch, payload, expect,
                                       r->zero_crc_full, r->zero_crc_last);
    /* In a delta, a chunk answers a hash we announced. */
    if (!why && r->delta && !p2v_delta_announced (r->dw, seq))
      why = "changed chunk whose hash the receiver did not announce";
    if (why) {
      recv_reject_record (r, expect, payload, "malformed stream at offset %llu: %s",
                     (unsigned long long) expect, why);
      return -1;
    }
    struct p2v_slot *slot = p2v_ring_acquire (r->ring, seq);
    if (!slot)
      return -1;
    /* Waiting for a slot (our digest thread re-reading the target on a
     * resume, a slow target) is our delay, not the sender's: the
     * record's time starts now.
     */
    if (r->ch.record_timeout)
      r->ch.deadline = p2v_now () + r->ch.record_timeout;
    slot->hdr = ch;
    slot->enc_len = payload;
    uint8_t *dst = ch.codec == P2V_CODEC_STORED ? slot->raw : slot->enc;
    if (p2v_chan_recv (&r->ch, dst, payload) == -1 || p2v_chan_recv_end (&r->ch) == -1) {
      /* The slot was never published, so no one else sees it. */
      recv_truncated (r, expect);
      return -1;
    }
    slot->zero = ch.codec == P2V_CODEC_ZERO;
    p2v_ring_publish (r->ring, slot, 2, !slot->zero);
    if (r->delta) {
      p2v_delta_settle (r->dw, seq);
      r->changed_chunks++;
    }
    expect += ch.raw_len;
    seq++;
  }
}

/* The sealed SOURCE record.  0, or an exit status (printed). */
int
p2v_recv_read_source (struct receiver *r)
{
  struct p2v_record_hdr h;
  const char *why;
  if (p2v_chan_recv_hdr (&r->ch, &h) != 1 || h.type != P2V_REC_SOURCE
      || h.length < P2V_SOURCE_FIXED_LEN || h.length > P2V_SOURCE_FIXED_LEN + P2V_TEXT_MAX) {
    p2v_error ("%s did not send a source description", r->peer);
    return P2V_EXIT_PROTOCOL;
  }
  uint8_t *buf = xmalloc (h.length);
  int ret = 0;
  if (p2v_chan_recv (&r->ch, buf, h.length) == -1 || p2v_chan_recv_end (&r->ch) == -1) {
    if (errno == EBADMSG && !r->is_socket) {
      p2v_error ("the stream does not open with this key (wrong key, or a corrupt stream)");
      ret = P2V_EXIT_AUTH;
    }
    else if (errno == EBADMSG) {
      /* The sender proved the key: its first sealed record was
       * damaged on the way.  Say so (sealed), so it reconnects.
       */
      const char *what = "the source's header record failed authentication (corrupted or "
                         "tampered in transit)";
      struct p2v_result res = { .status = P2V_EXIT_PROTOCOL };
      uint8_t fixed[P2V_RESULT_FIXED_LEN];
      p2v_pack_result (fixed, &res);
      send_reply (r, P2V_REC_RESULT, fixed, sizeof fixed, what);
      p2v_warning ("%s from %s; dropping the connection", what, r->peer);
      ret = P2V_EXIT_PROTOCOL;
    }
    else {
      p2v_error ("%s sent an unreadable source description", r->peer);
      ret = P2V_EXIT_PROTOCOL;
    }
    free (buf);
    return ret;
  }
  p2v_unpack_source (buf, &r->sh);
  if (p2v_check_source (&r->sh, &why) == -1) {
    p2v_error ("%s sent an unusable stream header: %s", r->peer, why);
    ret = P2V_EXIT_PROTOCOL;
  }
  else if (p2v_desc_decode ((char *) buf + P2V_SOURCE_FIXED_LEN,
                            h.length - P2V_SOURCE_FIXED_LEN, &r->desc) == -1) {
    p2v_error ("%s sent a malformed source description", r->peer);
    ret = P2V_EXIT_PROTOCOL;
  }
  free (buf);
  return ret;
}

int
p2v_recv_refuse (struct receiver *r, int status, const char *why)
{
  uint8_t st[P2V_REFUSE_FIXED_LEN];
  p2v_pack_refuse (st, (uint32_t) status);
  p2v_error ("%s", why);
  send_reply (r, P2V_REC_REFUSE, st, sizeof st, why);
  return status;
}

/* Decide where this session starts: 0, or where a matching resume
 * state says.  A state for another disk is refused, not overwritten.
 */
static int
resume_point (struct receiver *r)
{
  char why[1024];
  r->start = 0;
  r->had_state = false;
  if (!r->state_path)
    return 0;
  p2v_state_free (&r->state);
  int rc = p2v_state_load (r->state_path, &r->state);
  if (rc == -1)
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, "the resume state beside the target is unreadable; "
                   "see the receiver's messages");
  const char *fp = r->desc.fingerprint ? r->desc.fingerprint : "-";
  if (rc == 1) {
    if (r->state.size != r->sh.size || r->state.chunk_size != r->sh.chunk_size
        || r->state.digest_id != r->sh.digest_id || strcmp (r->state.fingerprint, fp) != 0) {
      char e1[256], e2[256], e3[512];
      snprintf (why, sizeof why, "%s holds a partial copy of %s (resume state %s), but this "
                "stream is %s:%s; nothing written (remove %s to start over)",
                r->o->target, peer_text (r->state.source, e3, sizeof e3), r->state_path,
                peer_text (r->desc.hostname, e1, sizeof e1),
                peer_text (r->desc.path, e2, sizeof e2), r->state_path);
      p2v_state_free (&r->state);
      return p2v_recv_refuse (r, P2V_EXIT_REFUSED, why);
    }
    r->start = r->state.durable;
    r->had_state = true;
    return 0;
  }
  memcpy (r->state.key, r->key, sizeof r->key);
  r->state.size = r->sh.size;
  r->state.chunk_size = r->sh.chunk_size;
  r->state.digest_id = r->sh.digest_id;
  r->state.fingerprint = xstrdup (fp);
  r->state.source = xasprintf ("%s:%s", r->desc.hostname ? r->desc.hostname : "?",
                               r->desc.path ? r->desc.path : "?");
  r->state.durable = 0;
  return 0;
}

/* Open the target and say yes or no to the sender. */
static int
accept_source (struct receiver *r)
{
  char why[512];
  int status;
  r->delta = r->sh.flags & P2V_SOURCE_DELTA;
  if (r->delta) {
    if ((status = recv_delta_target_check (r)) != 0)
      return status;
    /* A delta compares the whole disk; a resume state (of an earlier
     * full copy, or of anything) would only claim what the delta is
     * about to prove or rewrite.
     */
    r->start = 0;
    if (r->state_path && unlink (r->state_path) == 0)
      p2v_info ("removed the resume state %s: a delta pass compares the whole disk",
                r->state_path);
  }
  else if ((status = resume_point (r)) != 0)
    return status;
  if (r->io_failed)
    return p2v_recv_refuse (r, P2V_EXIT_IO, "writing or syncing the target failed earlier in "
                            "this p2vrecv; fix the target and rerun both commands to resume");
  int rc = p2v_target_open (r->o->target, r->sh.size, r->o->force, r->delta, &r->dst,
                            why, sizeof why);
  if (rc == -2)
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, why);
  if (rc == -1) {
    uint8_t st[P2V_REFUSE_FIXED_LEN];
    p2v_pack_refuse (st, P2V_EXIT_IO);
    send_reply (r, P2V_REC_REFUSE, st, sizeof st, "cannot open the target; see the receiver's messages");
    return P2V_EXIT_IO;
  }
  r->dst_open = true;
  /* A fresh thin-provisioned or just-discarded disk reads back zeros:
   * writing zeros to it again would only cost time (and thin space).
   */
  /* Not after an earlier session: it may have written past its last
   * checkpoint, and zero blocks would then keep what it wrote.
   */
  if (r->o->target_is_zero && !r->delta && !r->had_state)
    r->dst.reads_zero = true;
  /* An existing target holds old data: zeros must be written. */
  if (r->delta)
    r->dst.reads_zero = false;
  /* From now on a crash leaves a state to resume from, with the key. */
  if (!r->delta && r->state_path && p2v_state_save (r->state_path, &r->state) == -1)
    return P2V_EXIT_IO;
  struct p2v_accept a = { .disk = r->sh.disk, .start_offset = r->start };
  uint8_t buf[P2V_ACCEPT_LEN];
  p2v_pack_accept (buf, &a);
  if (r->is_socket && p2v_chan_send (&r->ch, P2V_REC_ACCEPT, buf, sizeof buf, NULL, NULL, 0) == -1) {
    p2v_error ("connection from %s lost before the transfer: %s", r->peer, strerror (errno));
    return P2V_EXIT_NET;
  }
  return 0;
}

static void
send_result (struct receiver *r, const uint8_t *digest, size_t dlen)
{
  /* A corrupt link is PROTOCOL to the sender: its cue to reconnect. */
  struct p2v_result res = { .disk = r->sh.disk,
                            .status = (uint32_t) (r->corrupt ? P2V_EXIT_PROTOCOL : r->status),
                            .digest_len = (uint8_t) dlen };
  memcpy (res.digest, digest, dlen);
  uint8_t buf[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX];
  size_t n = p2v_pack_result (buf, &res);
  send_reply (r, P2V_REC_RESULT, buf, n, r->status ? r->reason : "identical");
}

/* Per-transfer state, the ring and the digest, and what the admin
 * sees first.  0, or an exit status.
 */
static int
transfer_setup (struct receiver *r)
{
  const struct p2v_recv_opts *o = r->o;
  uint32_t cs = r->sh.chunk_size;
  r->status = P2V_EXIT_OK;
  r->cut = false;
  r->corrupt = false;
  r->nchunks = (r->sh.size + cs - 1) / cs;
  r->written = r->asked = r->checkpoint = r->ck_want = r->start;
  r->unsynced = false;
  r->ck_stop = false;
  r->same_chunks = r->changed_chunks = 0;
  r->hash_secs = 0;
  r->ring = p2v_ring_new (p2v_ring_slots (o->threads), cs, cs);
  p2v_ring_start_at (r->ring, r->start / cs);
  r->zeros = xcalloc (1, cs);
  r->zero_crc_full = p2v_crc32 (r->zeros, cs);
  r->zero_crc_last = p2v_crc32 (r->zeros, r->sh.size % cs ? r->sh.size % cs : cs);
  r->blocks = p2v_digest_is_blocks (r->sh.digest_id);
  r->digest = p2v_digest_new (r->sh.digest_id);
  if (!r->digest)
    return P2V_EXIT_USAGE;

  char sz[P2V_HUMAN_LEN], at[P2V_HUMAN_LEN], e1[256], e2[512];
  p2v_info ("receiving %s (%s) from %s%s%s into %s", peer_text (r->desc.path, e2, sizeof e2),
            p2v_human_size (r->sh.size, sz), peer_text (r->desc.hostname, e1, sizeof e1),
            r->is_socket ? " at " : "", r->is_socket ? r->peer : "", o->target);
  if (r->start)
    p2v_info ("resuming at %s: %s holds everything before it on stable storage",
              p2v_human_size (r->start, at), o->target);
  r->progress = o->progress_group
    ? p2v_progress_new_in (o->progress_group, o->disk, o->target, r->sh.size)
    : p2v_progress_new (o->progress_mode, o->target, r->sh.size);
  if (r->delta)
    recv_delta_setup (r);
  return 0;
}

/* The pipeline of the file's top comment: started, fed by read_stream,
 * joined.  read_stream's result (0 at a good END, -1).
 */
static int
pipeline_run (struct receiver *r, struct p2v_end *end)
{
  const struct p2v_recv_opts *o = r->o;
  pthread_t workers[P2V_THREADS_MAX], writer, hasher, hworkers[P2V_THREADS_MAX], treader, announcer;
  pthread_t ckpt;
  for (unsigned i = 0; i < o->threads; i++)
    xthread_create (&workers[i], worker_thread, r);
  xthread_create (&writer, writer_thread, r);
  xthread_create (&hasher, digest_thread, r);
  xthread_create (&ckpt, checkpointer_thread, r);
  /* After the usual ones, so bench/run's thread labels still hold. */
  if (r->delta) {
    xthread_create (&treader, recv_target_reader_thread, r);
    for (unsigned i = 0; i < o->threads; i++)
      xthread_create (&hworkers[i], recv_hash_worker_thread, r);
    xthread_create (&announcer, recv_announcer_thread, r);
  }
  int rc = read_stream (r, end);
  p2v_ring_finish (r->ring);
  pthread_join (writer, NULL);
  stop_checkpointer (r, ckpt);
  pthread_join (hasher, NULL);
  for (unsigned i = 0; i < o->threads; i++)
    pthread_join (workers[i], NULL);
  if (r->delta) {
    /* On success every hash went out before the last verdict came in;
     * otherwise stop the hashing where it is.
     */
    if (rc == -1 || r->status) {
      p2v_ring_abort (r->hring);
      p2v_delta_abort (r->dw);
    }
    pthread_join (treader, NULL);
    for (unsigned i = 0; i < o->threads; i++)
      pthread_join (hworkers[i], NULL);
    pthread_join (announcer, NULL);
  }
  return rc;
}

/* A verified copy: the summary, the manifest and the digest file. */
static void
report_verified (struct receiver *r, const char *alg, const char *hex)
{
  const struct p2v_recv_opts *o = r->o;
  if (r->delta) {
    char h[P2V_HUMAN_LEN], t[P2V_HUMAN_LEN];
    p2v_info ("delta: hashed %s of %s in %s; %llu of %llu chunks changed, %llu unchanged",
              p2v_human_size (r->sh.size, h), o->target, p2v_human_duration (r->hash_secs, t),
              (unsigned long long) r->changed_chunks, (unsigned long long) r->nchunks,
              (unsigned long long) r->same_chunks);
  }
  p2v_info ("%s %s  %s", alg, hex, o->target);
  if (r->state_path)
    unlink (r->state_path);

  char *mpath = o->manifest ? xstrdup (o->manifest)
                            : p2v_manifest_default_path (o->target, !r->dst.is_file);
  struct p2v_manifest man = { .target = (char *) o->target, .digest_algorithm = (char *) alg,
                              .digest_value = (char *) hex };
  p2v_desc_to_manifest (&r->desc, &man);
  if (mpath && p2v_manifest_write (mpath, &man) == -1)
    recv_fail (r, P2V_EXIT_IO, "cannot write the manifest %s", mpath);
  else if (mpath)
    p2v_info ("manifest: %s", mpath);
  else
    p2v_info ("no manifest written for %s; use --manifest FILE to keep the source's "
              "description for p2vfixup", o->target);
  free (mpath);
  if (r->status == 0 && o->digest_file
      && p2v_digest_file_write (o->digest_file, r->sh.digest_id, hex, o->target) == -1)
    recv_fail (r, P2V_EXIT_IO, "cannot write the digest file %s", o->digest_file);
}

/* After the pipeline: keep what is durable, make the rest durable,
 * compare digests, report, and tell the sender.  An exit status.
 */
static int
transfer_verdict (struct receiver *r, int rc, const struct p2v_end *end)
{
  const struct p2v_recv_opts *o = r->o;
  uint32_t cs = r->sh.chunk_size;
  if (rc == -1 && r->cut && r->status == P2V_EXIT_OK)
    report_cut (r);
  /* A session that dies keeps whatever reached the disk intact. */
  if ((rc == -1 || r->status) && r->written % cs == 0)
    checkpoint_to (r, r->written);

  uint8_t mine[P2V_DIGEST_MAX];
  size_t dlen = p2v_digest_size (r->sh.digest_id);
  p2v_digest_final (r->digest, mine);
  if (rc == 0 && r->status == 0) {
    /* The digest's and the delta's lines first: scripts stop reading
     * at the last line, "done".
     */
    char hex[P2V_DIGEST_HEX_MAX];
    p2v_hex (mine, dlen, hex);
    p2v_progress_digest (o->progress_mode, o->target, p2v_digest_name (r->sh.digest_id), hex);
    if (r->delta && p2v_progress_has_lines (o->progress_mode))
      recv_delta_line (r, r->same_chunks, r->changed_chunks, true);
    p2v_progress_finish (r->progress, r->written);
    if (p2v_dev_finish (&r->dst) == -1)
      io_fail (r, "cannot make %s durable", o->target);
  }
  if (r->status) {
    send_result (r, mine, dlen);
    return r->status;
  }

  char a[P2V_DIGEST_HEX_MAX], b[P2V_DIGEST_HEX_MAX];
  const char *alg = p2v_digest_name (r->sh.digest_id);
  p2v_hex (mine, dlen, a);
  p2v_hex (end->digest, dlen, b);
  if (strcmp (a, b) != 0) {
    /* The state would resume into a copy that is wrong somewhere before
     * the resume point: drop it, so the next run starts over.
     */
    if (r->state_path)
      unlink (r->state_path);
    recv_fail (r, P2V_EXIT_MISMATCH, "digest mismatch: the source is %s %s, %s received %s",
          alg, b, o->target, a);
    send_result (r, mine, dlen);
    return r->status;
  }
  report_verified (r, alg, a);
  send_result (r, mine, dlen);
  if (r->status == 0)
    p2v_info ("verified: %s is identical to the source (%s)", o->target, alg);
  return r->status;
}

/* The transfer proper, once the header is accepted. */
static int
transfer (struct receiver *r)
{
  int status = transfer_setup (r);
  if (status)
    return status;
  struct p2v_end end;
  int rc = pipeline_run (r, &end);
  return transfer_verdict (r, rc, &end);
}

/* Everything after SOURCE, on one connection or pipe; then the
 * session's resources are released (the target's resume state stays).
 */
int
p2v_recv_session (struct receiver *r)
{
  int status = accept_source (r);
  if (status == 0)
    status = transfer (r);
  if (r->dst_open)
    p2v_dev_close (&r->dst);
  r->dst_open = false;
  p2v_progress_free (r->progress);
  r->progress = NULL;
  p2v_digest_free (r->digest);
  r->digest = NULL;
  p2v_ring_free (r->ring);
  r->ring = NULL;
  p2v_ring_free (r->hring);
  r->hring = NULL;
  p2v_delta_free (r->dw);
  r->dw = NULL;
  free (r->dblocks);
  r->dblocks = NULL;
  free (r->zeros);
  r->zeros = NULL;
  p2v_desc_free (&r->desc);
  p2v_aead_free (r->ch.tx);
  p2v_aead_free (r->ch.rx);
  r->ch.tx = r->ch.rx = NULL;
  return status;
}

void
p2v_receiver_init (struct receiver *r, const struct p2v_recv_opts *o)
{
  memset (r, 0, sizeof *r);
  r->o = o;
  r->ch.fd = -1;
  pthread_mutex_init (&r->lock, NULL);
  pthread_mutex_init (&r->ck_lock, NULL);
  pthread_cond_init (&r->ck_cond, NULL);
  pthread_mutex_init (&r->save_lock, NULL);
}

void
p2v_receiver_free (struct receiver *r)
{
  p2v_state_free (&r->state);
  free (r->state_path);
  pthread_mutex_destroy (&r->lock);
  pthread_mutex_destroy (&r->ck_lock);
  pthread_cond_destroy (&r->ck_cond);
  pthread_mutex_destroy (&r->save_lock);
}
