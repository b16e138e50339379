/* Minimal assertions for the unit tests beside each module: a failed
 * check prints where and what, and the test exits 1 at the end.
 */
#ifndef P2V_TEST_H
#define P2V_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;

#define CHECK(cond) do {                                                \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      test_failures++;                                                  \
    }                                                                   \
  } while (0)

#define CHECK_STR(a, b) do {                                            \
    const char *a_ = (a), *b_ = (b);                                    \
    if (!a_ || !b_ || strcmp (a_, b_) != 0) {                           \
      fprintf (stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
               a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
      test_failures++;                                                  \
    }                                                                   \
  } while (0)

#define TEST_DONE() (test_failures ? (fprintf (stderr, "%d check(s) failed\n", \
                                               test_failures), 1) : 0)

#endif
