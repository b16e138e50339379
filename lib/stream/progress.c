#include <config.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/humanize.h"
#include "common/json.h"
#include "stream/progress.h"
#include "common/util.h"

struct p2v_progress {
  struct p2v_progress_group *g; /* member of a group: the group draws */
  unsigned idx;
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
p2v_progress_digest (int mode, const char *label, const char *algorithm, const char *hex)
{
  if (mode != P2V_PROGRESS_JSON)
    return;
  fputs ("{\"label\": ", stderr);
  p2v_json_string (stderr, label);
  fputs (", \"digest\": {\"algorithm\": ", stderr);
  p2v_json_string (stderr, algorithm);
  fputs (", \"value\": ", stderr);
  p2v_json_string (stderr, hex);
  fputs ("}}\n", stderr);
  fflush (stderr);
}

static void group_update (struct p2v_progress_group *g, unsigned i, uint64_t done, bool final);

void
p2v_progress_update (struct p2v_progress *p, uint64_t done)
{
  if (p && p->g) {
    group_update (p->g, p->idx, done, false);
    return;
  }
  if (!p || p->mode == P2V_PROGRESS_NONE)
    return;
  double now = p2v_now ();
  if (now - p->last_draw >= p->interval)
    draw (p, done, now, 0);
}

void
p2v_progress_finish (struct p2v_progress *p, uint64_t done)
{
  if (p && p->g) {
    group_update (p->g, p->idx, done, true);
    return;
  }
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

struct member {
  char *label;
  uint64_t total, done, last_bytes;
  double start, last_t, rate;
  bool started, finished, failed;
};

struct p2v_progress_group {
  int mode;
  FILE *f;
  unsigned n;
  struct member *m;
  pthread_mutex_t lock;
  double start, last_draw, interval;
  unsigned lines_on_screen;     /* TTY: lines drawn below the last message */
  bool closed;                  /* every disk finished: final lines drawn */
};

/* The display the message hook clears: one per process. */
static struct p2v_progress_group *tty_group;

static void
clear_lines (struct p2v_progress_group *g)
{
  if (g->lines_on_screen) {
    fprintf (g->f, "\033[%uA\r\033[J", g->lines_on_screen);
    fflush (g->f);
    g->lines_on_screen = 0;
  }
}

static void
write_message (const char *line, size_t len)
{
  struct p2v_progress_group *g = tty_group;
  ssize_t r;
  if (!g) {
    r = write (STDERR_FILENO, line, len);
    (void) r;
    return;
  }
  pthread_mutex_lock (&g->lock);
  clear_lines (g);
  r = write (STDERR_FILENO, line, len);
  (void) r;
  pthread_mutex_unlock (&g->lock);
}

struct p2v_progress_group *
p2v_progress_group_new (int mode, unsigned n, FILE *f)
{
  struct p2v_progress_group *g = xcalloc (1, sizeof *g);
  if (mode == P2V_PROGRESS_AUTO)
    mode = isatty (fileno (f)) ? P2V_PROGRESS_TTY : P2V_PROGRESS_PLAIN;
  g->mode = mode;
  g->f = f;
  g->n = n;
  g->m = xcalloc (n, sizeof *g->m);
  pthread_mutex_init (&g->lock, NULL);
  g->start = p2v_now ();
  g->interval = mode == P2V_PROGRESS_TTY ? 0.5 : mode == P2V_PROGRESS_JSON ? 1.0 : 5.0;
  g->last_draw = g->start - g->interval;
  if (mode == P2V_PROGRESS_TTY) {
    tty_group = g;
    p2v_message_hook = write_message;
  }
  return g;
}

struct p2v_progress *
p2v_progress_new_in (struct p2v_progress_group *g, unsigned i, const char *label,
                     uint64_t total)
{
  struct p2v_progress *p = xcalloc (1, sizeof *p);
  p->g = g;
  p->idx = i;
  p->mode = g->mode;
  /* Allocated before the lock: failing, it reports through the message
   * hook, which takes the lock.
   */
  char *copy = xstrdup (label);
  pthread_mutex_lock (&g->lock);
  struct member *m = &g->m[i];
  free (m->label);
  m->label = copy;
  g->closed = false;
  m->total = total;
  m->done = m->last_bytes = 0;
  m->rate = 0;
  m->start = m->last_t = p2v_now ();
  m->started = true;
  m->finished = m->failed = false;
  pthread_mutex_unlock (&g->lock);
  return p;
}

static void
draw_line (struct p2v_progress_group *g, const char *label, int disk, uint64_t done,
           uint64_t total, double elapsed, double rate, const char *state, bool final)
{
  double avg = elapsed > 0 ? done / elapsed : 0;
  char line[256];
  switch (g->mode) {
  case P2V_PROGRESS_TTY:
  case P2V_PROGRESS_PLAIN:
    if (state)
      snprintf (line, sizeof line, "%s", state);
    else
      p2v_progress_format (line, sizeof line, done, total, elapsed, rate, avg);
    fprintf (g->f, "%s%s: %s\n", g->mode == P2V_PROGRESS_TTY ? "\r\033[K" : "", label, line);
    break;
  case P2V_PROGRESS_JSON:
    fputs ("{\"label\": ", g->f);
    p2v_json_string (g->f, label);
    if (disk >= 0)
      fprintf (g->f, ", \"disk\": %d", disk);
    fprintf (g->f, ", \"bytes\": %llu, \"total\": %llu, \"percent\": %.1f, "
             "\"rate\": %.0f, \"avg_rate\": %.0f, \"elapsed\": %.2f, \"done\": %s%s}\n",
             (unsigned long long) done, (unsigned long long) total,
             total ? 100.0 * done / total : 100.0, rate, avg, elapsed,
             final ? "true" : "false", state && strcmp (state, "failed") == 0
             ? ", \"failed\": true" : "");
    break;
  }
}

/* Under g->lock. */
static void
group_draw (struct p2v_progress_group *g, double now)
{
  if (g->mode == P2V_PROGRESS_NONE || g->closed)
    return;
  bool all = true;
  uint64_t done = 0, total = 0;
  double rate = 0;
  if (g->mode == P2V_PROGRESS_TTY)
    clear_lines (g);
  for (unsigned i = 0; i < g->n; i++) {
    struct member *m = &g->m[i];
    char waiting[32];
    snprintf (waiting, sizeof waiting, "disk %u", i + 1);
    const char *state = !m->started ? "waiting" : m->failed ? "failed" : NULL;
    draw_line (g, m->label ? m->label : waiting, (int) i, m->done, m->total,
               now - m->start, m->finished ? 0 : m->rate, state, m->finished);
    all = all && m->finished;
    done += m->finished && m->failed ? m->total : m->done;
    total += m->total;
    rate += m->finished ? 0 : m->rate;
  }
  draw_line (g, "total", -1, done, total, now - g->start, rate, NULL, all);
  g->lines_on_screen = g->mode == P2V_PROGRESS_TTY ? g->n + 1 : 0;
  fflush (g->f);
  g->last_draw = now;
  if (all) {
    /* The final lines stay; later messages go below them. */
    g->closed = true;
    g->lines_on_screen = 0;
  }
}

static void
group_update (struct p2v_progress_group *g, unsigned i, uint64_t done, bool final)
{
  pthread_mutex_lock (&g->lock);
  struct member *m = &g->m[i];
  double now = p2v_now ();
  if (now - m->last_t >= 0.5) {
    double inst = (done - m->last_bytes) / (now - m->last_t);
    m->rate = m->rate == 0 ? inst : 0.6 * inst + 0.4 * m->rate;
    m->last_t = now;
    m->last_bytes = done;
  }
  m->done = done;
  if (final)
    m->finished = true;
  if (final || now - g->last_draw >= g->interval)
    group_draw (g, now);
  pthread_mutex_unlock (&g->lock);
}

void
p2v_progress_group_fail (struct p2v_progress_group *g, unsigned i)
{
  pthread_mutex_lock (&g->lock);
  g->m[i].failed = g->m[i].finished = true;
  if (!g->m[i].started) {
    g->m[i].started = true;
    g->m[i].start = p2v_now ();
  }
  group_draw (g, p2v_now ());
  pthread_mutex_unlock (&g->lock);
}

void
p2v_progress_group_free (struct p2v_progress_group *g)
{
  if (!g)
    return;
  if (tty_group == g) {
    p2v_message_hook = NULL;
    tty_group = NULL;
  }
  for (unsigned i = 0; i < g->n; i++)
    free (g->m[i].label);
  free (g->m);
  pthread_mutex_destroy (&g->lock);
  free (g);
}

bool
p2v_progress_has_lines (int mode)
{
  return mode == P2V_PROGRESS_PLAIN || mode == P2V_PROGRESS_JSON
    || (mode == P2V_PROGRESS_AUTO && !isatty (STDERR_FILENO));
}
