/* Partition tables: listing disks and tables with libparted, moving a
 * GPT backup to the end of a larger disk, telling the kernel about
 * partitions.
 *
 * The GPT move is done by hand, not by libparted's "Fix" answer: on
 * commit libparted rewrites the protective MBR (a hybrid MBR would be
 * lost) and regenerates every entry from its own model of the table,
 * while the job here is to leave everything but the backup alone.
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
#include "partinfo.h"
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
quiet_handler (PedException *ex)
{
  char *msg = xstrdup (ex->message ? ex->message : "(no message)");
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
  p2v_warning ("%s", msg);
  free (msg);
  if (ex->options & PED_EXCEPTION_IGNORE)
    return PED_EXCEPTION_IGNORE;
  if (ex->options & PED_EXCEPTION_CANCEL)
    return PED_EXCEPTION_CANCEL;
  if (ex->options & PED_EXCEPTION_OK)
    return PED_EXCEPTION_OK;
  return PED_EXCEPTION_UNHANDLED;
}

static PedExceptionHandler *
quiet_begin (void)
{
  PedExceptionHandler *old = ped_exception_get_handler ();
  ped_exception_set_handler (quiet_handler);
  return old;
}

static void
quiet_end (PedExceptionHandler *old)
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
    p2v_error ("cannot read the %s partition table of %s", type->name, path);
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
  PedExceptionHandler *old = quiet_begin ();
  int r = describe (path, out);
  quiet_end (old);
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
  PedExceptionHandler *old = quiet_begin ();
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
  quiet_end (old);
  return listed;
}

/* ---- GPT ---------------------------------------------------------- */

#define GPT_SIG "EFI PART"

static uint32_t le32 (const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24; }
static uint64_t le64 (const uint8_t *p) { return le32 (p) | (uint64_t) le32 (p + 4) << 32; }
static void put32 (uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64 (uint8_t *p, uint64_t v) { put32 (p, v); put32 (p + 4, v >> 32); }

enum {
  H_SIZE = 12, H_CRC = 16, H_MY = 24, H_ALT = 32, H_FIRST = 40, H_LAST = 48,
  H_ENTRIES = 72, H_NENTRIES = 80, H_ENTSIZE = 84, H_ENTCRC = 88,
};

static uint32_t
header_crc (const uint8_t *h)
{
  uint8_t tmp[512];
  uint32_t size = le32 (h + H_SIZE);
  memcpy (tmp, h, size);
  put32 (tmp + H_CRC, 0);
  return crc32 (0, tmp, size);
}

static void
say (char *what, size_t len, const char *fmt, ...) __attribute__((format (printf, 3, 4)));
static void
say (char *what, size_t len, const char *fmt, ...)
{
  if (!what || len == 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, len, fmt, ap);
  va_end (ap);
}

int
p2v_gpt_relocate_backup_fd (int fd, const char *path, char *what, size_t what_len)
{
  struct stat st;
  uint64_t size;
  unsigned ss = 0;
  uint8_t *sec = NULL, *entries = NULL, *backup = NULL;
  int ret = -1;
  const char *op = "read";

  say (what, what_len, "%s", "");
  if (fstat (fd, &st) == -1) {
    p2v_error ("cannot stat %s: %s", path, strerror (errno));
    return -1;
  }
  if (S_ISBLK (st.st_mode)) {
    int bss;
    if (ioctl (fd, BLKGETSIZE64, &size) == -1 || ioctl (fd, BLKSSZGET, &bss) == -1) {
      p2v_error ("cannot get the size of %s: %s", path, strerror (errno));
      return -1;
    }
    ss = bss;
  }
  else
    size = st.st_size;

  /* An image file does not say its sector size: the header is at LBA 1
   * of whichever size finds it.
   */
  sec = xaligned_alloc (4096);
  unsigned tries[2] = { 512, 4096 };
  for (int i = 0; i < 2 && ss == 0; i++) {
    if ((uint64_t) 2 * tries[i] > size)
      break;
    if (p2v_pread_full (fd, sec, tries[i], tries[i]) == -1)
      goto io_error;
    if (memcmp (sec, GPT_SIG, 8) == 0)
      ss = tries[i];
  }
  if (ss == 0 || ss > 4096 || (uint64_t) 2 * ss > size) {
    say (what, what_len, "%s has no GPT: nothing to move", path);
    ret = 0;
    goto done;
  }
  /* A GPT is only in force behind a protective (or hybrid) MBR: an MBR
   * disk that was GPT once may still carry the old headers, and the
   * stale backup may sit inside its last partition.
   */
  if (p2v_pread_full (fd, sec, 512, 0) == -1)
    goto io_error;
  bool protective = false;
  for (int i = 0; i < 4; i++)
    protective |= sec[446 + 16 * i + 4] == 0xEE;
  if (sec[510] != 0x55 || sec[511] != 0xAA || !protective) {
    say (what, what_len, "%s has no GPT (no protective MBR): nothing to move", path);
    ret = 0;
    goto done;
  }
  if (p2v_pread_full (fd, sec, ss, ss) == -1)
    goto io_error;
  if (memcmp (sec, GPT_SIG, 8) != 0) {
    say (what, what_len, "%s has no GPT: nothing to move", path);
    ret = 0;
    goto done;
  }

  /* Only a primary that is valid in every respect is copied: the
   * backup is rebuilt from it, never from guesses.
   */
  uint32_t hsize = le32 (sec + H_SIZE);
  uint32_t nent = le32 (sec + H_NENTRIES), entsize = le32 (sec + H_ENTSIZE);
  if (hsize < 92 || hsize > ss || hsize > 512 || header_crc (sec) != le32 (sec + H_CRC)
      || le64 (sec + H_MY) != 1 || entsize < 128 || entsize % 8 != 0
      || nent == 0 || (uint64_t) nent * entsize > 4 * 1024 * 1024) {
    p2v_error ("%s: the primary GPT header is invalid; not moving the backup GPT", path);
    goto done;
  }
  uint64_t alt = le64 (sec + H_ALT), first = le64 (sec + H_FIRST);
  uint64_t last_usable = le64 (sec + H_LAST), ent_lba = le64 (sec + H_ENTRIES);
  uint64_t last = size / ss - 1;
  size_t ent_bytes = (size_t) nent * entsize;
  uint64_t ent_secs = (ent_bytes + ss - 1) / ss;
  if (alt == last) {
    say (what, what_len, "%s: the backup GPT is already at the end of the disk", path);
    ret = 0;
    goto done;
  }
  if (alt > last) {
    p2v_error ("%s is smaller than its GPT says: the backup header should be at "
               "sector %" PRIu64 " but the disk ends at sector %" PRIu64, path, alt, last);
    goto done;
  }
  entries = xaligned_alloc (ent_secs * ss);
  memset (entries, 0, ent_secs * ss);
  if (ent_lba < 2 || ent_lba + ent_secs > first
      || p2v_pread_full (fd, entries, ent_bytes, ent_lba * ss) == -1
      || crc32 (0, entries, ent_bytes) != le32 (sec + H_ENTCRC)) {
    p2v_error ("%s: the primary GPT partition array is invalid; not moving the backup GPT", path);
    goto done;
  }
  uint64_t new_ent_lba = last - ent_secs;
  if (last_usable >= alt || new_ent_lba <= last_usable) {
    p2v_error ("%s: the GPT's usable area overlaps its backup; not moving it", path);
    goto done;
  }
  /* Refuse rather than write over a partition that reaches past the
   * usable area (no valid table has one, but this one is someone's
   * only copy).
   */
  static const uint8_t unused[16];
  for (uint32_t i = 0; i < nent; i++) {
    const uint8_t *e = entries + (size_t) i * entsize;
    if (memcmp (e, unused, 16) != 0 && le64 (e + 40) >= new_ent_lba) {
      p2v_error ("%s: GPT partition %u ends at sector %" PRIu64 ", where the backup "
                 "GPT must go; not moving it", path, i + 1, le64 (e + 40));
      goto done;
    }
  }

  /* The new backup first, flushed, then the primary that points at it:
   * until then the old pair stays consistent.
   */
  uint8_t *primary = sec;
  put64 (primary + H_ALT, last);
  put64 (primary + H_LAST, new_ent_lba - 1);
  put32 (primary + H_CRC, header_crc (primary));
  backup = xaligned_alloc (ss);
  memset (backup, 0, ss);
  memcpy (backup, primary, hsize);
  put64 (backup + H_MY, last);
  put64 (backup + H_ALT, 1);
  put64 (backup + H_ENTRIES, new_ent_lba);
  put32 (backup + H_CRC, header_crc (backup));

  op = "write";
  if (p2v_pwrite_full (fd, entries, ent_secs * ss, new_ent_lba * ss) == -1
      || p2v_pwrite_full (fd, backup, ss, last * ss) == -1 || p2v_fsync (fd) == -1
      || p2v_pwrite_full (fd, primary, ss, ss) == -1 || p2v_fsync (fd) == -1)
    goto io_error;

  /* The old backup header now lies in free space; left there, it is
   * a second, stale GPT for tools that scan for signatures.
   */
  op = "read";
  if (p2v_pread_full (fd, backup, ss, alt * ss) == -1)
    goto io_error;
  bool wiped = false;
  if (memcmp (backup, GPT_SIG, 8) == 0 && le64 (backup + H_MY) == alt) {
    memset (backup, 0, ss);
    op = "write";
    if (p2v_pwrite_full (fd, backup, ss, alt * ss) == -1)
      goto io_error;
    wiped = true;
  }

  /* UEFI: a protective MBR's 0xEE entry spans the disk (or 0xFFFFFFFF
   * sectors).  Only a pure protective MBR that spanned the old disk is
   * stretched; a hybrid MBR is someone's deliberate layout.
   */
  op = "read";
  if (p2v_pread_full (fd, backup, 512, 0) == -1)
    goto io_error;
  uint8_t *pe = backup + 446;
  bool pure = backup[510] == 0x55 && backup[511] == 0xAA && pe[4] == 0xEE
    && le32 (pe + 8) == 1 && memcmp (pe + 16, unused, 16) == 0
    && memcmp (pe + 32, unused, 16) == 0 && memcmp (pe + 48, unused, 16) == 0;
  uint32_t want_old = alt > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t) alt;
  uint32_t want_new = last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t) last;
  if (pure && le32 (pe + 12) == want_old && want_old != want_new) {
    put32 (pe + 12, want_new);
    op = "write";
    if (p2v_pwrite_full (fd, backup, 512, 0) == -1)
      goto io_error;
  }
  if (p2v_fsync (fd) == -1)
    goto io_error;

  char h[P2V_HUMAN_LEN];
  say (what, what_len, "%s: moved the backup GPT from sector %" PRIu64 " to sector %"
       PRIu64 " (the end of the disk); %s of new space usable after sector %" PRIu64 "%s",
       path, alt, last, p2v_human_size ((last - alt) * ss, h), last_usable,
       wiped ? "; old backup header cleared" : "");
  ret = 1;
  goto done;

 io_error:
  p2v_error ("cannot %s the GPT of %s: %s", op, path, strerror (errno));
  ret = -1;
 done:
  free (sec);
  free (entries);
  free (backup);
  return ret;
}

int
p2v_gpt_relocate_backup (const char *path, char *what, size_t what_len)
{
  int fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    p2v_error ("cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  int r = p2v_gpt_relocate_backup_fd (fd, path, what, what_len);
  if (close (fd) == -1 && r != -1) {
    p2v_error ("cannot close %s: %s", path, strerror (errno));
    r = -1;
  }
  return r;
}

/* ---- kernel partitions -------------------------------------------- */

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

  say (what, what_len, "%s", "");
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
    say (what, what_len, "%s is not a block device: no partitions to re-read", path);
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
    say (what, what_len, "%s: the kernel re-read the partition table (%zu partition%s)",
         path, nk, nk == 1 ? "" : "s");
    ret = nk;
    goto out;
  }

  PedExceptionHandler *old = quiet_begin ();
  int added, removed;
  int r = sync_partitions (fd, path, st.st_rdev, &added, &removed);
  quiet_end (old);
  if (r == -1)
    goto out;
  if (kernel_partitions (st.st_rdev, &k, &nk) == -1)
    goto out;
  free (k);
  say (what, what_len, "%s: %zu partition%s known to the kernel (%d added, %d removed "
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
