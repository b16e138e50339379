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
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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

struct receiver {
  const struct p2v_recv_opts *o;
  int in;
  bool is_socket;
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
  pthread_mutex_t lock;
  int status;
  char reason[512];             /* first failure, for the RESULT record */
};

static void
fail (struct receiver *r, int status, const char *fmt, ...)
  __attribute__((format (printf, 3, 4)));

static void
fail (struct receiver *r, int status, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&r->lock);
  bool first = r->status == P2V_EXIT_OK;
  if (first) {
    r->status = status;
    snprintf (r->reason, sizeof r->reason, "%s", msg);
  }
  pthread_mutex_unlock (&r->lock);
  if (first)
    p2v_error ("%s", msg);
  if (r->ring)
    p2v_ring_abort (r->ring);
}

static void *
worker_thread (void *arg)
{
  struct receiver *r = arg;
  struct p2v_coder *c = p2v_coder_new (P2V_CODEC_STORED, 0);
  struct p2v_slot *slot;
  while ((slot = p2v_ring_take_work (r->ring)) != NULL) {
    struct p2v_chunk_hdr *h = &slot->hdr;
    /* Stored chunks were read straight into raw. */
    if (h->codec != P2V_CODEC_STORED
        && p2v_decompress (c, h->codec, slot->enc, slot->enc_len, slot->raw, h->raw_len) == -1) {
      fail (r, P2V_EXIT_PROTOCOL, "corrupt %s chunk at offset %llu: it does not "
            "decode to %u bytes; nothing of it was written",
            p2v_codec_name (h->codec), (unsigned long long) h->offset, h->raw_len);
      break;
    }
    uint32_t crc = (uint32_t) crc32_z (0, slot->raw, h->raw_len);
    if (crc != h->crc) {
      fail (r, P2V_EXIT_PROTOCOL, "chunk at offset %llu (%u bytes) fails its "
            "checksum (crc32 %08x, expected %08x); nothing of it was written",
            (unsigned long long) h->offset, h->raw_len, crc, h->crc);
      break;
    }
    p2v_ring_work_done (r->ring, slot);
  }
  p2v_coder_free (c);
  return NULL;
}

static void *
writer_thread (void *arg)
{
  struct receiver *r = arg;
  for (uint64_t seq = 0; seq < r->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (r->ring, seq, P2V_SLOT_DONE);
    if (!slot)
      break;
    const struct p2v_chunk_hdr *h = &slot->hdr;
    int rc = h->codec == P2V_CODEC_ZERO
      ? p2v_dev_zero (&r->dst, h->offset, h->raw_len)
      : p2v_dev_pwrite (&r->dst, slot->raw, h->raw_len, h->offset);
    p2v_ring_release (r->ring, slot);
    if (rc == -1) {
      fail (r, P2V_EXIT_IO, "cannot write %s at offset %llu",
            r->dst.path, (unsigned long long) h->offset);
      break;
    }
    r->written = h->offset + h->raw_len;
    p2v_progress_update (r->progress, r->written);
  }
  return NULL;
}

static void *
digest_thread (void *arg)
{
  struct receiver *r = arg;
  for (uint64_t seq = 0; seq < r->nchunks; seq++) {
    struct p2v_slot *slot = p2v_ring_wait (r->ring, seq, P2V_SLOT_DONE);
    if (!slot)
      break;
    const struct p2v_chunk_hdr *h = &slot->hdr;
    p2v_digest_update (r->digest, h->codec == P2V_CODEC_ZERO ? r->zeros : slot->raw,
                       h->raw_len);
    p2v_ring_release (r->ring, slot);
  }
  return NULL;
}

static void
send_reply (struct receiver *r, uint8_t type, const void *a, size_t alen,
            const char *msg)
{
  if (r->is_socket)
    p2v_wire_send (r->in, type, a, alen, msg, msg ? strlen (msg) : 0);
}

static void
truncated (struct receiver *r, uint64_t at)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  if (errno)
    fail (r, P2V_EXIT_NET, "connection from %s failed at %s of %s: %s; %s is incomplete",
          r->peer, p2v_human_size (at, a), p2v_human_size (r->sh.size, b),
          strerror (errno), r->o->target);
  else
    fail (r, P2V_EXIT_NET, "stream ended at %s of %s; %s is incomplete",
          p2v_human_size (at, a), p2v_human_size (r->sh.size, b), r->o->target);
}

/* Validate one CHUNK frame against what must come next.  Returns NULL
 * when it is acceptable, else the reason.
 */
static const char *
check_chunk (const struct receiver *r, const struct p2v_chunk_hdr *h,
             uint32_t payload, uint64_t expect)
{
  uint64_t left = r->sh.size - expect;
  uint32_t want = left < r->sh.chunk_size ? (uint32_t) left : r->sh.chunk_size;
  if (h->disk != 0)
    return "chunk for a disk that is not in this session";
  if (expect >= r->sh.size)
    return "chunk past the end of the source";
  if (h->offset != expect)
    return "chunk out of order";
  if (h->raw_len != want)
    return "chunk length does not match the source size";
  switch (h->codec) {
  case P2V_CODEC_ZERO:
    if (payload != 0)
      return "zero chunk with a payload";
    if (h->crc != (want == r->sh.chunk_size ? r->zero_crc_full : r->zero_crc_last))
      return "zero chunk with a wrong checksum";
    return NULL;
  case P2V_CODEC_STORED:
    return payload == h->raw_len ? NULL : "stored chunk of the wrong length";
  default:
    if (!p2v_codec_available (h->codec))
      return "chunk compressed with a codec this build does not have";
    /* The sender stores a chunk raw unless compression made it smaller. */
    return payload > 0 && payload < h->raw_len ? NULL : "compressed chunk of an impossible length";
  }
}

/* The reader: runs on the calling thread until END or failure.
 * Returns 0 with *end filled, or -1.
 */
static int
read_stream (struct receiver *r, struct p2v_end *end)
{
  uint64_t expect = 0, seq = 0;
  for (;;) {
    struct p2v_record_hdr h;
    int rc = p2v_wire_recv_hdr (r->in, &h);
    if (rc != 1) {
      if (rc == 0)
        errno = 0;
      truncated (r, expect);
      return -1;
    }
    if (h.type == P2V_REC_END) {
      uint8_t buf[P2V_END_FIXED_LEN + P2V_DIGEST_MAX];
      if (h.length > sizeof buf || p2v_wire_recv (r->in, buf, h.length) == -1
          || p2v_unpack_end (buf, h.length, end) == -1) {
        fail (r, P2V_EXIT_PROTOCOL, "malformed end of stream");
        return -1;
      }
      if (end->disk != 0 || end->total != r->sh.size || expect != r->sh.size
          || end->digest_len != p2v_digest_size (r->sh.digest_id)) {
        truncated (r, expect);
        return -1;
      }
      return 0;
    }
    if (h.type != P2V_REC_CHUNK) {
      if ((h.type & P2V_REC_OPTIONAL) && h.length <= P2V_RECORD_MAX) {
        if (p2v_wire_skip (r->in, h.length) == -1) {
          truncated (r, expect);
          return -1;
        }
        continue;
      }
      fail (r, P2V_EXIT_PROTOCOL, "unexpected record type %u at %llu in the stream",
            h.type, (unsigned long long) expect);
      return -1;
    }
    if (h.length < P2V_CHUNK_HDR_LEN || h.length - P2V_CHUNK_HDR_LEN > r->sh.chunk_size) {
      fail (r, P2V_EXIT_PROTOCOL, "chunk frame of impossible length %u", h.length);
      return -1;
    }
    uint8_t hb[P2V_CHUNK_HDR_LEN];
    struct p2v_chunk_hdr ch;
    uint32_t payload = h.length - P2V_CHUNK_HDR_LEN;
    if (p2v_wire_recv (r->in, hb, sizeof hb) == -1) {
      truncated (r, expect);
      return -1;
    }
    p2v_unpack_chunk_hdr (hb, &ch);
    const char *why = check_chunk (r, &ch, payload, expect);
    if (why) {
      fail (r, P2V_EXIT_PROTOCOL, "malformed stream at offset %llu: %s",
            (unsigned long long) expect, why);
      return -1;
    }
    struct p2v_slot *slot = p2v_ring_acquire (r->ring, seq);
    if (!slot)
      return -1;
    slot->hdr = ch;
    slot->enc_len = payload;
    uint8_t *dst = ch.codec == P2V_CODEC_STORED ? slot->raw : slot->enc;
    if (p2v_wire_recv (r->in, dst, payload) == -1) {
      /* The slot was never published, so no one else sees it. */
      truncated (r, expect);
      return -1;
    }
    p2v_ring_publish (r->ring, slot, 2, ch.codec != P2V_CODEC_ZERO);
    expect += ch.raw_len;
    seq++;
  }
}

/* Preamble and SOURCE.  0 on success; -1 when the peer is not a
 * p2vstream sender at all (the listener keeps waiting for one); else an
 * exit status.
 */
static int
read_header (struct receiver *r)
{
  struct p2v_preamble pre;
  struct p2v_record_hdr h;
  int rc = p2v_wire_recv_preamble (r->in, &pre);
  if (rc == -3) {
    p2v_error ("%s speaks p2vstream version %u, this p2vrecv reads version %u",
               r->peer, pre.major, P2V_VERSION_MAJOR);
    return P2V_EXIT_PROTOCOL;
  }
  if (rc < 0)
    return -1;
  if (p2v_wire_recv_hdr (r->in, &h) != 1 || h.type != P2V_REC_SOURCE
      || h.length < P2V_SOURCE_FIXED_LEN || h.length > P2V_SOURCE_FIXED_LEN + P2V_TEXT_MAX)
    return -1;
  uint8_t *buf = xmalloc (h.length);
  const char *why;
  if (p2v_wire_recv (r->in, buf, h.length) == -1) {
    free (buf);
    return -1;
  }
  p2v_unpack_source (buf, &r->sh);
  int ret = 0;
  if (p2v_check_source (&r->sh, &why) == -1 || r->sh.disk != 0) {
    p2v_error ("%s sent an unusable stream header: %s", r->peer,
               r->sh.disk ? "several disks are not supported yet" : why);
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

/* Open the target and say yes or no to the sender. */
static int
accept_source (struct receiver *r)
{
  char why[512];
  /* Our preamble goes first whatever the answer, so the sender can tell
   * a refusal from a peer that is not p2vrecv.
   */
  if (r->is_socket && p2v_wire_send_preamble (r->in) == -1) {
    p2v_error ("connection from %s lost before the transfer: %s", r->peer, strerror (errno));
    return P2V_EXIT_NET;
  }
  int rc = p2v_target_open (r->o->target, r->sh.size, &r->dst, why, sizeof why);
  if (rc == -2) {
    uint8_t st[4];
    p2v_put32 (st, P2V_EXIT_REFUSED);
    p2v_error ("%s", why);
    send_reply (r, P2V_REC_REFUSE, st, sizeof st, why);
    return P2V_EXIT_REFUSED;
  }
  if (rc == -1) {
    uint8_t st[4];
    p2v_put32 (st, P2V_EXIT_IO);
    send_reply (r, P2V_REC_REFUSE, st, sizeof st, "cannot open the target; see the receiver's messages");
    return P2V_EXIT_IO;
  }
  r->dst_open = true;
  struct p2v_accept a = { .disk = 0, .start_offset = 0 };
  uint8_t buf[P2V_ACCEPT_LEN];
  p2v_pack_accept (buf, &a);
  if (r->is_socket && p2v_wire_send (r->in, P2V_REC_ACCEPT, buf, sizeof buf, NULL, 0) == -1) {
    p2v_error ("connection from %s lost before the transfer: %s", r->peer, strerror (errno));
    return P2V_EXIT_NET;
  }
  return 0;
}

static void
send_result (struct receiver *r, const uint8_t *digest, size_t dlen)
{
  struct p2v_result res = { .disk = 0, .status = (uint32_t) r->status,
                            .digest_len = (uint8_t) dlen };
  memcpy (res.digest, digest, dlen);
  uint8_t buf[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX];
  size_t n = p2v_pack_result (buf, &res);
  send_reply (r, P2V_REC_RESULT, buf, n, r->status ? r->reason : "identical");
}

/* The transfer proper, once the header is accepted. */
static int
transfer (struct receiver *r)
{
  const struct p2v_recv_opts *o = r->o;
  uint32_t cs = r->sh.chunk_size;
  r->nchunks = (r->sh.size + cs - 1) / cs;
  r->ring = p2v_ring_new (p2v_ring_slots (o->threads), cs, cs);
  r->zeros = xcalloc (1, cs);
  r->zero_crc_full = (uint32_t) crc32_z (0, r->zeros, cs);
  r->zero_crc_last = (uint32_t) crc32_z (0, r->zeros, r->sh.size % cs ? r->sh.size % cs : cs);
  r->digest = p2v_digest_new (r->sh.digest_id);
  if (!r->digest)
    return P2V_EXIT_USAGE;

  char sz[P2V_HUMAN_LEN];
  p2v_info ("receiving %s (%s) from %s%s%s into %s", r->desc.path ? r->desc.path : "?",
            p2v_human_size (r->sh.size, sz), r->desc.hostname ? r->desc.hostname : "?",
            r->is_socket ? " at " : "", r->is_socket ? r->peer : "", o->target);
  r->progress = p2v_progress_new (o->progress_mode, o->target, r->sh.size);

  pthread_t workers[64], writer, hasher;
  for (unsigned i = 0; i < o->threads; i++)
    pthread_create (&workers[i], NULL, worker_thread, r);
  pthread_create (&writer, NULL, writer_thread, r);
  pthread_create (&hasher, NULL, digest_thread, r);
  struct p2v_end end;
  int rc = read_stream (r, &end);
  p2v_ring_finish (r->ring);
  pthread_join (writer, NULL);
  pthread_join (hasher, NULL);
  for (unsigned i = 0; i < o->threads; i++)
    pthread_join (workers[i], NULL);

  uint8_t mine[P2V_DIGEST_MAX];
  size_t dlen = p2v_digest_size (r->sh.digest_id);
  p2v_digest_final (r->digest, mine);
  if (rc == 0 && r->status == 0) {
    p2v_progress_finish (r->progress, r->written);
    if (p2v_dev_finish (&r->dst) == -1)
      fail (r, P2V_EXIT_IO, "cannot make %s durable", o->target);
  }
  if (r->status) {
    send_result (r, mine, dlen);
    return r->status;
  }

  char a[P2V_DIGEST_HEX_MAX], b[P2V_DIGEST_HEX_MAX];
  const char *alg = p2v_digest_name (r->sh.digest_id);
  p2v_hex (mine, dlen, a);
  p2v_hex (end.digest, dlen, b);
  if (strcmp (a, b) != 0) {
    fail (r, P2V_EXIT_MISMATCH, "digest mismatch: the source is %s %s, %s received %s",
          alg, b, o->target, a);
    send_result (r, mine, dlen);
    return r->status;
  }
  p2v_info ("%s %s  %s", alg, a, o->target);

  char *mpath = o->manifest ? xstrdup (o->manifest)
                            : p2v_manifest_default_path (o->target, strcmp (r->dst.ops->kind, "file") != 0);
  if (mpath && p2v_manifest_write (mpath, &r->desc, o->target, alg, a) == -1)
    fail (r, P2V_EXIT_IO, "cannot write the manifest %s", mpath);
  else if (mpath)
    p2v_info ("manifest: %s", mpath);
  else
    p2v_info ("no manifest written for %s; use --manifest FILE to keep the source's "
              "description for p2vfixup", o->target);
  free (mpath);
  if (r->status == 0 && o->digest_file
      && p2v_digest_file_write (o->digest_file, a, o->target) == -1)
    fail (r, P2V_EXIT_IO, "cannot write the digest file %s", o->digest_file);
  send_result (r, mine, dlen);
  if (r->status == 0)
    p2v_info ("verified: %s is identical to the source (%s)", o->target, alg);
  return r->status;
}

/* Wait for a sender.  Connections that are not p2vstream senders (a
 * port scanner, a stray nc) are dropped and we keep listening; nothing
 * is opened or written for them.
 */
static int
listen_for_sender (struct receiver *r)
{
  char bound[300];
  int lfd = p2v_listen (r->o->host, r->o->port, bound, sizeof bound);
  if (lfd == -1)
    return P2V_EXIT_NET;
  /* Always printed, even with -q: with port 0 it is the only way to
   * learn the port.
   */
  fprintf (stderr, "%s: listening on %s\n", p2v_progname, bound);
  for (;;) {
    int fd = p2v_accept (lfd, r->peer, sizeof r->peer);
    if (fd == -1) {
      close (lfd);
      return P2V_EXIT_NET;
    }
    /* A sender that connects and then says nothing must not hold the
     * listener forever.
     */
    struct timeval tv = { .tv_sec = 30 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    r->in = fd;
    int rc = read_header (r);
    if (rc == -1) {
      p2v_warning ("ignoring connection from %s: not a p2vsend stream", r->peer);
      close (fd);
      continue;
    }
    close (lfd);
    if (rc == 0) {
      /* During the transfer a silent sender is a dead link: give it
       * minutes, not forever.
       */
      tv.tv_sec = 600;
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      p2v_info ("connection from %s", r->peer);
    }
    return rc;
  }
}

int
p2v_recv (const struct p2v_recv_opts *o)
{
  struct receiver r = { .o = o, .in = -1 };
  pthread_mutex_init (&r.lock, NULL);
  signal (SIGPIPE, SIG_IGN);

  int status;
  if (o->from_stdin) {
    r.in = STDIN_FILENO;
    snprintf (r.peer, sizeof r.peer, "standard input");
    status = read_header (&r);
    if (status == -1) {
      p2v_error ("standard input is not a p2vsend stream");
      status = P2V_EXIT_PROTOCOL;
    }
  }
  else {
    r.is_socket = true;
    status = listen_for_sender (&r);
  }
  if (status == 0)
    status = accept_source (&r);
  if (status == 0)
    status = transfer (&r);

  if (r.dst_open)
    p2v_dev_close (&r.dst);
  if (r.is_socket && r.in >= 0)
    close (r.in);
  p2v_progress_free (r.progress);
  p2v_digest_free (r.digest);
  p2v_ring_free (r.ring);
  free (r.zeros);
  p2v_desc_free (&r.desc);
  pthread_mutex_destroy (&r.lock);
  return status;
}
