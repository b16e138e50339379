#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include "stream/progress.h"
#include "common/util.h"
#include "common/test.h"

int
main (void)
{
  char line[256];
  p2v_progress_format (line, sizeof line, 1288490189ull, 4294967296ull, 3.2,
                       432013312.0, 417426227.0);
  CHECK_STR (line, "1.2 GiB / 4.0 GiB   30%  412.0 MiB/s  avg 398.1 MiB/s  0:03  ETA 0:07");
  p2v_progress_format (line, sizeof line, 0, 0, 0, 0, 0);
  CHECK (strstr (line, "100%") != NULL);                /* empty source: done */
  p2v_progress_format (line, sizeof line, 10, 100, 1, 0, 0);
  CHECK (strstr (line, "ETA --:--") != NULL);           /* no rate yet */
  CHECK (p2v_progress_mode_from_name ("json") == P2V_PROGRESS_JSON);
  CHECK (p2v_progress_mode_from_name ("fancy") == -1);

  /* Two disks, one display: a line per disk and a total, the failed
   * disk named as such, and final lines once both ended.
   */
  FILE *f = tmpfile ();
  struct p2v_progress_group *g = p2v_progress_group_new (P2V_PROGRESS_PLAIN, 2, f);
  struct p2v_progress *a = p2v_progress_new_in (g, 0, "/dev/cciss/c0d0", 8 << 20);
  p2v_progress_update (a, 4 << 20);          /* first update draws */
  p2v_progress_finish (a, 8 << 20);
  struct p2v_progress *b = p2v_progress_new_in (g, 1, "/dev/cciss/c0d1", 8 << 20);
  p2v_progress_update (b, 2 << 20);
  p2v_progress_group_fail (g, 1);
  p2v_progress_free (a);
  p2v_progress_free (b);
  rewind (f);
  char buf[4096];
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose (f);
  CHECK (strstr (buf, "/dev/cciss/c0d0: 4.0 MiB / 8.0 MiB   50%") != NULL);
  CHECK (strstr (buf, "disk 2: waiting\n") != NULL);
  CHECK (strstr (buf, "/dev/cciss/c0d0: 8.0 MiB / 8.0 MiB  100%") != NULL);
  CHECK (strstr (buf, "/dev/cciss/c0d1: failed\n") != NULL);
  /* A disk not started yet has no size to count. */
  CHECK (strstr (buf, "total: 4.0 MiB / 8.0 MiB   50%") != NULL);
  /* The last total counts the failed disk as ended. */
  const char *last = strstr (buf, "total: 16.0 MiB / 16.0 MiB  100%");
  CHECK (last != NULL && strstr (last + 1, "total:") == NULL);
  p2v_progress_group_free (g);

  f = tmpfile ();
  g = p2v_progress_group_new (P2V_PROGRESS_JSON, 2, f);
  b = p2v_progress_new_in (g, 1, "vdb", 100);
  p2v_progress_finish (b, 100);
  p2v_progress_free (b);
  rewind (f);
  n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose (f);
  CHECK (strstr (buf, "{\"label\": \"vdb\", \"disk\": 1, \"bytes\": 100, \"total\": 100,") != NULL);
  CHECK (strstr (buf, "{\"label\": \"total\", \"bytes\": 100, \"total\": 100,") != NULL);
  p2v_progress_group_free (g);

  /* On a TTY, a message clears the display, is written, and the next
   * redraw comes below it: the display's lines and the message share
   * standard error.
   */
  f = tmpfile ();
  int saved = dup (STDERR_FILENO);
  dup2 (fileno (f), STDERR_FILENO);
  g = p2v_progress_group_new (P2V_PROGRESS_TTY, 1, f);
  a = p2v_progress_new_in (g, 0, "sda", 100);
  p2v_progress_update (a, 10);
  p2v_warning ("disk sda is mounted");
  p2v_progress_finish (a, 100);
  p2v_progress_free (a);
  p2v_progress_group_free (g);
  fflush (f);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  rewind (f);
  n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose (f);
  const char *clear = strstr (buf, "\033[2A\r\033[J");
  const char *msg = strstr (buf, "warning: disk sda is mounted\n");
  const char *redraw = msg ? strstr (msg, "sda: 100 B / 100 B  100%") : NULL;
  CHECK (clear && msg && clear < msg);
  CHECK (redraw != NULL);
  return TEST_DONE ();
}
