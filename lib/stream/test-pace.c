/* The pacer under real threads and real time: two disks' writers share
 * one limit, an idle pause earns no burst.
 */
#include <config.h>

#include <pthread.h>

#include "stream/pace.h"
#include "common/test.h"
#include "common/util.h"

static struct p2v_pacer pacer;

static void
sleep_until (double t)
{
  p2v_sleep (t - p2v_now ());
}

static void *
writer (void *arg)
{
  (void) arg;
  for (int i = 0; i < 10; i++)
    sleep_until (p2v_pacer_reserve (&pacer, 100000));
  return NULL;
}

int
main (void)
{
  /* 2 x 10 records of 100 kB at 10 MB/s: the last starts 1.9 MB in. */
  p2v_pacer_init (&pacer, 10e6);
  double t0 = p2v_now ();
  pthread_t a, b;
  pthread_create (&a, NULL, writer, NULL);
  pthread_create (&b, NULL, writer, NULL);
  pthread_join (a, NULL);
  pthread_join (b, NULL);
  double took = p2v_now () - t0;
  CHECK (took >= 0.185);          /* the sum is limited, not each writer */
  CHECK (took < 2.0);

  /* After a pause the next record goes at once, the one after it one
   * record's time later: no credit was saved up.
   */
  sleep_until (p2v_now () + 0.3);
  double now = p2v_now ();
  double s1 = p2v_pacer_reserve (&pacer, 1000000);
  double s2 = p2v_pacer_reserve (&pacer, 1000000);
  CHECK (s1 - now < 0.01);
  CHECK (s2 - s1 > 0.099 && s2 - s1 < 0.101);
  p2v_pacer_destroy (&pacer);
  return TEST_DONE ();
}
