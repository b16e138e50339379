/* p2vsum: digests of whole disks and image files, printed or checked. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stream/progress.h"
#include "stream/sum.h"
#include "common/util.h"

struct prog {
  struct p2v_progress *p;
};

static void
on_progress (void *arg, uint64_t done)
{
  p2v_progress_update (((struct prog *) arg)->p, done);
}

/* The digest of one path, as lower-case hex.  0 or -1 (printed). */
static int
sum_one (const struct p2v_sum_opts *o, int id, const char *path, char hex[P2V_DIGEST_HEX_MAX])
{
  struct p2v_dev dev;
  if (p2v_source_open (path, &dev) == -1)
    return -1;
  struct p2v_digest *d = p2v_digest_new (id);
  int r = -1;
  if (d) {
    struct prog pr = { p2v_progress_new (o->progress_mode, path, dev.size) };
    struct p2v_sum_cb cb = { .progress = on_progress, .arg = &pr };
    r = p2v_sum_range (d, &dev, 0, dev.size, o->threads, &cb);
    uint8_t md[P2V_DIGEST_MAX];
    p2v_digest_final (d, md);
    p2v_hex (md, p2v_digest_size (id), hex);
    p2v_digest_free (d);
    if (r == 0) {
      /* The digest's JSON line first: scripts take the last line, "done". */
      p2v_progress_digest (o->progress_mode, path, p2v_digest_name (id), hex);
      p2v_progress_finish (pr.p, dev.size);
    }
    p2v_progress_free (pr.p);
  }
  p2v_dev_close (&dev);
  return r;
}

int
p2v_sum_paths (const struct p2v_sum_opts *o, char *const *paths, unsigned n)
{
  int status = P2V_EXIT_OK;
  char tag[32], hex[P2V_DIGEST_HEX_MAX];
  p2v_digest_tag (o->digest_id, tag, sizeof tag);
  for (unsigned i = 0; i < n; i++) {
    if (sum_one (o, o->digest_id, paths[i], hex) == -1) {
      status = P2V_EXIT_IO;
      continue;
    }
    printf ("%s (%s) = %s\n", tag, paths[i], hex);
    fflush (stdout);
  }
  return status;
}

static bool
is_hex (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!strchr ("0123456789abcdefABCDEF", s[i]))
      return false;
  return s[n] == '\0' || s[n] == ' ';
}

static void
copy_hex_lower (const char *s, size_t n, char hex[P2V_DIGEST_HEX_MAX])
{
  for (size_t i = 0; i < n; i++)
    hex[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
  hex[n] = '\0';
}

int
p2v_sum_parse_line (char *line, int untagged_id, int *id, char hex[P2V_DIGEST_HEX_MAX],
                    char **name)
{
  size_t len = strlen (line);
  while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  if (len == 0 || line[0] == '#')
    return 0;
  /* Tagged: "TAG (NAME) = HEX"; the name may hold anything but a newline. */
  char *open = strstr (line, " (");
  char *close = strrchr (line, ')');
  if (open && close && close > open && strncmp (close, ") = ", 4) == 0) {
    *open = '\0';
    char tag[32];
    int found = -1;
    for (int k = 1; k < 16 && found == -1; k++) {
      p2v_digest_tag (k, tag, sizeof tag);
      if (p2v_digest_name (k) && strcasecmp (line, tag) == 0)
        found = k;
    }
    *open = ' ';
    const char *h = close + 4;
    if (found != -1 && strlen (h) == 2 * p2v_digest_size (found) && is_hex (h, strlen (h))) {
      *id = found;
      copy_hex_lower (h, strlen (h), hex);
      *close = '\0';
      *name = open + 2;
      return **name ? 1 : -1;
    }
  }
  /* Untagged: "HEX  NAME" or "HEX *NAME", as coreutils and blksum print. */
  size_t hl = 2 * p2v_digest_size (untagged_id);
  if (len > hl + 2 && is_hex (line, hl) && line[hl] == ' ' && (line[hl + 1] == ' ' || line[hl + 1] == '*')) {
    *id = untagged_id;
    copy_hex_lower (line, hl, hex);
    *name = line + hl + 2;
    return 2;
  }
  return -1;
}

/* One list; updates *mismatch and *io. */
static void
check_list (const struct p2v_sum_opts *o, const char *list, bool *mismatch, bool *io)
{
  FILE *f = strcmp (list, "-") == 0 ? stdin : fopen (list, "r");
  if (!f) {
    p2v_error ("cannot open %s: %s", list, strerror (errno));
    *io = true;
    return;
  }
  char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0, checked = 0, bad_lines = 0, untagged = 0;
  while (getline (&line, &cap, f) != -1) {
    lineno++;
    int id;
    char want[P2V_DIGEST_HEX_MAX], got[P2V_DIGEST_HEX_MAX], *name;
    int r = p2v_sum_parse_line (line, o->digest_id, &id, want, &name);
    if (r == 0)
      continue;
    if (r == -1) {
      bad_lines++;
      continue;
    }
    if (r == 2 && !o->digest_given) {
      p2v_error ("%s:%u: an untagged line: say which digest it is with --digest "
                 "(blkhash-sha256 for blksum's output, sha256 for sha256sum's)", list, lineno);
      *io = true;
      untagged++;
      continue;
    }
    checked++;
    if (sum_one (o, id, name, got) == -1) {
      printf ("%s: FAILED open or read\n", name);
      *io = true;
    }
    else if (strcmp (got, want) != 0) {
      printf ("%s: FAILED\n", name);
      *mismatch = true;
    }
    else
      printf ("%s: OK\n", name);
    fflush (stdout);
  }
  if (ferror (f)) {
    p2v_error ("cannot read %s: %s", list, strerror (errno));
    *io = true;
  }
  if (bad_lines)
    p2v_warning ("%s: %u line%s not a digest line, ignored", list, bad_lines,
                 bad_lines == 1 ? " is" : "s are");
  if (checked == 0 && untagged == 0) {
    p2v_error ("%s: no digest lines (\"TAG (PATH) = HEX\" or \"HEX  PATH\")", list);
    *io = true;
  }
  free (line);
  if (f != stdin)
    fclose (f);
}

int
p2v_sum_check (const struct p2v_sum_opts *o, char *const *lists, unsigned n)
{
  bool mismatch = false, io = false;
  for (unsigned i = 0; i < n; i++)
    check_list (o, lists[i], &mismatch, &io);
  return mismatch ? P2V_EXIT_MISMATCH : io ? P2V_EXIT_IO : P2V_EXIT_OK;
}

struct digest_line {
  const char *target, *digest_hex;
  int digest_id;
};

static int
digest_fill (FILE *f, const void *arg)
{
  const struct digest_line *m = arg;
  /* The tagged form of `sha256sum --tag`: it names the algorithm, and
   * coreutils' -c checks the plain ones and refuses (rather than
   * misreports) a blkhash, which p2vsum --check and blksum verify.
   */
  char tag[32];
  p2v_digest_tag (m->digest_id, tag, sizeof tag);
  fprintf (f, "%s (%s) = %s\n", tag, m->target, m->digest_hex);
  return 0;
}

int
p2v_digest_file_write (const char *path, int digest_id,
                       const char *digest_hex, const char *target)
{
  struct digest_line m = { .target = target, .digest_hex = digest_hex, .digest_id = digest_id };
  if (p2v_replace_file (path, 0644, digest_fill, &m) == -1) {
    p2v_error ("cannot write %s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}
