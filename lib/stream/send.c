/* p2vsend's pipeline.
 *
 * Design (the receiver in recv.c mirrors it):
 *
 *   reader ──► ring of slots ──► workers (-j N) ──► writer ──► socket
 *      │        (buffer pool)     compress + CRC     in order
 *      └──────────────────────────► digest thread (in order, raw bytes)
 *
 * The disk is cut into fixed chunks (4 MiB by default).  The reader
 * (the main thread) reads chunk seq into ring slot seq % n, in order.
 * An all-zero chunk is recognised at memcmp speed and published as done
 * with no payload; any other chunk goes to the workers, which take
 * chunks in order but finish them out of order, each compressing its
 * chunk independently (so any chunk can be decoded alone) and storing
 * it raw when compression does not pay.  The writer sends chunks
 * strictly in order; the digest thread hashes the raw bytes in order,
 * on its own core, as `tee >(sha256sum)` would but without a second
 * process or copy.  A slot is reused only when both the writer and the
 * digest released it, so memory is bounded by the ring size and a slow
 * link or receiver throttles the reader (backpressure), not RAM.
 *
 * Any thread that fails records the exit status (first error wins) and
 * aborts the ring, which wakes and stops everyone.  The main thread
 * then reports.  After the last chunk, the END record carries the
 * whole-image digest; on a socket the sender waits for the receiver's
 * RESULT, sent only after the target was fsynced and the digests
 * compared, so a zero exit means the data is verified and durable.
 *
 * Every record after the handshake (handshake.h) is sealed by the
 * writer, in order, with AES-256-GCM (crypto.h): a stored chunk is
 * encrypted from the raw buffer into the slot's spare buffer because
 * the digest thread may still be reading raw; a compressed chunk is
 * encrypted in place.
 *
 * Resume: the receiver's ACCEPT names the offset it already holds on
 * stable storage.  The reader starts there; the digest thread first
 * re-reads the source's prefix so the final digest still covers the
 * whole disk.  A dropped connection is retried (--retry, with backoff)
 * by reconnecting and going through the handshake again: each attempt
 * is a fresh session with fresh keys and a fresh pipeline.
 *
 * Delta (--delta, a warm migration's second pass): the receiver hashes
 * its target chunk by chunk and streams the hashes (HASHES records) to
 * a thread of ours that files them in a window (delta.h).  Every chunk
 * then goes to a worker, which hashes it (chunkhash.h), waits for the
 * receiver's hash of the same chunk and either marks it unchanged (the
 * writer sends a 48-byte SAME record) or compresses it as usual.  The
 * reader and the digest thread do not change: the END digest still
 * covers every byte of the source, and the receiver's covers every byte
 * of its target, kept or written, so an identical copy is proven, not
 * assumed.  There is nothing to resume: an interrupted delta pass is
 * simply run again, and costs a read of both disks.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "stream/adapt.h"
#include "stream/chunkhash.h"
#include "stream/codec.h"
#include "stream/delta.h"
#include "disk/dev.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "common/humanize.h"
#include "common/json.h"
#include "stream/net.h"
#include "stream/progress.h"
#include "stream/handshake.h"
#include "stream/ring.h"
#include "disk/salvage.h"
#include "stream/source-desc.h"
#include "stream/stream.h"
#include "stream/sum.h"
#include "common/util.h"
#include "stream/wire.h"
#include "stream/send-internal.h"

void
send_fail (struct sender *s, int status)
{
  pthread_mutex_lock (&s->lock);
  if (s->status == P2V_EXIT_OK)
    s->status = status;
  pthread_mutex_unlock (&s->lock);
  if (s->ring)
    p2v_ring_abort (s->ring);
  if (s->delta)
    p2v_delta_abort (s->delta);
}

/* The receiver explained why it stopped: its status beats our "lost
 * connection", which was only the symptom.
 */
void
send_fail_peer (struct sender *s, int status)
{
  pthread_mutex_lock (&s->lock);
  if (s->status == P2V_EXIT_OK || s->status == P2V_EXIT_NET)
    s->status = status;
  pthread_mutex_unlock (&s->lock);
  p2v_ring_abort (s->ring);
  if (s->delta)
    p2v_delta_abort (s->delta);
}

/* The link corrupted or forged a record: treat it as dropped (the
 * caller's attempt fails NET, to be retried), remembering why.
 */
void
send_fail_corrupt (struct sender *s, const char *fmt, ...)
{
  va_list ap;
  pthread_mutex_lock (&s->lock);
  if (!s->drop_why[0]) {
    va_start (ap, fmt);
    vsnprintf (s->drop_why, sizeof s->drop_why, fmt, ap);
    va_end (ap);
  }
  s->corrupted = true;
  pthread_mutex_unlock (&s->lock);
  send_fail (s, P2V_EXIT_NET);
}

/* A record from the receiver that failed to open: nothing of it is
 * believed, the link is dropped.
 */
void
send_fail_unauthentic (struct sender *s, const char *during)
{
  send_fail_corrupt (s, "a record from %s %s failed authentication (corrupted or tampered "
                "in transit)", s->peer, during);
}

/* A receiver's reason is one line: more than this (escaped) is cut. */
#define PEER_TEXT_SHOWN 1024

/* The receiver's REFUSE or RESULT, authenticated (the caller opened
 * it): its words, escaped, and its status as ours.  The one place that
 * maps a peer's status, so a value we do not know means the same
 * wherever it comes.  A RESULT saying PROTOCOL is the receiver's view
 * of a record that failed authentication (or its checks) on the way: a
 * corrupted link, retried like a dropped one.  Returns 0 only for a
 * RESULT that says the copy is verified (*res filled, for its digest);
 * -1 when the record does not parse.
 */
int
send_peer_verdict (struct sender *s, uint8_t type, const uint8_t *buf, size_t len,
              struct p2v_result *res)
{
  char esc[PEER_TEXT_SHOWN];
  const char *msg;
  size_t mlen;
  if (type == P2V_REC_REFUSE) {
    uint32_t st;
    if (p2v_unpack_refuse (buf, len, &st, &msg, &mlen) == -1)
      return -1;
    p2v_error ("receiver %s refused: %s", s->peer, p2v_escape (msg, mlen, esc, sizeof esc));
    return st == P2V_EXIT_AUTH ? P2V_EXIT_AUTH : P2V_EXIT_REFUSED;
  }
  struct p2v_result r;
  if (type != P2V_REC_RESULT || p2v_unpack_result (buf, len, &r, &msg, &mlen) == -1)
    return -1;
  if (res)
    *res = r;
  if (r.status == 0)
    return 0;
  p2v_escape (msg, mlen, esc, sizeof esc);
  if (r.status == P2V_EXIT_PROTOCOL && s->is_socket) {
    send_fail_corrupt (s, "receiver %s: %s", s->peer, esc);
    return P2V_EXIT_NET;
  }
  p2v_error ("receiver %s: %s", s->peer, esc);
  return r.status <= 127 ? (int) r.status : P2V_EXIT_IO;
}

static uint32_t
chunk_len (uint64_t size, uint32_t chunk_size, uint64_t seq)
{
  uint64_t off = seq * chunk_size;
  return size - off < chunk_size ? (uint32_t) (size - off) : chunk_size;
}

static void *
worker_thread (void *arg)
{
  struct sender *s = arg;
  struct p2v_coder *c = p2v_coder_new (s->o->codec, s->o->level);
  struct p2v_slot *slot;
  while ((slot = p2v_ring_take_work (s->ring)) != NULL) {
    struct p2v_chunk_hdr *h = &slot->hdr;
    /* blkhash: this chunk's share of the digest, hashed here in
     * parallel; the digest thread only folds it in.  Zeros need none.
     */
    if (s->blocks && !slot->zero)
      p2v_digest_blocks (s->o->digest_id, slot->raw, h->raw_len, slot->blocks);
    if (s->delta) {
      /* Hash first: a chunk the receiver holds is neither checksummed
       * nor compressed.  The hash goes to enc, unused for a SAME.
       */
      uint8_t theirs[P2V_CHUNK_HASH_LEN];
      /* A chunk the reader found zero needs no hashing (nor its bytes). */
      if (slot->zero)
        memcpy (slot->enc, p2v_zero_hash (&s->zh, h->raw_len), P2V_CHUNK_HASH_LEN);
      else if (s->zh.blocks_id)
        p2v_chunk_hash_of_blocks (&s->zh, slot->blocks, h->raw_len, slot->enc);
      else
        p2v_chunk_hash (&s->zh, slot->raw, h->raw_len, slot->enc);
      uint64_t done = atomic_fetch_add (&s->hashed, h->raw_len) + h->raw_len;
      if (done == s->src.size)
        atomic_store (&s->hash_end_ns, (uint64_t) ((p2v_now () - s->t0) * 1e9));
      if (p2v_delta_get (s->delta, slot->seq, theirs) == -1) {
        /* Aborted; or, by construction never, a chunk already settled:
         * fail loudly rather than leave the writer waiting for it.
         */
        if (!p2v_ring_aborted (s->ring)) {
          p2v_error ("internal error: the receiver's hash of chunk %llu is no longer held",
                     (unsigned long long) slot->seq);
          send_fail (s, P2V_EXIT_PROTOCOL);
        }
        break;
      }
      if (memcmp (theirs, slot->enc, P2V_CHUNK_HASH_LEN) == 0) {
        h->codec = CODEC_SAME;
        slot->enc_len = P2V_CHUNK_HASH_LEN;
        p2v_ring_work_done (s->ring, slot);
        continue;
      }
      if (h->codec == P2V_CODEC_ZERO) {
        /* The reader set its CRC; zeros need no payload. */
        p2v_ring_work_done (s->ring, slot);
        continue;
      }
    }
    h->crc = p2v_crc32 (slot->raw, h->raw_len);
    double t0 = 0;
    if (s->o->adapt) {
      int level = atomic_load (&s->level);
      p2v_coder_set_level (c, level);
      atomic_fetch_add (&s->level_chunks[level], 1);
      t0 = p2v_thread_cpu ();
    }
    long n = p2v_compress (c, slot->raw, h->raw_len, slot->enc, slot->enc_cap);
    /* CPU time, not wall: a worker preempted by the server's own work
     * did not spend that time compressing.
     */
    if (s->o->adapt)
      atomic_fetch_add (&s->compress_ns, (uint64_t) ((p2v_thread_cpu () - t0) * 1e9));
    if (n < 0) {
      p2v_error ("%s compression failed at offset %llu",
                 p2v_codec_name (s->o->codec), (unsigned long long) h->offset);
      send_fail (s, P2V_EXIT_IO);
      break;
    }
    h->codec = n > 0 ? s->o->codec : P2V_CODEC_STORED;
    slot->enc_len = n;
    p2v_ring_work_done (s->ring, slot);
  }
  p2v_coder_free (c);
  return NULL;
}

/* After a failed write the receiver may have said why it stopped (a
 * write error on the target, a record that failed authentication): show
 * its words and return its exit status, or 0 when it said nothing.
 */
static int
report_peer_reason (struct sender *s)
{
  struct pollfd p = { .fd = s->ch.fd, .events = POLLIN };
  struct p2v_record_hdr h;
  uint8_t buf[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX + P2V_TEXT_MAX];
  if (!s->is_socket)
    return 0;
  /* A delta's hash thread may be reading the socket: it reports what
   * the receiver says, and two readers would tear records apart.
   */
  pthread_mutex_lock (&s->lock);
  bool busy = s->delta && !s->hashes_done;
  pthread_mutex_unlock (&s->lock);
  if (busy || poll (&p, 1, 2000) != 1)
    return 0;
  if (p2v_chan_recv_record (&s->ch, &h, buf, sizeof buf) != 1
      || (h.type != P2V_REC_RESULT && h.type != P2V_REC_REFUSE))
    return 0;
  int st = send_peer_verdict (s, h.type, buf, h.length, NULL);
  return st > 0 ? st : 0;
}

static void
write_failed (struct sender *s, uint64_t at)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  int e = errno;
  if (s->is_socket) {
    p2v_error ("connection to %s lost at %s of %s: %s", s->peer,
               p2v_human_size (at, a), p2v_human_size (s->src.size, b), strerror (e));
    /* The receiver's reason decides the status: a target that
     * failed is not a network problem to retry (a record that failed
     * authentication is: peer_verdict).
     */
    int theirs = report_peer_reason (s);
    if (theirs) {
      send_fail (s, theirs);
      return;
    }
  }
  else
    p2v_error ("cannot write the stream to standard output at %s of %s: %s",
               p2v_human_size (at, a), p2v_human_size (s->src.size, b), strerror (e));
  send_fail (s, P2V_EXIT_NET);
}

/* The receiver gives up on a sender silent for --timeout s.  We may
 * rightly have nothing to send for longer: resuming far into a disk,
 * the digest thread re-reads the whole prefix while the ring is full.
 */
#define KEEPALIVE_SECONDS 1

static int
send_keepalive (struct sender *s)
{
  if (!s->is_socket)
    return 0;
  if (p2v_chan_send (&s->ch, P2V_REC_KEEPALIVE, NULL, 0, NULL, NULL, 0) == -1)
    return -1;
  return 0;
}

/* After the last chunk, END waits for the digest: keep the link alive. */
static void
wait_for_digest (struct sender *s)
{
  pthread_mutex_lock (&s->lock);
  while (!s->digest_done && s->status == P2V_EXIT_OK) {
    struct timespec until = p2v_monotonic_in (KEEPALIVE_SECONDS);
    if (pthread_cond_timedwait (&s->digest_cond, &s->lock, &until) == ETIMEDOUT
        && !s->digest_done) {
      pthread_mutex_unlock (&s->lock);
      if (send_keepalive (s) == -1) {
        write_failed (s, s->src.size);
        return;
      }
      pthread_mutex_lock (&s->lock);
    }
  }
  pthread_mutex_unlock (&s->lock);
}

/* --compress=auto: account for one chunk (waited for since t_wait,
 * sent since t_send) and, at the end of a window, move the level.
 */
static void
adapt_level (struct sender *s, double t_wait, double t_send)
{
  if (!s->o->adapt)
    return;
  double now = p2v_now ();
  if (p2v_adapt_chunk (&s->adapt, t_send - t_wait, now - t_send, now)) {
    double idle = p2v_cpu_idle_since (&s->adapt.cpu);
    uint64_t ns = atomic_load (&s->compress_ns);
    atomic_store (&s->level, p2v_adapt_close (&s->adapt, idle, (ns - s->compress_ns_seen) / 1e9, now));
    s->compress_ns_seen = ns;
  }
}

/* What --compress=auto chose, for the summary: "1:120 2:301 3:40". */
static void
report_levels (struct sender *s)
{
  char buf[P2V_ADAPT_MAX * 24] = "", *p = buf;
  int lo = 0, hi = 0;
  for (int l = P2V_ADAPT_MIN; l <= P2V_ADAPT_MAX; l++) {
    uint64_t n = atomic_load (&s->level_chunks[l]);
    if (!n)
      continue;
    if (!lo)
      lo = l;
    hi = l;
    p += snprintf (p, sizeof buf - (size_t) (p - buf), "%s%d:%llu", p == buf ? "" : " ", l,
                   (unsigned long long) n);
  }
  if (!lo)
    p2v_info ("zstd auto: no chunk of %s needed compressing", s->o->source);
  else
    p2v_info ("zstd auto: level %d to %d (chunks per level %s) for %s", lo, hi, buf,
              s->o->source);
}

/* --progress=json's account of the copy, for scripts: what the summary
 * lines say in words.
 */
static void
json_summary (struct sender *s, uint64_t sent, double dt)
{
  fputs ("{\"label\": ", stderr);
  p2v_json_string (stderr, s->o->source);
  fprintf (stderr, ", \"summary\": {\"read\": %llu, \"wire_bytes\": %llu, \"elapsed\": %.2f",
           (unsigned long long) sent, (unsigned long long) s->ch.tx_bytes, dt);
  if (s->o->skip_free)
    fprintf (stderr, ", \"skipped_free\": %llu", (unsigned long long) s->fsfree.skipped);
  if (s->o->adapt) {
    fputs (", \"zstd_levels\": {", stderr);
    bool first = true;
    for (int l = P2V_ADAPT_MIN; l <= P2V_ADAPT_MAX; l++) {
      uint64_t n = atomic_load (&s->level_chunks[l]);
      if (n) {
        fprintf (stderr, "%s\"%d\": %llu", first ? "" : ", ", l, (unsigned long long) n);
        first = false;
      }
    }
    fputc ('}', stderr);
  }
  fputs ("}}\n", stderr);
  fflush (stderr);
}

/* --limit-rate: wait for this record's turn, saying we are alive while
 * a slow rate holds a big chunk back.  0 to send, -1 (a keep-alive
 * failed: reported), or 1 when the pipeline stopped meanwhile.
 */
static int
pace (struct sender *s, size_t bytes, uint64_t at)
{
  double when = p2v_pacer_reserve (s->o->pacer, bytes), left;
  while ((left = when - p2v_now ()) > 0) {
    if (p2v_ring_aborted (s->ring))
      return 1;
    p2v_sleep (left < KEEPALIVE_SECONDS ? left : KEEPALIVE_SECONDS);
    if (when - p2v_now () > 0 && send_keepalive (s) == -1) {
      write_failed (s, at);
      return -1;
    }
  }
  return 0;
}

static void *
writer_thread (void *arg)
{
  struct sender *s = arg;
  uint8_t hdr[P2V_CHUNK_HDR_LEN];
  for (uint64_t seq = s->start_seq; seq < s->nchunks; seq++) {
    bool idle;
    struct p2v_slot *slot;
    double t_wait = s->o->adapt ? p2v_now () : 0;
    while (!(slot = p2v_ring_wait_for (s->ring, seq, P2V_SLOT_DONE, KEEPALIVE_SECONDS, &idle))
           && idle) {
      if (send_keepalive (s) == -1) {
        write_failed (s, seq * s->o->chunk_size);
        return NULL;
      }
    }
    if (!slot)
      break;
    double t_send = s->o->adapt ? p2v_now () : 0;
    if (s->delta) {
      /* Settled before it is sent: the receiver may answer with the
       * next hash as soon as it reads this, and the window must have
       * moved by then.
       */
      p2v_delta_settle (s->delta, seq);
      if (slot->hdr.codec == CODEC_SAME) {
        if (send_same (s, slot) == -1) {
          write_failed (s, slot->hdr.offset);
          p2v_ring_release (s->ring, slot);
          break;
        }
        p2v_ring_release (s->ring, slot);
        send_delta_progress (s, seq);
        adapt_level (s, t_wait, t_send);
        continue;
      }
      s->changed_chunks++;
      s->changed_bytes += slot->hdr.raw_len;
    }
    p2v_pack_chunk_hdr (hdr, &slot->hdr);
    bool stored = slot->hdr.codec == P2V_CODEC_STORED;
    const void *payload = stored ? slot->raw : slot->enc;
    size_t plen = stored ? slot->hdr.raw_len : slot->enc_len;
    uint64_t end = slot->hdr.offset + slot->hdr.raw_len;
    size_t record = P2V_RECORD_HDR_LEN + sizeof hdr + plen + (s->ch.tx ? P2V_TAG_LEN : 0);
    if (s->o->pacer && pace (s, record, slot->hdr.offset) != 0) {
      p2v_ring_release (s->ring, slot);
      break;
    }
    /* Sealed output goes to enc: raw may still be in the digest's hands. */
    if (p2v_chan_send (&s->ch, P2V_REC_CHUNK, hdr, sizeof hdr, payload, slot->enc, plen) == -1) {
      write_failed (s, slot->hdr.offset);
      p2v_ring_release (s->ring, slot);
      break;
    }
    p2v_ring_release (s->ring, slot);
    if (s->delta)
      send_delta_progress (s, seq);
    else
      p2v_progress_update (s->progress, end);
    adapt_level (s, t_wait, t_send);
  }
  if (s->status == P2V_EXIT_OK)
    wait_for_digest (s);
  return NULL;
}

/* A whole chunk, or with --ignore-read-errors whatever of it can be
 * read, the rest zeros (recorded in the map).  0 or -1 (printed).
 */
static int
read_chunk (struct sender *s, struct p2v_salvage *salvage, void *buf, size_t n, uint64_t off)
{
  int r;
  if (!salvage)
    r = p2v_dev_pread (&s->src, buf, n, off);
  else {
    int64_t lost = p2v_read_salvage (salvage, buf, n, off);
    if (lost > 0)
      p2v_warning ("%lld unreadable bytes in the %zu at offset %llu of %s: sent as zeros",
                   (long long) lost, n, (unsigned long long) off, s->o->source);
    r = lost < 0 ? -1 : 0;
    if (r == 0 && s->src.free)
      p2v_freemap_mask (s->src.free, buf, n, off);
  }
  /* Read once, never again: on a server still running, the whole disk
   * passing through the page cache would evict what its services need.
   */
  posix_fadvise (s->src.fd, off, n, POSIX_FADV_DONTNEED);
  return r;
}

static bool
ring_aborted (void *ring)
{
  return p2v_ring_aborted (ring);
}

static void *
digest_thread (void *arg)
{
  struct sender *s = arg;
  /* Resuming: what the receiver already holds is hashed from the source
   * again, so the digest still covers the whole disk.
   */
  uint64_t prefix = s->start_seq * s->o->chunk_size;
  if (prefix && !s->o->badmap) {
    /* blkhash on every core, while the workers wait for the ring to
     * move.  Read once, as the reader does.
     */
    struct p2v_sum_cb cb = { .stop = ring_aborted, .arg = s->ring, .drop_cache = true };
    if (p2v_sum_range (s->digest, &s->prefix_src, 0, prefix, s->o->threads, &cb) == -1
        && !p2v_ring_aborted (s->ring))
      send_fail (s, P2V_EXIT_IO);
  }
  else if (prefix) {
    uint8_t *buf = xmalloc (s->o->chunk_size);
    /* Its own salvage context and map: the reader thread owns the others. */
    struct p2v_salvage sv, *salvage = NULL;
    if (s->o->badmap && p2v_salvage_init (&sv, s->src.fd, s->o->source, &s->bad_prefix) == 0)
      salvage = &sv;
    for (uint64_t off = 0; off < prefix && !p2v_ring_aborted (s->ring); off += s->o->chunk_size) {
      if (read_chunk (s, salvage, buf, s->o->chunk_size, off) == -1) {
        send_fail (s, P2V_EXIT_IO);
        break;
      }
      p2v_digest_update (s->digest, buf, s->o->chunk_size);
    }
    if (salvage)
      p2v_salvage_close (salvage);
    free (buf);
  }
  for (uint64_t seq = s->start_seq; seq < s->nchunks; seq++) {
    /* blkhash needs the worker's block digests (DONE); a plain digest
     * reads the raw bytes as soon as they are read (FILLED).
     */
    struct p2v_slot *slot = p2v_ring_wait (s->ring, seq, s->blocks ? P2V_SLOT_DONE : P2V_SLOT_FILLED);
    if (!slot)
      break;
    /* Not the codec: a delta's worker may be changing it right now. */
    p2v_digest_add_chunk (s->digest, slot->zero, s->blocks ? slot->blocks : NULL,
                          slot->raw, slot->hdr.raw_len);
    p2v_ring_release (s->ring, slot);
  }
  pthread_mutex_lock (&s->lock);
  s->digest_done = true;
  pthread_cond_broadcast (&s->digest_cond);
  pthread_mutex_unlock (&s->lock);
  return NULL;
}

/* The reader: runs on the calling thread. */
static void
read_source (struct sender *s)
{
  uint32_t cs = s->o->chunk_size;
  struct p2v_salvage sv, *salvage = NULL;
  if (s->o->badmap && p2v_salvage_init (&sv, s->src.fd, s->o->source, &s->bad) == 0)
    salvage = &sv;
  /* A retry may come minutes later: holes seen then may hold data now. */
  s->src.hole_from = s->src.hole_end = 0;
  for (uint64_t seq = s->start_seq; seq < s->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_acquire (s->ring, seq);
    if (!slot)
      break;
    struct p2v_chunk_hdr *h = &slot->hdr;
    h->disk = s->o->disk;
    h->offset = seq * cs;
    h->raw_len = chunk_len (s->src.size, cs, seq);
    /* A hole of a sparse image reads as zeros: no need to read it. */
    bool zero = (!salvage || s->src.free) && p2v_source_is_hole (&s->src, h->offset, h->raw_len);
    if (!zero && read_chunk (s, salvage, slot->raw, h->raw_len, h->offset) == -1) {
      send_fail (s, P2V_EXIT_IO);
      break;
    }
    zero = zero || p2v_is_zero (slot->raw, h->raw_len);
    slot->zero = zero;
    if (zero) {
      h->codec = P2V_CODEC_ZERO;
      h->crc = h->raw_len == cs ? s->zero_crc_full : s->zero_crc_last;
      slot->enc_len = 0;
    }
    else
      h->codec = P2V_CODEC_STORED;   /* not a stale mark from the slot's last chunk */
    /* In a delta even zeros go to a worker, to be compared. */
    p2v_ring_publish (s->ring, slot, 2, !zero || s->delta);
  }
  p2v_ring_finish (s->ring);
  if (salvage)
    p2v_salvage_close (salvage);
}

static int
send_header (struct sender *s)
{
  struct p2v_source_desc desc;
  p2v_desc_probe (s->o->source, s->src.fd, s->src.size, &desc);
  desc.fingerprint = xstrdup (s->fingerprint);
  if (s->o->skip_free)
    desc.skipped_free = p2v_fsfree_summary (&s->fsfree);
  size_t tlen;
  char *text = p2v_desc_encode (&desc, &tlen);
  p2v_desc_free (&desc);

  struct p2v_source_hdr sh = {
    .disk = s->o->disk, .size = s->src.size, .chunk_size = s->o->chunk_size,
    .digest_id = (uint8_t) s->o->digest_id, .ndisks = (uint16_t) s->o->ndisks,
    .flags = s->o->delta ? P2V_SOURCE_DELTA : 0,
  };
  uint8_t fixed[P2V_SOURCE_FIXED_LEN];
  p2v_pack_source (fixed, &sh);
  int r = 0;
  if (p2v_chan_send (&s->ch, P2V_REC_SOURCE, fixed, sizeof fixed, text, text, tlen) == -1) {
    write_failed (s, 0);
    r = -1;
  }
  free (text);
  return r;
}

/* Wait for ACCEPT or REFUSE.  Returns 0 to go on, else an exit status. */
static int
await_accept (struct sender *s)
{
  struct p2v_record_hdr h;
  uint8_t buf[P2V_TEXT_MAX];
  if (p2v_chan_recv_hdr (&s->ch, &h) != 1) {
    int e = errno;
    if (e == EBADMSG) {
      send_fail_unauthentic (s, "before it accepted the stream");
      return P2V_EXIT_NET;
    }
    if (e == ETIMEDOUT)
      p2v_error ("%s did not answer the stream's header within %u s (p2vsend --timeout)",
                 s->peer, s->o->timeout);
    else
      p2v_error ("%s closed the connection before accepting the stream%s%s", s->peer,
                 e ? ": " : "", e ? strerror (e) : "");
    return P2V_EXIT_NET;
  }
  /* Read before the tag is checked: only a plain REFUSE is looked at
   * unopened, and then it is the handshake's answer (see below).
   */
  bool plain = s->ch.rx && !s->ch.cur_sealed;
  if (h.length > sizeof buf || p2v_chan_recv (&s->ch, buf, h.length) == -1
      || p2v_chan_recv_end (&s->ch) == -1) {
    if (errno == EBADMSG) {
      send_fail_unauthentic (s, "before it accepted the stream");
      return P2V_EXIT_NET;
    }
    p2v_error ("%s sent a malformed reply", s->peer);
    return errno == ETIMEDOUT || errno == 0 ? P2V_EXIT_NET : P2V_EXIT_PROTOCOL;
  }
  if (h.type == P2V_REC_REFUSE && plain && s->accepted_once) {
    /* Anyone on the path can write a plain REFUSE.  On the first
     * connection it is the receiver's answer to a wrong key, and worth
     * ending on; once a receiver accepted our proof, a reconnection's
     * plain REFUSE is more likely forged than a changed key, and is
     * one failed attempt: --retry runs out if it was the truth.
     */
    char esc[PEER_TEXT_SHOWN];
    send_fail_corrupt (s, "receiver %s refused the reconnection without authenticating it: %s",
                  s->peer, p2v_escape (buf + (h.length >= 4 ? 4 : 0),
                                       h.length >= 4 ? h.length - 4 : h.length, esc, sizeof esc));
    return P2V_EXIT_NET;
  }
  if (h.type == P2V_REC_REFUSE || h.type == P2V_REC_RESULT) {
    int st = send_peer_verdict (s, h.type, buf, h.length, NULL);
    if (st > 0)
      return st;
  }
  struct p2v_accept a;
  if (h.type != P2V_REC_ACCEPT || h.length != P2V_ACCEPT_LEN) {
    p2v_error ("%s sent an unexpected reply (record type %u)", s->peer, h.type);
    return P2V_EXIT_PROTOCOL;
  }
  p2v_unpack_accept (buf, &a);
  if (a.disk != s->o->disk) {
    p2v_error ("%s accepted disk %u, not %u", s->peer, a.disk + 1, s->o->disk + 1);
    return P2V_EXIT_PROTOCOL;
  }
  if (a.start_offset % s->o->chunk_size != 0 || a.start_offset > s->src.size) {
    p2v_error ("%s asked to resume at %llu, which is not a chunk boundary of this disk",
               s->peer, (unsigned long long) a.start_offset);
    return P2V_EXIT_PROTOCOL;
  }
  if (s->o->delta && a.start_offset != 0) {
    p2v_error ("%s asked to resume a delta transfer at %llu; a delta always compares the "
               "whole disk", s->peer, (unsigned long long) a.start_offset);
    return P2V_EXIT_PROTOCOL;
  }
  s->start_seq = a.start_offset / s->o->chunk_size;
  s->accepted_once = true;
  char at[P2V_HUMAN_LEN], of[P2V_HUMAN_LEN];
  if (a.start_offset)
    p2v_info ("resuming at %s of %s (%s): the receiver holds everything before it on "
              "stable storage", p2v_human_size (a.start_offset, at),
              p2v_human_size (s->src.size, of), s->o->source);
  else if (s->o->resume) {
    p2v_error ("--resume: %s has no partial copy of this disk to continue", s->peer);
    return P2V_EXIT_REFUSED;
  }
  return 0;
}

/* After END: the receiver's verdict. */
static int
await_result (struct sender *s, const char *hex)
{
  struct p2v_record_hdr h;
  uint8_t buf[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX + P2V_TEXT_MAX];
  struct p2v_result res;
  /* The receiver answers once the target is durable and its digest
   * done.  Its last checkpoint (every 256 MiB) bounds the flush; a
   * resumed session also re-reads the prefix it holds, started with the
   * stream but maybe not finished, allowed for at 32 MiB/s.  A silent
   * peer past that is dead, not busy.
   */
  double t_end = p2v_now ();
  s->ch.record_timeout = 0;
  s->ch.deadline = s->o->timeout
    ? t_end + s->o->timeout + (double) (s->start_seq * s->o->chunk_size) / (32 << 20) : 0;
  int r = p2v_chan_recv_hdr (&s->ch, &h);
  if (r != 1) {
    if (errno == EBADMSG) {
      send_fail_unauthentic (s, "in place of its verdict");
      return P2V_EXIT_NET;
    }
    if (errno == ETIMEDOUT)
      p2v_error ("%s sent no verdict within %.0f s of the end of the stream (p2vsend "
                 "--timeout); the target may be incomplete", s->peer, p2v_now () - t_end);
    else
      p2v_error ("%s closed the connection before confirming the copy; "
                 "the target may be incomplete", s->peer);
    return P2V_EXIT_NET;
  }
  if (h.length > sizeof buf || p2v_chan_recv (&s->ch, buf, h.length) == -1
      || p2v_chan_recv_end (&s->ch) == -1) {
    if (errno == EBADMSG) {
      send_fail_unauthentic (s, "in place of its verdict");
      return P2V_EXIT_NET;
    }
    p2v_error ("%s sent a malformed result", s->peer);
    return P2V_EXIT_PROTOCOL;
  }
  int st = send_peer_verdict (s, h.type, buf, h.length, &res);
  if (st == -1) {
    p2v_error ("%s sent a malformed result", s->peer);
    return P2V_EXIT_PROTOCOL;
  }
  if (st)
    return st;
  char theirs[P2V_DIGEST_HEX_MAX];
  p2v_hex (res.digest, res.digest_len, theirs);
  if (strcmp (theirs, hex) != 0) {
    p2v_error ("receiver %s wrote %s %s, but the source is %s",
               s->peer, p2v_digest_name (s->o->digest_id), theirs, hex);
    return P2V_EXIT_MISMATCH;
  }
  p2v_info ("receiver %s verified the copy of %s: identical (%s)", s->peer,
            s->o->source, p2v_digest_name (s->o->digest_id));
  return 0;
}

unsigned
p2v_default_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > P2V_THREADS_MAX ? P2V_THREADS_MAX : (unsigned) n;
}

unsigned
p2v_ring_slots (unsigned threads)
{
  return 2 * threads + 2;
}

/* The unreadable areas, merged from the reader and the prefix re-read,
 * in the final report and the map file.
 */
static int
report_bad_sectors (struct sender *s)
{
  char line[4096];
  for (size_t i = 0; i < s->bad_prefix.n; i++)
    p2v_badmap_add (&s->bad, s->bad_prefix.r[i].offset, s->bad_prefix.r[i].length);
  if (s->bad.n)
    p2v_warning ("%s", p2v_badmap_summary (&s->bad, 10, line, sizeof line));
  else
    p2v_info ("no unreadable sectors");
  if (p2v_badmap_write (&s->bad, s->o->badmap, s->o->source, s->src.size) == -1)
    return -1;
  p2v_info ("bad-sector map: %s", s->o->badmap);
  return 0;
}

/* Per-attempt state starts afresh: a retry after a dropped link must
 * not inherit counts or a failure from the attempt before.
 */
static void
attempt_reset (struct sender *s)
{
  s->status = P2V_EXIT_OK;
  s->start_seq = 0;
  s->ch.tx_bytes = s->ch.rx_bytes = 0;
  s->digest_done = false;
  s->hashes_done = false;
  atomic_store (&s->hashed, 0);
  atomic_store (&s->hash_end_ns, 0);
  s->same_chunks = s->changed_chunks = s->changed_bytes = 0;
  for (int l = 0; l <= P2V_ADAPT_MAX; l++)
    atomic_store (&s->level_chunks[l], 0);
  p2v_badmap_free (&s->bad);
  p2v_badmap_free (&s->bad_prefix);
  p2v_badmap_init (&s->bad);
  p2v_badmap_init (&s->bad_prefix);
}

/* Connect, handshake, describe the source and wait for ACCEPT, which
 * says where to start.  0 to go on, else an exit status.
 */
static int
session_open (struct sender *s)
{
  const struct p2v_send_opts *o = s->o;
  if (o->to_stdout)
    s->ch.fd = STDOUT_FILENO;
  else if ((s->ch.fd = p2v_connect (o->host, o->port)) == -1)
    return P2V_EXIT_NET;
  /* Why the last connection dropped is kept until a new one stands: a
   * retry that cannot even connect still ends saying it.
   */
  s->drop_why[0] = '\0';
  /* A peer (or relay) that is alive but silent must not hold us: the
   * handshake has --timeout s in all, every later record as long, and
   * a send blocked on a peer that stopped reading fails as late.
   */
  s->ch.deadline = o->timeout && s->is_socket ? p2v_now () + o->timeout : 0;
  s->ch.record_timeout = 0;
  s->ch.plain_refuse_ok = false;
  if (s->is_socket && o->timeout) {
    struct timeval tv = { .tv_sec = o->timeout };
    setsockopt (s->ch.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  /* The ring exists before anything can call fail(). */
  s->ring = p2v_ring_new (p2v_ring_slots (o->threads), o->chunk_size,
                          p2v_codec_bound (o->codec, o->chunk_size));
  int status = p2v_handshake_sender (&s->ch, s->is_socket, o->key ? &s->keys : NULL,
                                     o->encrypt, s->peer);
  if (status)
    return status;
  if (s->is_socket)
    s->ch.record_timeout = o->timeout;
  if (!o->key) {
    /* Keyless: the receiver refuses; show its words. */
    status = await_accept (s);
    return status ? status : P2V_EXIT_PROTOCOL;
  }
  /* SAME is mandatory: a 1.0 receiver would stop at the first one. */
  if (o->delta && s->ch.peer_minor < P2V_VERSION_MINOR_DELTA) {
    p2v_error ("receiver %s speaks p2vstream %u.%u, which has no delta transfers: "
               "upgrade its p2vrecv, or send without --delta", s->peer,
               P2V_VERSION_MAJOR, s->ch.peer_minor);
    return P2V_EXIT_REFUSED;
  }
  if (send_header (s) == -1)
    return s->status;
  return s->is_socket ? await_accept (s) : 0;
}

/* The pipeline of the file's top comment, from the chunk ACCEPT named
 * to the last: started, fed by read_source, joined.  0, or the status
 * of the thread that failed first.
 */
static int
pipeline_run (struct sender *s)
{
  const struct p2v_send_opts *o = s->o;
  char sz[P2V_HUMAN_LEN];
  p2v_info ("%s %s (%s) to %s, %s, %u threads, %s", o->delta ? "comparing and sending" : "sending",
            o->source, p2v_human_size (s->src.size, sz), s->is_socket ? s->peer : "standard output",
            o->adapt ? "zstd auto" : p2v_codec_name (o->codec), o->threads,
            o->encrypt ? "encrypted" : "authenticated, not encrypted");

  s->digest = p2v_digest_new (o->digest_id);
  if (!s->digest)
    return P2V_EXIT_USAGE;
  p2v_ring_start_at (s->ring, s->start_seq);
  if (o->adapt) {
    p2v_adapt_init (&s->adapt, P2V_ADAPT_MIN, P2V_ADAPT_MAX, atomic_load (&s->level),
                    p2v_ring_slots (o->threads), p2v_now ());
    s->compress_ns_seen = atomic_load (&s->compress_ns);
  }
  s->progress = o->progress_group
    ? p2v_progress_new_in (o->progress_group, o->disk, o->source, s->src.size)
    : p2v_progress_new (o->progress_mode, o->source, s->src.size);
  s->t0 = p2v_now ();

  pthread_t workers[P2V_THREADS_MAX], writer, hasher, hashes;
  bool hashes_started = false;
  s->blocks = p2v_digest_is_blocks (o->digest_id);
  if (o->delta) {
    s->delta = p2v_delta_new (s->nchunks, o->chunk_size);
    uint64_t last = s->nchunks ? s->src.size - (s->nchunks - 1) * o->chunk_size : o->chunk_size;
    p2v_zero_hashes_init (&s->zh, o->chunk_size, (uint32_t) last, o->digest_id);
  }
  s->prefix_src = s->src;
  s->prefix_src.hole_from = s->prefix_src.hole_end = 0;
  for (unsigned i = 0; i < o->threads; i++)
    xthread_create (&workers[i], worker_thread, s);
  xthread_create (&writer, writer_thread, s);
  xthread_create (&hasher, digest_thread, s);
  /* Last, so bench/run's thread labels (creation order) still hold. */
  if (s->delta && s->nchunks) {
    xthread_create (&hashes, send_hash_thread, s);
    hashes_started = true;
  }
  read_source (s);
  pthread_join (writer, NULL);
  pthread_join (hasher, NULL);
  for (unsigned i = 0; i < o->threads; i++)
    pthread_join (workers[i], NULL);
  if (hashes_started) {
    /* After a failure the hash thread may wait on a receiver that has
     * nothing more to say: cut the connection under it.  On success it
     * has already read every hash (each chunk needed one) and ended.
     */
    if (s->status)
      shutdown (s->ch.fd, SHUT_RDWR);
    pthread_join (hashes, NULL);
  }
  return s->status;
}

/* --skip-free: what the filesystems leave free reads as zeros from now
 * on, for the reader, the digests and a resume's prefix alike.  One
 * disk at a time: libparted is not thread-safe.
 */
static pthread_mutex_t parted_lock = PTHREAD_MUTEX_INITIALIZER;

static void
skip_free_scan (struct sender *s)
{
  pthread_mutex_lock (&parted_lock);
  p2v_fsfree_scan (s->o->source, s->src.fd, s->src.size, &s->fsfree);
  p2v_fsfree_report (&s->fsfree, s->o->source);
  pthread_mutex_unlock (&parted_lock);
  if (s->fsfree.skipped)
    s->src.free = &s->fsfree.map;
}

/* Before END: a filesystem mounted or written during the copy may have
 * put data where zeros were sent.  Then the copy must not be called
 * good: no END, an error, exit status 2.
 */
static int
skip_free_recheck (struct sender *s)
{
  if (!s->fsfree.skipped)
    return 0;
  char what[512];
  pthread_mutex_lock (&parted_lock);
  int r = p2v_fsfree_recheck (s->o->source, s->src.fd, s->src.size, &s->fsfree, what,
                              sizeof what);
  pthread_mutex_unlock (&parted_lock);
  if (r == 0)
    return 0;
  p2v_error ("--skip-free: %s changed during the copy (%s); the copy is not good and was not "
             "finished: unmount it and run both commands again (p2vrecv asks for its resume "
             "state to be removed first)", s->o->source, what);
  return P2V_EXIT_IO;
}

/* END with our digest, the summary, the files asked for, and the
 * receiver's verdict.  An exit status.
 */
static int
session_report (struct sender *s)
{
  const struct p2v_send_opts *o = s->o;
  int status = o->skip_free ? skip_free_recheck (s) : P2V_EXIT_OK;
  if (status)
    return status;
  struct p2v_end e = { .disk = o->disk, .total = s->src.size,
                       .digest_len = (uint8_t) p2v_digest_size (o->digest_id) };
  p2v_digest_final (s->digest, e.digest);
  char hex[P2V_DIGEST_HEX_MAX];
  p2v_hex (e.digest, e.digest_len, hex);
  /* The digest's and the summary's JSON lines before "done": scripts
   * stop reading at it.  The summary counts END's bytes, so it follows
   * END; a failed END therefore never reports "done".
   */
  p2v_progress_digest (o->progress_mode, o->source, p2v_digest_name (o->digest_id), hex);
  uint8_t buf[P2V_END_FIXED_LEN + P2V_DIGEST_MAX];
  size_t n = p2v_pack_end (buf, &e);
  if (p2v_chan_send (&s->ch, P2V_REC_END, buf, n, NULL, NULL, 0) == -1) {
    write_failed (s, s->src.size);
    return s->status;
  }

  double dt = p2v_now () - s->t0;
  char sz[P2V_HUMAN_LEN], w[P2V_HUMAN_LEN], el[P2V_HUMAN_LEN];
  uint64_t sent = s->src.size - s->start_seq * o->chunk_size;
  if (o->progress_mode == P2V_PROGRESS_JSON)
    json_summary (s, sent, dt);
  if (o->delta)
    send_delta_summary (s);
  p2v_progress_finish (s->progress, s->src.size);
  p2v_info ("read %s in %s; %s on the wire (%.1f%% of what was sent)",
            p2v_human_size (sent, sz), p2v_human_duration (dt, el),
            p2v_human_size (s->ch.tx_bytes, w), sent ? 100.0 * s->ch.tx_bytes / sent : 100.0);
  if (o->skip_free)
    p2v_info ("--skip-free: %s free in the filesystems of %s sent as zeros, not read",
              p2v_human_size (s->fsfree.skipped, sz), o->source);
  if (o->adapt)
    report_levels (s);
  p2v_info ("%s %s  %s", p2v_digest_name (o->digest_id), hex, o->source);
  if (o->badmap && report_bad_sectors (s) == -1)
    status = P2V_EXIT_IO;
  if (o->digest_file && p2v_digest_file_write (o->digest_file, o->digest_id, hex, o->source) == -1)
    status = P2V_EXIT_IO;
  if (s->is_socket) {
    int r = await_result (s, hex);
    if (r)
      status = r;
  }
  return status;
}

/* What one attempt owns goes with it; the source stays open for the
 * next.
 */
static void
attempt_release (struct sender *s)
{
  p2v_progress_free (s->progress);
  s->progress = NULL;
  p2v_digest_free (s->digest);
  s->digest = NULL;
  p2v_ring_free (s->ring);
  s->ring = NULL;
  p2v_delta_free (s->delta);
  s->delta = NULL;
  p2v_aead_free (s->ch.tx);
  p2v_aead_free (s->ch.rx);
  s->ch.tx = s->ch.rx = NULL;
  if (s->is_socket && s->ch.fd >= 0)
    close (s->ch.fd);
  s->ch.fd = -1;
}

/* One session: connect, handshake, stream from wherever the receiver
 * says, and wait for its verdict.  Returns an exit status; a thread's
 * failure wins over what the phase saw.
 */
static int
attempt (struct sender *s)
{
  attempt_reset (s);
  int status = session_open (s);
  if (status == 0)
    status = pipeline_run (s);
  if (status == 0)
    status = session_report (s);
  if (s->status)
    status = s->status;
  attempt_release (s);
  return status;
}

/* SHA-256 of the first chunk: tells a resume state which disk it is. */
static int
fingerprint (struct sender *s)
{
  uint32_t n = s->src.size < s->o->chunk_size ? (uint32_t) s->src.size : s->o->chunk_size;
  uint8_t *buf = xmalloc (n ? n : 1), md[P2V_DIGEST_MAX];
  /* A dying disk may fail here already; the reader reports it later. */
  struct p2v_badmap scratch;
  struct p2v_salvage sv;
  p2v_badmap_init (&scratch);
  bool salvage = s->o->badmap && p2v_salvage_init (&sv, s->src.fd, s->o->source, &scratch) == 0;
  int r = salvage ? (p2v_read_salvage (&sv, buf, n, 0) < 0 ? -1 : 0)
                  : p2v_dev_pread (&s->src, buf, n, 0);
  if (salvage)
    p2v_salvage_close (&sv);
  p2v_badmap_free (&scratch);
  if (r == 0) {
    struct p2v_digest *d = p2v_digest_new (P2V_DIGEST_SHA256);
    p2v_digest_update (d, buf, n);
    /* A copy made with free blocks as zeros is another copy: a resume
     * must not continue one with the other.
     */
    if (s->o->skip_free) {
      p2v_digest_update (d, "p2vsend --skip-free", 19);
      /* ...and one whose filesystems changed between two runs. */
      for (size_t i = 0; i < s->fsfree.map.n; i++) {
        uint8_t le[16];
        for (int k = 0; k < 8; k++) {
          le[k] = (uint8_t) (s->fsfree.map.v[i].off >> (8 * k));
          le[8 + k] = (uint8_t) (s->fsfree.map.v[i].len >> (8 * k));
        }
        p2v_digest_update (d, le, sizeof le);
      }
    }
    p2v_digest_final (d, md);
    p2v_digest_free (d);
    p2v_hex (md, 32, s->fingerprint);
  }
  free (buf);
  return r;
}

static int
send_disk (const struct p2v_send_opts *o)
{
  struct sender s = { .o = o, .ch = { .fd = -1 } };
  atomic_init (&s.level, P2V_ADAPT_START);
  pthread_mutex_init (&s.lock, NULL);
  p2v_cond_init_monotonic (&s.digest_cond);
  signal (SIGPIPE, SIG_IGN);

  if (o->to_stdout && isatty (STDOUT_FILENO)) {
    p2v_error ("--stdout: standard output is a terminal; redirect it to a file or pipe");
    return P2V_EXIT_USAGE;
  }
  if (o->to_stdout && !o->key) {
    p2v_error ("--stdout needs a key (--key, --key-file or P2V_KEY): give the same key "
               "to p2vrecv --stdin");
    return P2V_EXIT_USAGE;
  }
  if (o->key && p2v_keys_derive (o->key, &s.keys) == -1)
    return P2V_EXIT_IO;
  if (p2v_source_open (o->source, &s.src) == -1)
    return P2V_EXIT_IO;
  int busy = p2v_source_in_use (&s.src, o->force);
  if (busy) {
    p2v_dev_close (&s.src);
    return busy;
  }
  p2v_badmap_init (&s.bad);
  p2v_badmap_init (&s.bad_prefix);
  if (o->skip_free)
    skip_free_scan (&s);
  if (fingerprint (&s) == -1) {
    p2v_fsfree_free (&s.fsfree);
    p2v_dev_close (&s.src);
    return P2V_EXIT_IO;
  }
  s.nchunks = (s.src.size + o->chunk_size - 1) / o->chunk_size;
  s.zeros = xcalloc (1, o->chunk_size);
  s.zero_crc_full = p2v_crc32 (s.zeros, o->chunk_size);
  s.zero_crc_last = p2v_crc32 (s.zeros, chunk_len (s.src.size, o->chunk_size,
                                                                s.nchunks ? s.nchunks - 1 : 0));
  if (!o->to_stdout) {
    const char *lb = strchr (o->host, ':') ? "[" : "", *rb = *lb ? "]" : "";
    snprintf (s.peer, sizeof s.peer, "%s%s%s:%s", lb, o->host, rb, o->port);
    s.is_socket = true;
  }

  int status;
  for (unsigned tries = 0;; tries++) {
    status = attempt (&s);
    /* Only a lost connection is worth another try: the receiver keeps
     * what it made durable, so the next session resumes.  A first
     * connection that fails is more likely a wrong address: say so now
     * (unless it reached a receiver and a record of it was damaged).
     */
    if (status != P2V_EXIT_NET || !s.is_socket || !(s.accepted_once || s.corrupted))
      break;
    if (tries >= o->retry) {
      /* A link that corrupts records ends as a corrupted record always
       * did, once the tries are spent.
       */
      if (s.drop_why[0])
        p2v_error ("%s; no tries left", s.drop_why);
      if (s.corrupted)
        status = P2V_EXIT_PROTOCOL;
      break;
    }
    unsigned wait = tries < 5 ? 1u << tries : 30;
    if (s.drop_why[0])
      p2v_warning ("%s; reconnecting, %u %s left", s.drop_why, o->retry - tries,
                   o->retry - tries == 1 ? "try" : "tries");
    p2v_info ("retrying in %u s (attempt %u of %u)", wait, tries + 2, o->retry + 1);
    sleep (wait);
  }

  free (s.zeros);
  p2v_fsfree_free (&s.fsfree);
  p2v_badmap_free (&s.bad);
  p2v_badmap_free (&s.bad_prefix);
  p2v_dev_close (&s.src);
  pthread_cond_destroy (&s.digest_cond);
  pthread_mutex_destroy (&s.lock);
  return status;
}

struct disk_job {
  const struct p2v_send_opts *o;
  int status;
};

static void *
disk_thread (void *arg)
{
  struct disk_job *j = arg;
  j->status = send_disk (j->o);
  if (j->status && j->o->progress_group)
    p2v_progress_group_fail (j->o->progress_group, j->o->disk);
  return NULL;
}

/* Several disks: one thread per disk, each its own connection, retries
 * and verdict, so a disk that fails leaves the others' copies alone.
 */
int
p2v_send (const struct p2v_send_opts *o, unsigned n, int *status)
{
  if (n == 1) {
    status[0] = send_disk (&o[0]);
    return status[0];
  }
  struct disk_job jobs[P2V_DISKS_MAX];
  pthread_t th[P2V_DISKS_MAX];
  for (unsigned i = 0; i < n; i++) {
    jobs[i] = (struct disk_job) { .o = &o[i] };
    xthread_create (&th[i], disk_thread, &jobs[i]);
  }
  for (unsigned i = 0; i < n; i++) {
    pthread_join (th[i], NULL);
    status[i] = jobs[i].status;
  }
  for (unsigned i = 0; i < n; i++) {
    if (status[i])
      p2v_error ("disk %u, %s: failed (exit status %d)", i + 1, o[i].source, status[i]);
    else
      p2v_info ("disk %u, %s: verified", i + 1, o[i].source);
  }
  return p2v_exit_for_disks (status, n);
}
