/* Error reporting, allocation and small I/O helpers shared by every
 * program and library module.
 */
#ifndef P2V_UTIL_H
#define P2V_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Exit statuses, shared by p2vsend and p2vrecv and documented in their
 * man pages.  Scripts branch on these, so never renumber them.
 */
enum {
  P2V_EXIT_OK = 0,
  P2V_EXIT_USAGE = 1,     /* bad option or argument */
  P2V_EXIT_IO = 2,        /* source or target: open, read, write, size */
  P2V_EXIT_NET = 3,       /* connect, listen, lost connection, truncated stream */
  P2V_EXIT_PROTOCOL = 4,  /* malformed stream or a chunk failing its checksum */
  P2V_EXIT_MISMATCH = 5,  /* whole-image digests differ */
  P2V_EXIT_REFUSED = 6,   /* the receiver refused the source (size, in use) */
  P2V_EXIT_AUTH = 7,      /* wrong or missing key */
};

extern const char *p2v_progname;
void p2v_set_progname (const char *argv0);

/* "prog: error: MESSAGE" on stderr. */
void p2v_error (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* "prog: warning: MESSAGE" on stderr. */
void p2v_warning (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* "prog: MESSAGE" on stderr, unless quiet. */
void p2v_info (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
extern int p2v_quiet;
/* When set, writes each message line (newline included) instead of a
 * plain write: a multi-line progress display on a TTY clears itself and
 * writes the line under its own lock, so no redraw wipes it.
 */
extern void (*volatile p2v_message_hook) (const char *line, size_t len);

/* One exit status for a session of n disks, from each disk's: with one
 * disk, its own; when every disk failed for the same reason, that
 * status; else 0 when all were verified, or P2V_EXIT_DISKS + a mask of
 * the failed disks (bit 0: the first).
 */
#define P2V_EXIT_DISKS 64
int p2v_exit_for_disks (const int *status, unsigned n);

/* Text from the network or a guest, fit for a terminal: control bytes,
 * non-ASCII and backslash as \xHH, cut (with "...") to outsz.  Returns
 * out.  P2V_ESCAPED_LEN(n) holds any n bytes in full.
 */
#define P2V_ESCAPED_LEN(n) (4 * (n) + 8)
const char *p2v_escape (const void *text, size_t n, char *out, size_t outsz);

/* Allocation failure is not recoverable in these programs: report it
 * and exit, so callers need not check.
 */
void *xmalloc (size_t n);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xasprintf (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* Page-aligned, so the same buffers could later be used with O_DIRECT. */
void *xaligned_alloc (size_t n);

/* Read exactly N bytes.  Returns N, 0 on end of file before the first
 * byte, or -1 with errno set (EIO-like short read sets errno = 0 and
 * returns the short count as -2).
 */
ssize_t p2v_read_full (int fd, void *buf, size_t n);
/* The same, failing with ETIMEDOUT once the monotonic clock passes
 * deadline (seconds, as p2v_now; 0: no deadline): a peer trickling one
 * byte at a time cannot stretch it.
 */
ssize_t p2v_read_full_by (int fd, void *buf, size_t n, double deadline);
/* Write all N bytes.  Returns 0 or -1 with errno set. */
int p2v_write_full (int fd, const void *buf, size_t n);

/* Replace PATH atomically with what FILL(f, arg) writes (0, or -1):
 * into a temporary file beside it whose name nobody can predict,
 * created O_EXCL|O_NOFOLLOW with MODE (so nothing planted there, a
 * symlink least of all, is followed or reused), fsynced, renamed over
 * PATH, then the directory fsynced so that the rename survives a crash
 * too.  0, or -1 with errno set (nothing printed; the temporary file
 * is gone).
 */
int p2v_replace_file (const char *path, mode_t mode,
                      int (*fill) (FILE *f, const void *arg), const void *arg);

/* Monotonic seconds. */
double p2v_now (void);
/* Sleep this many seconds (fractions too; nothing for <= 0). */
void p2v_sleep (double seconds);
/* CPU seconds the calling thread has used. */
double p2v_thread_cpu (void);

/* Condition variables whose timed waits count monotonic time, and the
 * absolute time SECONDS from now on that clock: a wall clock stepped by
 * NTP while a LiveCD copies must not fire or postpone a keep-alive.
 */
void p2v_cond_init_monotonic (pthread_cond_t *c);
struct timespec p2v_monotonic_in (double seconds);

#endif
