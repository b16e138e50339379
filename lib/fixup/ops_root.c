/* Guest access for a guest already mounted at a directory.
 *
 * The tree belongs to the guest and may be hostile: every path is
 * resolved from a directory fd of the root with RESOLVE_IN_ROOT, so a
 * guest symlink (absolute or with "..") means what it means inside the
 * guest and can never lead onto the host.  Nothing here builds a host
 * path string from a guest path.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "common/message.h"
#include "fixup/ops.h"

struct root_guest {
  struct guest g;
  char *dir;                    /* for messages only */
  int rootfd;                   /* O_PATH, the root of every lookup */
};

#define RG(g) ((struct root_guest *) (g))

/* Guest files are read whole; an initrd is the largest expected. */
#define READ_MAX (1024UL * 1024 * 1024)
/* Symlinks followed in one lookup, as the kernel allows. */
#define MAX_HOPS 40

static bool no_openat2;

int
root_walk (int rootfd, const char *path, int flags, mode_t mode, bool no_symlinks)
{
  int stack[256];
  size_t depth = 0;             /* 0: at the root, which is not ours */
  int hops = 0, fd = -1, r = -1;
  struct sbuf rem = { 0 };
  sb_adds (&rem, path);
  char *rest = sb_steal (&rem);

#define TOP (depth ? stack[depth - 1] : rootfd)
  for (;;) {
    char *p = rest;
    while (*p == '/')
      p++;
    if (!*p) {                  /* ends at a directory */
      r = openat (TOP, ".", flags | O_CLOEXEC, mode);
      break;
    }
    char *end = strchr (p, '/');
    size_t n = end ? (size_t) (end - p) : strlen (p);
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) { errno = ENAMETOOLONG; break; }
    memcpy (comp, p, n);
    comp[n] = 0;
    const char *after = p + n;
    while (*after == '/')
      after++;
    bool last = !*after;
    memmove (rest, after, strlen (after) + 1);
    if (strcmp (comp, ".") == 0) {
      if (last) { r = openat (TOP, ".", flags | O_CLOEXEC, mode); break; }
      continue;
    }
    if (strcmp (comp, "..") == 0) {
      /* The root is its own parent, as for chroot. */
      if (depth)
        close (stack[--depth]);
      if (last) { r = openat (TOP, ".", flags | O_CLOEXEC, mode); break; }
      continue;
    }
    fd = openat (TOP, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1) {
      if (last && errno == ENOENT && (flags & O_CREAT))
        r = openat (TOP, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      break;
    }
    struct stat st;
    if (fstat (fd, &st) == -1)
      break;
    if (S_ISLNK (st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
      if (no_symlinks || ++hops > MAX_HOPS) { errno = ELOOP; break; }
      char target[PATH_MAX];
      ssize_t tn = readlinkat (fd, "", target, sizeof target - 1);
      if (tn <= 0) { if (tn == 0) errno = ENOENT; break; }
      target[tn] = 0;
      close (fd);
      fd = -1;
      if (target[0] == '/')
        while (depth)
          close (stack[--depth]);
      char *next = xasprintf ("%s/%s", target, rest);
      free (rest);
      rest = next;
      continue;
    }
    if (last) {
      close (fd);
      fd = -1;
      /* O_NOFOLLOW: should the name have become a symlink meanwhile,
       * it is not followed.
       */
      r = openat (TOP, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      break;
    }
    if (!S_ISDIR (st.st_mode)) { errno = ENOTDIR; break; }
    if (depth == sizeof stack / sizeof *stack) { errno = ENAMETOOLONG; break; }
    stack[depth++] = fd;
    fd = -1;
  }
#undef TOP
  int e = errno;
  if (fd >= 0)
    close (fd);
  while (depth)
    close (stack[--depth]);
  free (rest);
  errno = e;
  return r;
}

/* Open guest PATH inside the root.  NO_SYMLINKS refuses any symlink on
 * the way (for mount points, which must be real directories).
 */
static int
open_in (struct guest *g, const char *path, int flags, mode_t mode, bool no_symlinks)
{
  const char *rel = path;
  while (*rel == '/')
    rel++;
  if (!*rel)
    rel = ".";
  if (!no_openat2) {
    struct open_how how = {
      .flags = (unsigned) (flags | O_CLOEXEC),
      .mode = (flags & O_CREAT) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
        | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
    };
    for (int tries = 0; tries < 8; tries++) {
      long fd = syscall (SYS_openat2, RG (g)->rootfd, rel, &how, sizeof how);
      if (fd >= 0)
        return (int) fd;
      /* EAGAIN: a rename elsewhere in the tree raced the lookup. */
      if (errno != EAGAIN)
        break;
    }
    if (errno != ENOSYS)
      return -1;
    no_openat2 = true;
  }
  return root_walk (RG (g)->rootfd, rel, flags, mode, no_symlinks);
}

static void
set_err (struct guest *g, const char *path, const char *what)
{
  snprintf (g->errbuf, sizeof g->errbuf, "%s: %s", path, what ? what : strerror (errno));
}

static const char *
type_name (mode_t m)
{
  switch (m & S_IFMT) {
  case S_IFDIR: return "a directory";
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFSOCK: return "a socket";
  case S_IFLNK: return "a symlink";
  default: return "not a regular file";
  }
}

static int
root_read (struct guest *g, const char *path, char **data, size_t *len)
{
  struct sbuf b = { 0 };
  struct stat st;
  const char *why = NULL;
  int r = -1;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  int fd = open_in (g, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, false);
  if (fd == -1 || fstat (fd, &st) == -1)
    goto out;
  if (!S_ISREG (st.st_mode)) {
    char *m = xasprintf ("is %s, not a regular file", type_name (st.st_mode));
    set_err (g, path, m);
    free (m);
    errno = EINVAL;
    close (fd);
    return -1;
  }
  for (;;) {
    char buf[65536];
    ssize_t n = read (fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; goto out; }
    if (n == 0)
      break;
    if (b.len + (size_t) n > READ_MAX) {
      why = "larger than 1 GiB";
      errno = EFBIG;
      goto out;
    }
    sb_add (&b, buf, (size_t) n);
  }
  *len = b.len;
  *data = sb_steal (&b);
  r = 0;
 out:
  if (r == -1)
    set_err (g, path, why);
  if (fd >= 0)
    close (fd);
  sb_free (&b);
  return r;
}

/* PATH with its last component's symlinks followed, inside the guest:
 * grub.conf is reached through menu.lst and /etc/grub.conf, and the
 * file they point to is replaced, not the link.
 */
static char *
final_target (struct guest *g, const char *path)
{
  char *p = xstrdup (path);
  for (int hops = 0; hops <= MAX_HOPS; hops++) {
    int fd = open_in (g, p, O_PATH | O_NOFOLLOW, 0, false);
    if (fd == -1) {
      if (errno == ENOENT)
        return p;
      free (p);
      return NULL;
    }
    struct stat st;
    char target[PATH_MAX];
    ssize_t n = -1;
    if (fstat (fd, &st) == 0 && !S_ISLNK (st.st_mode)) { close (fd); return p; }
    if (S_ISLNK (st.st_mode))
      n = readlinkat (fd, "", target, sizeof target - 1);
    close (fd);
    if (n <= 0) { if (n == 0) errno = ENOENT; free (p); return NULL; }
    target[n] = 0;
    char *next;
    if (target[0] == '/')
      next = xstrdup (target);
    else {
      char *slash = strrchr (p, '/');
      next = xasprintf ("%.*s/%s", slash ? (int) (slash - p) : 0, p, target);
    }
    free (p);
    p = next;
  }
  free (p);
  errno = ELOOP;
  return NULL;
}

/* Split guest PATH into an O_PATH fd of its directory (resolved inside
 * the root) and its last name.  Returns the fd or -1.
 */
static int
open_parent (struct guest *g, const char *path, const char **base)
{
  const char *slash = strrchr (path, '/');
  const char *b = slash ? slash + 1 : path;
  if (!*b || strcmp (b, ".") == 0 || strcmp (b, "..") == 0) {
    errno = EISDIR;
    return -1;
  }
  char *dir = slash ? xstrndup (path, (size_t) (slash - path)) : xstrdup ("/");
  int dfd = open_in (g, *dir ? dir : "/", O_PATH | O_DIRECTORY, 0, false);
  free (dir);
  *base = b;
  return dfd;
}

static int
root_write (struct guest *g, const char *path, const char *data, size_t len)
{
  struct stat st;
  const char *base, *why = NULL;
  char *tmp = NULL;
  int r = -1, fd = -1, dfd = -1;
  char *real = final_target (g, path);
  if (!real)
    goto out;
  dfd = open_parent (g, real, &base);
  if (dfd == -1)
    goto out;
  bool exists = fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!exists && errno != ENOENT)
    goto out;
  if (exists && !S_ISREG (st.st_mode)) {
    char *m = xasprintf ("is %s, not a regular file", type_name (st.st_mode));
    set_err (g, path, m);
    free (m);
    errno = EINVAL;
    close (dfd);
    free (real);
    return -1;
  }
  /* Write beside and rename, so a crash leaves the old or the new file,
   * never half of one.  O_EXCL|O_NOFOLLOW: whatever the guest left at
   * the temporary name (a symlink to a host file, say) is never opened;
   * another name is tried instead.
   */
  tmp = xasprintf ("%s.p2vtmp", base);
  for (int tries = 0; ; tries++) {
    fd = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST || tries == 8)
      break;
    unsigned int rnd;
    if (getrandom (&rnd, sizeof rnd, 0) != sizeof rnd)
      goto out;
    free (tmp);
    tmp = xasprintf ("%s.p2vtmp.%08x", base, rnd);
  }
  if (fd == -1) { free (tmp); tmp = NULL; goto out; }
  if (exists ? (fchown (fd, st.st_uid, st.st_gid) == -1
                || fchmod (fd, st.st_mode & 07777) == -1)
      : fchmod (fd, 0644) == -1)
    goto out;
  for (size_t done = 0; done < len; ) {
    ssize_t n = write (fd, data + done, len - done);
    if (n < 0) { if (errno == EINTR) continue; goto out; }
    done += (size_t) n;
  }
  if (fsync (fd) == -1)
    goto out;
  int c = close (fd);
  fd = -1;
  if (c == -1)
    goto out;
  if (renameat (dfd, tmp, dfd, base) == -1)
    goto out;
  r = 0;
 out:
  if (r == -1) {
    int e = errno;
    set_err (g, path, why);
    if (tmp)
      unlinkat (dfd, tmp, 0);
    errno = e;
  }
  if (fd >= 0)
    close (fd);
  if (dfd >= 0)
    close (dfd);
  free (tmp);
  free (real);
  return r;
}

static int
unlink_in (struct guest *g, const char *path, int flags)
{
  const char *base;
  int dfd = open_parent (g, path, &base);
  int r = dfd == -1 ? -1 : unlinkat (dfd, base, flags);
  if (r == -1)
    set_err (g, path, NULL);
  if (dfd >= 0)
    close (dfd);
  return r;
}

/* The name itself goes, never what a symlink there points to. */
static int
root_remove (struct guest *g, const char *path)
{
  return unlink_in (g, path, 0);
}

static int
root_rmdir (struct guest *g, const char *path)
{
  return unlink_in (g, path, AT_REMOVEDIR);
}

static int
root_mkdir (struct guest *g, const char *path)
{
  const char *base;
  int dfd = open_parent (g, path, &base);
  int r = dfd == -1 ? -1 : mkdirat (dfd, base, 0755);
  if (r == -1)
    set_err (g, path, NULL);
  if (dfd >= 0)
    close (dfd);
  return r;
}

static bool
root_is (struct guest *g, const char *path, mode_t type)
{
  struct stat st;
  int fd = open_in (g, path, O_PATH, 0, false);
  bool r = fd >= 0 && fstat (fd, &st) == 0 && (st.st_mode & S_IFMT) == type;
  if (fd >= 0)
    close (fd);
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
  int fd = open_in (g, dir, O_RDONLY | O_DIRECTORY, 0, false);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close (fd);
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      strlist_add (names, e->d_name);
  closedir (d);
  if (names->n)
    qsort (names->v, names->n, sizeof *names->v, cmp_str);
  return 0;
}

/* The guest's tools need /proc, /sys and /dev. */
static const char *const binds[] = { "/proc", "/sys", "/dev", NULL };

/* In the child, before the guest's program: a private mount namespace,
 * so the binds vanish with the child whatever happens to p2vfixup, and
 * binds only onto real directories of the guest (a guest "dev -> /etc"
 * must not put the host's /dev over the host's /etc).  Returns NULL or
 * what went wrong.
 */
static char *
child_setup (struct guest *g)
{
  if (unshare (CLONE_NEWNS) == -1)
    return xasprintf ("unshare(CLONE_NEWNS): %s", strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
    return xasprintf ("making the mounts private: %s", strerror (errno));
  /* Mount points must be on this namespace's copy of the tree: look the
   * root up again (DIR is the admin's path, as at the start).
   */
  int nfd = open (RG (g)->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (nfd == -1)
    return xasprintf ("%s: %s", RG (g)->dir, strerror (errno));
  RG (g)->rootfd = nfd;
  for (size_t i = 0; binds[i]; i++) {
    int fd = open_in (g, binds[i], O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, true);
    if (fd == -1) {
      if (errno == ENOENT)
        continue;
      return xasprintf ("%s in the guest is %s; not mounting %s there", binds[i],
                        errno == ELOOP ? "a symlink" : errno == ENOTDIR ? "not a directory"
                        : strerror (errno), binds[i]);
    }
    /* The magic link names exactly the directory checked. */
    char at[64];
    snprintf (at, sizeof at, "/proc/self/fd/%d", fd);
    int m = mount (binds[i], at, NULL, MS_BIND | MS_REC, NULL);
    int e = errno;
    close (fd);
    if (m == -1)
      return xasprintf ("mount --bind %s on the guest's %s: %s", binds[i], binds[i],
                        strerror (e));
  }
  if (fchdir (RG (g)->rootfd) == -1 || chroot (".") == -1 || chdir ("/") == -1)
    return xasprintf ("chroot %s: %s", RG (g)->dir, strerror (errno));
  return NULL;
}

static int
root_run (struct guest *g, char *const *argv, char **out)
{
  int pfd[2] = { -1, -1 }, efd[2] = { -1, -1 };
  int status = -1;

  if (pipe2 (pfd, O_CLOEXEC) == -1 || pipe2 (efd, O_CLOEXEC) == -1) {
    set_err (g, argv[0], NULL);
    goto out;
  }
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid == -1) { set_err (g, argv[0], NULL); goto out; }
  if (pid == 0) {
    /* The guest's program does not outlive p2vfixup (kill -9 included). */
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
      _exit (126);
    char *e = child_setup (g);
    if (e) {
      ssize_t n = write (efd[1], e, strlen (e));
      (void) n;
      _exit (126);
    }
    dup2 (pfd[1], 1);
    dup2 (pfd[1], 2);
    setenv ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    execv (argv[0], argv);
    _exit (127);
  }
  close (pfd[1]);
  close (efd[1]);
  pfd[1] = efd[1] = -1;
  struct sbuf b = { 0 }, eb = { 0 };
  for (;;) {
    char buf[4096];
    ssize_t n = read (pfd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    /* Keep the tail only: a guest program may print without end. */
    if (b.len > (1u << 20))
      b.len = 0;
    sb_add (&b, buf, (size_t) n);
  }
  for (;;) {
    char buf[512];
    ssize_t n = read (efd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || eb.len > 4096)
      break;
    sb_add (&eb, buf, (size_t) n);
  }
  int ws;
  while (waitpid (pid, &ws, 0) == -1 && errno == EINTR)
    ;
  status = WIFEXITED (ws) ? WEXITSTATUS (ws) : 128 + WTERMSIG (ws);
  char *emsg = sb_steal (&eb);
  if (*emsg) {
    /* Said once, here: the caller only sees the status. */
    p2v_error ("cannot run %s in the guest: %s", argv[0], emsg);
    snprintf (g->errbuf, sizeof g->errbuf, "%s", emsg);
    status = 126;
  }
  free (emsg);
  if (out)
    *out = sb_steal (&b);
  else
    sb_free (&b);
 out:
  if (pfd[0] >= 0)
    close (pfd[0]);
  if (pfd[1] >= 0)
    close (pfd[1]);
  if (efd[0] >= 0)
    close (efd[0]);
  if (efd[1] >= 0)
    close (efd[1]);
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
  close (RG (g)->rootfd);
  free (RG (g)->dir);
  free (g);
  return 0;
}

static char *
root_resolve (struct guest *g, const char *path)
{
  char *t = final_target (g, path);
  if (!t)
    return NULL;
  char *n = path_normalize (t);
  free (t);
  return n;
}

static const struct guest_ops root_ops = {
  .read = root_read, .write = root_write, .remove = root_remove,
  .mkdir = root_mkdir, .rmdir = root_rmdir, .is_file = root_is_file,
  .is_dir = root_is_dir, .list = root_list, .run = root_run,
  .resolve = root_resolve, .error = root_error, .close = root_close,
};

struct guest *
guest_open_root (const char *dir, char **err)
{
  /* DIR itself is the admin's: following its symlinks is fine. */
  int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) {
    *err = xasprintf ("--root %s: %s", dir,
                      errno == ENOTDIR ? "not a directory" : strerror (errno));
    return NULL;
  }
  struct root_guest *rg = xcalloc (1, sizeof *rg);
  rg->g.ops = &root_ops;
  rg->dir = xstrdup (dir);
  rg->rootfd = fd;
  return &rg->g;
}
