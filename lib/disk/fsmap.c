/* Free space of filesystems the kernel reads and we do not (XFS):
 * the partition behind a read-only loop device, mounted read-only,
 * asked with GETFSMAP.  The loop device is read-only, so neither the
 * mount nor the kernel can write to the source; and a read-only device
 * cannot replay a log, so a filesystem that needs recovery (mounted
 * elsewhere, or not cleanly unmounted) fails to mount and is sent
 * whole.  A filesystem already mounted on this machine is refused by
 * the kernel as a duplicate UUID (EINVAL, as for a damaged one): sent
 * whole too.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fsmap.h>
#include <linux/loop.h>

#include "common/alloc.h"
#include "disk/fsfree.h"

#define LOOP_TRIES 8
#define FSMAP_BATCH 1024

/* A read-only loop device over [off, off + len) of path: its fd, with
 * its name in dev; -1 with why.  It goes away when the fd is closed
 * and nothing holds it (autoclear).
 */
static int
loop_attach (const char *path, uint64_t off, uint64_t len, char *dev, size_t devlen,
             char *why, size_t why_len)
{
  int src = open (path, O_RDONLY | O_CLOEXEC);
  if (src == -1) {
    snprintf (why, why_len, "cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  int ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl == -1) {
    snprintf (why, why_len, "no loop devices (/dev/loop-control: %s)", strerror (errno));
    close (src);
    return -1;
  }
  int fd = -1;
  for (int i = 0; i < LOOP_TRIES && fd == -1; i++) {
    int n = ioctl (ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      snprintf (why, why_len, "no free loop device: %s", strerror (errno));
      break;
    }
    snprintf (dev, devlen, "/dev/loop%d", n);
    fd = open (dev, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
      snprintf (why, why_len, "cannot open %s: %s", dev, strerror (errno));
      break;
    }
    struct loop_config c = { .fd = (uint32_t) src };
    c.info.lo_offset = off;
    c.info.lo_sizelimit = len;
    c.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (ioctl (fd, LOOP_CONFIGURE, &c) == 0)
      break;
    int e = errno;
    close (fd);
    fd = -1;
    /* Another program took it between GET_FREE and CONFIGURE. */
    if (e != EBUSY) {
      snprintf (why, why_len, "cannot set up %s: %s", dev, strerror (e));
      break;
    }
    snprintf (why, why_len, "every free loop device was taken");
  }
  close (ctl);
  close (src);
  return fd;
}

/* The free extents of the filesystem mounted at dir, on device rdev,
 * shifted by off, into map.  Bytes added, or -1 with why and nothing
 * added.
 */
static int64_t
free_extents (const char *dir, dev_t rdev, uint64_t off, uint64_t len, struct p2v_freemap *map,
              char *why, size_t why_len)
{
  int d = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d == -1) {
    snprintf (why, why_len, "cannot open its mount point: %s", strerror (errno));
    return -1;
  }
  struct fsmap_head *h = xcalloc (1, fsmap_sizeof (FSMAP_BATCH));
  h->fmh_count = FSMAP_BATCH;
  /* The high key: everything (its length stays 0: XFS refuses others). */
  struct fsmap *hi = &h->fmh_keys[1];
  hi->fmr_device = UINT32_MAX;
  hi->fmr_flags = UINT32_MAX;
  hi->fmr_physical = hi->fmr_owner = hi->fmr_offset = UINT64_MAX;
  int64_t total = 0;
  struct p2v_freemap found = { 0 };
  for (;;) {
    if (ioctl (d, FS_IOC_GETFSMAP, h) == -1) {
      snprintf (why, why_len, "GETFSMAP: %s", strerror (errno));
      total = -1;
      break;
    }
    if (h->fmh_entries == 0)
      break;
    bool last = false;
    for (uint32_t i = 0; i < h->fmh_entries; i++) {
      const struct fsmap *r = &h->fmh_recs[i];
      last = last || (r->fmr_flags & FMR_OF_LAST);
      /* Only the data device: an external log or realtime device is
       * another disk.
       */
      bool ours = (h->fmh_oflags & FMH_OF_DEV_T) ? r->fmr_device == rdev : r->fmr_device == 0;
      if (!ours || !(r->fmr_flags & FMR_OF_SPECIAL_OWNER) || r->fmr_owner != FMR_OWN_FREE)
        continue;
      if (r->fmr_physical >= len || r->fmr_length > len - r->fmr_physical) {
        snprintf (why, why_len, "GETFSMAP named free space past the partition's end");
        total = -1;
        break;
      }
      p2v_freemap_add (&found, off + r->fmr_physical, r->fmr_length);
      total += (int64_t) r->fmr_length;
    }
    if (total == -1 || last)
      break;
    fsmap_advance (h);
  }
  if (total != -1) {
    /* What the map kept (it drops short runs past its bound). */
    p2v_freemap_seal (&found);
    total = 0;
    for (size_t i = 0; i < found.n; i++) {
      p2v_freemap_add (map, found.v[i].off, found.v[i].len);
      total += (int64_t) found.v[i].len;
    }
  }
  p2v_freemap_free (&found);
  free (h);
  close (d);
  return total;
}

int64_t
p2v_fsfree_fsmap (const char *path, uint64_t off, uint64_t len, const char *fstype,
                  struct p2v_freemap *map, char *why, size_t why_len)
{
  if (geteuid () != 0) {
    snprintf (why, why_len, "reading %s free space needs root (a loop device and a read-only mount)",
              fstype);
    return -1;
  }
  char dev[32], dir[] = "/tmp/p2vsend-fsmap.XXXXXX";
  int lfd = loop_attach (path, off, len, dev, sizeof dev, why, why_len);
  if (lfd == -1)
    return -1;
  int64_t n = -1;
  struct stat st;
  if (fstat (lfd, &st) == -1 || !mkdtemp (dir))
    snprintf (why, why_len, "%s", strerror (errno));
  else {
    if (mount (dev, dir, fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
      int e = errno;
      snprintf (why, why_len, "%s",
                e == EROFS ? "its log needs recovery (mounted, or not cleanly unmounted)"
                : e == EEXIST || e == EBUSY || e == EINVAL
                ? "the kernel refused to mount it (mounted on this machine, or damaged)"
                : e == ENODEV ? "this kernel cannot read it"
                : strerror (e));
    }
    else {
      n = free_extents (dir, st.st_rdev, off, len, map, why, why_len);
      if (umount2 (dir, 0) == -1)
        umount2 (dir, MNT_DETACH);
    }
    rmdir (dir);
  }
  close (lfd);
  return n;
}
