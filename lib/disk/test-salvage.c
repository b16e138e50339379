/* The bad-sector map (merging, file format both ways, summary) and the
 * salvaging reader on a healthy file.  Real unreadable sectors are in
 * tests/disks-salvage.sh, which needs root and FUSE.
 */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/salvage.h"
#include "common/test.h"
#include "common/util.h"

static char dir[] = "/tmp/p2vtest-salvage.XXXXXX";

/* The map as "OFF+LEN,OFF+LEN" for compact comparisons. */
static const char *
ranges (const struct p2v_badmap *m)
{
  static char buf[1024];
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < m->n && used < sizeof buf; i++)
    used += snprintf (buf + used, sizeof buf - used, "%s%" PRIu64 "+%" PRIu64,
                      i ? "," : "", m->r[i].offset, m->r[i].length);
  return buf;
}

static void
test_add (void)
{
  struct p2v_badmap m;
  p2v_badmap_init (&m);
  CHECK_STR (ranges (&m), "");
  p2v_badmap_add (&m, 4096, 512);
  p2v_badmap_add (&m, 0, 512);              /* before: inserted first */
  p2v_badmap_add (&m, 10000, 0);            /* empty: ignored */
  p2v_badmap_add (&m, 8192, 512);
  CHECK_STR (ranges (&m), "0+512,4096+512,8192+512");
  CHECK (m.bytes == 1536);
  p2v_badmap_add (&m, 4608, 512);           /* touches the end of 4096+512 */
  CHECK_STR (ranges (&m), "0+512,4096+1024,8192+512");
  p2v_badmap_add (&m, 3584, 512);           /* touches its start */
  CHECK_STR (ranges (&m), "0+512,3584+1536,8192+512");
  p2v_badmap_add (&m, 3600, 100);           /* inside: nothing changes */
  CHECK_STR (ranges (&m), "0+512,3584+1536,8192+512");
  CHECK (m.bytes == 2560);
  p2v_badmap_add (&m, 256, 8192);           /* swallows all three */
  CHECK_STR (ranges (&m), "0+8704");
  CHECK (m.n == 1 && m.bytes == 8704);
  p2v_badmap_add (&m, 9216, 512);           /* a gap of 512 stays a gap */
  CHECK_STR (ranges (&m), "0+8704,9216+512");
  p2v_badmap_add (&m, UINT64_MAX - 10, 100);  /* clamped, no wrap */
  CHECK (m.n == 3 && m.r[2].offset + m.r[2].length == UINT64_MAX);
  p2v_badmap_free (&m);

  /* Many ranges in reverse order: sorted, growth of the array. */
  p2v_badmap_init (&m);
  for (int i = 99; i >= 0; i--)
    p2v_badmap_add (&m, (uint64_t) i * 1024, 512);
  CHECK (m.n == 100 && m.bytes == 51200);
  int sorted = 1;
  for (size_t i = 1; i < m.n; i++)
    sorted &= m.r[i].offset == m.r[i - 1].offset + 1024;
  CHECK (sorted);
  /* Filling the gaps merges everything into one range. */
  for (int i = 0; i < 100; i++)
    p2v_badmap_add (&m, (uint64_t) i * 1024 + 512, 512);
  CHECK_STR (ranges (&m), "0+102400");
  p2v_badmap_free (&m);
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  CHECK (f != NULL);
  if (f) {
    fputs (text, f);
    fclose (f);
  }
}

static void
test_file (void)
{
  struct p2v_badmap m, back;
  char path[256];
  snprintf (path, sizeof path, "%s/map", dir);

  p2v_badmap_init (&m);
  p2v_badmap_add (&m, 1048576, 512);
  p2v_badmap_add (&m, 73400320, 4096);
  CHECK (p2v_badmap_write (&m, path, "/dev/sda", 21474836480ULL) == 0);
  char *text = test_slurp (path, NULL);
  CHECK_STR (text, "# p2vstream bad-sector map\n# source: /dev/sda\n# size: 21474836480\n"
             "# ranges: 2, bytes: 4608\n# offset length\n1048576 512\n73400320 4096\n");
  free (text);
  struct stat st;
  CHECK (stat (path, &st) == 0 && (st.st_mode & 0777) == 0644);

  p2v_badmap_init (&back);
  CHECK (p2v_badmap_read (&back, path) == 0);
  CHECK_STR (ranges (&back), "1048576+512,73400320+4096");
  CHECK (back.bytes == 4608);
  p2v_badmap_free (&back);

  /* An empty map is a valid file with no ranges. */
  struct p2v_badmap empty;
  p2v_badmap_init (&empty);
  CHECK (p2v_badmap_write (&empty, path, "img", 0) == 0);
  p2v_badmap_init (&back);
  CHECK (p2v_badmap_read (&back, path) == 0 && back.n == 0);
  p2v_badmap_free (&back);

  /* Strict reading: each of these is refused. */
  static const char *bad[] = {
    "512\n",                  /* one number */
    "0 512 x\n",              /* trailing field */
    "0  512\n",               /* two spaces */
    "-1 512\n",               /* sign */
    "+0 512\n",
    "0x10 512\n",             /* hex is not the format */
    "0 0\n",                  /* empty range */
    "512 512\n0 512\n",       /* out of order */
    "0 512\n512 512\n",       /* touching: the writer would have merged */
    "0 1024\n512 512\n",      /* overlapping */
    "18446744073709551615 2\n",  /* wraps */
    "\n",                     /* empty line */
    "0 512 \n",               /* trailing space */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_text (path, bad[i]);
    p2v_badmap_init (&back);
    int r = p2v_badmap_read (&back, path);
    if (r != -1)
      fprintf (stderr, "accepted bad map: %s", bad[i]);
    CHECK (r == -1);
    p2v_badmap_free (&back);
  }
  /* A map with comments anywhere and no header is fine. */
  write_text (path, "# hand-written\n0 512\n# more\n4096 8\n");
  p2v_badmap_init (&back);
  CHECK (p2v_badmap_read (&back, path) == 0);
  CHECK_STR (ranges (&back), "0+512,4096+8");
  p2v_badmap_free (&back);
  CHECK (p2v_badmap_read (&back, "/nonexistent/map") == -1);

  /* Writing into a missing directory fails and leaves no temp file. */
  CHECK (p2v_badmap_write (&m, "/nonexistent/dir/map", "x", 0) == -1);
  p2v_badmap_free (&m);
}

static void
test_summary (void)
{
  struct p2v_badmap m;
  char buf[256];
  p2v_badmap_init (&m);
  CHECK_STR (p2v_badmap_summary (&m, 5, buf, sizeof buf), "no unreadable sectors");
  p2v_badmap_add (&m, 65536, 512);
  CHECK_STR (p2v_badmap_summary (&m, 5, buf, sizeof buf),
             "1 unreadable range, 512 B (512 bytes) sent as zeros: 65536+512");
  p2v_badmap_add (&m, 131072, 1024);
  p2v_badmap_add (&m, 262144, 4096);
  CHECK_STR (p2v_badmap_summary (&m, 2, buf, sizeof buf),
             "3 unreadable ranges, 5.5 KiB (5632 bytes) sent as zeros: "
             "65536+512, 131072+1024 ...");
  /* A short buffer truncates, never overflows. */
  char small[16];
  CHECK (strlen (p2v_badmap_summary (&m, 10, small, sizeof small)) == sizeof small - 1);
  p2v_badmap_free (&m);
}

/* On a healthy file the reader is a plain pread: exact bytes, no map
 * entries; reading past the end is an error, not a bad sector.
 */
static void
test_healthy (void)
{
  char path[256];
  snprintf (path, sizeof path, "%s/src", dir);
  size_t size = 3 * 1024 * 1024 + 1000;       /* not a multiple of a sector */
  unsigned char *data = xmalloc (size), *buf = xmalloc (size);
  for (size_t i = 0; i < size; i++)
    data[i] = (unsigned char) (i * 2654435761u >> 13);
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK (fd >= 0 && p2v_write_full (fd, data, size) == 0);

  struct p2v_badmap m;
  struct p2v_salvage s;
  p2v_badmap_init (&m);
  CHECK (p2v_salvage_init (&s, fd, path, &m) == 0);
  CHECK (s.sector == 512);
  memset (buf, 0xee, size);
  CHECK (p2v_read_salvage (&s, buf, 1024 * 1024, 0) == 0);
  CHECK (p2v_read_salvage (&s, buf + 1024 * 1024, size - 1024 * 1024, 1024 * 1024) == 0);
  CHECK (memcmp (buf, data, size) == 0);
  CHECK (m.n == 0 && m.bytes == 0);
  CHECK (p2v_read_salvage (&s, buf, 4096, size - 1000) == -1);   /* past the end */
  CHECK (m.n == 0);
  p2v_salvage_close (&s);
  close (fd);

  /* Not a descriptor at all. */
  CHECK (p2v_salvage_init (&s, 999, "bad-fd", &m) == -1);
  p2v_badmap_free (&m);
  free (data);
  free (buf);
}

int
main (void)
{
  p2v_set_progname ("test-salvage");
  if (!mkdtemp (dir)) {
    perror ("mkdtemp");
    return 1;
  }
  test_add ();
  test_file ();
  test_summary ();
  test_healthy ();
  char cmd[300];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK (system (cmd) == 0);
  return TEST_DONE ();
}
