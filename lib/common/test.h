/* Minimal assertions for the unit tests beside each module, in every
 * library: a failed check prints where and what, the test goes on, and
 * main ends with "return TEST_DONE ();" (1 when anything failed).
 */
#ifndef P2V_TEST_H
#define P2V_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond) do {                                                \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      test_failures++;                                                  \
    }                                                                   \
  } while (0)

/* Both values in full, on lines of their own: the fixup tests compare
 * whole configuration files.
 */
#define CHECK_STR(got, want) do {                                       \
    const char *g_ = (got), *w_ = (want);                               \
    if (!g_ || !w_ || strcmp (g_, w_) != 0) {                           \
      fprintf (stderr, "%s:%d: CHECK_STR failed: %s\n--- got:\n%s\n--- want:\n%s\n---\n", \
               __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
      test_failures++;                                                  \
    }                                                                   \
  } while (0)

/* The whole of a file, NUL-terminated, malloc'd (the caller frees it);
 * its length in *len when len is not NULL.  NULL when it cannot be read.
 */
static char *test_slurp (const char *path, size_t *len) __attribute__((unused));
static char *
test_slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    return NULL;
  size_t n = 0, cap = 4096;
  char *buf = malloc (cap + 1);
  size_t got;
  while (buf && (got = fread (buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *b = realloc (buf, 2 * cap + 1);
      if (!b) {
        free (buf);
        buf = NULL;
      }
      buf = b;
      cap *= 2;
    }
  }
  fclose (f);
  if (!buf)
    return NULL;
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

#define TEST_DONE() (test_failures ? (fprintf (stderr, "%d check(s) failed\n", \
                                               test_failures), 1) : 0)

#endif
