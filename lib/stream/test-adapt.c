/* --compress=auto's rule and its windows. */
#include <config.h>

#include "common/test.h"
#include <unistd.h>

#include "stream/adapt.h"

static int
decide (int level, double sending, double waiting, double idle)
{
  struct p2v_adapt_obs o = { .elapsed = 1.0, .waiting = waiting, .sending = sending,
                             .idle_cpus = idle };
  return p2v_adapt_decide (level, 1, 9, &o);
}

int
main (void)
{
  /* A full link and a core idle: squeeze harder, one step at a time,
   * never past the top.
   */
  CHECK (decide (1, 0.9, 0.0, 1.0) == 2);
  CHECK (decide (9, 0.9, 0.0, 1.0) == 9);
  /* A full link but no CPU to spare (a busy server): stay. */
  CHECK (decide (4, 0.9, 0.0, 0.1) == 4);
  /* Idle CPU, but not enough for the next level's cost: the workers
   * already compress on 1.6 cores, the next level needs 0.8 more.
   */
  struct p2v_adapt_obs heavy = { .elapsed = 1.0, .sending = 0.9, .idle_cpus = 0.6,
                                 .work_cpus = 1.6 };
  CHECK (p2v_adapt_decide (5, 1, 9, &heavy) == 5);
  heavy.idle_cpus = 0.9;
  CHECK (p2v_adapt_decide (5, 1, 9, &heavy) == 6);
  /* Waiting for chunks on a busy machine: compression is the
   * bottleneck, give ratio back; never below the bottom.
   */
  CHECK (decide (7, 0.1, 0.6, 0.0) == 4);
  CHECK (decide (4, 0.1, 0.6, 0.0) == 2);
  CHECK (decide (2, 0.1, 0.6, 0.0) == 1);
  CHECK (decide (1, 0.1, 0.6, 0.0) == 1);
  /* Waiting with CPUs idle: the reader (a slow disk) or the digest is
   * the bottleneck, and a lower level would not help.
   */
  CHECK (decide (4, 0.1, 0.6, 1.5) == 4);
  /* A link full only half the time: not worth more CPU. */
  CHECK (decide (3, 0.5, 0.0, 1.8) == 3);
  /* Sending and waiting both (a level that only just keeps up): hold. */
  CHECK (decide (5, 0.65, 0.25, 1.0) == 5);
  /* No /proc/stat: up only with the workers clearly ahead; down on
   * waiting alone.
   */
  CHECK (decide (2, 0.9, 0.01, -1) == 3);
  CHECK (decide (2, 0.9, 0.10, -1) == 2);
  CHECK (decide (3, 0.2, 0.5, -1) == 2);
  /* An empty window decides nothing. */
  struct p2v_adapt_obs empty = { 0 };
  CHECK (p2v_adapt_decide (3, 1, 9, &empty) == 3);

  /* Windows: complete only with enough time and enough chunks. */
  struct p2v_adapt a;
  p2v_adapt_init (&a, 1, 9, 1, 6, 100.0);
  CHECK (a.level == 1);
  /* 0.75 s but only 5 chunks: the last change may not have reached us. */
  for (int i = 0; i < 5; i++)
    CHECK (!p2v_adapt_chunk (&a, 0.0, 0.15, 100.0 + 0.15 * (i + 1)));
  CHECK (p2v_adapt_chunk (&a, 0.0, 0.1, 100.9));
  CHECK (p2v_adapt_close (&a, 1.0, 0.2, 100.9) == 2);
  CHECK (a.level == 2);
  /* The next window starts empty: 6 quick chunks in 0.1 s are not one. */
  for (int i = 0; i < 6; i++)
    CHECK (!p2v_adapt_chunk (&a, 0.01, 0.0, 100.9 + 0.01 * (i + 1)));
  CHECK (p2v_adapt_chunk (&a, 0.45, 0.0, 101.5));
  CHECK (p2v_adapt_close (&a, 0.0, 0.5, 101.5) == 1);
  CHECK (a.level == 1);
  /* A start outside the range is clamped. */
  p2v_adapt_init (&a, 1, 9, 12, 1, 0.0);
  CHECK (a.level == 9);

  /* The machine's idle CPUs: a first sample says nothing, a second one
   * a number between none and all of them.
   */
  struct p2v_cpu_sample s = { 0 };
  CHECK (p2v_cpu_idle_since (&s) == -1);
  if (access ("/proc/stat", R_OK) == 0) {
    CHECK (s.valid);
    usleep (200 * 1000);
    double idle = p2v_cpu_idle_since (&s);
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    CHECK (idle >= 0 && idle <= (double) cpus + 0.01);
  }
  else
    CHECK (!s.valid && p2v_cpu_idle_since (&s) == -1);
  return TEST_DONE ();
}
