#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fixup/bootentry.h"
#include "fixup/text.h"

static char *
last_word (const char *line, size_t len)
{
  char *w = NULL, *n;
  for (int i = 1; (n = line_word (line, len, i, NULL)) != NULL; i++) {
    free (w);
    w = n;
  }
  return w;
}

static void
set_version (struct boot_entry *e)
{
  const char *b = strrchr (e->kernel, '/');
  b = b ? b + 1 : e->kernel;
  const char *dash = strchr (b, '-');
  /* vmlinuz-VER, vmlinux-VER, kernel-VER */
  e->version = dash && dash[1] ? xstrdup (dash + 1) : NULL;
}

/* GRUB legacy's "(hd0,0)/vmlinuz" → "/vmlinuz". */
static char *
strip_grub_device (char *path)
{
  if (path[0] == '(') {
    char *c = strchr (path, ')');
    if (c) {
      char *r = xstrdup (c + 1);
      free (path);
      return r;
    }
  }
  return path;
}

static int
entry_from (const char *text, size_t pos, const char *klw[], const char *ilw[],
            struct boot_entry *e, const char *stop)
{
  const char *line;
  size_t len;
  memset (e, 0, sizeof *e);
  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    char *w0 = line_word (line, len, 0, NULL);
    if (!w0)
      continue;
    bool is_k = false, is_i = false;
    for (size_t i = 0; klw[i]; i++)
      if (strcmp (w0, klw[i]) == 0)
        is_k = true;
    for (size_t i = 0; ilw[i]; i++)
      if (strcmp (w0, ilw[i]) == 0)
        is_i = true;
    bool is_stop = stop && strcmp (w0, stop) == 0;
    free (w0);
    if (is_stop && e->kernel)
      break;
    if (is_k && !e->kernel) {
      const char *rest;
      e->kernel = strip_grub_device (line_word (line, len, 1, &rest));
      e->cmdline = xstrndup (rest, (size_t) (line + line_body_len (line, len) - rest));
    }
    else if (is_i && e->kernel && !e->initrd) {
      char *w = last_word (line, len);
      if (w)
        e->initrd = strip_grub_device (w);
      break;
    }
  }
  if (!e->kernel) {
    boot_entry_free (e);
    return -1;
  }
  set_version (e);
  return 0;
}

int
boot_entry_grub2 (const char *text, struct boot_entry *e)
{
  static const char *k[] = { "linux", "linux16", "linuxefi", NULL };
  static const char *i[] = { "initrd", "initrd16", "initrdefi", NULL };
  return entry_from (text, 0, k, i, e, "menuentry");
}

int
boot_entry_grub1 (const char *text, struct boot_entry *e)
{
  static const char *k[] = { "kernel", NULL };
  static const char *i[] = { "initrd", NULL };
  size_t pos = 0, start = 0;
  const char *line;
  size_t len;
  unsigned long def = 0, title = 0;
  bool found = false;

  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    char *w = line_word (line, len, 0, NULL);
    if (w && str_starts (w, "default")) {
      const char *v = w + 7;
      if (*v == '=')
        v++;
      else {
        free (w);
        w = line_word (line, len, 1, NULL);
        v = w ? w : "";
      }
      /* "default=saved" and garbage mean the first entry. */
      if (!p2v_parse_digits (v, strlen (v), &def))
        def = 0;
    }
    free (w);
  }
  pos = 0;
  while (next_line (text, &pos, &line, &len)) {
    char *w = line_is_comment (line, len) ? NULL : line_word (line, len, 0, NULL);
    bool t = w && strcmp (w, "title") == 0;
    free (w);
    if (t && title++ == def) {
      start = pos;
      found = true;
      break;
    }
  }
  if (!found)
    start = 0;
  return entry_from (text, start, k, i, e, "title");
}

bool
grub2_uses_bls (const char *text)
{
  size_t pos = 0;
  const char *line;
  size_t len;
  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    char *w = line_word (line, len, 0, NULL);
    bool bls = w && strcmp (w, "blscfg") == 0;
    free (w);
    if (bls)
      return true;
  }
  return false;
}

int
boot_entry_bls (const char *text, const char *kernelopts, struct boot_entry *e)
{
  size_t pos = 0;
  const char *line;
  size_t len;
  memset (e, 0, sizeof *e);
  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    const char *rest;
    char *w0 = line_word (line, len, 0, &rest);
    char *w1 = w0 ? line_word (line, len, 1, NULL) : NULL;
    if (w1 && strcmp (w0, "linux") == 0 && !e->kernel)
      e->kernel = xstrdup (w1);
    else if (w1 && strcmp (w0, "initrd") == 0) {
      free (e->initrd);
      e->initrd = last_word (line, len);
    }
    else if (w1 && strcmp (w0, "options") == 0 && !e->cmdline)
      e->cmdline = xstrndup (rest, (size_t) (line + line_body_len (line, len) - rest));
    free (w0);
    free (w1);
  }
  if (!e->kernel) {
    boot_entry_free (e);
    return -1;
  }
  if (e->cmdline && kernelopts) {
    char *k = strstr (e->cmdline, "$kernelopts");
    if (k) {
      char *c = xasprintf ("%.*s%s%s", (int) (k - e->cmdline), e->cmdline,
                           kernelopts, k + strlen ("$kernelopts"));
      free (e->cmdline);
      e->cmdline = c;
    }
  }
  set_version (e);
  return 0;
}

char *
grubenv_get (const char *text, const char *name)
{
  size_t pos = 0, nl = strlen (name);
  const char *line;
  size_t len;
  while (next_line (text, &pos, &line, &len)) {
    size_t n = line_body_len (line, len);
    if (n > nl && memcmp (line, name, nl) == 0 && line[nl] == '=')
      return xstrndup (line + nl + 1, n - nl - 1);
  }
  return NULL;
}

char *
grubenv_refit (const char *old, char *new_)
{
  size_t want = strlen (old), have = strlen (new_);
  /* The padding is the run of '#' after the last newline. */
  const char *nl = strrchr (new_, '\n');
  size_t body = nl ? (size_t) (nl + 1 - new_) : 0;
  for (size_t i = body; i < have; i++)
    if (new_[i] != '#') {
      free (new_);
      return NULL;
    }
  if (body > want) {
    free (new_);
    return NULL;
  }
  char *r = xrealloc (new_, want + 1);
  memset (r + body, '#', want - body);
  r[want] = '\0';
  return r;
}

void
boot_entry_free (struct boot_entry *e)
{
  free (e->kernel);
  free (e->initrd);
  free (e->cmdline);
  free (e->version);
  memset (e, 0, sizeof *e);
}
