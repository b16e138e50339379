/* Tiny assertion helpers for the p2vfixup unit tests: every failed
 * check is printed with both values, and main returns the count.
 */
#ifndef P2VFIXUP_TEST_H
#define P2VFIXUP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond) do {                                                \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                       \
    }                                                                   \
  } while (0)

#define CHECK_STR(got, want) do {                                       \
    const char *g_ = (got), *w_ = (want);                               \
    if (!g_ || !w_ || strcmp (g_, w_) != 0) {                           \
      fprintf (stderr, "%s:%d: FAIL: %s\n--- got:\n%s\n--- want:\n%s\n---\n", \
               __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
      failures++;                                                       \
    }                                                                   \
  } while (0)

#define TEST_DONE() do {                                                \
    if (failures) fprintf (stderr, "%d check(s) failed\n", failures);   \
    return failures ? 1 : 0;                                            \
  } while (0)

#endif
