#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fixup/rules.h"

static void
log_to_notes (struct rewrite_log *log, struct strlist *notes,
              struct strlist *warn)
{
  for (size_t i = 0; i < log->changed.n; i++)
    if (notes)
      strlist_add_unique (notes, log->changed.v[i]);
  for (size_t i = 0; i < log->unresolved.n; i++)
    if (warn) {
      char *w = xasprintf ("%s: no new name known, left as it is (use --map)",
                           log->unresolved.v[i]);
      strlist_add_unique (warn, w);
      free (w);
    }
  rewrite_log_free (log);
}

char *
rule_devices (const char *text, const struct devmap *m,
              struct strlist *notes, struct strlist *warn)
{
  struct rewrite_log log = { 0 };
  char *r = devrewrite (text, m, REWRITE_SKIP_COMMENTS, &log);
  log_to_notes (&log, notes, warn);
  return r;
}

char *
rule_grub_legacy (const char *text, const struct devmap *m,
                  struct strlist *notes, struct strlist *warn)
{
  struct rewrite_log log = { 0 };
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line;
  size_t len;

  while (next_line (text, &pos, &line, &len)) {
    char *l = xstrndup (line, len);
    char *r = devrewrite (l, m, str_starts (l, "#boot=") ? 0 : REWRITE_SKIP_COMMENTS,
                          &log);
    sb_adds (&out, r);
    free (r);
    free (l);
  }
  log_to_notes (&log, notes, warn);
  return sb_steal (&out);
}
