#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev.h"
#include "test.h"

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
  CHECK (p2v_target_open (path, 10 << 20, false, &d, why, sizeof why) == 0);
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
  CHECK (p2v_target_open (path, 10 << 20, false, &d, why, sizeof why) == 0);
  CHECK (!d.created && !d.reads_zero);
  CHECK (p2v_dev_zero (&d, 5 << 20, sizeof buf) == 0);
  CHECK (p2v_dev_pread (&d, buf, sizeof buf, 5 << 20) == 0);
  uint8_t z[8192] = { 0 };
  CHECK (memcmp (buf, z, sizeof buf) == 0);
  p2v_dev_close (&d);

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
  CHECK (p2v_target_open (dir, 5, false, &d, why, sizeof why) == -2);
  CHECK (strstr (why, "not a block device") != NULL);
  CHECK (p2v_target_open ("/nonexistent/dir/x.img", 5, false, &d, why, sizeof why) == -1);

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
