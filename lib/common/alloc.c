#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "common/util.h"

void
p2v_oom (void)
{
  p2v_error ("out of memory");
  exit (P2V_EXIT_IO);
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p)
    p2v_oom ();
  return p;
}

void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (!p)
    p2v_oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (!p)
    p2v_oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (!p)
    p2v_oom ();
  return p;
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
  char *s;
  va_start (ap, fmt);
  int r = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r < 0)
    p2v_oom ();
  return s;
}

void *
xaligned_alloc (size_t n)
{
  void *p;
  if (posix_memalign (&p, 4096, n ? n : 1) != 0)
    p2v_oom ();
  return p;
}

void
xthread_create (pthread_t *t, void *(*fn) (void *), void *arg)
{
  int e = pthread_create (t, NULL, fn, arg);
  if (e != 0) {
    p2v_error ("cannot start a thread: %s", strerror (e));
    exit (P2V_EXIT_IO);
  }
}
