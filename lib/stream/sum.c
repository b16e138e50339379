#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stream/codec.h"
#include "stream/sum.h"
#include "common/util.h"

enum { SEG_EMPTY, SEG_WORKING, SEG_DONE };

struct seg {
  int state;
  bool zero;                    /* a hole or all zeros: no block digests */
  uint8_t blocks[P2V_SUM_SEGMENT / P2V_BLKHASH_BLOCK * P2V_DIGEST_MAX];
};

struct sum {
  int id;
  bool drop_cache;
  struct p2v_dev *dev;
  uint64_t off, len, nsegs;
  pthread_mutex_t lock;
  pthread_cond_t claimable;     /* workers: a slot was folded */
  pthread_cond_t done;          /* the folder: a segment is done */
  uint64_t next;                /* next segment to claim */
  uint64_t folded;              /* segments [0, folded) are in the digest */
  bool failed;                  /* a read failed or the caller stopped */
  struct seg *segs;
  size_t k;
};

static uint64_t
seg_len (const struct sum *s, uint64_t i)
{
  uint64_t left = s->len - i * P2V_SUM_SEGMENT;
  return left < P2V_SUM_SEGMENT ? left : P2V_SUM_SEGMENT;
}

static void *
worker (void *arg)
{
  struct sum *s = arg;
  uint8_t *buf = xaligned_alloc (P2V_SUM_SEGMENT);
  pthread_mutex_lock (&s->lock);
  for (;;) {
    while (!s->failed && s->next < s->nsegs && s->next >= s->folded + s->k)
      pthread_cond_wait (&s->claimable, &s->lock);
    if (s->failed || s->next >= s->nsegs)
      break;
    uint64_t i = s->next++;
    struct seg *g = &s->segs[i % s->k];
    g->state = SEG_WORKING;
    uint64_t off = s->off + i * P2V_SUM_SEGMENT, n = seg_len (s, i);
    /* Under the lock: the hole test remembers where the hole ends. */
    g->zero = p2v_source_is_hole (s->dev, off, n);
    pthread_mutex_unlock (&s->lock);
    int r = 0;
    if (!g->zero) {
      r = p2v_dev_pread (s->dev, buf, n, off);
      if (s->drop_cache)
        posix_fadvise (s->dev->fd, (off_t) off, (off_t) n, POSIX_FADV_DONTNEED);
      if (r == 0 && !(g->zero = p2v_is_zero (buf, n)))
        p2v_digest_blocks (s->id, buf, n, g->blocks);
    }
    pthread_mutex_lock (&s->lock);
    if (r == -1)
      s->failed = true;
    g->state = SEG_DONE;
    pthread_cond_broadcast (&s->done);
    pthread_cond_broadcast (&s->claimable);
  }
  pthread_mutex_unlock (&s->lock);
  free (buf);
  return NULL;
}

static int
sum_plain (struct p2v_digest *d, struct p2v_dev *dev, uint64_t off, uint64_t len,
           const struct p2v_sum_cb *cb)
{
  uint8_t *buf = xaligned_alloc (P2V_SUM_SEGMENT);
  int r = 0;
  for (uint64_t done = 0; done < len && r == 0; ) {
    if (cb && cb->stop && cb->stop (cb->arg)) {
      r = -1;
      break;
    }
    uint64_t n = len - done < P2V_SUM_SEGMENT ? len - done : P2V_SUM_SEGMENT;
    if (p2v_source_is_hole (dev, off + done, n))
      p2v_digest_add_zeros (d, n);
    else if ((r = p2v_dev_pread (dev, buf, n, off + done)) == 0)
      p2v_digest_update (d, buf, n);
    done += n;
    if (cb && cb->progress)
      cb->progress (cb->arg, done);
  }
  free (buf);
  return r;
}

int
p2v_sum_range (struct p2v_digest *d, struct p2v_dev *dev, uint64_t off, uint64_t len,
               unsigned threads, const struct p2v_sum_cb *cb)
{
  int id = p2v_digest_id (d);
  if (!p2v_digest_is_blocks (id))
    return sum_plain (d, dev, off, len, cb);
  if (threads < 1)
    threads = 1;
  struct sum s = { .id = id, .drop_cache = cb && cb->drop_cache, .dev = dev, .off = off, .len = len,
                   .nsegs = (len + P2V_SUM_SEGMENT - 1) / P2V_SUM_SEGMENT,
                   .k = 2 * (size_t) threads + 2 };
  pthread_mutex_init (&s.lock, NULL);
  pthread_cond_init (&s.claimable, NULL);
  pthread_cond_init (&s.done, NULL);
  s.segs = xcalloc (s.k, sizeof *s.segs);
  pthread_t *tids = xcalloc (threads, sizeof *tids);
  unsigned started = 0;
  for (; started < threads; started++) {
    int e = pthread_create (&tids[started], NULL, worker, &s);
    if (e) {
      if (started == 0) {
        p2v_error ("cannot start a hashing thread: %s", strerror (e));
        s.failed = true;
      }
      break;                    /* fewer threads: slower, still right */
    }
  }
  pthread_mutex_lock (&s.lock);
  while (!s.failed && s.folded < s.nsegs) {
    struct seg *g = &s.segs[s.folded % s.k];
    if (g->state != SEG_DONE || s.folded >= s.next) {
      pthread_cond_wait (&s.done, &s.lock);
      continue;
    }
    pthread_mutex_unlock (&s.lock);
    /* The slot is ours until folded moves past it. */
    uint64_t n = seg_len (&s, s.folded);
    p2v_digest_add_chunk (d, g->zero, g->blocks, NULL, n);
    bool stop = cb && cb->stop && cb->stop (cb->arg);
    if (cb && cb->progress)
      cb->progress (cb->arg, s.folded * P2V_SUM_SEGMENT + n);
    pthread_mutex_lock (&s.lock);
    g->state = SEG_EMPTY;
    s.folded++;
    if (stop)
      s.failed = true;
    pthread_cond_broadcast (&s.claimable);
  }
  bool failed = s.failed;
  pthread_cond_broadcast (&s.claimable);
  pthread_mutex_unlock (&s.lock);
  for (unsigned i = 0; i < started; i++)
    pthread_join (tids[i], NULL);
  free (tids);
  free (s.segs);
  pthread_cond_destroy (&s.done);
  pthread_cond_destroy (&s.claimable);
  pthread_mutex_destroy (&s.lock);
  return failed ? -1 : 0;
}
