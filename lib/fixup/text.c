#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "fixup/util.h"

static void
oom (void)
{
  fputs ("p2vfixup: error: out of memory\n", stderr);
  exit (1);
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p) oom ();
  return p;
}

void *
xcalloc (size_t n, size_t m)
{
  void *p = calloc (n ? n : 1, m ? m : 1);
  if (!p) oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (!p) oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  return xstrndup (s, strlen (s));
}

char *
xstrndup (const char *s, size_t n)
{
  char *r = xmalloc (n + 1);
  memcpy (r, s, n);
  r[n] = '\0';
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;
  va_start (ap, fmt);
  if (vasprintf (&r, fmt, ap) < 0) oom ();
  va_end (ap);
  return r;
}

static void
sb_reserve (struct sbuf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  b->s = xrealloc (b->s, cap);
  b->cap = cap;
}

void
sb_add (struct sbuf *b, const char *s, size_t n)
{
  sb_reserve (b, n);
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
sb_adds (struct sbuf *b, const char *s)
{
  sb_add (b, s, strlen (s));
}

void
sb_addc (struct sbuf *b, char c)
{
  sb_add (b, &c, 1);
}

void
sb_printf (struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0) oom ();
  va_end (ap);
  sb_adds (b, s);
  free (s);
}

char *
sb_steal (struct sbuf *b)
{
  char *s = b->s ? b->s : xstrdup ("");
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
sb_free (struct sbuf *b)
{
  free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

bool
next_line (const char *text, size_t *pos, const char **line, size_t *len)
{
  const char *p = text + *pos;
  if (*p == '\0') return false;
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
  if (len > 0 && line[len - 1] == '\n') len--;
  if (len > 0 && line[len - 1] == '\r') len--;
  return len;
}

const char *
skip_blank (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  return p;
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
    if (strcmp (l->v[i], s) == 0) return true;
  return false;
}

void
strlist_add_unique (struct strlist *l, const char *s)
{
  if (!strlist_has (l, s)) strlist_add (l, s);
}

void
strlist_free (struct strlist *l)
{
  for (size_t i = 0; i < l->n; i++) free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

bool
mac_parse (const char *s, size_t n, char out[18])
{
  if (n != 17) return false;
  for (size_t i = 0; i < 17; i++) {
    if (i % 3 == 2) {
      if (s[i] != ':' && s[i] != '-') return false;
      out[i] = ':';
    }
    else {
      if (!isxdigit ((unsigned char) s[i])) return false;
      out[i] = tolower ((unsigned char) s[i]);
    }
  }
  out[17] = '\0';
  return true;
}

bool
parse_uint (const char *s, size_t n, unsigned long *out)
{
  unsigned long v = 0;
  if (n == 0 || n > 9) return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (unsigned long) (s[i] - '0');
  }
  *out = v;
  return true;
}
