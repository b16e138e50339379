/* One exit status for several disks: scripts branch on it. */
#include <config.h>

#include "common/test.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static int
fill_text (FILE *f, const void *arg)
{
  fputs (arg, f);
  return 0;
}

static int
fill_fails (FILE *f, const void *arg)
{
  fputs (arg, f);
  errno = ENOSPC;
  return -1;
}

/* PATH holds exactly WANT. */
static void
check_file (const char *path, const char *want)
{
  char *got = test_slurp (path, NULL);
  CHECK_STR (got, want);
  free (got);
}

/* Entries of dir, . and .. left out. */
static int
entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  if (d)
    closedir (d);
  return n;
}

/* p2v_replace_file: a planted symlink at the old predictable temporary
 * name is neither followed nor replaced; the mode is the one asked; a
 * failed fill leaves the old file and no temporary file.
 */
static void
replace_file_tests (void)
{
  char dir[] = "/tmp/p2v-test-util.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char *path = xasprintf ("%s/state", dir), *tmp = xasprintf ("%s/state.tmp", dir);
  char *victim = xasprintf ("%s/victim", dir);
  FILE *v = fopen (victim, "w");
  CHECK (v && fputs ("victim\n", v) >= 0 && fclose (v) == 0);
  CHECK (symlink (victim, tmp) == 0);
  CHECK (p2v_replace_file (path, 0600, fill_text, "one\n") == 0);
  check_file (path, "one\n");
  check_file (victim, "victim\n");
  struct stat st;
  CHECK (lstat (path, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0777) == 0600);
  CHECK (lstat (tmp, &st) == 0 && S_ISLNK (st.st_mode));
  CHECK (entries (dir) == 3);
  errno = 0;
  CHECK (p2v_replace_file (path, 0600, fill_fails, "two\n") == -1 && errno == ENOSPC);
  check_file (path, "one\n");
  CHECK (entries (dir) == 3);
  CHECK (p2v_replace_file (path, 0600, fill_text, "three\n") == 0);
  check_file (path, "three\n");
  CHECK (entries (dir) == 3);
  char *missing = xasprintf ("%s/no/such/dir", dir);
  CHECK (p2v_replace_file (missing, 0600, fill_text, "x") == -1 && errno == ENOENT);
  unlink (path);
  unlink (tmp);
  unlink (victim);
  rmdir (dir);
  free (missing);
  free (path);
  free (tmp);
  free (victim);
}

/* Whole reads and writes at an offset: a short file is errno 0 (never
 * ENODATA, which is also a disk's media error), and where it failed.
 */
static void
test_positional (void)
{
  char path[] = "/tmp/p2vtest-pio.XXXXXX";
  int fd = mkstemp (path);
  CHECK (fd >= 0);
  char buf[64];
  uint64_t at = 0;
  CHECK (p2v_pwrite_full (fd, "0123456789", 10, 5, &at) == 0);
  CHECK (p2v_pread_full (fd, buf, 10, 5, NULL) == 0 && memcmp (buf, "0123456789", 10) == 0);
  errno = EINVAL;
  CHECK (p2v_pread_full (fd, buf, 20, 5, &at) == -1 && errno == 0 && at == 15);
  CHECK (p2v_fsync (fd) == 0);
  close (fd);
  errno = 0;
  CHECK (p2v_pread_full (fd, buf, 1, 0, &at) == -1 && errno == EBADF && at == 0);
  unlink (path);
}

int
main (void)
{
  int one[] = { P2V_EXIT_REFUSED };
  CHECK (p2v_exit_for_disks (one, 1) == P2V_EXIT_REFUSED);
  int ok[] = { 0, 0, 0 };
  CHECK (p2v_exit_for_disks (ok, 3) == 0);
  int second[] = { 0, P2V_EXIT_MISMATCH };
  CHECK (p2v_exit_for_disks (second, 2) == 64 + 2);
  int first_third[] = { P2V_EXIT_IO, 0, P2V_EXIT_NET };
  CHECK (p2v_exit_for_disks (first_third, 3) == 64 + 1 + 4);
  /* Every disk, one reason (the receiver is not there): that reason. */
  int all_net[] = { P2V_EXIT_NET, P2V_EXIT_NET };
  CHECK (p2v_exit_for_disks (all_net, 2) == P2V_EXIT_NET);
  int all_diff[] = { P2V_EXIT_NET, P2V_EXIT_IO };
  CHECK (p2v_exit_for_disks (all_diff, 2) == 64 + 3);

  /* A timed wait on a monotonic condition variable ends after about
   * the time asked, measured on the same clock as p2v_now.
   */
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c;
  p2v_cond_init_monotonic (&c);
  double t0 = p2v_now ();
  struct timespec until = p2v_monotonic_in (0.25);
  pthread_mutex_lock (&m);
  int rc;
  while ((rc = pthread_cond_timedwait (&c, &m, &until)) == 0)
    ;
  pthread_mutex_unlock (&m);
  double waited = p2v_now () - t0;
  CHECK (rc == ETIMEDOUT);
  CHECK (waited >= 0.24 && waited < 2);
  /* Fractions carry into the seconds. */
  struct timespec a = p2v_monotonic_in (1.999999999), b = p2v_monotonic_in (0);
  CHECK (a.tv_nsec >= 0 && a.tv_nsec < 1000000000L);
  CHECK (a.tv_sec - b.tv_sec >= 1 && a.tv_sec - b.tv_sec <= 2);
  pthread_cond_destroy (&c);

  /* p2v_sleep: fractions of a second, and nothing for none. */
  t0 = p2v_now ();
  p2v_sleep (1.15);
  waited = p2v_now () - t0;
  CHECK (waited >= 1.14 && waited < 3);
  t0 = p2v_now ();
  p2v_sleep (-1);
  p2v_sleep (0);
  CHECK (p2v_now () - t0 < 0.05);

  replace_file_tests ();
  /* p2v_escape: a peer's text cannot drive the terminal. */
  char e[64];
  CHECK_STR (p2v_escape ("\x1b[2Jok\\\n\x9b", 9, e, sizeof e), "\\x1b[2Jok\\x5c\\x0a\\x9b");
  CHECK_STR (p2v_escape ("a\0b", 3, e, sizeof e), "a\\x00b");
  CHECK_STR (p2v_escape ("", 0, e, sizeof e), "");
  /* Cut to the room, and marked. */
  CHECK_STR (p2v_escape ("0123456789abcdef", 16, e, 12), "01234567...");
  CHECK_STR (p2v_escape ("\x01\x02\x03", 3, e, 12), "\\x01\\x02...");
  char big[P2V_ESCAPED_LEN (4)];
  CHECK_STR (p2v_escape ("\x01\x02\x03\x04", 4, big, sizeof big), "\\x01\\x02\\x03\\x04");
  test_positional ();
  return TEST_DONE ();
}
