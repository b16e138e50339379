/* The resume state survives a round trip, long fields included, and a
 * damaged one is refused rather than trusted.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/resume.h"
#include "common/test.h"
#include "common/util.h"

int
main (void)
{
  char dir[] = "/tmp/p2v-test-resume.XXXXXX";
  if (!mkdtemp (dir))
    return 1;
  char *path = p2v_state_path ("/dev/cciss/c0d0", false, dir);
  CHECK (strstr (path, "/dev_cciss_c0d0.p2v-state") != NULL);

  struct p2v_resume_state a = { .size = 73014444032ull, .chunk_size = 4 << 20,
                                .digest_id = 3, .durable = 268435456 };
  memcpy (a.key, "TEST-KEY0-0000-0000-0001", sizeof "TEST-KEY0-0000-0000-0001");
  a.fingerprint = xstrdup ("abc123");
  /* A long device path (by-path names of SAN disks run long). */
  char *longpath = xmalloc (3001);
  memset (longpath, 'p', 3000);
  longpath[3000] = '\0';
  a.source = xasprintf ("proliant:/dev/disk/by-path/%s", longpath);
  CHECK (p2v_state_save (path, &a) == 0);

  struct p2v_resume_state b;
  CHECK (p2v_state_load (path, &b) == 1);
  CHECK (b.size == a.size && b.chunk_size == a.chunk_size && b.digest_id == 3);
  CHECK (b.durable == a.durable);
  CHECK_STR (b.source, a.source);
  CHECK_STR (b.fingerprint, "abc123");
  p2v_state_free (&b);

  /* Durable beyond the size: inconsistent, refused. */
  a.durable = a.size + a.chunk_size;
  CHECK (p2v_state_save (path, &a) == 0);
  CHECK (p2v_state_load (path, &b) == -1);

  /* A truncated file (no final newline) is malformed. */
  FILE *f = fopen (path, "w");
  fputs ("version 1\nkey 7Q2F", f);
  fclose (f);
  CHECK (p2v_state_load (path, &b) == -1);

  /* A damaged file of one endless line is refused by its size, before
   * anything reads it into memory.
   */
  f = fopen (path, "w");
  fputs ("version 1\nsource ", f);
  for (int i = 0; i < 65536; i++)     /* 4 MiB */
    fputs ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", f);
  fputs ("\n", f);
  fclose (f);
  CHECK (p2v_state_load (path, &b) == -1);

  /* No file: nothing to resume. */
  unlink (path);
  CHECK (p2v_state_load (path, &b) == 0);

  p2v_state_free (&a);
  free (longpath);
  free (path);
  rmdir (dir);
  return TEST_DONE ();
}
