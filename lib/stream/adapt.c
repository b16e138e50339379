#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/adapt.h"

/* Thresholds, as fractions of the window.  Sending must dominate before
 * we spend more CPU (a link that is full only now and then gains little
 * from fewer bytes); waiting must be substantial before we give ratio
 * back, so the zero-chunk bursts of a sparse disk do not drag the level
 * down.  Half a core idle is the least worth taking: the receiver, the
 * digest thread or the server's own work may need the rest.
 */
#define SEND_BOUND 0.80
#define WAIT_CALM 0.20
#define WAIT_BOUND 0.30
#define IDLE_SPARE 0.50
#define IDLE_NONE 0.25

int
p2v_adapt_decide (int level, int min, int max, const struct p2v_adapt_obs *o)
{
  if (o->elapsed <= 0)
    return level;
  double send = o->sending / o->elapsed, wait = o->waiting / o->elapsed;
  bool known = o->idle_cpus >= 0;
  /* The next level costs up to 1.5 times this one's CPU (zstd 4 → 5 on
   * disk data), on top of what the machine already does.  Without
   * /proc/stat only our own pipeline speaks: up only when the workers
   * are clearly ahead of the link.
   */
  bool spare = known ? o->idle_cpus >= IDLE_SPARE && o->idle_cpus >= 0.5 * o->work_cpus
                     : wait < 0.05;
  if (send >= SEND_BOUND && wait < WAIT_CALM && spare)
    return level < max ? level + 1 : max;
  if (wait >= WAIT_BOUND && (!known || o->idle_cpus < IDLE_NONE))
    return min + (level - min) / 2;
  return level;
}

double
p2v_cpu_idle_since (struct p2v_cpu_sample *prev)
{
  FILE *f = fopen ("/proc/stat", "re");
  char line[512];
  uint64_t v[8] = { 0 };
  int n = 0;
  if (f) {
    if (fgets (line, sizeof line, f) && strncmp (line, "cpu ", 4) == 0) {
      /* user nice system idle iowait irq softirq steal (guest counted in user) */
      char *p = line + 4;
      while (n < 8) {
        char *end;
        while (*p == ' ')
          p++;
        if (*p < '0' || *p > '9')
          break;
        v[n++] = strtoull (p, &end, 10);
        p = end;
      }
    }
    fclose (f);
  }
  if (n < 4) {
    prev->valid = false;
    return -1;
  }
  uint64_t idle = v[3] + v[4], total = 0;
  for (int i = 0; i < n; i++)
    total += v[i];
  double r = -1;
  if (prev->valid) {
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    r = total > prev->total && idle >= prev->idle
      ? (double) (idle - prev->idle) / (double) (total - prev->total) * (cpus > 0 ? cpus : 1)
      : 0;
  }
  prev->idle = idle;
  prev->total = total;
  prev->valid = true;
  return r;
}

static void
new_window (struct p2v_adapt *a, double now)
{
  a->start = now;
  a->waiting = a->sending = 0;
  a->chunks = 0;
}

void
p2v_adapt_init (struct p2v_adapt *a, int min, int max, int start,
                unsigned min_chunks, double now)
{
  memset (a, 0, sizeof *a);
  a->min = min;
  a->max = max;
  a->level = start < min ? min : start > max ? max : start;
  /* With many workers the ring is deep; 16 chunks still show a change
   * within a few seconds on a slow link.
   */
  a->min_chunks = min_chunks < 16 ? min_chunks : 16;
  new_window (a, now);
  p2v_cpu_idle_since (&a->cpu);
}

bool
p2v_adapt_chunk (struct p2v_adapt *a, double waiting, double sending, double now)
{
  a->waiting += waiting;
  a->sending += sending;
  a->chunks++;
  return now - a->start >= P2V_ADAPT_WINDOW && a->chunks >= a->min_chunks;
}

int
p2v_adapt_close (struct p2v_adapt *a, double idle_cpus, double work_s, double now)
{
  double el = now - a->start;
  struct p2v_adapt_obs o = { .elapsed = el, .waiting = a->waiting, .sending = a->sending,
                             .idle_cpus = idle_cpus, .work_cpus = el > 0 ? work_s / el : 0 };
  a->level = p2v_adapt_decide (a->level, a->min, a->max, &o);
  new_window (a, now);
  return a->level;
}
