#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#include "common/message.h"
#include "fixup/plan.h"
#include "fixup/diff.h"

static struct change *
find (const struct plan *p, const char *path)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp (p->c[i].path, path) == 0)
      return &p->c[i];
  return NULL;
}

const struct change *
plan_find (const struct plan *p, const char *path)
{
  return find (p, path);
}

const char *
plan_text (const struct plan *p, const char *path)
{
  const struct change *c = find (p, path);
  return c && !c->copy_of ? c->new_ : NULL;
}

struct change *
plan_add_copy (struct plan *p, const char *path, const char *from,
               char *data, size_t len, const char *note)
{
  struct strlist notes = { 0 };
  strlist_add (&notes, note);
  struct change *c = plan_add (p, path, NULL, data, &notes);
  c->copy_of = xstrdup (from);
  c->new_len = len;
  return c;
}

static size_t
new_len (const struct change *c)
{
  return c->copy_of ? c->new_len : strlen (c->new_);
}

struct change *
plan_add (struct plan *p, const char *path, const char *old, char *new_,
          struct strlist *notes)
{
  struct change *c = find (p, path);
  const char *orig = c ? c->old : old;
  if (orig && strcmp (orig, new_) == 0) {
    /* A later rule may undo an earlier one; then there is no change. */
    free (new_);
    if (notes)
      strlist_free (notes);
    if (c) {
      free (c->path);
      free (c->old);
      free (c->new_);
      strlist_free (&c->notes);
      *c = p->c[--p->n];
    }
    return NULL;
  }
  if (!c) {
    p->c = xrealloc (p->c, (p->n + 1) * sizeof *p->c);
    c = &p->c[p->n++];
    memset (c, 0, sizeof *c);
    c->path = xstrdup (path);
    c->old = old ? xstrdup (old) : NULL;
  }
  else
    free (c->new_);
  c->new_ = new_;
  if (notes) {
    for (size_t i = 0; i < notes->n; i++)
      strlist_add (&c->notes, notes->v[i]);
    strlist_free (notes);
  }
  return c;
}

static void
vadd (struct strlist *l, const char *fmt, va_list ap)
{
  char *s;
  if (vasprintf (&s, fmt, ap) < 0)
    return;
  strlist_add_unique (l, s);
  free (s);
}

void
plan_warn (struct plan *p, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vadd (&p->warnings, fmt, ap);
  va_end (ap);
}

void
plan_info (struct plan *p, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vadd (&p->info, fmt, ap);
  va_end (ap);
}

void
plan_print_diff (const struct plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    if (p->c[i].copy_of) {
      printf ("new file %s: a copy of %s (%zu bytes)\n",
              p->c[i].path, p->c[i].copy_of, p->c[i].new_len);
      continue;
    }
    char *d = unified_diff (p->c[i].path, p->c[i].old, p->c[i].new_);
    fputs (d, stdout);
    free (d);
  }
  for (size_t i = 0; i < p->commands.n; i++)
    printf ("would run: %s\n", p->commands.v[i]);
}

static int
make_dirs (struct change *c, struct guest *g)
{
  struct strlist missing = { 0 };
  char *d = xstrdup (c->path);
  for (char *s; (s = strrchr (d, '/')) && s != d; ) {
    *s = 0;
    if (g->ops->is_dir (g, d))
      break;
    strlist_add (&missing, d);
  }
  free (d);
  int r = 0;
  for (size_t i = missing.n; i-- > 0; ) {
    if (g->ops->mkdir (g, missing.v[i]) == -1) {
      p2v_error ("creating directory %s: %s",
                 missing.v[i], g->ops->error (g));
      r = -1;
      break;
    }
    strlist_add (&c->made_dirs, missing.v[i]);
    char *note = xasprintf ("directory %s created (the guest had none)", missing.v[i]);
    strlist_add (&c->notes, note);
    free (note);
  }
  strlist_free (&missing);
  return r;
}

int
plan_apply (struct plan *p, struct guest *g, bool no_backup)
{
  for (size_t i = 0; i < p->n; i++) {
    struct change *c = &p->c[i];
    if (c->old && !no_backup) {
      char *bak = xasprintf ("%s.p2vbak", c->path);
      /* Keep the very first original if an earlier run left one. */
      if (!g->ops->is_file (g, bak)) {
        if (g->ops->write (g, bak, c->old, strlen (c->old)) == -1) {
          p2v_error ("backup %s: %s", bak, g->ops->error (g));
          free (bak);
          plan_undo (p, g);
          return -1;
        }
        c->backed_up = true;
      }
      free (bak);
    }
    /* A new file may go where the guest lacks a directory (no
     * /etc/udev/rules.d on CentOS 7): create it, report and undo it
     * like the file.
     */
    if (!c->old && make_dirs (c, g) == -1) {
      plan_undo (p, g);
      return -1;
    }
    if (g->ops->write (g, c->path, c->new_, new_len (c)) == -1) {
      p2v_error ("writing %s: %s", c->path, g->ops->error (g));
      plan_undo (p, g);
      return -1;
    }
    c->written = true;
  }
  return 0;
}

static void
rm_dirs (struct change *c, struct guest *g)
{
  for (size_t i = c->made_dirs.n; i-- > 0; )
    if (g->ops->rmdir (g, c->made_dirs.v[i]) == -1)
      p2v_warning ("could not remove %s: %s",
                   c->made_dirs.v[i], g->ops->error (g));
  strlist_free (&c->made_dirs);
}

int
plan_undo (struct plan *p, struct guest *g)
{
  int r = 0;
  for (size_t i = p->n; i-- > 0; ) {
    struct change *c = &p->c[i];
    if (c->backed_up) {
      char *bak = xasprintf ("%s.p2vbak", c->path);
      g->ops->remove (g, bak);
      free (bak);
      c->backed_up = false;
    }
    if (!c->written) { rm_dirs (c, g); continue; }
    int e = c->old ? g->ops->write (g, c->path, c->old, strlen (c->old))
      : g->ops->remove (g, c->path);
    if (e == -1) {
      p2v_error ("could not restore %s: %s",
                 c->path, g->ops->error (g));
      r = -1;
    }
    c->written = false;
    rm_dirs (c, g);
  }
  return r;
}

void
plan_report (const struct plan *p, bool dry_run)
{
  for (size_t i = 0; i < p->info.n; i++)
    printf ("%s\n", p->info.v[i]);
  if (p->n == 0)
    printf ("No file needs to change.\n");
  for (size_t i = 0; i < p->n; i++) {
    const struct change *c = &p->c[i];
    printf ("%s%s%s:\n", c->path, c->old ? "" : " (new file)",
            dry_run ? " (would change)" : "");
    for (size_t k = 0; k < c->notes.n; k++)
      printf ("  %s\n", c->notes.v[k]);
  }
  for (size_t i = 0; i < p->warnings.n; i++)
    printf ("warning: %s\n", p->warnings.v[i]);
}

void
plan_free (struct plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free (p->c[i].path);
    free (p->c[i].old);
    free (p->c[i].new_);
    free (p->c[i].copy_of);
    strlist_free (&p->c[i].notes);
    strlist_free (&p->c[i].made_dirs);
  }
  free (p->c);
  strlist_free (&p->warnings);
  strlist_free (&p->info);
  strlist_free (&p->commands);
  memset (p, 0, sizeof *p);
}
