/* The changes a run makes, collected before anything is written, so
 * --dry-run can show them all and a failure can undo them all.
 */
#ifndef P2VFIXUP_PLAN_H
#define P2VFIXUP_PLAN_H

#include <stdbool.h>
#include "fixup/ops.h"
#include "fixup/text.h"

struct change {
  char *path;
  char *old;                    /* NULL: a new file */
  char *new_;
  size_t new_len;               /* of a copy, which may hold NULs */
  char *copy_of;                /* a copied binary (a boot loader), or NULL */
  struct strlist notes;
  struct strlist made_dirs;     /* created for a new file, outermost first */
  bool written, backed_up;
};

struct plan {
  struct change *c;
  size_t n;
  struct strlist warnings;
  struct strlist info;          /* report lines that are not file changes */
  struct strlist commands;      /* what --dry-run would run */
};

/* Record OLD → NEW for PATH if they differ (takes ownership of NEW and
 * NOTES' strings).  A second change to the same path replaces the
 * planned text.  Returns the change or NULL if nothing changes.
 */
struct change *plan_add (struct plan *p, const char *path, const char *old,
                         char *new_, struct strlist *notes);
/* Record a new file PATH holding DATA, a copy of FROM (taken). */
struct change *plan_add_copy (struct plan *p, const char *path, const char *from,
                              char *data, size_t len, const char *note);
const struct change *plan_find (const struct plan *p, const char *path);
/* The current planned text of PATH, or NULL (and for a copy). */
const char *plan_text (const struct plan *p, const char *path);
void plan_warn (struct plan *p, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
void plan_info (struct plan *p, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Print the unified diff of every change. */
void plan_print_diff (const struct plan *p);
/* Write every change (with NAME.p2vbak backups unless NO_BACKUP).
 * Returns -1 after undoing what was written if one write fails.
 */
int plan_apply (struct plan *p, struct guest *g, bool no_backup);
/* Put back the old contents of every written file. */
int plan_undo (struct plan *p, struct guest *g);
void plan_report (const struct plan *p, bool dry_run);
void plan_free (struct plan *p);

#endif
