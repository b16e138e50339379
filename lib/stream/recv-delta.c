/* The receiver's half of a delta (warm migration): the target read and
 * hashed in order into a window, the hashes announced to the sender,
 * SAME records checked against them.  recv.c runs the threads; see
 * the top of recv.c for the whole pipeline.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/humanize.h"
#include "common/json.h"
#include "common/util.h"
#include "stream/chunkhash.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "stream/progress.h"
#include "stream/recv-disk.h"
#include "stream/ring.h"
#include "stream/wire.h"

void
recv_delta_line (struct receiver *r, uint64_t same, uint64_t changed, bool last)
{
  char h[P2V_HUMAN_LEN], t[P2V_HUMAN_LEN];
  uint64_t hashed = p2v_delta_known (r->dw) * r->sh.chunk_size;
  if (hashed > r->sh.size)
    hashed = r->sh.size;
  if (r->o->progress_mode == P2V_PROGRESS_JSON) {
    fputs ("{\"label\": ", stderr);
    p2v_json_string (stderr, r->o->target);
    fprintf (stderr, ", \"delta\": {\"hashed\": %llu, \"total\": %llu, \"changed_chunks\": %llu, "
             "\"unchanged_chunks\": %llu}, \"done\": %s}\n", (unsigned long long) hashed,
             (unsigned long long) r->sh.size, (unsigned long long) changed,
             (unsigned long long) same, last ? "true" : "false");
    return;
  }
  fprintf (stderr, "%s: delta: hashed %s / %s; received %llu changed chunks, %llu unchanged%s\n",
           r->o->target, p2v_human_size (hashed, h),
           p2v_human_size (r->sh.size, t), (unsigned long long) changed,
           (unsigned long long) same, last ? "; done" : "");
}

/* A SAME record (delta), authenticated before anything of it is
 * believed: only for the next chunk, and only with the hash we
 * announced for it.  0, or -1 (failed or cut).
 */
int
recv_read_same (struct receiver *r, const struct p2v_record_hdr *h, uint64_t expect, uint64_t seq)
{
  uint8_t buf[P2V_SAME_LEN];
  struct p2v_same sm;
  const char *why;
  if (h->length != P2V_SAME_LEN) {
    if (h->length <= P2V_SAME_LEN + 4096)
      recv_reject_record (r, expect, h->length, "unchanged-chunk record of impossible length %u",
                     h->length);
    else
      recv_fail_corrupt (r, "unchanged-chunk record of impossible length %u", h->length);
    return -1;
  }
  if (p2v_chan_recv (&r->ch, buf, sizeof buf) == -1 || p2v_chan_recv_end (&r->ch) == -1) {
    recv_truncated (r, expect);
    return -1;
  }
  p2v_unpack_same (buf, &sm);
  why = p2v_check_same (&r->sh, &sm, expect);
  if (!why)
    why = p2v_delta_check_same (r->dw, seq, sm.hash);
  if (why) {
    recv_fail (r, P2V_EXIT_PROTOCOL, "malformed stream at offset %llu: %s; nothing of it was written",
          (unsigned long long) expect, why);
    return -1;
  }
  struct p2v_slot *slot = p2v_ring_acquire (r->ring, seq);
  if (!slot)
    return -1;
  slot->hdr = (struct p2v_chunk_hdr) { .disk = sm.disk, .codec = CODEC_SAME,
                                       .offset = sm.offset, .raw_len = sm.raw_len };
  slot->enc_len = 0;
  /* The chunk we announced is kept: its share of the digest is known
   * without reading it back when it is zeros, or when the announcer
   * kept its block digests.
   */
  const uint8_t *zh = p2v_zero_hash (&r->zh, sm.raw_len);
  slot->zero = zh && memcmp (sm.hash, zh, P2V_CHUNK_HASH_LEN) == 0;
  bool known = slot->zero || r->dblocks;
  if (!slot->zero && r->dblocks)
    memcpy (slot->blocks, r->dblocks + (seq % r->dw->window) * r->dstride,
            p2v_digest_nblocks (sm.raw_len) * p2v_digest_size (r->sh.digest_id));
  p2v_ring_publish (r->ring, slot, 2, !known);
  p2v_delta_settle (r->dw, seq);
  r->same_chunks++;
  return 0;
}

/* A delta resyncs an earlier copy: refuse, before opening anything,
 * a target that cannot hold one.  0, or the exit status (refused).
 */
int
recv_delta_target_check (struct receiver *r)
{
  char why[1024], a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  const char *t = r->o->target;
  struct stat st;
  if (!r->is_socket)
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, "the stream is a delta transfer (p2vsend "
                            "--delta), which sends the target's hashes back: --stdin cannot "
                            "take one; nothing written");
  if (stat (t, &st) == -1) {
    if (errno != ENOENT) {
      p2v_error ("cannot stat %s: %s", t, strerror (errno));
      return p2v_recv_refuse (r, P2V_EXIT_IO, "cannot examine the target; see the "
                              "receiver's messages");
    }
    snprintf (why, sizeof why, "--delta: target %s does not exist, so it holds no earlier "
              "copy to compare; nothing written (send without --delta)", t);
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, why);
  }
  if (S_ISCHR (st.st_mode)) {
    snprintf (why, sizeof why, "--delta: target %s is a character device, which cannot be "
              "read back to compare; nothing written", t);
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, why);
  }
  /* A block device that is too small is refused by p2v_target_open. */
  if (S_ISREG (st.st_mode) && (uint64_t) st.st_size < r->sh.size) {
    snprintf (why, sizeof why, "--delta: target %s is %s (%llu bytes), shorter than the "
              "source's %s (%llu bytes), so it holds no earlier copy of it; nothing written",
              t, p2v_human_size ((uint64_t) st.st_size, a), (unsigned long long) st.st_size,
              p2v_human_size (r->sh.size, b), (unsigned long long) r->sh.size);
    return p2v_recv_refuse (r, P2V_EXIT_REFUSED, why);
  }
  return 0;
}

/* Delta: read the target in order, up to the source's size, into hring;
 * the ring (and behind it the window) bounds how far ahead.
 */
void *
recv_target_reader_thread (void *arg)
{
  struct receiver *r = arg;
  uint32_t cs = r->sh.chunk_size;
  for (uint64_t seq = 0; seq < r->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_acquire (r->hring, seq);
    if (!slot)
      break;
    uint64_t off = seq * cs;
    slot->hdr.offset = off;
    slot->hdr.raw_len = r->sh.size - off < cs ? (uint32_t) (r->sh.size - off) : cs;
    /* A hole of a sparse image (p2vrecv leaves zeros as holes) has the
     * zero hash without a read.  Only chunks behind this thread are
     * ever written, so the hole it remembers ahead of it stays one.
     */
    slot->zero = p2v_source_is_hole (&r->dst, off, slot->hdr.raw_len);
    if (slot->zero) {
      memcpy (slot->enc, p2v_zero_hash (&r->zh, slot->hdr.raw_len), P2V_CHUNK_HASH_LEN);
      p2v_ring_publish (r->hring, slot, 1, false);
      continue;
    }
    if (p2v_dev_pread (&r->dst, slot->raw, slot->hdr.raw_len, off) == -1) {
      recv_fail (r, P2V_EXIT_IO, "cannot read %s at offset %llu to compare it with the source",
            r->dst.path, (unsigned long long) off);
      break;
    }
    p2v_ring_publish (r->hring, slot, 1, true);
  }
  p2v_ring_finish (r->hring);
  return NULL;
}

void *
recv_hash_worker_thread (void *arg)
{
  struct receiver *r = arg;
  struct p2v_slot *slot;
  while ((slot = p2v_ring_take_work (r->hring)) != NULL) {
    if (r->dblocks) {
      p2v_digest_blocks (r->sh.digest_id, slot->raw, slot->hdr.raw_len, slot->blocks);
      p2v_chunk_hash_of_blocks (&r->zh, slot->blocks, slot->hdr.raw_len, slot->enc);
    }
    else
      p2v_chunk_hash (&r->zh, slot->raw, slot->hdr.raw_len, slot->enc);
    p2v_ring_work_done (r->hring, slot);
  }
  return NULL;
}

/* A batch of announced hashes to the sender.  0, or -1 (failed). */
static int
send_hashes (struct receiver *r, uint8_t *batch, uint64_t first, uint32_t count)
{
  struct p2v_hashes_hdr hh = { .disk = r->sh.disk, .first = first, .count = count };
  p2v_pack_hashes_hdr (batch, &hh);
  if (p2v_chan_send (&r->ch, P2V_REC_HASHES, batch,
                     P2V_HASHES_FIXED_LEN + (size_t) count * P2V_CHUNK_HASH_LEN,
                     NULL, NULL, 0) == -1) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      recv_fail (r, P2V_EXIT_NET, "%s has not read the target's hashes for %u s; giving up",
            r->peer, r->o->timeout);
    else
      recv_fail (r, P2V_EXIT_NET, "connection from %s lost while sending the target's hashes: %s",
            r->peer, strerror (errno));
    return -1;
  }
  return 0;
}

/* How long a hash may wait for more to share its record: batches keep
 * the records few, and the bound keeps the sender from idling.
 */
#define HASH_BATCH_SECONDS 0.02

/* The announcer: hashes in order, into the window (before they are
 * sent: the sender may answer at once), then out in batches.  The only
 * thread that sends during a delta transfer.
 */
void *
recv_announcer_thread (void *arg)
{
  struct receiver *r = arg;
  uint8_t *batch = xmalloc (P2V_HASHES_FIXED_LEN + (size_t) P2V_HASHES_MAX * P2V_CHUNK_HASH_LEN);
  uint64_t first = 0;
  uint32_t n = 0;
  double t0 = p2v_now ();
  for (uint64_t seq = 0; seq < r->nchunks; seq++) {
    if (!p2v_delta_room (r->dw, seq)) {
      /* The sender must see what we have before it can let us on. */
      if (n && send_hashes (r, batch, first, n) == -1)
        goto out;
      n = 0;
      if (p2v_delta_wait_room (r->dw, seq) == -1)
        goto out;
    }
    bool idle;
    struct p2v_slot *slot;
    while (!(slot = p2v_ring_wait_for (r->hring, seq, P2V_SLOT_DONE, HASH_BATCH_SECONDS, &idle))
           && idle) {
      if (n && send_hashes (r, batch, first, n) == -1)
        goto out;
      n = 0;
    }
    if (!slot)
      goto out;
    if (n == 0)
      first = seq;
    uint8_t *dst = batch + P2V_HASHES_FIXED_LEN + (size_t) n * P2V_CHUNK_HASH_LEN;
    memcpy (dst, slot->enc, P2V_CHUNK_HASH_LEN);
    /* Its block digests too, for the digest if the sender says SAME:
     * the window slot is free, chunk seq - W having settled.
     */
    if (r->dblocks && !slot->zero)
      memcpy (r->dblocks + (seq % r->dw->window) * r->dstride, slot->blocks,
              p2v_digest_nblocks (slot->hdr.raw_len) * p2v_digest_size (r->sh.digest_id));
    p2v_ring_release (r->hring, slot);
    const char *why = p2v_delta_add (r->dw, seq, 1, dst);
    if (why) {
      /* Our own bookkeeping: cannot happen while the window holds. */
      recv_fail (r, P2V_EXIT_PROTOCOL, "internal error announcing chunk %llu: %s",
            (unsigned long long) seq, why);
      goto out;
    }
    if (++n == P2V_HASHES_MAX || seq + 1 == r->nchunks) {
      if (send_hashes (r, batch, first, n) == -1)
        goto out;
      n = 0;
    }
  }
  r->hash_secs = p2v_now () - t0;
 out:
  free (batch);
  return NULL;
}

/* Delta: the window of the target's hashes, and the announcer's sends
 * bounded in time.
 */
void
recv_delta_setup (struct receiver *r)
{
  const struct p2v_recv_opts *o = r->o;
  uint32_t cs = r->sh.chunk_size;
  p2v_zero_hashes_init (&r->zh, cs, r->sh.size % cs ? (uint32_t) (r->sh.size % cs) : cs,
                        r->sh.digest_id);
  r->dw = p2v_delta_new (r->nchunks, cs);
  if (r->zh.blocks_id) {
    r->dstride = p2v_digest_nblocks (cs) * p2v_digest_size (r->sh.digest_id);
    r->dblocks = xmalloc ((size_t) r->dw->window * r->dstride);
  }
  r->hring = p2v_ring_new (p2v_ring_slots (o->threads), cs, P2V_CHUNK_HASH_LEN);
  posix_fadvise (r->dst.fd, 0, (off_t) r->sh.size, POSIX_FADV_SEQUENTIAL);
  /* The announcer sends while the reader waits for records: a sender
   * (with the key) that stops reading our hashes would block it in
   * send for ever, and the session with it when it is joined.  Sends
   * too get --timeout, as reads do.
   */
  if (r->is_socket && o->timeout) {
    struct timeval tv = { .tv_sec = o->timeout };
    setsockopt (r->ch.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  p2v_info ("delta: comparing %s with the source, %u hashing threads", o->target, o->threads);
}
