/* Telling the kernel about the partitions a copied disk now has, and
 * the finishing steps after a verified copy onto a block device.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <parted/parted.h>
#include <zlib.h>

#include "common/humanize.h"
#include "common/parse.h"
#include "disk/partinfo.h"
#include "common/util.h"


struct kpart {
  int num;
  uint64_t start, length;       /* bytes */
  bool keep;
};

static int
read_sysfs_u64 (const char *dir, const char *name, uint64_t *v)
{
  char *p = xasprintf ("%s/%s", dir, name), buf[64];
  FILE *f = fopen (p, "r");
  free (p);
  if (!f)
    return -1;
  bool ok = fgets (buf, sizeof buf, f) != NULL;
  fclose (f);
  if (!ok)
    return -1;
  buf[strcspn (buf, "\n")] = '\0';
  return p2v_parse_u64 (buf, v);
}

/* The partitions the kernel has for the disk dev_t rdev, from sysfs. */
static int
kernel_partitions (dev_t rdev, struct kpart **out, size_t *n)
{
  char *dir = xasprintf ("/sys/dev/block/%u:%u", major (rdev), minor (rdev));
  DIR *d = opendir (dir);
  *out = NULL;
  *n = 0;
  if (!d) {
    p2v_error ("cannot read %s: %s", dir, strerror (errno));
    free (dir);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char *sub = xasprintf ("%s/%s", dir, e->d_name);
    uint64_t num, start, size;
    /* sysfs counts in 512-byte units whatever the sector size. */
    if (read_sysfs_u64 (sub, "partition", &num) == 0
        && read_sysfs_u64 (sub, "start", &start) == 0
        && read_sysfs_u64 (sub, "size", &size) == 0) {
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = (struct kpart) { (int) num, start * 512, size * 512, false };
    }
    free (sub);
  }
  closedir (d);
  free (dir);
  return 0;
}

static int
blkpg (int fd, int op, int num, uint64_t start, uint64_t length)
{
  struct blkpg_partition p = { .start = start, .length = length, .pno = num };
  struct blkpg_ioctl_arg a = { .op = op, .datalen = sizeof p, .data = &p };
  return ioctl (fd, BLKPG, &a);
}

/* The kernel's partitions made equal to libparted's reading of the
 * table, as partx -u does.  Returns 0 or -1 (printed); counts what it
 * changed.
 */
static int
sync_partitions (int fd, const char *path, dev_t rdev, int *added, int *removed)
{
  int ret = -1;
  struct kpart *k = NULL;
  size_t nk = 0;
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;

  *added = *removed = 0;
  if (kernel_partitions (rdev, &k, &nk) == -1)
    return -1;
  dev = ped_device_get (path);
  if (!dev) {
    p2v_error ("cannot open %s to read its partition table", path);
    goto out;
  }
  if (ped_disk_probe (dev)) {
    disk = ped_disk_new (dev);
    if (!disk) {
      p2v_error ("cannot read the partition table of %s", path);
      goto out;
    }
  }
  /* Partitions the kernel has that are still right stay: they may be
   * in use, and BLKPG cannot delete a busy one.
   */
  PedPartition *p;
  for (size_t i = 0; i < nk; i++) {
    if (!disk)
      continue;
    p = ped_disk_get_partition (disk, k[i].num);
    if (!p || !ped_partition_is_active (p))
      continue;
    uint64_t start = (uint64_t) p->geom.start * dev->sector_size;
    uint64_t length = (uint64_t) p->geom.length * dev->sector_size;
    if (p->type & PED_PARTITION_EXTENDED)
      length = dev->sector_size > 1024 ? dev->sector_size : 1024;
    k[i].keep = k[i].start == start && k[i].length == length;
  }
  for (size_t i = 0; i < nk; i++) {
    if (k[i].keep)
      continue;
    if (blkpg (fd, BLKPG_DEL_PARTITION, k[i].num, 0, 0) == -1) {
      p2v_error ("cannot remove the kernel's partition %d of %s: %s", k[i].num, path,
                 errno == EBUSY ? "it is in use" : strerror (errno));
      goto out;
    }
    (*removed)++;
  }
  for (p = disk ? ped_disk_next_partition (disk, NULL) : NULL; p;
       p = ped_disk_next_partition (disk, p)) {
    if (p->num < 1 || !ped_partition_is_active (p))
      continue;
    bool have = false;
    for (size_t i = 0; i < nk; i++)
      have |= k[i].keep && k[i].num == p->num;
    if (have)
      continue;
    uint64_t start = (uint64_t) p->geom.start * dev->sector_size;
    uint64_t length = (uint64_t) p->geom.length * dev->sector_size;
    /* As the kernel's own msdos parser does: an extended partition is
     * exposed as 1 KiB (room for a boot loader, none for a file system).
     */
    if (p->type & PED_PARTITION_EXTENDED)
      length = dev->sector_size > 1024 ? dev->sector_size : 1024;
    if (blkpg (fd, BLKPG_ADD_PARTITION, p->num, start, length) == -1) {
      p2v_error ("cannot add partition %d of %s to the kernel: %s", p->num, path,
                 strerror (errno));
      goto out;
    }
    (*added)++;
  }
  ret = 0;
 out:
  if (disk)
    ped_disk_destroy (disk);
  if (dev)
    ped_device_destroy (dev);
  free (k);
  return ret;
}

int
p2v_reread_partitions (const char *path, char *what, size_t what_len)
{
  struct stat st;
  int ret = -1;

  p2v_part_say (what, what_len, "%s", "");
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    p2v_error ("cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  if (fstat (fd, &st) == -1) {
    p2v_error ("cannot stat %s: %s", path, strerror (errno));
    goto out;
  }
  if (!S_ISBLK (st.st_mode)) {
    p2v_part_say (what, what_len, "%s is not a block device: no partitions to re-read", path);
    ret = 0;
    goto out;
  }

  /* The kernel's own parsers know more table types than we do; when
   * they produced partitions, they are the truth.
   */
  int rr = ioctl (fd, BLKRRPART);
  int rr_errno = errno;
  struct kpart *k;
  size_t nk;
  if (kernel_partitions (st.st_rdev, &k, &nk) == -1)
    goto out;
  free (k);
  if (rr == 0 && nk > 0) {
    p2v_part_say (what, what_len, "%s: the kernel re-read the partition table (%zu partition%s)",
         path, nk, nk == 1 ? "" : "s");
    ret = nk;
    goto out;
  }

  PedExceptionHandler *old = p2v_parted_quiet_begin ();
  int added, removed;
  int r = sync_partitions (fd, path, st.st_rdev, &added, &removed);
  p2v_parted_quiet_end (old);
  if (r == -1)
    goto out;
  if (kernel_partitions (st.st_rdev, &k, &nk) == -1)
    goto out;
  free (k);
  p2v_part_say (what, what_len, "%s: %zu partition%s known to the kernel (%d added, %d removed "
       "with BLKPG; BLKRRPART %s)", path, nk, nk == 1 ? "" : "s", added, removed,
       rr == 0 ? "found none" : strerror (rr_errno));
  ret = nk;
 out:
  close (fd);
  return ret;
}

int
p2v_finish_partitions (const char *target)
{
  struct stat st;
  char what[1024];
  if (stat (target, &st) == -1 || !S_ISBLK (st.st_mode))
    return P2V_EXIT_OK;
  int r = p2v_gpt_relocate_backup (target, what, sizeof what);
  if (r == -1)
    return P2V_EXIT_IO;
  if (r == 1)
    p2v_info ("%s", what);
  if (p2v_reread_partitions (target, what, sizeof what) == -1)
    return P2V_EXIT_IO;
  p2v_info ("%s", what);
  return P2V_EXIT_OK;
}
