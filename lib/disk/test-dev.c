#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/dev.h"
#include "common/test.h"

int
main (void)
{
  char dir[] = "/tmp/p2vtest-dev.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char path[256], src[256], why[512];
  snprintf (path, sizeof path, "%s/new.img", dir);
  snprintf (src, sizeof src, "%s/src.img", dir);
  struct p2v_dev d;
  uint8_t buf[8192];

  /* A new target file: created owner-only, sparse, of the source's size. */
  CHECK (p2v_target_open (path, 10 << 20, false, false, &d, why, sizeof why) == 0);
  CHECK (d.created && d.reads_zero);
  memset (buf, 0xab, sizeof buf);
  CHECK (p2v_dev_pwrite (&d, buf, sizeof buf, 5 << 20) == 0);
  CHECK (p2v_dev_zero (&d, 0, 1 << 20) == 0);          /* skipped: a hole already */
  CHECK (p2v_dev_finish (&d) == 0);
  p2v_dev_close (&d);
  struct stat st;
  CHECK (stat (path, &st) == 0 && st.st_size == 10 << 20);
  CHECK ((st.st_mode & 0777) == 0600);
  CHECK (st.st_blocks * 512 < (1 << 20));               /* still sparse */

  /* Reopened as an existing file: zeros must really clear old data. */
  CHECK (p2v_target_open (path, 10 << 20, false, false, &d, why, sizeof why) == 0);
  CHECK (!d.created && !d.reads_zero);
  CHECK (p2v_dev_zero (&d, 5 << 20, sizeof buf) == 0);
  CHECK (p2v_dev_pread (&d, buf, sizeof buf, 5 << 20) == 0);
  uint8_t z[8192] = { 0 };
  CHECK (memcmp (buf, z, sizeof buf) == 0);
  p2v_dev_close (&d);

  /* A longer existing file is not cut, unless forced or for a delta. */
  CHECK (p2v_target_open (path, 8 << 20, false, false, &d, why, sizeof why) == -2);
  CHECK (strstr (why, "is 10.0 MiB, longer than the source (8.0 MiB); nothing written "
                 "(--force to truncate it)") != NULL);
  CHECK (stat (path, &st) == 0 && st.st_size == 10 << 20);
  CHECK (p2v_target_open (path, 8 << 20, false, true, &d, why, sizeof why) == 0);
  p2v_dev_close (&d);
  CHECK (stat (path, &st) == 0 && st.st_size == 8 << 20);
  CHECK (p2v_target_open (path, 6 << 20, true, false, &d, why, sizeof why) == 0);
  p2v_dev_close (&d);
  CHECK (stat (path, &st) == 0 && st.st_size == 6 << 20);

  /* A source: size from the file, reads past the end fail. */
  int fd = open (src, O_CREAT | O_WRONLY, 0600);
  CHECK (fd >= 0 && write (fd, "hello", 5) == 5);
  close (fd);
  CHECK (p2v_source_open (src, &d) == 0 && d.size == 5);
  CHECK (p2v_dev_pread (&d, buf, 5, 0) == 0 && memcmp (buf, "hello", 5) == 0);
  CHECK (p2v_dev_pread (&d, buf, 6, 0) == -1);
  p2v_dev_close (&d);

  CHECK (p2v_source_open ("/nonexistent/disk", &d) == -1);
  CHECK (p2v_source_open (dir, &d) == -1);               /* a directory */
  CHECK (p2v_target_open (dir, 5, false, false, &d, why, sizeof why) == -2);
  CHECK (strstr (why, "not a block device") != NULL);
  CHECK (p2v_target_open ("/nonexistent/dir/x.img", 5, false, false, &d, why, sizeof why) == -1);

  /* Holes of a sparse source file are known without reading them:
   * 8 MiB of hole, 64 KiB of data at 8 MiB, hole to 16 MiB.
   */
  {
    char sparse[300];
    snprintf (sparse, sizeof sparse, "%s/sparse.img", dir);
    int sfd = open (sparse, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK (sfd >= 0);
    memset (buf, 0x5a, sizeof buf);
    for (int i = 0; i < 8; i++)
      CHECK (pwrite (sfd, buf, sizeof buf, (8 << 20) + i * (off_t) sizeof buf) == sizeof buf);
    CHECK (ftruncate (sfd, 16 << 20) == 0);
    close (sfd);
    struct p2v_dev s;
    CHECK (p2v_source_open (sparse, &s) == 0);
    CHECK (p2v_source_is_hole (&s, 0, 1 << 20));
    CHECK (p2v_source_is_hole (&s, 7 << 20, 1 << 20));
    CHECK (!p2v_source_is_hole (&s, 7 << 20, 2 << 20));  /* runs into the data */
    CHECK (!p2v_source_is_hole (&s, 8 << 20, 1 << 20));
    /* The filesystem may round data up to its block size, never down. */
    CHECK (p2v_source_is_hole (&s, 12 << 20, 1 << 20));
    CHECK (p2v_source_is_hole (&s, 15 << 20, 1 << 20));  /* hole up to the end */
    p2v_dev_close (&s);
    unlink (sparse);
  }

  /* Two names of one disk are one disk. */
  char link[300], other[300];
  snprintf (link, sizeof link, "%s/link.img", dir);
  snprintf (other, sizeof other, "%s/other.img", dir);
  int pfd = open (path, O_CREAT | O_WRONLY, 0600);
  CHECK (pfd >= 0);
  close (pfd);
  CHECK (symlink (path, link) == 0);
  int ofd = open (other, O_CREAT | O_WRONLY, 0600);
  CHECK (ofd >= 0);
  close (ofd);
  char *distinct[] = { path, other, (char *) "/nonexistent/a" };
  CHECK (p2v_check_distinct (distinct, 3) == 0);
  char *twice[] = { path, other, link };
  CHECK (p2v_check_distinct (twice, 3) == -1);
  /* Not created yet: one entry of one directory under two spellings. */
  char new1[300], new2[300];
  snprintf (new1, sizeof new1, "%s/fresh.img", dir);
  snprintf (new2, sizeof new2, "%s/./fresh.img", dir);
  char *fresh[] = { new1, new2 };
  CHECK (p2v_check_distinct (fresh, 2) == -1);
  char *fresh_other[] = { new1, other };
  CHECK (p2v_check_distinct (fresh_other, 2) == 0);
  char *same_text[] = { (char *) "/nonexistent/a", (char *) "/nonexistent/a" };
  CHECK (p2v_check_distinct (same_text, 2) == -1);
  char *nodes[] = { (char *) "/dev/null", (char *) "/dev/zero" };
  CHECK (p2v_check_distinct (nodes, 2) == 0);
  unlink (link);
  unlink (other);

  unlink (path);
  unlink (src);
  rmdir (dir);

  return TEST_DONE ();
}
