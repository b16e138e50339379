/* pv-style progress on stderr.  Updates are cheap and may come from any
 * one thread; drawing is rate-limited: a redrawn line on a TTY, a plain
 * line every few seconds otherwise, or one JSON object per line.
 */
#ifndef P2V_PROGRESS_H
#define P2V_PROGRESS_H

#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

enum p2v_progress_mode {
  P2V_PROGRESS_AUTO,        /* TTY if stderr is one, else plain */
  P2V_PROGRESS_TTY,
  P2V_PROGRESS_PLAIN,
  P2V_PROGRESS_JSON,
  P2V_PROGRESS_NONE,
};

/* "auto", "tty", "plain", "json", "none" → mode, or -1. */
int p2v_progress_mode_from_name (const char *name);
/* The same for --progress=ARG, printing the error itself. */
int p2v_opt_progress (const char *arg);
/* Plain and JSON progress (auto into a file too) have room for lines of
 * their own beside the bar, such as a delta's; a redrawn TTY line has
 * not.
 */
bool p2v_progress_has_lines (int mode);

struct p2v_progress;
struct p2v_progress *p2v_progress_new (int mode, const char *label, uint64_t total);
void p2v_progress_update (struct p2v_progress *p, uint64_t done);
/* With mode JSON, a line naming the digest of label:
 * {"label": L, "digest": {"algorithm": "blkhash-sha256", "value": HEX}}
 */
void p2v_progress_digest (int mode, const char *label, const char *algorithm, const char *hex);
/* Final line, always drawn (unless mode none). */
void p2v_progress_finish (struct p2v_progress *p, uint64_t done);
void p2v_progress_free (struct p2v_progress *p);

/* Several disks at once: one display with a line per disk and a total.
 * Each disk's pipeline makes its member with p2v_progress_new_in (again
 * on a retry: the slot keeps its place) and updates it from its own
 * thread; the group draws everything, rate-limited, under one lock.  On
 * a TTY the lines are redrawn in place and cleared before any message
 * (p2v_message_hook), so messages scroll above the display.
 */
struct p2v_progress_group;
struct p2v_progress_group *p2v_progress_group_new (int mode, unsigned n, FILE *f);
struct p2v_progress *p2v_progress_new_in (struct p2v_progress_group *g, unsigned i,
                                          const char *label, uint64_t total);
/* Mark disk i as failed (its line says so; the total counts it as
 * done).  Then, when every disk finished, the final lines.
 */
void p2v_progress_group_fail (struct p2v_progress_group *g, unsigned i);
void p2v_progress_group_free (struct p2v_progress_group *g);

/* The human line without decoration, e.g.
 * "1.2 GiB / 4.0 GiB  30%  412.0 MiB/s  avg 398.1 MiB/s  0:03  ETA 0:07".
 */
void p2v_progress_format (char *buf, size_t n, uint64_t done, uint64_t total,
                          double elapsed, double rate, double avg);

#endif
