#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "stream/ring.h"
#include "common/util.h"

struct p2v_ring *
p2v_ring_new (size_t nslots, size_t raw_cap, size_t enc_cap)
{
  struct p2v_ring *r = xcalloc (1, sizeof *r);
  pthread_mutex_init (&r->lock, NULL);
  p2v_cond_init_monotonic (&r->space);
  p2v_cond_init_monotonic (&r->work);
  p2v_cond_init_monotonic (&r->ready);
  r->n = nslots;
  r->slots = xcalloc (nslots, sizeof *r->slots);
  for (size_t i = 0; i < nslots; i++) {
    r->slots[i].raw = xaligned_alloc (raw_cap);
    r->slots[i].enc = xaligned_alloc (enc_cap);
    r->slots[i].enc_cap = enc_cap;
  }
  return r;
}

void
p2v_ring_start_at (struct p2v_ring *r, uint64_t first_seq)
{
  pthread_mutex_lock (&r->lock);
  r->produced = r->next_work = first_seq;
  pthread_mutex_unlock (&r->lock);
}

void
p2v_ring_free (struct p2v_ring *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++) {
    free (r->slots[i].raw);
    free (r->slots[i].enc);
  }
  free (r->slots);
  pthread_mutex_destroy (&r->lock);
  pthread_cond_destroy (&r->space);
  pthread_cond_destroy (&r->work);
  pthread_cond_destroy (&r->ready);
  free (r);
}

struct p2v_slot *
p2v_ring_acquire (struct p2v_ring *r, uint64_t seq)
{
  struct p2v_slot *s = &r->slots[seq % r->n];
  pthread_mutex_lock (&r->lock);
  while (!r->aborted && s->state != P2V_SLOT_FREE)
    pthread_cond_wait (&r->space, &r->lock);
  if (r->aborted)
    s = NULL;
  else
    s->seq = seq;
  pthread_mutex_unlock (&r->lock);
  return s;
}

void
p2v_ring_publish (struct p2v_ring *r, struct p2v_slot *s, int refs, bool needs_work)
{
  pthread_mutex_lock (&r->lock);
  s->refs = refs;
  s->state = needs_work ? P2V_SLOT_FILLED : P2V_SLOT_DONE;
  r->produced++;
  if (needs_work)
    pthread_cond_signal (&r->work);   /* one chunk: one worker */
  pthread_cond_broadcast (&r->ready);
  pthread_mutex_unlock (&r->lock);
}

void
p2v_ring_finish (struct p2v_ring *r)
{
  pthread_mutex_lock (&r->lock);
  r->finished = true;
  pthread_cond_broadcast (&r->work);
  pthread_cond_broadcast (&r->ready);
  pthread_mutex_unlock (&r->lock);
}

struct p2v_slot *
p2v_ring_take_work (struct p2v_ring *r)
{
  struct p2v_slot *s = NULL;
  pthread_mutex_lock (&r->lock);
  for (;;) {
    if (r->aborted)
      break;
    /* Skip slots published as DONE: they need no worker. */
    while (r->next_work < r->produced
           && r->slots[r->next_work % r->n].state != P2V_SLOT_FILLED)
      r->next_work++;
    if (r->next_work < r->produced) {
      s = &r->slots[r->next_work % r->n];
      s->state = P2V_SLOT_WORKING;
      r->next_work++;
      break;
    }
    if (r->finished)
      break;
    pthread_cond_wait (&r->work, &r->lock);
  }
  pthread_mutex_unlock (&r->lock);
  return s;
}

void
p2v_ring_work_done (struct p2v_ring *r, struct p2v_slot *s)
{
  pthread_mutex_lock (&r->lock);
  s->state = P2V_SLOT_DONE;
  pthread_cond_broadcast (&r->ready);
  pthread_mutex_unlock (&r->lock);
}

struct p2v_slot *
p2v_ring_wait_for (struct p2v_ring *r, uint64_t seq, int min_state, double seconds,
                   bool *timed_out)
{
  struct p2v_slot *s = &r->slots[seq % r->n];
  struct timespec until = { 0, 0 };
  if (seconds > 0)
    until = p2v_monotonic_in (seconds);
  if (timed_out)
    *timed_out = false;
  pthread_mutex_lock (&r->lock);
  for (;;) {
    if (r->aborted) {
      s = NULL;
      break;
    }
    if (seq < r->produced) {
      /* WORKING sorts below DONE but above FILLED: a consumer that only
       * needs the raw bytes may read them while a worker encodes.
       */
      if (s->seq == seq && s->state >= min_state)
        break;
    }
    else if (r->finished) {
      s = NULL;
      break;
    }
    if (seconds > 0) {
      if (pthread_cond_timedwait (&r->ready, &r->lock, &until) == ETIMEDOUT) {
        if (timed_out)
          *timed_out = true;
        s = NULL;
        break;
      }
    }
    else
      pthread_cond_wait (&r->ready, &r->lock);
  }
  pthread_mutex_unlock (&r->lock);
  return s;
}

struct p2v_slot *
p2v_ring_wait (struct p2v_ring *r, uint64_t seq, int min_state)
{
  return p2v_ring_wait_for (r, seq, min_state, 0, NULL);
}

void
p2v_ring_release (struct p2v_ring *r, struct p2v_slot *s)
{
  pthread_mutex_lock (&r->lock);
  if (--s->refs == 0) {
    s->state = P2V_SLOT_FREE;
    pthread_cond_signal (&r->space);  /* the one producer */
  }
  pthread_mutex_unlock (&r->lock);
}

void
p2v_ring_abort (struct p2v_ring *r)
{
  pthread_mutex_lock (&r->lock);
  r->aborted = true;
  pthread_cond_broadcast (&r->space);
  pthread_cond_broadcast (&r->work);
  pthread_cond_broadcast (&r->ready);
  pthread_mutex_unlock (&r->lock);
}

bool
p2v_ring_aborted (struct p2v_ring *r)
{
  pthread_mutex_lock (&r->lock);
  bool a = r->aborted;
  pthread_mutex_unlock (&r->lock);
  return a;
}
