#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/util.h"

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

int
p2v_pread_full (int fd, void *buf, size_t n, uint64_t off, uint64_t *at)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread (fd, (char *) buf + got, n - got, (off_t) (off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      /* End of file is errno 0: ENODATA is also the block layer's
       * media error, and the two must not be told apart by guessing.
       */
      if (r == 0)
        errno = 0;
      if (at)
        *at = off + got;
      return -1;
    }
    got += r;
  }
  return 0;
}

int
p2v_pwrite_full (int fd, const void *buf, size_t n, uint64_t off, uint64_t *at)
{
  size_t done = 0;
  while (done < n) {
    ssize_t r = pwrite (fd, (const char *) buf + done, n - done, (off_t) (off + done));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = ENOSPC;
      if (at)
        *at = off + done;
      return -1;
    }
    done += r;
  }
  return 0;
}

int
p2v_fsync (int fd)
{
  /* A pipe, a terminal or a read-only device has nothing to make
   * durable: EINVAL and EROFS there are not errors.  EIO anywhere is,
   * and it is never retried (the kernel may have dropped the dirty
   * pages it reports).
   */
  if (fsync (fd) == -1 && errno != EINVAL && errno != EROFS)
    return -1;
  return 0;
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
