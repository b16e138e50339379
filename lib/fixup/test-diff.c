/* The unified diff --dry-run prints. */
#include <config.h>

#include "fixup/diff.h"
#include "common/test.h"

int
main (void)
{
  char *d = unified_diff ("/etc/fstab", "a\nb\nc\n", "a\nb\nc\n");
  CHECK_STR (d, "");
  free (d);

  d = unified_diff ("/etc/fstab",
                    "1\n2\n3\n4\n/dev/sda1 / ext4\n6\n7\n8\n9\n",
                    "1\n2\n3\n4\n/dev/vda1 / ext4\n6\n7\n8\n9\n");
  CHECK_STR (d, "--- a/etc/fstab\n+++ b/etc/fstab\n@@ -2,7 +2,7 @@\n"
             " 2\n 3\n 4\n-/dev/sda1 / ext4\n+/dev/vda1 / ext4\n 6\n 7\n 8\n");
  free (d);

  /* A removed line and a far-away change make two hunks. */
  d = unified_diff ("/x", "a\nHWADDR=1\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nold\n",
                    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nnew\n");
  CHECK_STR (d, "--- a/x\n+++ b/x\n@@ -1,5 +1,4 @@\n a\n-HWADDR=1\n b\n c\n d\n"
             "@@ -11,4 +10,4 @@\n j\n k\n l\n-old\n+new\n");
  free (d);

  /* New file, and a file without a final newline. */
  d = unified_diff ("/etc/udev/rules.d/70-p2v.rules", NULL, "x\n");
  CHECK_STR (d, "--- /dev/null\n+++ b/etc/udev/rules.d/70-p2v.rules\n@@ -0,0 +1,1 @@\n+x\n");
  free (d);
  d = unified_diff ("/f", "a", "b");
  CHECK_STR (d, "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n");
  free (d);
  return TEST_DONE ();
}
