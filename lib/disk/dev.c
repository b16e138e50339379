#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk/dev.h"
#include "common/humanize.h"
#include "common/parse.h"
#include "common/util.h"

/* 1 MiB of zeros, shared read-only by every writer of zeros; aligned
 * so that they too may be written around the page cache.
 */
static const _Alignas (4096) char zeros[1024 * 1024];

static int
write_zeros (struct p2v_dev *d, uint64_t off, size_t n)
{
  while (n > 0) {
    size_t k = n < sizeof zeros ? n : sizeof zeros;
    if (p2v_dev_pwrite (d, zeros, k, off) == -1)
      return -1;
    off += k;
    n -= k;
  }
  return 0;
}

/* An existing file may hold old data where the source has zeros:
 * punching a hole both clears it and keeps the file sparse.
 */
static int
file_zero (struct p2v_dev *d, uint64_t off, size_t n)
{
  if (fallocate (d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, n) == 0)
    return 0;
  if (errno != EOPNOTSUPP && errno != ENOSYS) {
    p2v_error ("cannot zero %s at offset %llu: %s", d->path,
               (unsigned long long) off, strerror (errno));
    return -1;
  }
  return write_zeros (d, off, n);
}

static int
sync_fd (struct p2v_dev *d)
{
  if (p2v_fsync (d->fd) == -1) {
    p2v_error ("cannot flush %s to stable storage: %s", d->path, strerror (errno));
    return -1;
  }
  return 0;
}

/* Only when the size differs: a fixed-size file (a disk exported
 * through FUSE) has no truncate at all.
 */
static int
set_size (int fd, uint64_t size)
{
  struct stat st;
  if (fstat (fd, &st) == 0 && (uint64_t) st.st_size == size)
    return 0;
  return ftruncate (fd, (off_t) size);
}

static int
file_finish (struct p2v_dev *d)
{
  if (set_size (d->fd, d->size) == -1) {
    p2v_error ("cannot set the size of %s: %s", d->path, strerror (errno));
    return -1;
  }
  return sync_fd (d);
}

static const struct p2v_dev_ops file_ops = { "file", file_zero, file_finish };
static const struct p2v_dev_ops blockdev_ops = { "block device", write_zeros, sync_fd };
static const struct p2v_dev_ops chardev_ops = { "character device", write_zeros, sync_fd };

int
p2v_source_open (const char *path, struct p2v_dev *d)
{
  memset (d, 0, sizeof *d);
  d->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (d->fd == -1) {
    p2v_error ("cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  d->path = xstrdup (path);
  struct stat st;
  if (fstat (d->fd, &st) == -1) {
    p2v_error ("cannot stat %s: %s", path, strerror (errno));
    goto fail;
  }
  if (S_ISBLK (st.st_mode)) {
    if (ioctl (d->fd, BLKGETSIZE64, &d->size) == -1) {
      p2v_error ("cannot get the size of %s: %s", path, strerror (errno));
      goto fail;
    }
    d->ops = &blockdev_ops;
  }
  else if (S_ISREG (st.st_mode)) {
    d->size = st.st_size;
    d->ops = &file_ops;
  }
  else {
    p2v_error ("%s is not a block device or a regular file", path);
    goto fail;
  }
  /* One sequential pass: let readahead work for us. */
  posix_fadvise (d->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return 0;
 fail:
  p2v_dev_close (d);
  return -1;
}

bool
p2v_source_is_hole (struct p2v_dev *d, uint64_t off, size_t n)
{
  if (n && d->free && p2v_freemap_covers (d->free, off, n))
    return true;
  if (d->ops != &file_ops || n == 0)
    return false;
  if (off < d->hole_from || off >= d->hole_end) {
    off_t data = lseek (d->fd, (off_t) off, SEEK_DATA);
    struct stat st;
    if (data == -1 && errno == ENXIO) {
      /* Nothing but holes to the end, unless the file shrank since it
       * was opened: then the read must fail, not zeros pass for data.
       */
      if (fstat (d->fd, &st) == -1 || (uint64_t) st.st_size < d->size)
        return false;
      data = (off_t) d->size;
    }
    else if (data == -1)
      return false;                     /* no SEEK_DATA here: read it */
    d->hole_from = off;
    d->hole_end = (uint64_t) data;
  }
  return off + n <= d->hole_end;
}

/* The sysfs directory of a block device: partitions live below their
 * disk's, so "is this mount on that disk" is a prefix test.
 */
static char *
sysfs_dir (unsigned maj, unsigned min)
{
  char link[64];
  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", maj, min);
  return realpath (link, NULL);
}

int
p2v_source_in_use (struct p2v_dev *src, bool force)
{
  struct stat st;
  if (fstat (src->fd, &st) == -1 || !S_ISBLK (st.st_mode))
    return 0;
  char *disk = sysfs_dir (major (st.st_rdev), minor (st.st_rdev));
  FILE *f = disk ? fopen ("/proc/self/mountinfo", "re") : NULL;
  if (!f) {
    free (disk);
    return 0;
  }
  size_t dlen = strlen (disk);
  char line[4096];
  int status = 0;
  while (status == 0 && fgets (line, sizeof line, f)) {
    /* id parent MAJ:MIN root mountpoint options ... */
    char *field[6], *save = NULL, *tok = strtok_r (line, " ", &save);
    int n = 0;
    for (; tok && n < 6; tok = strtok_r (NULL, " ", &save))
      field[n++] = tok;
    if (n < 6)
      continue;
    char *colon = strchr (field[2], ':');
    uint64_t maj, min;
    if (!colon)
      continue;
    *colon = '\0';
    if (p2v_parse_u64 (field[2], &maj) == -1 || p2v_parse_u64 (colon + 1, &min) == -1)
      continue;
    char *dir = sysfs_dir ((unsigned) maj, (unsigned) min);
    bool ours = dir && strncmp (dir, disk, dlen) == 0 && (dir[dlen] == '\0' || dir[dlen] == '/');
    free (dir);
    if (!ours || strncmp (field[5], "rw", 2) != 0 || (field[5][2] && field[5][2] != ','))
      continue;
    if (strcmp (field[4], "/") == 0 && !force) {
      p2v_error ("%s holds the running system's root filesystem, mounted read-write: a "
                 "copy would be inconsistent; boot a LiveCD (or use --force)", src->path);
      status = P2V_EXIT_REFUSED;
    }
    else
      p2v_warning ("%s has a filesystem mounted read-write on %s: the copy will be "
                   "inconsistent unless nothing writes to it", src->path, field[4]);
  }
  fclose (f);
  free (disk);
  return status;
}

/* Whole aligned blocks are written around the page cache (O_DIRECT)
 * when the target allows it.  Through the page cache every byte costs a
 * copy and then the kernel's writeback work, on the CPUs that also
 * decompress and hash: here 1 GiB written buffered took 1.0-3.3 s of
 * system time, written direct 0.15 s, and in a copy over 1 Gbit/s that
 * was the difference between a full and a half-idle link.  The second
 * descriptor reopens what the first has open (/proc/self/fd), not the
 * path, which may name something else by now; syncs go through the
 * first, which covers the whole inode or device.  A target that
 * refuses O_DIRECT (tmpfs, some FUSE files) is written through the
 * page cache, as are unaligned pieces; the kernel keeps the two views
 * coherent.
 */
static void
open_direct (struct p2v_dev *d)
{
  char proc[64];
  struct stat a, b;
  int ss = 0;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", d->fd);
  int fd = open (proc, O_WRONLY | O_DIRECT | O_CLOEXEC);
  if (fd == -1)
    return;
  if (fstat (fd, &a) == -1 || fstat (d->fd, &b) == -1 || a.st_dev != b.st_dev
      || a.st_ino != b.st_ino || a.st_rdev != b.st_rdev) {
    close (fd);
    return;
  }
  d->dio_align = 4096;
  if (S_ISBLK (b.st_mode) && ioctl (d->fd, BLKSSZGET, &ss) == 0 && ss > 4096)
    d->dio_align = (unsigned) ss;
  d->dfd = fd;
  d->direct = true;
}

static int
write_run (struct p2v_dev *d, const char *p, size_t n, uint64_t off, uint64_t *at)
{
  if (d->direct && ((uintptr_t) p % d->dio_align | n % d->dio_align | off % d->dio_align) == 0) {
    if (p2v_pwrite_full (d->dfd, p, n, off, at) == 0)
      return 0;
    if (errno != EINVAL)
      return -1;
    /* An alignment the target did not tell us: the page cache it is. */
    close (d->dfd);
    d->dfd = -1;
    d->direct = false;
  }
  return p2v_pwrite_full (d->fd, p, n, off, at);
}

int
p2v_target_open (const char *path, uint64_t need, bool force, bool may_shorten,
                 struct p2v_dev *d, char *why, size_t why_len)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN];
  struct stat st;

  memset (d, 0, sizeof *d);
  d->fd = -1;
  d->path = xstrdup (path);
  d->size = need;

  if (stat (path, &st) == -1) {
    if (errno != ENOENT) {
      p2v_error ("cannot open %s: %s", path, strerror (errno));
      goto fail;
    }
    /* Disk images hold /etc/shadow and private keys: owner-only. */
    d->fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (d->fd == -1) {
      p2v_error ("cannot create %s: %s", path, strerror (errno));
      goto fail;
    }
    d->created = d->reads_zero = true;
    d->ops = &file_ops;
  }
  else if (S_ISBLK (st.st_mode)) {
    /* O_EXCL on a block device fails with EBUSY when it is mounted or
     * held by LVM, md or another exclusive opener.
     */
    d->fd = open (path, O_RDWR | (force ? 0 : O_EXCL) | O_CLOEXEC);
    if (d->fd == -1 && errno == EBUSY) {
      snprintf (why, why_len, "target %s is in use (mounted or held by another "
                "program); nothing written (--force overrides)", path);
      goto refused;
    }
    if (d->fd == -1) {
      p2v_error ("cannot open %s: %s", path, strerror (errno));
      goto fail;
    }
    uint64_t cap;
    if (ioctl (d->fd, BLKGETSIZE64, &cap) == -1) {
      p2v_error ("cannot get the size of %s: %s", path, strerror (errno));
      goto fail;
    }
    if (cap < need) {
      snprintf (why, why_len, "target %s is %s, source is %s; nothing written",
                path, p2v_human_size (cap, a), p2v_human_size (need, b));
      goto refused;
    }
    d->ops = &blockdev_ops;
  }
  else if (S_ISREG (st.st_mode)) {
    if ((uint64_t) st.st_size > need && !force && !may_shorten) {
      snprintf (why, why_len, "target %s is %s, longer than the source (%s); nothing "
                "written (--force to truncate it)", path,
                p2v_human_size ((uint64_t) st.st_size, a), p2v_human_size (need, b));
      goto refused;
    }
    d->fd = open (path, O_RDWR | O_CLOEXEC);
    if (d->fd == -1) {
      p2v_error ("cannot open %s: %s", path, strerror (errno));
      goto fail;
    }
    d->ops = &file_ops;
  }
  else if (S_ISCHR (st.st_mode)) {
    d->fd = open (path, O_WRONLY | O_CLOEXEC);
    if (d->fd == -1) {
      p2v_error ("cannot open %s: %s", path, strerror (errno));
      goto fail;
    }
    d->ops = &chardev_ops;
  }
  else {
    snprintf (why, why_len, "target %s is not a block device or a regular file; "
              "nothing written", path);
    goto refused;
  }

  /* A file takes the source's size now, so a full disk fails here
   * rather than hours into the copy.
   */
  d->is_file = d->ops == &file_ops;
  if (d->is_file) {
    if (set_size (d->fd, need) == -1) {
      p2v_error ("cannot set the size of %s to %llu: %s", path,
                 (unsigned long long) need, strerror (errno));
      goto fail;
    }
  }
  if (d->ops != &chardev_ops)
    open_direct (d);
  return 0;

 refused:
  p2v_dev_close (d);
  return -2;
 fail:
  if (d->created)
    unlink (path);
  p2v_dev_close (d);
  return -1;
}

/* Free runs shorter than this are read and masked: one read of a chunk
 * costs less than many small ones around them.
 */
#define SKIP_READ_MIN (128u << 10)

int
p2v_dev_pread (struct p2v_dev *d, void *buf, size_t n, uint64_t off)
{
  uint64_t at, pos = off, end = off + n, a, b;
  while (pos < end) {
    if (!d->free || !p2v_freemap_next (d->free, pos, end, SKIP_READ_MIN, &a, &b))
      a = b = end;
    if (a > pos && p2v_pread_full (d->fd, (char *) buf + (pos - off), a - pos, pos, &at) == -1) {
      p2v_error ("read error on %s at offset %llu: %s", d->path, (unsigned long long) at,
                 errno ? strerror (errno) : "unexpected end of file (did the source shrink?)");
      return -1;
    }
    pos = b;
  }
  if (d->free)
    p2v_freemap_mask (d->free, buf, n, off);
  return 0;
}

/* On a target that already reads zeros, zero blocks are not written:
 * a new image keeps the source's zeros (and --skip-free's free blocks)
 * as holes, and a pre-zeroed disk is spared the writes.
 */
#define SPARSE_BLOCK 4096u

static bool
block_is_zero (const char *p, size_t n)
{
  return n == 0 || (p[0] == 0 && memcmp (p, p + 1, n - 1) == 0);
}

int
p2v_dev_pwrite (struct p2v_dev *d, const void *buf, size_t n, uint64_t off)
{
  const char *p = buf;
  uint64_t at;
  size_t i = 0;
  while (i < n) {
    size_t from = i;
    if (d->reads_zero) {
      while (i < n && block_is_zero (p + i, n - i < SPARSE_BLOCK ? n - i : SPARSE_BLOCK))
        i += n - i < SPARSE_BLOCK ? n - i : SPARSE_BLOCK;
      from = i;
      while (i < n && !block_is_zero (p + i, n - i < SPARSE_BLOCK ? n - i : SPARSE_BLOCK))
        i += n - i < SPARSE_BLOCK ? n - i : SPARSE_BLOCK;
    }
    else
      i = n;
    if (i > from && write_run (d, p + from, i - from, off + from, &at) == -1) {
      p2v_error ("write error on %s at offset %llu: %s", d->path, (unsigned long long) at,
                 strerror (errno));
      return -1;
    }
  }
  return 0;
}

int
p2v_dev_zero (struct p2v_dev *d, uint64_t off, size_t n)
{
  return d->reads_zero ? 0 : d->ops->zero (d, off, n);
}

int
p2v_dev_start_writeback (struct p2v_dev *d, uint64_t off, size_t n)
{
  /* Pipes and character devices say ESPIPE or EINVAL, some file systems
   * ENOSYS: nothing to do.  Anything else is the target failing.
   */
  if (sync_file_range (d->fd, (off_t) off, (off_t) n, SYNC_FILE_RANGE_WRITE) == -1
      && errno != ESPIPE && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    return -1;
  return 0;
}

int
p2v_dev_finish (struct p2v_dev *d)
{
  return d->ops->finish (d);
}

void
p2v_dev_close (struct p2v_dev *d)
{
  if (d->direct)
    close (d->dfd);
  d->dfd = -1;
  d->direct = false;
  if (d->fd >= 0)
    close (d->fd);
  d->fd = -1;
  free (d->path);
  d->path = NULL;
}

/* A path that does not exist yet (a target file to create) is the
 * same as another if both name one entry of one directory.
 */
static bool
same_new_file (const char *a, const char *b)
{
  char *da = xstrdup (a), *db = xstrdup (b);
  char *sa_ = strrchr (da, '/'), *sb_ = strrchr (db, '/');
  const char *ba = sa_ ? sa_ + 1 : da, *bb = sb_ ? sb_ + 1 : db;
  const char *pa = sa_ ? (sa_ == da ? "/" : (*sa_ = '\0', da)) : ".";
  const char *pb = sb_ ? (sb_ == db ? "/" : (*sb_ = '\0', db)) : ".";
  struct stat ka, kb;
  bool same = strcmp (ba, bb) == 0
    && (stat (pa, &ka) == 0 && stat (pb, &kb) == 0
        ? ka.st_dev == kb.st_dev && ka.st_ino == kb.st_ino : strcmp (pa, pb) == 0);
  free (da);
  free (db);
  return same;
}

static bool
same_disk (const char *a, const char *b)
{
  struct stat sa, sb;
  if (stat (a, &sa) == -1 || stat (b, &sb) == -1)
    return same_new_file (a, b);
  if ((S_ISBLK (sa.st_mode) && S_ISBLK (sb.st_mode))
      || (S_ISCHR (sa.st_mode) && S_ISCHR (sb.st_mode)))
    return sa.st_rdev == sb.st_rdev;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
p2v_check_distinct (char *const *paths, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    for (unsigned k = 0; k < i; k++)
      if (same_disk (paths[k], paths[i])) {
        if (strcmp (paths[k], paths[i]) == 0)
          p2v_error ("%s is given twice", paths[i]);
        else
          p2v_error ("%s and %s are the same disk", paths[k], paths[i]);
        return -1;
      }
  return 0;
}
