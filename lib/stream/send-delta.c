/* The sender's half of a delta (warm migration): the receiver's hashes
 * read into the window, SAME sent for what the target holds, and the
 * delta's progress lines.  send.c runs the threads; see the top of
 * send.c for the whole pipeline.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/humanize.h"
#include "common/json.h"
#include "common/util.h"
#include "stream/chunkhash.h"
#include "stream/format.h"
#include "stream/progress.h"
#include "stream/send-internal.h"
#include "stream/wire.h"

int
send_same (struct sender *s, const struct p2v_slot *slot)
{
  struct p2v_same sm = { .disk = slot->hdr.disk, .offset = slot->hdr.offset,
                         .raw_len = slot->hdr.raw_len };
  uint8_t buf[P2V_SAME_LEN];
  memcpy (sm.hash, slot->enc, P2V_CHUNK_HASH_LEN);
  p2v_pack_same (buf, &sm);
  if (p2v_chan_send (&s->ch, P2V_REC_SAME, buf, sizeof buf, NULL, NULL, 0) == -1)
    return -1;
  s->same_chunks++;
  return 0;
}

/* Hashing and sending are separate costs in a delta: the bar follows
 * the chunks settled, and plain output adds a line with what was hashed
 * and what had to be sent, at the bar's pace (5 s).
 */
#define DELTA_LINE_SECONDS 5.0

void
send_delta_line (struct sender *s, bool last)
{
  char h[P2V_HUMAN_LEN], t[P2V_HUMAN_LEN], r[P2V_HUMAN_LEN], c[P2V_HUMAN_LEN], w[P2V_HUMAN_LEN];
  uint64_t hashed = atomic_load (&s->hashed);
  double el = p2v_now () - s->t0;
  if (s->o->progress_mode == P2V_PROGRESS_JSON) {
    fputs ("{\"label\": ", stderr);
    p2v_json_string (stderr, s->o->source);
    fprintf (stderr, ", \"delta\": {\"hashed\": %llu, \"total\": %llu, \"changed_chunks\": %llu, "
             "\"changed_bytes\": %llu, \"unchanged_chunks\": %llu, \"wire_bytes\": %llu}, "
             "\"elapsed\": %.2f, \"done\": %s}\n", (unsigned long long) hashed,
             (unsigned long long) s->src.size, (unsigned long long) s->changed_chunks,
             (unsigned long long) s->changed_bytes, (unsigned long long) s->same_chunks,
             (unsigned long long) s->ch.tx_bytes, el, last ? "true" : "false");
    return;
  }
  fprintf (stderr, "%s: delta: hashed %s / %s (%s/s); sent %llu changed chunks (%s), "
           "%llu unchanged; %s on the wire%s\n", s->o->source, p2v_human_size (hashed, h),
           p2v_human_size (s->src.size, t), p2v_human_size (el > 0 ? (uint64_t) (hashed / el) : 0, r),
           (unsigned long long) s->changed_chunks, p2v_human_size (s->changed_bytes, c),
           (unsigned long long) s->same_chunks, p2v_human_size (s->ch.tx_bytes, w),
           last ? "; done" : "");
}

/* The delta's last word: what was hashed, sent, and left alone. */
void
send_delta_summary (struct sender *s)
{
  char h[P2V_HUMAN_LEN], he[P2V_HUMAN_LEN], c[P2V_HUMAN_LEN];
  double hs = atomic_load (&s->hash_end_ns) / 1e9;
  if (p2v_progress_has_lines (s->o->progress_mode))
    send_delta_line (s, true);
  p2v_info ("delta: hashed %s in %s; %llu of %llu chunks changed (%s sent), %llu unchanged; "
            "%llu bytes on the wire", p2v_human_size (s->src.size, h),
            p2v_human_duration (hs, he), (unsigned long long) s->changed_chunks,
            (unsigned long long) s->nchunks, p2v_human_size (s->changed_bytes, c),
            (unsigned long long) s->same_chunks, (unsigned long long) s->ch.tx_bytes);
}

void
send_delta_progress (struct sender *s, uint64_t seq)
{
  static _Thread_local double last;
  uint64_t end = (seq + 1) * (uint64_t) s->o->chunk_size;
  p2v_progress_update (s->progress, end < s->src.size ? end : s->src.size);
  double now = p2v_now ();
  if (p2v_progress_has_lines (s->o->progress_mode)
      && now - (last ? last : s->t0) >= DELTA_LINE_SECONDS) {
    last = now;
    send_delta_line (s, false);
  }
}

/* Delta: the receiver's hashes, as they come, into the window.  Ends
 * when every chunk's hash arrived (the RESULT after END is the main
 * thread's), or at the first failure.
 */
void *
send_hash_thread (void *arg)
{
  struct sender *s = arg;
  size_t cap = P2V_HASHES_FIXED_LEN + (size_t) P2V_HASHES_MAX * P2V_CHUNK_HASH_LEN;
  uint8_t *buf = xmalloc (cap > P2V_TEXT_MAX ? cap : P2V_TEXT_MAX);
  struct p2v_source_hdr sh = { .disk = s->o->disk, .size = s->src.size,
                               .chunk_size = s->o->chunk_size };
  uint64_t known = 0;
  if (cap < P2V_TEXT_MAX)
    cap = P2V_TEXT_MAX;
  while (known < s->nchunks) {
    struct p2v_record_hdr h;
    int got = p2v_chan_recv_hdr (&s->ch, &h);
    if (got == 1 && h.length > cap) {
      p2v_error ("%s sent a record of impossible length %u while sending its hashes",
                 s->peer, h.length);
      send_fail (s, P2V_EXIT_PROTOCOL);
      break;
    }
    if (got != 1 || p2v_chan_recv (&s->ch, buf, h.length) == -1
        || p2v_chan_recv_end (&s->ch) == -1) {
      int e = errno;
      if (!p2v_ring_aborted (s->ring)) {
        char a[P2V_HUMAN_LEN], w[64];
        p2v_human_size (known * s->o->chunk_size, a);
        snprintf (w, sizeof w, "after %s of its hashes", a);
        if (e == EBADMSG)
          send_fail_unauthentic (s, w);
        else {
          p2v_error ("connection to %s lost %s%s%s", s->peer, w, e ? ": " : "",
                     e ? strerror (e) : "");
          send_fail (s, P2V_EXIT_NET);
        }
      }
      break;
    }
    if (h.type == P2V_REC_RESULT || h.type == P2V_REC_REFUSE) {
      /* The receiver stopped early and says why (a write error, a
       * record it rejected).
       */
      int st = send_peer_verdict (s, h.type, buf, h.length, NULL);
      if (st > 0)
        send_fail_peer (s, st);
      else {
        p2v_error ("%s sent a verdict before the end of the stream", s->peer);
        send_fail (s, P2V_EXIT_PROTOCOL);
      }
      break;
    }
    if (h.type != P2V_REC_HASHES) {
      if (h.type & P2V_REC_OPTIONAL)
        continue;
      p2v_error ("%s sent an unexpected record (type %u) instead of chunk hashes",
                 s->peer, h.type);
      send_fail (s, P2V_EXIT_PROTOCOL);
      break;
    }
    struct p2v_hashes_hdr hh;
    const uint8_t *hashes;
    const char *why = p2v_unpack_hashes (buf, h.length, &sh, &hh, &hashes);
    if (!why)
      why = p2v_delta_add (s->delta, hh.first, hh.count, hashes);
    if (why) {
      p2v_error ("%s sent unusable chunk hashes at chunk %llu: %s", s->peer,
                 (unsigned long long) known, why);
      send_fail (s, P2V_EXIT_PROTOCOL);
      break;
    }
    known = hh.first + hh.count;
  }
  free (buf);
  pthread_mutex_lock (&s->lock);
  s->hashes_done = true;
  pthread_mutex_unlock (&s->lock);
  return NULL;
}
