/* The ring under real threads: a producer, workers and two in-order
 * consumers pass 2000 chunks through a few slots; every consumer must
 * see every chunk once, in order, with the worker's result.  Each
 * chunk wakes one worker, so a lost wake-up would hang: an alarm turns
 * that into a failure.
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/ring.h"
#include "common/test.h"
#include "common/util.h"

#define N 2000

static struct p2v_ring *ring;
static uint64_t seen[2];
static int bad[2];

static void *
worker (void *arg)
{
  struct p2v_slot *s;
  while ((s = p2v_ring_take_work (ring)) != NULL) {
    if (s->state != P2V_SLOT_WORKING)
      abort ();
    s->hdr.crc = (uint32_t) (s->hdr.offset * 3 + 1);
    if (rand () % 3 == 0)
      sched_yield ();               /* finish out of order */
    p2v_ring_work_done (ring, s);
  }
  return NULL;
}

static void *
consumer (void *arg)
{
  int id = *(int *) arg;
  for (uint64_t seq = 0;; seq++) {
    struct p2v_slot *s = p2v_ring_wait (ring, seq, P2V_SLOT_DONE);
    if (!s)
      break;
    if (s->seq != seq || s->hdr.offset != seq || s->hdr.crc != (uint32_t) (seq * 3 + 1))
      bad[id]++;
    seen[id]++;
    p2v_ring_release (ring, s);
  }
  return NULL;
}

static void
run_threaded (int nworkers, size_t nslots)
{
  ring = p2v_ring_new (nslots, 16, 16);
  memset (seen, 0, sizeof seen);
  memset (bad, 0, sizeof bad);
  pthread_t w[16], c[2];
  int ids[2] = { 0, 1 };
  for (int i = 0; i < nworkers; i++)
    pthread_create (&w[i], NULL, worker, NULL);
  for (int i = 0; i < 2; i++)
    pthread_create (&c[i], NULL, consumer, &ids[i]);
  for (uint64_t seq = 0; seq < N; seq++) {
    struct p2v_slot *s = p2v_ring_acquire (ring, seq);
    CHECK (s != NULL);
    s->hdr.offset = seq;
    /* Every 7th chunk needs no worker, like a zero chunk. */
    if (seq % 7 == 0)
      s->hdr.crc = (uint32_t) (seq * 3 + 1);
    p2v_ring_publish (ring, s, 2, seq % 7 != 0);
  }
  p2v_ring_finish (ring);
  for (int i = 0; i < nworkers; i++)
    pthread_join (w[i], NULL);
  for (int i = 0; i < 2; i++)
    pthread_join (c[i], NULL);
  CHECK (seen[0] == N && seen[1] == N);
  CHECK (bad[0] == 0 && bad[1] == 0);
  p2v_ring_free (ring);
}

int
main (void)
{
  alarm (60);
  run_threaded (2, 4);
  run_threaded (16, 34);    /* -j 16's ring: most workers idle at any time */
  run_threaded (8, 3);      /* fewer slots than workers */

  /* A resumed transfer numbers its chunks from where it resumes. */
  ring = p2v_ring_new (3, 16, 16);
  p2v_ring_start_at (ring, 1000);
  p2v_ring_publish (ring, p2v_ring_acquire (ring, 1000), 1, true);
  struct p2v_slot *ws = p2v_ring_take_work (ring);
  CHECK (ws != NULL && ws->seq == 1000);
  if (ws)
    p2v_ring_work_done (ring, ws);
  p2v_ring_finish (ring);
  struct p2v_slot *got = p2v_ring_wait (ring, 1000, P2V_SLOT_DONE);
  CHECK (got != NULL && got->seq == 1000);
  if (got)
    p2v_ring_release (ring, got);
  CHECK (p2v_ring_wait (ring, 1001, P2V_SLOT_DONE) == NULL);   /* the end */
  p2v_ring_free (ring);

  /* Abort wakes a producer blocked on a full ring. */
  ring = p2v_ring_new (2, 16, 16);
  for (uint64_t seq = 0; seq < 2; seq++)
    p2v_ring_publish (ring, p2v_ring_acquire (ring, seq), 1, false);
  p2v_ring_abort (ring);
  CHECK (p2v_ring_acquire (ring, 2) == NULL);
  CHECK (p2v_ring_wait (ring, 0, P2V_SLOT_DONE) == NULL);
  CHECK (p2v_ring_take_work (ring) == NULL);
  p2v_ring_free (ring);

  /* A timed wait gives up (the sender's writer then sends a keep-alive)
   * and finds the chunk once it is there; the end is not a timeout.
   */
  ring = p2v_ring_new (2, 16, 16);
  bool idle = false;
  double t0 = p2v_now ();
  CHECK (p2v_ring_wait_for (ring, 0, P2V_SLOT_FILLED, 0.2, &idle) == NULL && idle);
  CHECK (p2v_now () - t0 >= 0.15 && p2v_now () - t0 < 5);
  p2v_ring_publish (ring, p2v_ring_acquire (ring, 0), 1, false);
  got = p2v_ring_wait_for (ring, 0, P2V_SLOT_FILLED, 0.2, &idle);
  CHECK (got != NULL && !idle);
  if (got)
    p2v_ring_release (ring, got);
  p2v_ring_finish (ring);
  CHECK (p2v_ring_wait_for (ring, 1, P2V_SLOT_FILLED, 0.2, &idle) == NULL && !idle);
  p2v_ring_free (ring);
  return TEST_DONE ();
}
