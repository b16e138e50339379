#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "humanize.h"
#include "json.h"
#include "progress.h"
#include "util.h"

struct p2v_progress {
  int mode;
  char *label;
  uint64_t total;
  double start;
  double last_draw;
  uint64_t last_bytes;
  double rate;              /* smoothed current rate, bytes/s */
  double interval;
};

int
p2v_progress_mode_from_name (const char *name)
{
  static const char *const names[] = { "auto", "tty", "plain", "json", "none" };
  for (int i = 0; i < 5; i++)
    if (strcmp (name, names[i]) == 0)
      return i;
  return -1;
}

int
p2v_opt_progress (const char *arg)
{
  int m = p2v_progress_mode_from_name (arg);
  if (m == -1)
    p2v_error ("--progress: '%s' is not one of auto, tty, plain, json, none", arg);
  return m;
}

struct p2v_progress *
p2v_progress_new (int mode, const char *label, uint64_t total)
{
  struct p2v_progress *p = xcalloc (1, sizeof *p);
  if (mode == P2V_PROGRESS_AUTO)
    mode = isatty (STDERR_FILENO) ? P2V_PROGRESS_TTY : P2V_PROGRESS_PLAIN;
  p->mode = mode;
  p->label = xstrdup (label);
  p->total = total;
  p->start = p->last_draw = p2v_now ();
  p->interval = mode == P2V_PROGRESS_TTY ? 0.5 : mode == P2V_PROGRESS_JSON ? 1.0 : 5.0;
  return p;
}

void
p2v_progress_format (char *buf, size_t n, uint64_t done, uint64_t total,
                     double elapsed, double rate, double avg)
{
  char d[P2V_HUMAN_LEN], t[P2V_HUMAN_LEN], r[P2V_HUMAN_LEN], a[P2V_HUMAN_LEN];
  char e[P2V_HUMAN_LEN], eta[P2V_HUMAN_LEN];
  double pct = total ? 100.0 * done / total : 100.0;
  double left = done >= total ? 0 : avg > 0 ? (total - done) / avg : -1;
  snprintf (buf, n, "%s / %s  %3.0f%%  %s/s  avg %s/s  %s  ETA %s",
            p2v_human_size (done, d), p2v_human_size (total, t), pct,
            p2v_human_size ((uint64_t) rate, r), p2v_human_size ((uint64_t) avg, a),
            p2v_human_duration (elapsed, e), p2v_human_duration (left, eta));
}

static void
draw (struct p2v_progress *p, uint64_t done, double now, int final)
{
  double elapsed = now - p->start;
  double avg = elapsed > 0 ? done / elapsed : 0;
  double dt = now - p->last_draw;
  if (dt > 0) {
    double inst = (done - p->last_bytes) / dt;
    /* Smooth over a few intervals so the number is readable. */
    p->rate = p->last_bytes == 0 && p->rate == 0 ? inst : 0.6 * inst + 0.4 * p->rate;
  }
  if (final)
    p->rate = avg;
  p->last_draw = now;
  p->last_bytes = done;

  char line[256];
  FILE *f = stderr;
  switch (p->mode) {
  case P2V_PROGRESS_TTY:
    p2v_progress_format (line, sizeof line, done, p->total, elapsed, p->rate, avg);
    fprintf (f, "\r\033[K%s: %s%s", p->label, line, final ? "\n" : "");
    break;
  case P2V_PROGRESS_PLAIN:
    p2v_progress_format (line, sizeof line, done, p->total, elapsed, p->rate, avg);
    fprintf (f, "%s: %s\n", p->label, line);
    break;
  case P2V_PROGRESS_JSON:
    fputs ("{\"label\": ", f);
    p2v_json_string (f, p->label);
    fprintf (f, ", \"bytes\": %llu, \"total\": %llu, \"percent\": %.1f, "
             "\"rate\": %.0f, \"avg_rate\": %.0f, \"elapsed\": %.2f, \"done\": %s}\n",
             (unsigned long long) done, (unsigned long long) p->total,
             p->total ? 100.0 * done / p->total : 100.0, p->rate, avg, elapsed,
             final ? "true" : "false");
    break;
  }
  fflush (f);
}

void
p2v_progress_update (struct p2v_progress *p, uint64_t done)
{
  if (!p || p->mode == P2V_PROGRESS_NONE)
    return;
  double now = p2v_now ();
  if (now - p->last_draw >= p->interval)
    draw (p, done, now, 0);
}

void
p2v_progress_finish (struct p2v_progress *p, uint64_t done)
{
  if (p && p->mode != P2V_PROGRESS_NONE)
    draw (p, done, p2v_now (), 1);
}

void
p2v_progress_free (struct p2v_progress *p)
{
  if (p) {
    free (p->label);
    free (p);
  }
}
