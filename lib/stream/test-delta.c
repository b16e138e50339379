#include <config.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "stream/delta.h"
#include "common/test.h"

static uint8_t hashes[64][P2V_CHUNK_HASH_LEN];

struct getter {
  struct p2v_delta *d;
  uint64_t k;
  int rc;
  uint8_t got[P2V_CHUNK_HASH_LEN];
};

static void *
get_thread (void *arg)
{
  struct getter *g = arg;
  g->rc = p2v_delta_get (g->d, g->k, g->got);
  return NULL;
}

static void *
room_thread (void *arg)
{
  struct getter *g = arg;
  g->rc = p2v_delta_wait_room (g->d, g->k);
  return NULL;
}

int
main (void)
{
  for (int i = 0; i < 64; i++)
    memset (hashes[i], i + 1, P2V_CHUNK_HASH_LEN);

  /* 256 MiB of disk, never fewer than 16 chunks. */
  CHECK (p2v_delta_window (65536) == 4096);
  CHECK (p2v_delta_window (4 << 20) == 64);
  CHECK (p2v_delta_window (16 << 20) == 16);

  /* 16 MiB chunks: a window of 16, 40 chunks in the source. */
  struct p2v_delta *d = p2v_delta_new (40, 16 << 20);
  CHECK (p2v_delta_room (d, 15) && !p2v_delta_room (d, 16));
  CHECK (p2v_delta_add (d, 1, 1, hashes[1]) != NULL);          /* a gap */
  CHECK (p2v_delta_add (d, 0, 17, hashes[0]) != NULL);         /* past the window */
  CHECK (p2v_delta_add (d, 0, 4, hashes[0]) == NULL);
  CHECK (p2v_delta_add (d, 2, 1, hashes[2]) != NULL);          /* again */
  CHECK (p2v_delta_announced (d, 3) && !p2v_delta_announced (d, 4));
  CHECK (p2v_delta_known (d) == 4);

  /* The receiver's check of SAME: announced, and the very hash. */
  CHECK (p2v_delta_check_same (d, 0, hashes[0]) == NULL);
  CHECK (p2v_delta_check_same (d, 1, hashes[0]) != NULL);      /* another hash */
  CHECK (p2v_delta_check_same (d, 4, hashes[4]) != NULL);      /* not announced */
  p2v_delta_settle (d, 0);
  CHECK (p2v_delta_check_same (d, 0, hashes[0]) != NULL);      /* already settled */
  CHECK (!p2v_delta_announced (d, 0));

  /* The window moves with what is settled: 1 settled, so 1 + 16 = 17. */
  CHECK (p2v_delta_room (d, 16) && !p2v_delta_room (d, 17));
  CHECK (p2v_delta_add (d, 4, 13, hashes[4]) == NULL);
  CHECK (p2v_delta_add (d, 17, 1, hashes[17]) != NULL);
  uint8_t out[P2V_CHUNK_HASH_LEN];
  CHECK (p2v_delta_get (d, 16, out) == 0 && memcmp (out, hashes[16], sizeof out) == 0);

  /* A waiting announcer wakes when a chunk settles. */
  struct getter g = { .d = d, .k = 17, .rc = 9 };
  pthread_t t;
  pthread_create (&t, NULL, room_thread, &g);
  usleep (20000);
  CHECK (g.rc == 9);
  p2v_delta_settle (d, 1);
  pthread_join (t, NULL);
  CHECK (g.rc == 0);
  /* Entry 17 shares its place with settled chunk 1: now it may go in. */
  CHECK (p2v_delta_add (d, 17, 1, hashes[17]) == NULL);
  CHECK (p2v_delta_get (d, 17, out) == 0 && memcmp (out, hashes[17], sizeof out) == 0);

  /* A waiting sender wakes when the hash arrives ... */
  g = (struct getter) { .d = d, .k = 18, .rc = 9 };
  pthread_create (&t, NULL, get_thread, &g);
  usleep (20000);
  CHECK (g.rc == 9);
  for (int i = 2; i < 3; i++)
    p2v_delta_settle (d, (uint64_t) i);
  CHECK (p2v_delta_add (d, 18, 1, hashes[18]) == NULL);
  pthread_join (t, NULL);
  CHECK (g.rc == 0 && memcmp (g.got, hashes[18], sizeof out) == 0);

  /* ... and on abort, with nothing. */
  g = (struct getter) { .d = d, .k = 30, .rc = 9 };
  pthread_create (&t, NULL, get_thread, &g);
  usleep (20000);
  p2v_delta_abort (d);
  pthread_join (t, NULL);
  CHECK (g.rc == -1);
  CHECK (p2v_delta_wait_room (d, 39) == -1);
  p2v_delta_free (d);

  /* Never past the end of the source. */
  d = p2v_delta_new (3, 65536);
  CHECK (p2v_delta_add (d, 0, 4, hashes[0]) != NULL);
  CHECK (p2v_delta_add (d, 0, 3, hashes[0]) == NULL);
  CHECK (p2v_delta_add (d, 3, 1, hashes[0]) != NULL);
  p2v_delta_free (d);
  return TEST_DONE ();
}
