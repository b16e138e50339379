#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const char *p2v_progname = "p2vstream";
int p2v_quiet;
void (*volatile p2v_message_hook) (const char *line, size_t len);

void
p2v_set_progname (const char *argv0)
{
  const char *slash = strrchr (argv0, '/');
  p2v_progname = slash ? slash + 1 : argv0;
}

static void
vmessage (const char *kind, const char *fmt, va_list ap)
{
  /* One buffer and one write, so lines from several threads never
   * interleave mid-line.
   */
  char line[1024];
  int n = snprintf (line, sizeof line, "%s: %s", p2v_progname, kind);
  if (n < 0 || (size_t) n >= sizeof line)
    n = 0;
  int m = vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  if (m < 0)
    m = 0;
  size_t len = n + (size_t) m;
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  void (*hook) (const char *, size_t) = p2v_message_hook;
  if (hook)
    hook (line, len);
  else {
    ssize_t r = write (STDERR_FILENO, line, len);
    (void) r;
  }
}

void
p2v_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vmessage ("error: ", fmt, ap);
  va_end (ap);
}

void
p2v_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vmessage ("warning: ", fmt, ap);
  va_end (ap);
}

void
p2v_info (const char *fmt, ...)
{
  if (p2v_quiet)
    return;
  va_list ap;
  va_start (ap, fmt);
  vmessage ("", fmt, ap);
  va_end (ap);
}

static void
oom (void)
{
  p2v_error ("out of memory");
  exit (P2V_EXIT_IO);
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p)
    oom ();
  return p;
}

void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (!p)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (!p)
    oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (!p)
    oom ();
  return p;
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
    oom ();
  return s;
}

void *
xaligned_alloc (size_t n)
{
  void *p;
  if (posix_memalign (&p, 4096, n ? n : 1) != 0)
    oom ();
  return p;
}

ssize_t
p2v_read_full (int fd, void *buf, size_t n)
{
  return p2v_read_full_by (fd, buf, n, 0);
}

ssize_t
p2v_read_full_by (int fd, void *buf, size_t n, double deadline)
{
  size_t got = 0;
  while (got < n) {
    if (deadline != 0) {
      double left = deadline - p2v_now ();
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int pr = left > 0 ? poll (&p, 1, (int) (left * 1000) + 1) : 0;
      if (pr == -1 && errno == EINTR)
        continue;
      if (pr == 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      if (pr == -1)
        return -1;
    }
    ssize_t r = read (fd, (char *) buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR || (deadline != 0 && errno == EAGAIN))
        continue;
      return -1;
    }
    if (r == 0) {
      if (got == 0)
        return 0;
      errno = 0;
      return -2;
    }
    got += r;
  }
  return (ssize_t) got;
}

int
p2v_write_full (int fd, const void *buf, size_t n)
{
  while (n > 0) {
    ssize_t r = write (fd, buf, n);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    buf = (const char *) buf + r;
    n -= r;
  }
  return 0;
}

double
p2v_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
p2v_sleep (double seconds)
{
  if (seconds <= 0)
    return;
  struct timespec ts = { (time_t) seconds, (long) ((seconds - (time_t) seconds) * 1e9) };
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

double
p2v_thread_cpu (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
p2v_cond_init_monotonic (pthread_cond_t *c)
{
  pthread_condattr_t a;
  pthread_condattr_init (&a);
  pthread_condattr_setclock (&a, CLOCK_MONOTONIC);
  pthread_cond_init (c, &a);
  pthread_condattr_destroy (&a);
}

struct timespec
p2v_monotonic_in (double seconds)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  time_t whole = (time_t) seconds;
  t.tv_sec += whole;
  t.tv_nsec += (long) ((seconds - (double) whole) * 1e9);
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

int
p2v_exit_for_disks (const int *status, unsigned n)
{
  if (n == 0)
    return P2V_EXIT_OK;
  bool same = true;
  int mask = 0;
  for (unsigned i = 0; i < n; i++) {
    if (status[i] != status[0])
      same = false;
    if (status[i] != P2V_EXIT_OK && i < 6)
      mask |= 1 << i;
  }
  if (same)
    return status[0];
  return P2V_EXIT_DISKS + mask;
}

int
p2v_replace_file (const char *path, mode_t mode,
                  int (*fill) (FILE *f, const void *arg), const void *arg)
{
  size_t cap = strlen (path) + 32;
  char *tmp = xmalloc (cap);
  int fd = -1, e;
  /* A random name: a name known in advance could be planted first, in
   * a directory others can write to, and a reused file keeps its owner.
   */
  for (int tries = 0; fd == -1 && tries < 16; tries++) {
    uint64_t rnd;
    if (getrandom (&rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
      goto fail;
    snprintf (tmp, cap, "%s.tmp-%016llx", path, (unsigned long long) rnd);
    fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd == -1 && errno != EEXIST)
      goto fail;
  }
  if (fd == -1)
    goto fail;
  FILE *f = fdopen (fd, "w");
  if (!f) {
    e = errno;
    close (fd);
    goto unlink_fail;
  }
  errno = 0;
  bool bad = fill (f, arg) == -1 || ferror (f) || fflush (f) != 0 || fsync (fd) != 0;
  e = errno ? errno : EIO;
  if (fclose (f) != 0 && !bad) {
    bad = true;
    e = errno;
  }
  if (!bad && rename (tmp, path) == -1) {
    bad = true;
    e = errno;
  }
  if (bad)
    goto unlink_fail;
  free (tmp);
  /* The new name is durable only once the directory is. */
  char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *d = !slash ? "." : slash == dir ? "/" : (*slash = '\0', dir);
  int dfd = open (d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = 0;
  if (dfd == -1 || (fsync (dfd) == -1 && errno != EINVAL))
    rc = -1;
  e = errno;
  if (dfd >= 0)
    close (dfd);
  free (dir);
  errno = e;
  return rc;

 unlink_fail:
  unlink (tmp);
  free (tmp);
  errno = e;
  return -1;
 fail:
  e = errno;
  free (tmp);
  errno = e;
  return -1;
}

/* Peer text may hold escape sequences that would drive the admin's
 * terminal (clear it, retitle it, fake a line): bytes outside printable
 * ASCII, and the backslash itself, go out as \xHH.
 */
const char *
p2v_escape (const void *text, size_t n, char *out, size_t outsz)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = text;
  size_t o = 0;
  if (outsz == 0)
    return out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    bool plain = c >= 0x20 && c < 0x7f && c != '\\';
    size_t need = plain ? 1 : 4;
    if (o + need + 4 > outsz) {
      /* Truncated: say so, in room we kept for it. */
      if (o + 3 < outsz) {
        memcpy (out + o, "...", 3);
        o += 3;
      }
      break;
    }
    if (plain)
      out[o++] = (char) c;
    else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = '\0';
  return out;
}
