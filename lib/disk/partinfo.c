/* Partition tables as admins see them: listing disks and one disk's
 * table with libparted (gpt.c moves a GPT backup, partsync.c tells the
 * kernel about partitions).
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

/* Sanitizer builds (make check-sanitize): libparted's GPT support
 * runs `dmidecode -s system-manufacturer` when it is loaded and calls
 * strchr on getline's buffer even when getline read nothing (no DMI
 * tables, as on this kind of VM), which leaves it unterminated.  That
 * read is libparted's, before main; without this every program linking
 * us would abort under AddressSanitizer before doing anything.  Only
 * interceptor reports from inside libparted are suppressed.
 */
#if defined __SANITIZE_ADDRESS__
const char *__asan_default_suppressions (void);
const char *
__asan_default_suppressions (void)
{
  return "interceptor_via_lib:libparted.so\n";
}

/* And ped_device_probe_all leaks the blkid probe of a disk it cannot
 * open (EPERM here).  Only leaks allocated under blkid_new_probe, which
 * we never call, are hidden: a PedDevice or PedDisk we forgot to free
 * is allocated elsewhere and still reported.
 */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:blkid_new_probe\n";
}
#endif

/* libparted reports problems through a global handler that by default
 * prints to stdout and may ask questions.  Ours says each one as one
 * warning line and never agrees to change anything: Ignore where
 * offered, else Cancel (never Retry: an unopenable disk would loop).
 */
static PedExceptionOption
refuse (PedException *ex)
{
  if (ex->options & PED_EXCEPTION_IGNORE)
    return PED_EXCEPTION_IGNORE;
  if (ex->options & PED_EXCEPTION_CANCEL)
    return PED_EXCEPTION_CANCEL;
  if (ex->options & PED_EXCEPTION_OK)
    return PED_EXCEPTION_OK;
  return PED_EXCEPTION_UNHANDLED;
}

static PedExceptionOption
quiet_handler (PedException *ex)
{
  char *msg = xstrdup (ex->message ? ex->message : "(no message)");
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
  p2v_warning ("%s", msg);
  free (msg);
  return refuse (ex);
}

/* For --list: each disk's line already says what could not be read (a
 * CD opened read-only, an ISO's hybrid table), so libparted's own
 * complaints would only bury the list.
 */
static PedExceptionOption
silent_handler (PedException *ex)
{
  return refuse (ex);
}

PedExceptionHandler *
p2v_parted_quiet_begin (void)
{
  PedExceptionHandler *old = ped_exception_get_handler ();
  ped_exception_set_handler (quiet_handler);
  return old;
}

void
p2v_parted_quiet_end (PedExceptionHandler *old)
{
  ped_exception_set_handler (old);
}

static void
print_flags (PedPartition *part, FILE *out)
{
  bool first = true;
  for (PedPartitionFlag f = ped_partition_flag_next (0); f;
       f = ped_partition_flag_next (f)) {
    if (ped_partition_is_flag_available (part, f) && ped_partition_get_flag (part, f)) {
      fprintf (out, "%s%s", first ? "" : ", ", ped_partition_flag_get_name (f));
      first = false;
    }
  }
}

static void
print_partitions (PedDisk *disk, FILE *out)
{
  char h[P2V_HUMAN_LEN];
  bool names = ped_disk_type_check_feature (disk->type, PED_DISK_TYPE_PARTITION_NAME);
  int n = 0;

  fprintf (out, "  %-7s %-13s %-11s %-13s %-17s %s\n",
           "Number", "Start sector", "Size", "File system", "Name/type", "Flags");
  for (PedPartition *p = ped_disk_next_partition (disk, NULL); p;
       p = ped_disk_next_partition (disk, p)) {
    if (p->num < 1 || !ped_partition_is_active (p))
      continue;
    const char *label;
    if (names)
      label = ped_partition_get_name (p);
    else if (p->type & PED_PARTITION_EXTENDED)
      label = "extended";
    else if (p->type & PED_PARTITION_LOGICAL)
      label = "logical";
    else
      label = "primary";
    fprintf (out, "  %-7d %-13lld %-11s %-13s %-17s ", p->num, (long long) p->geom.start,
             p2v_human_size ((uint64_t) p->geom.length * disk->dev->sector_size, h),
             p->fs_type ? p->fs_type->name : "-",
             label && *label ? label : "-");
    print_flags (p, out);
    fputc ('\n', out);
    n++;
  }
  if (n == 0)
    fprintf (out, "  (no partitions)\n");
}

static int
describe (const char *path, FILE *out)
{
  char h[P2V_HUMAN_LEN];
  int ret = -1;
  struct stat st;
  /* libparted's own message for this is two lines and a warning. */
  if (stat (path, &st) == -1) {
    p2v_error ("cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  if (!S_ISBLK (st.st_mode) && !S_ISREG (st.st_mode)) {
    p2v_error ("%s is not a block device or an image file: no partition table to show", path);
    return -1;
  }
  PedDevice *dev = ped_device_get (path);
  if (!dev) {
    p2v_error ("cannot open %s to read its partition table", path);
    return -1;
  }
  uint64_t bytes = (uint64_t) dev->length * dev->sector_size;
  fprintf (out, "%s: %s (%" PRIu64 " bytes), ", path, p2v_human_size (bytes, h), bytes);
  if (dev->model && *dev->model)
    fprintf (out, "model \"%s\", ", dev->model);
  fprintf (out, "%lld-byte sectors, ", dev->sector_size);
  if (!ped_device_open (dev)) {
    fprintf (out, "unreadable\n");
    p2v_error ("cannot open %s to read its partition table", path);
    goto out;
  }
  PedDiskType *type = ped_disk_probe (dev);
  if (!type) {
    /* A whole-disk file system (or LVM PV without a table) is common
     * on secondary disks, and worth saying.
     */
    PedGeometry *g = ped_geometry_new (dev, 0, dev->length);
    PedFileSystemType *fs = g ? ped_file_system_probe (g) : NULL;
    if (fs)
      fprintf (out, "no partition table; the whole disk holds %s\n", fs->name);
    else
      fprintf (out, "no partition table\n");
    if (g)
      ped_geometry_destroy (g);
    ret = 0;
    goto close;
  }
  PedDisk *disk = ped_disk_new (dev);
  /* libparted's "loop" label is its name for no table at all: one
   * file system over the whole disk.
   */
  if (disk && strcmp (type->name, "loop") == 0) {
    PedPartition *p = ped_disk_get_partition (disk, 1);
    if (p && p->fs_type)
      fprintf (out, "no partition table; the whole disk holds %s\n", p->fs_type->name);
    else
      fprintf (out, "no partition table\n");
    ped_disk_destroy (disk);
    ret = 0;
    goto close;
  }
  fprintf (out, "%s partition table\n", type->name);
  if (!disk) {
    fprintf (out, "  (the %s partition table cannot be read)\n", type->name);
    goto close;
  }
  print_partitions (disk, out);
  ped_disk_destroy (disk);
  ret = 0;
 close:
  ped_device_close (dev);
 out:
  ped_device_destroy (dev);
  return ret;
}

int
p2v_print_partition_table (const char *path, FILE *out)
{
  PedExceptionHandler *old = p2v_parted_quiet_begin ();
  int r = describe (path, out);
  p2v_parted_quiet_end (old);
  return r;
}

static int
cmp_path (const void *a, const void *b)
{
  return strverscmp (*(char *const *) a, *(char *const *) b);
}

static void
add_path (char ***v, size_t *n, const char *p)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*v)[i], p) == 0)
      return;
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = xstrdup (p);
}

/* The sysfs directory of a block device; partitions live below their
 * disk's, so "is this on that disk" is a prefix test.  NULL if none.
 */
static char *
sysfs_dir_of (dev_t rdev)
{
  char link[64];
  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", major (rdev), minor (rdev));
  return realpath (link, NULL);
}

static bool
below (const char *dir, const char *disk)
{
  size_t n = strlen (disk);
  return dir && strncmp (dir, disk, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* Append "sep text" to a growing list in buf. */
static void
append (char *buf, size_t n, const char *sep, const char *text)
{
  size_t len = strlen (buf);
  snprintf (buf + len, n - len, "%s%s", len ? sep : "", text);
}

/* The entries of a sysfs holders directory, appended to buf. */
static void
add_holders (const char *dir, char *buf, size_t n)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      append (buf, n, ", ", e->d_name);
  if (d)
    closedir (d);
}

/* What holds the disk, or one of its partitions: mounted file systems
 * (the running root among them), swap, and holders (LVM, md, dm-crypt),
 * as a line "  state: ...".  A disk nothing holds: "  state: not in use".
 */
static void
print_state (const char *path, FILE *out)
{
  struct stat st;
  char *disk = stat (path, &st) == 0 && S_ISBLK (st.st_mode) ? sysfs_dir_of (st.st_rdev) : NULL;
  if (!disk) {
    fprintf (out, "  state: unknown (not in sysfs)\n");
    return;
  }
  char mounts[1024] = "", holders[512] = "", state[2048] = "";
  bool root = false, root_rw = false;
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  char line[4096];
  while (f && fgets (line, sizeof line, f)) {
    /* id parent MAJ:MIN root mountpoint options ... */
    char *field[6], *save = NULL, *tok = strtok_r (line, " ", &save);
    int n = 0;
    for (; tok && n < 6; tok = strtok_r (NULL, " ", &save))
      field[n++] = tok;
    char *colon = n == 6 ? strchr (field[2], ':') : NULL;
    uint64_t maj, min;
    if (!colon)
      continue;
    *colon = '\0';
    if (p2v_parse_u64 (field[2], &maj) == -1 || p2v_parse_u64 (colon + 1, &min) == -1
        || maj > 0xfff || min > 0xfffff)
      continue;
    char *dir = sysfs_dir_of (makedev ((unsigned) maj, (unsigned) min));
    bool ours = below (dir, disk);
    free (dir);
    if (!ours)
      continue;
    bool rw = strncmp (field[5], "rw", 2) == 0 && (!field[5][2] || field[5][2] == ',');
    /* mountinfo escapes blanks and backslashes in paths as \ooo. */
    char m[300];
    snprintf (m, sizeof m, "%.256s%s", field[4], rw ? "" : " (read-only)");
    if (strstr (mounts, m) == NULL)
      append (mounts, sizeof mounts, ", ", m);
    if (strcmp (field[4], "/") == 0) {
      root = true;
      root_rw = root_rw || rw;
    }
  }
  if (f)
    fclose (f);
  /* Holders of the disk and of each partition (a partition is a
   * directory below the disk's with a "partition" file).
   */
  const char *name = strrchr (disk, '/') + 1;
  char *h = xasprintf ("%s/holders", disk);
  add_holders (h, holders, sizeof holders);
  free (h);
  DIR *dd = opendir (disk);
  struct dirent *e;
  while (dd && (e = readdir (dd)) != NULL) {
    if (strncmp (e->d_name, name, strlen (name)) != 0)
      continue;
    char *part = xasprintf ("%s/%s/partition", disk, e->d_name);
    if (access (part, F_OK) == 0) {
      h = xasprintf ("%s/%s/holders", disk, e->d_name);
      add_holders (h, holders, sizeof holders);
      free (h);
    }
    free (part);
  }
  if (dd)
    closedir (dd);
  /* Swap on the disk or a partition: /proc/swaps names the device. */
  bool swap = false;
  f = fopen ("/proc/swaps", "re");
  while (f && fgets (line, sizeof line, f)) {
    char *sp = strchr (line, ' ');
    struct stat ss;
    if (!sp || line[0] != '/')
      continue;
    *sp = '\0';
    if (stat (line, &ss) == 0 && S_ISBLK (ss.st_mode)) {
      char *dir = sysfs_dir_of (ss.st_rdev);
      swap = swap || below (dir, disk);
      free (dir);
    }
  }
  if (f)
    fclose (f);
  free (disk);

  if (root)
    append (state, sizeof state, "; ", root_rw
            ? "running root (holds / mounted read-write: copy it from a LiveCD, or --force)"
            : "running root (holds /, read-only)");
  if (mounts[0]) {
    char t[1100];
    snprintf (t, sizeof t, "mounted on %s", mounts);
    append (state, sizeof state, "; ", t);
  }
  if (swap)
    append (state, sizeof state, "; ", "swap in use");
  if (holders[0]) {
    char t[600];
    snprintf (t, sizeof t, "in use by %s (LVM, md or dm-crypt)", holders);
    append (state, sizeof state, "; ", t);
  }
  fprintf (out, "  state: %s\n", state[0] ? state : "not in use");
}

/* A disk whose device cannot be opened (a sandbox, a busy driver):
 * still one, with what sysfs says of its size.
 */
static void
describe_unreadable (const char *path, int err, FILE *out)
{
  struct stat st;
  char h[P2V_HUMAN_LEN];
  char *dir = stat (path, &st) == 0 ? sysfs_dir_of (st.st_rdev) : NULL;
  char *sz = dir ? xasprintf ("%s/size", dir) : NULL;
  uint64_t sectors = 0;
  FILE *f = sz ? fopen (sz, "re") : NULL;
  char line[64];
  if (f && fgets (line, sizeof line, f)) {
    line[strcspn (line, "\n")] = '\0';
    if (p2v_parse_u64 (line, &sectors) == -1 || sectors > UINT64_MAX / 512)
      sectors = 0;
  }
  if (f)
    fclose (f);
  free (sz);
  free (dir);
  fprintf (out, "%s: %s (%" PRIu64 " bytes), cannot be opened to read its partition table: "
           "%s\n", path, p2v_human_size (sectors * 512, h), sectors * 512, strerror (err));
}

int
p2v_list_disks (FILE *out)
{
  PedExceptionHandler *old = ped_exception_get_handler ();
  ped_exception_set_handler (silent_handler);
  char **paths = NULL;
  size_t n = 0;
  int listed = 0;

  ped_device_probe_all ();
  for (PedDevice *d = ped_device_get_next (NULL); d; d = ped_device_get_next (d))
    if (d->length > 0 && d->type != PED_DEVICE_RAM && d->type != PED_DEVICE_LOOP)
      add_path (&paths, &n, d->path);
  /* Forget the probed devices: describe() gets each one afresh. */
  ped_device_free_all ();

  /* libparted lists only the disks it can open, so the running root's
   * disk may be missing (a sandbox refuses to open it), and it never
   * lists loop devices; an attached one (an image an admin set up, or
   * the LiveCD's own squashfs) is still a disk here.  sysfs has every
   * disk: add the ones libparted did not name (by device number, as
   * /dev/mapper/X is /dev/dm-N).
   */
  DIR *dir = opendir ("/sys/block");
  struct dirent *e;
  while (dir && (e = readdir (dir)) != NULL) {
    if (e->d_name[0] == '.' || strncmp (e->d_name, "ram", 3) == 0)
      continue;
    char *attr = xasprintf ("/sys/block/%s/%s", e->d_name,
                            strncmp (e->d_name, "loop", 4) == 0 ? "loop/backing_file" : "size");
    FILE *f = fopen (attr, "re");
    char line[64] = "";
    bool keep = f && fgets (line, sizeof line, f) && strcmp (line, "0\n") != 0;
    if (f)
      fclose (f);
    free (attr);
    char *dev = xasprintf ("/dev/%s", e->d_name);
    for (char *c = dev; *c; c++)
      if (*c == '!')
        *c = '/';
    struct stat st;
    bool known = false;
    if (keep && stat (dev, &st) == 0 && S_ISBLK (st.st_mode))
      for (size_t i = 0; i < n && !known; i++) {
        struct stat ps;
        known = stat (paths[i], &ps) == 0 && ps.st_rdev == st.st_rdev;
      }
    else
      keep = false;
    if (keep && !known)
      add_path (&paths, &n, dev);
    free (dev);
  }
  if (dir)
    closedir (dir);

  qsort (paths, n, sizeof *paths, cmp_path);
  for (size_t i = 0; i < n; i++) {
    if (listed)
      fputc ('\n', out);
    int fd = open (paths[i], O_RDONLY | O_CLOEXEC);
    if (fd == -1)
      describe_unreadable (paths[i], errno, out);
    else {
      close (fd);
      describe (paths[i], out);
    }
    print_state (paths[i], out);
    listed++;
    free (paths[i]);
  }
  free (paths);
  if (listed == 0)
    fprintf (out, "no disks found\n");
  p2v_parted_quiet_end (old);
  return listed;
}

void
p2v_part_say (char *what, size_t len, const char *fmt, ...)
{
  if (!what || len == 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, len, fmt, ap);
  va_end (ap);
}
