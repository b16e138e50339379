/* --compress=auto: the zstd level, chosen while the copy runs.
 *
 * What limits a copy changes along the disk and along the day: a 100
 * Mbit/s link wants every byte squeezed, loopback or 10 GbE wants the
 * cheapest level, and a production server that is still serving wants
 * its CPUs left alone.  The writer thread sees which it is, chunk by
 * chunk, as zstd --adapt does: time blocked sending means the link (or
 * the receiver behind it) is the bottleneck; time waiting for the next
 * chunk means the workers (or the reader) are.  A higher level pays
 * only in the first case and only with CPU to spare, which /proc/stat
 * tells for the whole machine, so other processes count too.
 *
 * The writer reports every chunk; once a window holds at least
 * P2V_ADAPT_WINDOW seconds and enough chunks that the last change has
 * reached it through the ring, the level may move (p2v_adapt_decide).
 * Each disk of a session has its own controller, reading the same
 * machine-wide idle time.
 */
#ifndef P2V_ADAPT_H
#define P2V_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#define P2V_ADAPT_WINDOW 0.5
/* zstd levels --compress=auto moves between.  Above 9 a 4 MiB chunk's
 * context grows to 24-49 MiB per worker and speed falls under 40 MB/s
 * a core; an admin with a very slow link can ask for zstd:19.
 */
#define P2V_ADAPT_MIN 1
#define P2V_ADAPT_MAX 9
#define P2V_ADAPT_START 1

/* One window, as the writer saw it. */
struct p2v_adapt_obs {
  double elapsed;               /* seconds */
  double waiting;               /* of which waiting for the next chunk */
  double sending;               /* of which sending chunks */
  double idle_cpus;             /* the machine's idle CPUs (0.5 = half a core), < 0 unknown */
  double work_cpus;             /* CPUs the workers spent compressing */
};

/* The rule: the level for the next window.  Up one step at a time,
 * down halfway to the bottom at once (as TCP's congestion window): a
 * level too high for the data stalls the link right away, while one too
 * low only costs a few more bytes.
 */
int p2v_adapt_decide (int level, int min, int max, const struct p2v_adapt_obs *o);

/* Idle CPUs of the whole machine since the last sample, from
 * /proc/stat.  The first call only takes the sample and returns -1, as
 * does a machine without /proc/stat; counters that did not move read
 * as no idle CPU (nothing to spare).
 */
struct p2v_cpu_sample {
  uint64_t idle, total;
  bool valid;
};
double p2v_cpu_idle_since (struct p2v_cpu_sample *prev);

struct p2v_adapt {
  int min, max, level;
  unsigned min_chunks;          /* chunks a window needs (the ring's depth, at most 16) */
  double start, waiting, sending;
  unsigned chunks;
  struct p2v_cpu_sample cpu;
};

void p2v_adapt_init (struct p2v_adapt *a, int min, int max, int start,
                     unsigned min_chunks, double now);
/* The writer sent one chunk after waiting `waiting` s for it and
 * spending `sending` s on it.  True when the window is complete: call
 * p2v_adapt_close with the machine's idle CPUs.
 */
bool p2v_adapt_chunk (struct p2v_adapt *a, double waiting, double sending, double now);
/* Decide and start a new window; returns the level to use from now.
 * idle_cpus as p2v_cpu_idle_since gives it; work_s the seconds the
 * workers spent compressing since the window began.
 */
int p2v_adapt_close (struct p2v_adapt *a, double idle_cpus, double work_s, double now);

#endif
