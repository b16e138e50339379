/* Partition tables on real image files, made by the reference tools
 * (sfdisk, sgdisk, mkfs.ext4) and checked by them (sgdisk -v): what is
 * printed, and what the GPT move changes — and that it changes nothing
 * else.  Loop devices and the kernel's partitions are in
 * tests/disks-partinfo.sh (root).
 */
#include <config.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/partinfo.h"
#include "common/test.h"
#include "common/util.h"

static char dir[] = "/tmp/p2vtest-partinfo.XXXXXX";

static int
run (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
static int
run (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *cmd;
  if (vasprintf (&cmd, fmt, ap) == -1)
    abort ();
  va_end (ap);
  int r = system (cmd);
  if (r != 0)
    fprintf (stderr, "command failed (%d): %s\n", r, cmd);
  free (cmd);
  return r;
}

/* A command's standard output (and error), whole. */
static char *
capture (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
static char *
capture (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *cmd;
  if (vasprintf (&cmd, fmt, ap) == -1)
    abort ();
  va_end (ap);
  FILE *p = popen (cmd, "r");
  free (cmd);
  char *s = xcalloc (1, 65536);
  if (p) {
    size_t n = fread (s, 1, 65535, p);
    s[n] = '\0';
    pclose (p);
  }
  return s;
}

static char *
img (const char *name)
{
  static char path[8][256];
  static int i;
  i = (i + 1) % 8;
  snprintf (path[i], sizeof path[i], "%s/%s", dir, name);
  return path[i];
}

static char *
print_table (const char *path, int *ret)
{
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);
  *ret = p2v_print_partition_table (path, f);
  fclose (f);
  return s;
}

/* The printed line of partition num, or NULL. */
static const char *
part_line (const char *text, int num, char *buf, size_t len)
{
  char want[16];
  snprintf (want, sizeof want, "  %d ", num);
  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL) {
    if (strncmp (p, want, strlen (want)) == 0) {
      size_t l = strcspn (p, "\n");
      snprintf (buf, len, "%.*s", (int) (l < len ? l : len - 1), p);
      return buf;
    }
  }
  return NULL;
}

/* Every field of the line, in order, separated by blanks. */
static int
has_fields (const char *line, const char *const *fields)
{
  if (!line)
    return 0;
  const char *p = line;
  for (; *fields; fields++) {
    p = strstr (p, *fields);
    if (!p)
      return 0;
    p += strlen (*fields);
  }
  return 1;
}

static void
test_print_msdos (void)
{
  char *p = img ("msdos.img"), line[256];
  int r;
  CHECK (run ("truncate -s 64M %s && printf 'label: dos\\n"
              "start=2048, size=32768, type=83, bootable\\n"
              "start=34816, size=16384, type=82\\n"
              "start=51200, type=5\\n"
              "start=53248, size=20480, type=83\\n' | sfdisk -q %s", p, p) == 0);
  CHECK (run ("mkfs.ext4 -q -F -E offset=%d %s 16M", 2048 * 512, p) == 0);
  char *out = print_table (p, &r);
  fputs (out, stderr);
  CHECK (r == 0);
  CHECK (strstr (out, "64.0 MiB (67108864 bytes)") != NULL);
  CHECK (strstr (out, "512-byte sectors, msdos partition table\n") != NULL);
  CHECK (has_fields (part_line (out, 1, line, sizeof line),
                     (const char *[]) { "2048", "16.0 MiB", "ext4", "primary", "boot", NULL }));
  CHECK (has_fields (part_line (out, 2, line, sizeof line),
                     (const char *[]) { "34816", "8.0 MiB", "primary", NULL }));
  CHECK (has_fields (part_line (out, 3, line, sizeof line),
                     (const char *[]) { "51200", "extended", NULL }));
  CHECK (has_fields (part_line (out, 5, line, sizeof line),
                     (const char *[]) { "53248", "10.0 MiB", "logical", NULL }));
  CHECK (part_line (out, 4, line, sizeof line) == NULL);
  free (out);
}

/* A 16 MiB GPT image as sgdisk builds it (once: sgdisk takes a second
 * each run), copied to name; returns its path.
 */
static char *
make_gpt (const char *name)
{
  static int made;
  char *t = img ("gpt-template.img");
  if (!made++)
    CHECK (run ("truncate -s 16M %s && sgdisk -n1:2048:+4M -c1:'EFI System' -t1:ef00 "
                "-n2:0:+6M -c2:root -t2:8300 -n3:0:0 -c3:data %s >/dev/null", t, t) == 0);
  char *p = img (name);
  CHECK (run ("cp %s %s", t, p) == 0);
  return p;
}

static void
test_print_gpt (void)
{
  char line[256];
  int r;
  char *p = make_gpt ("gpt.img");
  CHECK (run ("mkfs.ext4 -q -F -E offset=%d %s 6M", (2048 + 8192) * 512, p) == 0);
  char *out = print_table (p, &r);
  fputs (out, stderr);
  CHECK (r == 0);
  CHECK (strstr (out, "16.0 MiB (16777216 bytes)") != NULL);
  CHECK (strstr (out, "gpt partition table\n") != NULL);
  CHECK (has_fields (part_line (out, 1, line, sizeof line),
                     (const char *[]) { "2048", "4.0 MiB", "EFI System", "boot", "esp", NULL }));
  CHECK (has_fields (part_line (out, 2, line, sizeof line),
                     (const char *[]) { "10240", "6.0 MiB", "ext4", "root", NULL }));
  CHECK (has_fields (part_line (out, 3, line, sizeof line),
                     (const char *[]) { "22528", "data", NULL }));
  free (out);
}

static void
test_print_bare (void)
{
  int r;
  char *p = img ("bare.img");
  CHECK (run ("truncate -s 8M %s", p) == 0);
  char *out = print_table (p, &r);
  CHECK (r == 0 && strstr (out, "8.0 MiB (8388608 bytes)") && strstr (out, "no partition table\n"));
  free (out);
  CHECK (run ("mkfs.ext4 -q -F %s", p) == 0);
  out = print_table (p, &r);
  CHECK (r == 0 && strstr (out, "no partition table; the whole disk holds ext4\n"));
  free (out);
  out = print_table (img ("missing.img"), &r);
  CHECK (r == -1);
  free (out);
  out = print_table ("/dev/null", &r);          /* not a disk: refused */
  CHECK (r == -1 && strcmp (out, "") == 0);
  free (out);
}

/* What sgdisk -v says about an image: 1 clean, 0 problems. */
static int
gpt_clean (const char *p)
{
  char *v = capture ("sgdisk -v %s 2>&1", p);
  int clean = strstr (v, "No problems found") != NULL;
  if (!clean)
    fprintf (stderr, "sgdisk -v %s:\n%s", p, v);
  free (v);
  return clean;
}

/* The copy onto a larger target: only the sectors the spec names may
 * differ from the source, and the backup is where sgdisk wants it.
 */
static void
test_relocate_larger (void)
{
  char what[512];
  char *src = make_gpt ("gpt-src.img");
  char *dst = img ("gpt-big.img");
  CHECK (run ("cp %s %s && truncate -s 40M %s", src, dst, dst) == 0);
  char *v = capture ("sgdisk -v %s 2>&1", dst);
  CHECK (strstr (v, "Problem:") != NULL && strstr (v, "No problems found") == NULL);
  free (v);
  int r;
  char *before = print_table (src, &r);

  /* Printing it asks libparted, which offers to "fix" it: the answer
   * must be no, and the image stay as it was.
   */
  size_t l0, l1;
  unsigned char *i0 = (unsigned char *) test_slurp (dst, &l0);
  char *t = print_table (dst, &r);
  CHECK (r == 0 && strstr (t, "gpt partition table") != NULL);
  free (t);
  unsigned char *i1 = (unsigned char *) test_slurp (dst, &l1);
  CHECK (i0 && i1 && l0 == l1 && memcmp (i0, i1, l0) == 0);
  free (i0);
  free (i1);

  CHECK (p2v_gpt_relocate_backup (dst, what, sizeof what) == 1);
  fprintf (stderr, "%s\n", what);
  CHECK (strstr (what, "from sector 32767 to sector 81919") != NULL);
  CHECK (gpt_clean (dst));
  char *p = capture ("sgdisk -p %s 2>&1", dst);
  CHECK (strstr (p, "81920 sectors") != NULL);
  free (p);

  /* Same partitions, names, flags, file systems. */
  char *after = print_table (dst, &r);
  const char *b = strstr (before, "  Number"), *a = strstr (after, "  Number");
  CHECK (a && b && strcmp (a, b) == 0);
  free (before);
  free (after);

  size_t ls, ld;
  unsigned char *s = (unsigned char *) test_slurp (src, &ls), *d = (unsigned char *) test_slurp (dst, &ld);
  CHECK (ls == 16 << 20 && ld == 40 << 20);
  /* LBA 0: only the 0xEE entry's size, now the new disk size - 1. */
  CHECK (memcmp (s, d, 446 + 12) == 0 && memcmp (s + 462, d + 462, 50) == 0);
  CHECK (d[458] == 0xff && d[459] == 0x3f && d[460] == 0x01 && d[461] == 0);  /* 81919 */
  /* LBA 1 differs (AlternateLBA, LastUsableLBA, CRC); the rest of the
   * source is byte for byte the same except the old backup header.
   */
  CHECK (memcmp (s + 512, d + 512, 512) != 0);
  CHECK (memcmp (s + 1024, d + 1024, (32767 - 2) * 512) == 0);
  static const unsigned char zero[512];
  CHECK (memcmp (s + 32767 * 512, "EFI PART", 8) == 0);
  CHECK (memcmp (d + 32767 * 512, zero, 512) == 0);
  /* The new backup: the same partition array, then the header at the end. */
  CHECK (memcmp (d + (81919 - 32) * 512, s + 2 * 512, 32 * 512) == 0);
  CHECK (memcmp (d + 81919 * 512, "EFI PART", 8) == 0);
  free (s);

  /* Again: nothing to do, nothing written. */
  CHECK (p2v_gpt_relocate_backup (dst, what, sizeof what) == 0);
  CHECK (strstr (what, "already at the end") != NULL);
  unsigned char *d2 = (unsigned char *) test_slurp (dst, &ld);
  CHECK (memcmp (d, d2, ld) == 0);
  free (d);
  free (d2);
}

/* Each case leaves the image exactly as it was. */
static void
check_untouched (const char *path, int want, const char *what_has)
{
  char what[512];
  size_t l1, l2;
  unsigned char *a = (unsigned char *) test_slurp (path, &l1);
  int r = p2v_gpt_relocate_backup (path, what, sizeof what);
  if (r != want)
    fprintf (stderr, "%s: relocate returned %d, want %d\n", path, r, want);
  CHECK (r == want);
  if (what_has)
    CHECK (strstr (what, what_has) != NULL);
  unsigned char *b = (unsigned char *) test_slurp (path, &l2);
  CHECK (a && b && l1 == l2 && memcmp (a, b, l1) == 0);
  free (a);
  free (b);
}

static void
test_relocate_noop (void)
{
  /* Same size: a copy onto an equal disk is already right. */
  char *p = make_gpt ("gpt-same.img");
  check_untouched (p, 0, "already at the end");
  CHECK (gpt_clean (p));

  /* MBR, even on a larger target. */
  p = img ("mbr-big.img");
  CHECK (run ("truncate -s 16M %s && printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q %s"
              " && truncate -s 32M %s", p, p, p) == 0);
  check_untouched (p, 0, "has no GPT");
  p = img ("empty.img");
  CHECK (run ("truncate -s 1M %s", p) == 0);
  check_untouched (p, 0, "has no GPT");

  /* An MBR disk that was GPT once: the stale headers at LBA 1 and at
   * the old end are not a GPT in force, and the stale backup sits in
   * the last partition's data.
   */
  char *stale = make_gpt ("gpt-stale.img");
  CHECK (run ("dd if=%s of=%s bs=512 count=1 conv=notrunc status=none && truncate -s 32M %s",
              img ("mbr-big.img"), stale, stale) == 0);
  check_untouched (stale, 0, "no protective MBR");

  /* A target smaller than the source: refused, not "fixed". */
  p = make_gpt ("gpt-small.img");
  CHECK (run ("truncate -s 12M %s", p) == 0);
  check_untouched (p, -1, NULL);

  /* A damaged primary header is not copied anywhere. */
  p = make_gpt ("gpt-bad.img");
  CHECK (run ("printf X | dd of=%s bs=1 seek=%d conv=notrunc status=none && truncate -s 32M %s",
              p, 512 + 60, p) == 0);
  check_untouched (p, -1, NULL);

  /* Regular files have no kernel partitions to re-read. */
  char what[256];
  CHECK (p2v_reread_partitions (p, what, sizeof what) == 0);
  CHECK (strstr (what, "not a block device") != NULL);
  CHECK (p2v_reread_partitions (img ("missing.img"), what, sizeof what) == -1);
}

/* A hybrid MBR (GPT partitions mirrored in MBR slots) is a deliberate
 * layout: the backup moves, LBA 0 stays exactly as it was.
 */
static void
test_relocate_hybrid (void)
{
  char what[512];
  char *p = make_gpt ("gpt-hybrid.img");
  CHECK (run ("sgdisk -h 2 %s >/dev/null && truncate -s 24M %s", p, p) == 0);
  size_t l;
  unsigned char *a = (unsigned char *) test_slurp (p, &l);
  CHECK (p2v_gpt_relocate_backup (p, what, sizeof what) == 1);
  unsigned char *b = (unsigned char *) test_slurp (p, &l);
  CHECK (a && b && memcmp (a, b, 512) == 0);
  free (a);
  free (b);
  CHECK (gpt_clean (p));
}

int
main (void)
{
  p2v_set_progname ("test-partinfo");
  if (system ("command -v sgdisk && command -v sfdisk && command -v mkfs.ext4") != 0) {
    fprintf (stderr, "SKIP: sgdisk, sfdisk or mkfs.ext4 missing\n");
    return 77;
  }
  if (!mkdtemp (dir)) {
    perror ("mkdtemp");
    return 1;
  }
  test_print_msdos ();
  test_print_gpt ();
  test_print_bare ();
  test_relocate_larger ();
  test_relocate_noop ();
  test_relocate_hybrid ();
  run ("rm -rf '%s'", dir);
  return TEST_DONE ();
}
