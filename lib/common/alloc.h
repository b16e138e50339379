/* Allocation failure is not recoverable in these programs: report it
 * and exit P2V_EXIT_IO, so callers need not check (and p2vfixup never
 * half-edits a guest: it has written nothing it has not planned whole).
 */
#ifndef P2V_COMMON_ALLOC_H
#define P2V_COMMON_ALLOC_H

#include <pthread.h>
#include <stddef.h>

/* Say "out of memory" and exit: for allocators of other libraries. */
void p2v_oom (void) __attribute__((noreturn));

void *xmalloc (size_t n);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* Page-aligned, so the same buffers could later be used with O_DIRECT. */
void *xaligned_alloc (size_t n);

/* A thread that cannot be created is memory that cannot be had: a
 * pipeline missing one of its threads would wait for it forever, so
 * say so and exit like xmalloc.
 */
void xthread_create (pthread_t *t, void *(*fn) (void *), void *arg);

#endif
