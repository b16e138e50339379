#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"

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
  if (vasprintf (&s, fmt, ap) < 0) p2v_oom ();
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
