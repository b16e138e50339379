#include <config.h>

#include <errno.h>
#include <time.h>

#include "common/util.h"

double
p2v_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
p2v_sleep (double seconds)
{
  if (seconds <= 0)
    return;
  struct timespec ts = { (time_t) seconds, (long) ((seconds - (time_t) seconds) * 1e9) };
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

double
p2v_thread_cpu (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
p2v_cond_init_monotonic (pthread_cond_t *c)
{
  pthread_condattr_t a;
  pthread_condattr_init (&a);
  pthread_condattr_setclock (&a, CLOCK_MONOTONIC);
  pthread_cond_init (c, &a);
  pthread_condattr_destroy (&a);
}

struct timespec
p2v_monotonic_in (double seconds)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  time_t whole = (time_t) seconds;
  t.tv_sec += whole;
  t.tv_nsec += (long) ((seconds - (double) whole) * 1e9);
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}
