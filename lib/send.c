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
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "codec.h"
#include "dev.h"
#include "digest.h"
#include "format.h"
#include "humanize.h"
#include "manifest.h"
#include "net.h"
#include "progress.h"
#include "ring.h"
#include "source-desc.h"
#include "stream.h"
#include "util.h"
#include "wire.h"

struct sender {
  const struct p2v_send_opts *o;
  struct p2v_dev src;
  int out;
  bool is_socket;
  char peer[300];
  struct p2v_ring *ring;
  uint64_t nchunks;
  uint32_t zero_crc_full, zero_crc_last;
  struct p2v_digest *digest;
  struct p2v_progress *progress;
  uint64_t wire_bytes;          /* writer thread only */
  pthread_mutex_t lock;
  int status;                   /* first failure's exit status */
};

static void
fail (struct sender *s, int status)
{
  pthread_mutex_lock (&s->lock);
  if (s->status == P2V_EXIT_OK)
    s->status = status;
  pthread_mutex_unlock (&s->lock);
  p2v_ring_abort (s->ring);
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
    h->crc = (uint32_t) crc32_z (0, slot->raw, h->raw_len);
    long n = p2v_compress (c, slot->raw, h->raw_len, slot->enc, slot->enc_cap);
    if (n < 0) {
      p2v_error ("%s compression failed at offset %llu",
                 p2v_codec_name (s->o->codec), (unsigned long long) h->offset);
      fail (s, P2V_EXIT_IO);
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
 * write error on the target, say): show its words, not just EPIPE.
 */
static void
report_peer_reason (struct sender *s)
{
  struct pollfd p = { .fd = s->out, .events = POLLIN };
  struct p2v_record_hdr h;
  uint8_t buf[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX + 512];
  if (!s->is_socket || poll (&p, 1, 2000) != 1)
    return;
  if (p2v_wire_recv_hdr (s->out, &h) != 1 || h.length > sizeof buf
      || (h.type != P2V_REC_RESULT && h.type != P2V_REC_REFUSE)
      || p2v_wire_recv (s->out, buf, h.length) == -1)
    return;
  struct p2v_result r;
  const char *msg;
  size_t len;
  if (h.type == P2V_REC_RESULT && p2v_unpack_result (buf, h.length, &r, &msg, &len) == 0)
    p2v_error ("receiver %s: %.*s", s->peer, (int) len, msg);
  else if (h.type == P2V_REC_REFUSE && h.length >= 4)
    p2v_error ("receiver %s: %.*s", s->peer, (int) h.length - 4, (const char *) buf + 4);
}

static void
write_failed (struct sender *s, uint64_t at)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  int e = errno;
  if (s->is_socket) {
    p2v_error ("connection to %s lost at %s of %s: %s", s->peer,
               p2v_human_size (at, a), p2v_human_size (s->src.size, b), strerror (e));
    report_peer_reason (s);
  }
  else
    p2v_error ("cannot write the stream to standard output at %s of %s: %s",
               p2v_human_size (at, a), p2v_human_size (s->src.size, b), strerror (e));
  fail (s, P2V_EXIT_NET);
}

static void *
writer_thread (void *arg)
{
  struct sender *s = arg;
  uint8_t hdr[P2V_CHUNK_HDR_LEN];
  for (uint64_t seq = 0; seq < s->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (s->ring, seq, P2V_SLOT_DONE);
    if (!slot)
      break;
    p2v_pack_chunk_hdr (hdr, &slot->hdr);
    const void *payload = slot->hdr.codec == P2V_CODEC_STORED ? slot->raw : slot->enc;
    size_t plen = slot->hdr.codec == P2V_CODEC_STORED ? slot->hdr.raw_len : slot->enc_len;
    uint64_t end = slot->hdr.offset + slot->hdr.raw_len;
    if (p2v_wire_send (s->out, P2V_REC_CHUNK, hdr, sizeof hdr, payload, plen) == -1) {
      write_failed (s, slot->hdr.offset);
      p2v_ring_release (s->ring, slot);
      break;
    }
    s->wire_bytes += P2V_RECORD_HDR_LEN + sizeof hdr + plen;
    p2v_ring_release (s->ring, slot);
    p2v_progress_update (s->progress, end);
  }
  return NULL;
}

static void *
digest_thread (void *arg)
{
  struct sender *s = arg;
  for (uint64_t seq = 0; seq < s->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (s->ring, seq, P2V_SLOT_FILLED);
    if (!slot)
      break;
    p2v_digest_update (s->digest, slot->raw, slot->hdr.raw_len);
    p2v_ring_release (s->ring, slot);
  }
  return NULL;
}

/* The reader: runs on the calling thread. */
static void
read_source (struct sender *s)
{
  uint32_t cs = s->o->chunk_size;
  for (uint64_t seq = 0; seq < s->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_acquire (s->ring, seq);
    if (!slot)
      break;
    struct p2v_chunk_hdr *h = &slot->hdr;
    h->disk = 0;
    h->offset = seq * cs;
    h->raw_len = chunk_len (s->src.size, cs, seq);
    if (p2v_dev_pread (&s->src, slot->raw, h->raw_len, h->offset) == -1) {
      fail (s, P2V_EXIT_IO);
      break;
    }
    bool zero = p2v_is_zero (slot->raw, h->raw_len);
    if (zero) {
      h->codec = P2V_CODEC_ZERO;
      h->crc = h->raw_len == cs ? s->zero_crc_full : s->zero_crc_last;
      slot->enc_len = 0;
    }
    p2v_ring_publish (s->ring, slot, 2, !zero);
  }
  p2v_ring_finish (s->ring);
}

static int
send_header (struct sender *s)
{
  struct p2v_source_desc desc;
  p2v_desc_probe (s->o->source, s->src.fd, s->src.size, &desc);
  size_t tlen;
  char *text = p2v_desc_encode (&desc, &tlen);
  p2v_desc_free (&desc);

  struct p2v_source_hdr sh = {
    .disk = 0, .size = s->src.size, .chunk_size = s->o->chunk_size,
    .digest_id = (uint8_t) s->o->digest_id,
  };
  uint8_t fixed[P2V_SOURCE_FIXED_LEN];
  p2v_pack_source (fixed, &sh);
  int r = 0;
  if (p2v_wire_send_preamble (s->out) == -1
      || p2v_wire_send (s->out, P2V_REC_SOURCE, fixed, sizeof fixed, text, tlen) == -1) {
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
  struct p2v_preamble pre;
  struct p2v_record_hdr h;
  uint8_t buf[P2V_TEXT_MAX];
  int r = p2v_wire_recv_preamble (s->out, &pre);
  if (r == -1 || (r == 0 && p2v_wire_recv_hdr (s->out, &h) != 1)) {
    p2v_error ("%s closed the connection before accepting the stream%s%s", s->peer,
               errno ? ": " : "", errno ? strerror (errno) : "");
    return P2V_EXIT_NET;
  }
  if (r < 0) {
    p2v_error ("%s is not a p2vrecv (or speaks an incompatible version)", s->peer);
    return P2V_EXIT_PROTOCOL;
  }
  if (h.length > sizeof buf || p2v_wire_recv (s->out, buf, h.length) == -1) {
    p2v_error ("%s sent a malformed reply", s->peer);
    return P2V_EXIT_PROTOCOL;
  }
  if (h.type == P2V_REC_REFUSE && h.length >= 4) {
    p2v_error ("receiver %s refused: %.*s", s->peer, (int) h.length - 4, (char *) buf + 4);
    return P2V_EXIT_REFUSED;
  }
  struct p2v_accept a;
  if (h.type != P2V_REC_ACCEPT || h.length != P2V_ACCEPT_LEN) {
    p2v_error ("%s sent an unexpected reply (record type %u)", s->peer, h.type);
    return P2V_EXIT_PROTOCOL;
  }
  p2v_unpack_accept (buf, &a);
  if (a.start_offset != 0) {
    p2v_error ("%s asked to resume at %llu, which this version cannot do", s->peer,
               (unsigned long long) a.start_offset);
    return P2V_EXIT_PROTOCOL;
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
  const char *msg;
  size_t mlen;
  int r = p2v_wire_recv_hdr (s->out, &h);
  if (r != 1) {
    p2v_error ("%s closed the connection before confirming the copy; "
               "the target may be incomplete", s->peer);
    return P2V_EXIT_NET;
  }
  if (h.type != P2V_REC_RESULT || h.length > sizeof buf
      || p2v_wire_recv (s->out, buf, h.length) == -1
      || p2v_unpack_result (buf, h.length, &res, &msg, &mlen) == -1) {
    p2v_error ("%s sent a malformed result", s->peer);
    return P2V_EXIT_PROTOCOL;
  }
  if (res.status != 0) {
    p2v_error ("receiver %s: %.*s", s->peer, (int) mlen, msg);
    return res.status <= 127 ? (int) res.status : P2V_EXIT_IO;
  }
  char theirs[P2V_DIGEST_HEX_MAX];
  p2v_hex (res.digest, res.digest_len, theirs);
  if (strcmp (theirs, hex) != 0) {
    p2v_error ("receiver %s wrote %s %s, but the source is %s",
               s->peer, p2v_digest_name (s->o->digest_id), theirs, hex);
    return P2V_EXIT_MISMATCH;
  }
  p2v_info ("receiver %s verified the copy: identical (%s)", s->peer,
            p2v_digest_name (s->o->digest_id));
  return 0;
}

unsigned
p2v_default_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : (unsigned) n;
}

unsigned
p2v_ring_slots (unsigned threads)
{
  return 2 * threads + 2;
}

int
p2v_send (const struct p2v_send_opts *o)
{
  struct sender s = { .o = o, .out = -1 };
  pthread_mutex_init (&s.lock, NULL);
  signal (SIGPIPE, SIG_IGN);

  if (p2v_source_open (o->source, &s.src) == -1)
    return P2V_EXIT_IO;

  int status = P2V_EXIT_OK;
  if (o->to_stdout) {
    if (isatty (STDOUT_FILENO)) {
      p2v_error ("--stdout: standard output is a terminal; redirect it to a file or pipe");
      p2v_dev_close (&s.src);
      return P2V_EXIT_USAGE;
    }
    s.out = STDOUT_FILENO;
  }
  else {
    const char *lb = strchr (o->host, ':') ? "[" : "", *rb = *lb ? "]" : "";
    snprintf (s.peer, sizeof s.peer, "%s%s%s:%s", lb, o->host, rb, o->port);
    s.out = p2v_connect (o->host, o->port);
    if (s.out == -1) {
      p2v_dev_close (&s.src);
      return P2V_EXIT_NET;
    }
    s.is_socket = true;
  }

  /* The ring exists before anything can call fail(). */
  unsigned slots = p2v_ring_slots (o->threads);
  s.ring = p2v_ring_new (slots, o->chunk_size, p2v_codec_bound (o->codec, o->chunk_size));
  s.nchunks = (s.src.size + o->chunk_size - 1) / o->chunk_size;
  uint8_t *z = xcalloc (1, o->chunk_size);
  s.zero_crc_full = (uint32_t) crc32_z (0, z, o->chunk_size);
  s.zero_crc_last = (uint32_t) crc32_z (0, z, chunk_len (s.src.size, o->chunk_size,
                                                          s.nchunks ? s.nchunks - 1 : 0));
  free (z);

  if (send_header (&s) == -1)
    goto out;
  if (s.is_socket && (status = await_accept (&s)) != 0)
    goto out;

  char sz[P2V_HUMAN_LEN];
  p2v_info ("sending %s (%s) to %s, %s, %u threads", o->source,
            p2v_human_size (s.src.size, sz), s.is_socket ? s.peer : "standard output",
            p2v_codec_name (o->codec), o->threads);

  s.digest = p2v_digest_new (o->digest_id);
  if (!s.digest) {
    status = P2V_EXIT_USAGE;
    goto out;
  }
  s.progress = p2v_progress_new (o->progress_mode, o->source, s.src.size);
  double t0 = p2v_now ();

  pthread_t workers[64], writer, hasher;
  for (unsigned i = 0; i < o->threads; i++)
    pthread_create (&workers[i], NULL, worker_thread, &s);
  pthread_create (&writer, NULL, writer_thread, &s);
  pthread_create (&hasher, NULL, digest_thread, &s);
  read_source (&s);
  pthread_join (writer, NULL);
  pthread_join (hasher, NULL);
  for (unsigned i = 0; i < o->threads; i++)
    pthread_join (workers[i], NULL);
  if (s.status)
    goto out;
  p2v_progress_finish (s.progress, s.src.size);

  struct p2v_end e = { .disk = 0, .total = s.src.size,
                       .digest_len = (uint8_t) p2v_digest_size (o->digest_id) };
  p2v_digest_final (s.digest, e.digest);
  char hex[P2V_DIGEST_HEX_MAX];
  p2v_hex (e.digest, e.digest_len, hex);
  uint8_t buf[P2V_END_FIXED_LEN + P2V_DIGEST_MAX];
  size_t n = p2v_pack_end (buf, &e);
  if (p2v_wire_send (s.out, P2V_REC_END, buf, n, NULL, 0) == -1) {
    write_failed (&s, s.src.size);
    goto out;
  }
  s.wire_bytes += P2V_RECORD_HDR_LEN + n;

  double dt = p2v_now () - t0;
  char w[P2V_HUMAN_LEN], el[P2V_HUMAN_LEN];
  p2v_info ("read %s in %s; %s on the wire (%.0f%% of the disk)",
            p2v_human_size (s.src.size, sz), p2v_human_duration (dt, el),
            p2v_human_size (s.wire_bytes, w),
            s.src.size ? 100.0 * s.wire_bytes / s.src.size : 100.0);
  p2v_info ("%s %s  %s", p2v_digest_name (o->digest_id), hex, o->source);
  if (o->digest_file && p2v_digest_file_write (o->digest_file, hex, o->source) == -1)
    status = P2V_EXIT_IO;
  if (s.is_socket) {
    int r = await_result (&s, hex);
    if (r)
      status = r;
  }

 out:
  if (s.status)
    status = s.status;
  p2v_progress_free (s.progress);
  p2v_digest_free (s.digest);
  p2v_ring_free (s.ring);
  if (s.is_socket)
    close (s.out);
  p2v_dev_close (&s.src);
  pthread_mutex_destroy (&s.lock);
  return status;
}
