#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "fixup/text.h"

bool
next_line (const char *text, size_t *pos, const char **line, size_t *len)
{
  const char *p = text + *pos;
  if (*p == '\0')
    return false;
  const char *nl = strchr (p, '\n');
  size_t n = nl ? (size_t) (nl - p) + 1 : strlen (p);
  *line = p;
  *len = n;
  *pos += n;
  return true;
}

size_t
line_body_len (const char *line, size_t len)
{
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  return len;
}

const char *
skip_blank (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

const char *
trim_blank_end (const char *p, const char *end)
{
  while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  return end;
}

char *
line_word (const char *line, size_t len, int i, const char **rest)
{
  const char *end = line + line_body_len (line, len), *p = line;
  for (int k = 0; ; k++) {
    p = skip_blank (p, end);
    if (p == end)
      return NULL;
    const char *s = p;
    while (p < end && *p != ' ' && *p != '\t')
      p++;
    if (k == i) {
      if (rest)
        *rest = skip_blank (p, end);
      return xstrndup (s, (size_t) (p - s));
    }
  }
}

bool
line_is_comment (const char *line, size_t len)
{
  const char *end = line + line_body_len (line, len);
  const char *p = skip_blank (line, end);
  return p == end || *p == '#';
}

bool
str_starts (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool
str_ends (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcmp (s + a - b, suffix) == 0;
}

void
strlist_add (struct strlist *l, const char *s)
{
  l->v = xrealloc (l->v, (l->n + 2) * sizeof *l->v);
  l->v[l->n++] = xstrdup (s);
  l->v[l->n] = NULL;
}

bool
strlist_has (const struct strlist *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i], s) == 0)
      return true;
  return false;
}

void
strlist_add_unique (struct strlist *l, const char *s)
{
  if (!strlist_has (l, s))
    strlist_add (l, s);
}

void
strlist_free (struct strlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

char *
path_normalize (const char *path)
{
  char *out = xmalloc (strlen (path) + 2);
  size_t o = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *e = p;
    while (*e && *e != '/')
      e++;
    size_t n = (size_t) (e - p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[--o] != '/')
        ;
    }
    else if (n && !(n == 1 && p[0] == '.')) {
      out[o++] = '/';
      memcpy (out + o, p, n);
      o += n;
    }
    p = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}
