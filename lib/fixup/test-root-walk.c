/* root_walk, the lookup used where openat2 is missing, must resolve
 * guest paths exactly as RESOLVE_IN_ROOT does: links followed inside
 * the root, absolute ones and ".." never above it.
 */
#include <config.h>

#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "fixup/ops.h"
#include "common/test.h"

static char top[] = "/tmp/test-root-walk.XXXXXX";
static int rootfd;

static void
mk (const char *rel, const char *link)
{
  char *p = xasprintf ("%s/%s", top, rel);
  if (link)
    CHECK (symlink (link, p) == 0);
  else
    CHECK (mkdir (p, 0755) == 0);
  free (p);
}

static void
file (const char *rel)
{
  char *p = xasprintf ("%s/%s", top, rel);
  int fd = open (p, O_WRONLY | O_CREAT | O_EXCL, 0644);
  CHECK (fd >= 0);
  if (fd >= 0)
    close (fd);
  free (p);
}

/* Same inode (or same errno) from both lookups. */
static void
same (const char *path, bool no_symlinks)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0) };
  errno = 0;
  long a = syscall (SYS_openat2, rootfd, path, &how, sizeof how);
  int ea = errno;
  if (a == -1 && ea == ENOSYS)
    return;
  errno = 0;
  int b = root_walk (rootfd, path, O_PATH, 0, no_symlinks);
  int eb = errno;
  struct stat sa, sb;
  if (a >= 0 && b >= 0) {
    CHECK (fstat ((int) a, &sa) == 0 && fstat (b, &sb) == 0);
    if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
      fprintf (stderr, "%s: different files\n", path), test_failures++;
  }
  else if ((a >= 0) != (b >= 0) || ea != eb)
    fprintf (stderr, "%s: openat2 %ld (%d), walk %d (%d)\n", path, a, ea, b, eb), test_failures++;
  if (a >= 0)
    close ((int) a);
  if (b >= 0)
    close (b);
}

int
main (void)
{
  if (!mkdtemp (top))
    return 99;
  char *guest = xasprintf ("%s/g", top), *outside = xasprintf ("%s/host", top);
  mk ("g", NULL);
  mk ("host", NULL);
  file ("host/victim");
  file ("g/victim");
  mk ("g/etc", NULL);
  mk ("g/usr", NULL);
  mk ("g/usr/lib", NULL);
  file ("g/usr/lib/libc");
  file ("g/etc/real");
  mk ("g/lib", "usr/lib");
  mk ("g/etc/abs", "/etc/real");
  mk ("g/etc/up", "../../../../victim");
  mk ("g/etc/host", outside);
  mk ("g/etc/loop", "loop");
  mk ("g/etc/dir", "/usr");
  rootfd = open (guest, O_PATH | O_DIRECTORY);
  CHECK (rootfd >= 0);
  const char *paths[] = { "etc/real", "etc/abs", "etc/up", "etc/host", "etc/loop",
    "lib/libc", "etc/dir/lib/libc", "../../victim", "etc/../../victim", ".",
    "etc/missing", "etc/real/x", "etc/dir/", NULL };
  for (size_t i = 0; paths[i]; i++) {
    same (paths[i], false);
    same (paths[i], true);
  }
  /* "etc/up" is the guest's /victim, never the host's. */
  int fd = root_walk (rootfd, "etc/up", O_RDONLY, 0, false);
  struct stat a, b;
  char *gv = xasprintf ("%s/victim", guest);
  CHECK (fd >= 0 && fstat (fd, &a) == 0 && stat (gv, &b) == 0 && a.st_ino == b.st_ino);
  if (fd >= 0)
    close (fd);
  close (rootfd);
  char *cmd = xasprintf ("rm -rf %s", top);
  if (system (cmd) != 0)
    test_failures++;
  free (cmd); free (gv); free (guest); free (outside);

  /* Two names of one file compare equal once normalised. */
  static const char *const norm[][2] = {
    { "/boot/grub2/../efi/EFI/redhat/grubenv", "/boot/efi/EFI/redhat/grubenv" },
    { "//etc/./grub2-efi.cfg", "/etc/grub2-efi.cfg" },
    { "/../../etc", "/etc" }, { "/", "/" }, { "/a/..", "/" },
  };
  for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
    char *n = path_normalize (norm[i][0]);
    CHECK_STR (n, norm[i][1]);
    free (n);
  }
  return TEST_DONE ();
}
