/* Guest access for a guest already mounted at a directory. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/mount.h>

#include "fixup/ops.h"

struct root_guest {
  struct guest g;
  char *dir;
};

#define RG(g) ((struct root_guest *) (g))

static char *
host_path (struct guest *g, const char *path)
{
  return xasprintf ("%s%s", RG (g)->dir, path);
}

/* Refuse paths that a symlink inside the guest could lead outside
 * DIR: a guest's absolute symlink means something else on the host.
 */
static int
check_inside (struct guest *g, const char *hp)
{
  char *real = realpath (hp, NULL);
  if (!real) return errno == ENOENT ? 0 : -1;
  size_t n = strlen (RG (g)->dir);
  int ok = strncmp (real, RG (g)->dir, n) == 0 && (real[n] == '/' || real[n] == 0);
  free (real);
  if (!ok) {
    snprintf (g->errbuf, sizeof g->errbuf, "%s leads outside the guest", hp);
    errno = EXDEV;
    return -1;
  }
  return 0;
}

static int
root_read (struct guest *g, const char *path, char **data, size_t *len)
{
  char *hp = host_path (g, path);
  struct sbuf b = { 0 };
  int fd = -1, r = -1;
  if (check_inside (g, hp) == -1) goto out;
  fd = open (hp, O_RDONLY | O_CLOEXEC);
  if (fd == -1) goto out;
  for (;;) {
    char buf[65536];
    ssize_t n = read (fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; goto out; }
    if (n == 0) break;
    sb_add (&b, buf, (size_t) n);
  }
  *len = b.len;
  *data = sb_steal (&b);
  r = 0;
 out:
  if (r == -1)
    snprintf (g->errbuf, sizeof g->errbuf, "%s: %s", path, strerror (errno));
  if (fd >= 0) close (fd);
  sb_free (&b);
  free (hp);
  return r;
}

static int
root_write (struct guest *g, const char *path, const char *data, size_t len)
{
  char *hp = host_path (g, path);
  struct stat st;
  /* grub.conf is reached through menu.lst and /etc/grub.conf symlinks:
   * replace the file they point to, not the link.
   */
  if (lstat (hp, &st) == 0 && S_ISLNK (st.st_mode)) {
    char *real = realpath (hp, NULL);
    if (real) { free (hp); hp = real; }
  }
  char *tmp = xasprintf ("%s.p2vtmp", hp);
  bool exists = stat (hp, &st) == 0;
  int r = -1, fd = -1;
  if (check_inside (g, hp) == -1) goto out;
  /* Write beside and rename, so a crash leaves the old or the new file,
   * never half of one.
   */
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, exists ? st.st_mode & 07777 : 0644);
  if (fd == -1) goto out;
  if (exists && (fchown (fd, st.st_uid, st.st_gid) == -1
                 || fchmod (fd, st.st_mode & 07777) == -1))
    goto out;
  for (size_t done = 0; done < len; ) {
    ssize_t n = write (fd, data + done, len - done);
    if (n < 0) { if (errno == EINTR) continue; goto out; }
    done += (size_t) n;
  }
  if (fsync (fd) == -1 || close (fd) == -1) { fd = -1; goto out; }
  fd = -1;
  if (rename (tmp, hp) == -1) goto out;
  r = 0;
 out:
  if (r == -1) {
    snprintf (g->errbuf, sizeof g->errbuf, "%s: %s", path, strerror (errno));
    unlink (tmp);
  }
  if (fd >= 0) close (fd);
  free (tmp);
  free (hp);
  return r;
}

static int
root_remove (struct guest *g, const char *path)
{
  char *hp = host_path (g, path);
  int r = check_inside (g, hp) == 0 ? unlink (hp) : -1;
  if (r == -1)
    snprintf (g->errbuf, sizeof g->errbuf, "%s: %s", path, strerror (errno));
  free (hp);
  return r;
}

static bool
root_is (struct guest *g, const char *path, mode_t type)
{
  char *hp = host_path (g, path);
  struct stat st;
  bool r = check_inside (g, hp) == 0 && stat (hp, &st) == 0
    && (st.st_mode & S_IFMT) == type;
  free (hp);
  return r;
}

static bool
root_is_file (struct guest *g, const char *path)
{
  return root_is (g, path, S_IFREG);
}

static bool
root_is_dir (struct guest *g, const char *path)
{
  return root_is (g, path, S_IFDIR);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
root_list (struct guest *g, const char *dir, struct strlist *names)
{
  char *hp = host_path (g, dir);
  DIR *d = check_inside (g, hp) == 0 ? opendir (hp) : NULL;
  free (hp);
  if (!d) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      strlist_add (names, e->d_name);
  closedir (d);
  if (names->n) qsort (names->v, names->n, sizeof *names->v, cmp_str);
  return 0;
}

/* The guest's tools need /proc, /sys and /dev; bind them for the
 * command and undo it afterwards so the LiveCD can unmount DIR.
 */
static const char *const binds[] = { "/proc", "/sys", "/dev", NULL };

static int
root_run (struct guest *g, char *const *argv, char **out)
{
  const char *dir = RG (g)->dir;
  bool mounted[3] = { false, false, false };
  int pfd[2] = { -1, -1 };
  int status = -1;

  for (size_t i = 0; binds[i]; i++) {
    char *t = xasprintf ("%s%s", dir, binds[i]);
    struct stat st;
    if (stat (t, &st) == 0 && S_ISDIR (st.st_mode)) {
      if (mount (binds[i], t, NULL, MS_BIND | MS_REC, NULL) == 0)
        mounted[i] = true;
      else {
        snprintf (g->errbuf, sizeof g->errbuf, "mount --bind %s %s: %s",
                  binds[i], t, strerror (errno));
        free (t);
        goto out;
      }
    }
    free (t);
  }
  if (pipe2 (pfd, O_CLOEXEC) == -1) goto out;
  pid_t pid = fork ();
  if (pid == -1) goto out;
  if (pid == 0) {
    dup2 (pfd[1], 1);
    dup2 (pfd[1], 2);
    if (chroot (dir) == -1 || chdir ("/") == -1) _exit (126);
    setenv ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    execv (argv[0], argv);
    _exit (127);
  }
  close (pfd[1]);
  pfd[1] = -1;
  struct sbuf b = { 0 };
  for (;;) {
    char buf[4096];
    ssize_t n = read (pfd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sb_add (&b, buf, (size_t) n);
  }
  int ws;
  while (waitpid (pid, &ws, 0) == -1 && errno == EINTR)
    ;
  status = WIFEXITED (ws) ? WEXITSTATUS (ws) : 128 + WTERMSIG (ws);
  if (out) *out = sb_steal (&b);
  else sb_free (&b);
 out:
  if (pfd[0] >= 0) close (pfd[0]);
  if (pfd[1] >= 0) close (pfd[1]);
  for (size_t i = 3; i-- > 0; )
    if (mounted[i]) {
      char *t = xasprintf ("%s%s", dir, binds[i]);
      if (umount2 (t, MNT_DETACH) == -1)
        fprintf (stderr, "p2vfixup: warning: umount %s: %s\n", t, strerror (errno));
      free (t);
    }
  return status;
}

static const char *
root_error (struct guest *g)
{
  return g->errbuf;
}

static int
root_close (struct guest *g)
{
  free (RG (g)->dir);
  free (g);
  return 0;
}

static const struct guest_ops root_ops = {
  .read = root_read, .write = root_write, .remove = root_remove, .is_file = root_is_file,
  .is_dir = root_is_dir, .list = root_list, .run = root_run,
  .error = root_error, .close = root_close,
};

struct guest *
guest_open_root (const char *dir, char **err)
{
  char *real = realpath (dir, NULL);
  struct stat st;
  if (!real || stat (real, &st) == -1 || !S_ISDIR (st.st_mode)) {
    *err = xasprintf ("--root %s: %s", dir, real ? "not a directory" : strerror (errno));
    free (real);
    return NULL;
  }
  struct root_guest *rg = xcalloc (1, sizeof *rg);
  rg->g.ops = &root_ops;
  /* "/" itself would make every path start with "//". */
  if (strcmp (real, "/") == 0) real[0] = '\0';
  rg->dir = real;
  return &rg->g;
}
