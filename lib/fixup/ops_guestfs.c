/* Guest access through libguestfs, for disk images and block devices. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <guestfs.h>

#include "common/message.h"
#include "common/fileio.h"
#include "fixup/ops.h"
#include "fixup/devname.h"

struct gfs_guest {
  struct guest g;
  guestfs_h *h;
};

#define GG(g) ((struct gfs_guest *) (g))

/* Above this, guestfs_read_file may exceed the protocol's message size
 * (initrds are tens of MB): download through a host temporary file.
 */
#define SMALL_FILE (2 * 1024 * 1024)

static void
set_err (struct guest *g, const char *what)
{
  const char *e = guestfs_last_error (GG (g)->h);
  snprintf (g->errbuf, sizeof g->errbuf, "%s: %s", what, e ? e : "failed");
}

static int
read_local (const char *file, char **data, size_t *len)
{
  FILE *f = fopen (file, "rb");
  if (!f)
    return -1;
  struct sbuf b = { 0 };
  char buf[65536];
  size_t n;
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    sb_add (&b, buf, n);
  int err = ferror (f);
  fclose (f);
  if (err) { sb_free (&b); errno = EIO; return -1; }
  *len = b.len;
  *data = sb_steal (&b);
  return 0;
}

static int
gfs_read (struct guest *g, const char *path, char **data, size_t *len)
{
  guestfs_h *h = GG (g)->h;
  if (guestfs_is_file_opts (h, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) <= 0) {
    snprintf (g->errbuf, sizeof g->errbuf, "%s: no such file", path);
    errno = ENOENT;
    return -1;
  }
  int64_t size = guestfs_filesize (h, path);
  if (size < 0) { set_err (g, path); errno = EIO; return -1; }
  if (size <= SMALL_FILE) {
    size_t n;
    char *d = guestfs_read_file (h, path, &n);
    if (!d) { set_err (g, path); errno = EIO; return -1; }
    *data = xrealloc (d, n + 1);
    (*data)[n] = '\0';
    *len = n;
    return 0;
  }
  char tmpl[] = "/var/tmp/p2vfixup.XXXXXX";
  int fd = mkstemp (tmpl);
  if (fd == -1)
    return -1;
  close (fd);
  int r = -1;
  if (guestfs_download (h, path, tmpl) == -1) { set_err (g, path); errno = EIO; }
  else
    r = read_local (tmpl, data, len);
  unlink (tmpl);
  return r;
}

/* guestfs_write carries the data in one protocol message, which is
 * limited to a few MB: a boot loader goes through a local file.
 */
static int
gfs_upload (struct guest *g, const char *path, const char *data, size_t len)
{
  char tmpl[] = "/var/tmp/p2vfixup.XXXXXX";
  int fd = mkstemp (tmpl);
  if (fd == -1) {
    snprintf (g->errbuf, sizeof g->errbuf, "%s: local temporary file: %s",
              path, strerror (errno));
    return -1;
  }
  bool ok = p2v_write_full (fd, data, len) == 0;
  int e = errno;
  if (close (fd) == -1 && ok) {
    ok = false;
    e = errno;
  }
  int r = -1;
  if (!ok)
    snprintf (g->errbuf, sizeof g->errbuf, "%s: local temporary file: %s",
              path, strerror (e));
  else if (guestfs_upload (GG (g)->h, tmpl, path) == -1) {
    set_err (g, path);
    errno = EIO;
  }
  else
    r = 0;
  unlink (tmpl);
  return r;
}

static int
gfs_write (struct guest *g, const char *path, const char *data, size_t len)
{
  if (len > SMALL_FILE)
    return gfs_upload (g, path, data, len);
  if (guestfs_write (GG (g)->h, path, data, len) == -1) {
    set_err (g, path);
    errno = EIO;
    return -1;
  }
  return 0;
}

static int
gfs_remove (struct guest *g, const char *path)
{
  if (guestfs_rm_f (GG (g)->h, path) == -1) {
    set_err (g, path);
    return -1;
  }
  return 0;
}

static int
gfs_mkdir (struct guest *g, const char *path)
{
  if (guestfs_mkdir_mode (GG (g)->h, path, 0755) == -1) {
    set_err (g, path);
    return -1;
  }
  return 0;
}

static int
gfs_rmdir (struct guest *g, const char *path)
{
  if (guestfs_rmdir (GG (g)->h, path) == -1) {
    set_err (g, path);
    return -1;
  }
  return 0;
}

static bool
gfs_is_file (struct guest *g, const char *path)
{
  return guestfs_is_file_opts (GG (g)->h, path,
                               GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) > 0;
}

static bool
gfs_is_dir (struct guest *g, const char *path)
{
  return guestfs_is_dir_opts (GG (g)->h, path,
                              GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 1, -1) > 0;
}

static void
free_strings (char **s)
{
  if (!s)
    return;
  for (size_t i = 0; s[i]; i++)
    free (s[i]);
  free (s);
}

static int
gfs_list (struct guest *g, const char *dir, struct strlist *names)
{
  if (!gfs_is_dir (g, dir))
    return 0;
  char **l = guestfs_ls (GG (g)->h, dir);
  if (!l) { set_err (g, dir); return -1; }
  for (size_t i = 0; l[i]; i++)
    strlist_add (names, l[i]);
  free_strings (l);
  return 0;
}

static int
gfs_run (struct guest *g, char *const *argv, char **out)
{
  /* guestfs_command runs chrooted in the guest with /dev, /proc and
   * /sys bound; it only says "failed" for a non-zero exit, with the
   * command's stderr in the error message.
   */
  char *o = guestfs_command (GG (g)->h, (char **) argv);
  if (!o) {
    set_err (g, argv[0]);
    if (out)
      *out = xstrdup (g->errbuf);
    return 1;
  }
  if (out)
    *out = o;
  else
    free (o);
  return 0;
}

static const char *
gfs_error (struct guest *g)
{
  return g->errbuf;
}

static int
gfs_close (struct guest *g)
{
  guestfs_h *h = GG (g)->h;
  int r = 0;
  /* Unmount and shut the appliance down cleanly: only then are the
   * writes known to be on the disk.
   */
  if (guestfs_umount_all (h) == -1 || guestfs_shutdown (h) == -1) {
    set_err (g, "shutting down the appliance");
    p2v_error ("%s", g->errbuf);
    r = -1;
  }
  guestfs_close (h);
  free (g);
  return r;
}

static char *
gfs_resolve (struct guest *g, const char *path)
{
  char *r = guestfs_realpath (GG (g)->h, path);
  if (!r)
    set_err (g, path);
  return r;
}

static const struct guest_ops gfs_ops = {
  .read = gfs_read, .write = gfs_write, .remove = gfs_remove, .mkdir = gfs_mkdir,
  .rmdir = gfs_rmdir, .is_file = gfs_is_file,
  .is_dir = gfs_is_dir, .list = gfs_list, .run = gfs_run,
  .resolve = gfs_resolve, .error = gfs_error, .close = gfs_close,
};

static int
cmp_mp (const void *a, const void *b)
{
  /* Mount parents first: "/" before "/boot" before "/boot/efi". */
  const char *x = ((char *const *) a)[0], *y = ((char *const *) b)[0];
  size_t lx = strlen (x), ly = strlen (y);
  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x, y);
}

struct guest *
guest_open_images (char *const *images, size_t n, bool readonly,
                   const char *root_device, int verbose, char **err,
                   bool *unrecognised)
{
  guestfs_h *h = guestfs_create ();
  char **roots = NULL, **mps = NULL;
  if (!h) {
    *err = xstrdup ("cannot create the libguestfs handle");
    return NULL;
  }
  guestfs_set_error_handler (h, NULL, NULL);
  if (verbose > 1) {
    guestfs_set_verbose (h, 1);
    guestfs_set_trace (h, 1);
  }
  /* initrd tools compress tens of MB inside the appliance. */
  guestfs_set_memsize (h, 1024);
  for (size_t i = 0; i < n; i++)
    if (guestfs_add_drive_opts (h, images[i],
                                GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                GUESTFS_ADD_DRIVE_OPTS_READONLY, readonly ? 1 : 0,
                                -1) == -1) {
      *err = xasprintf ("%s: %s", images[i], guestfs_last_error (h));
      goto bad;
    }
  if (verbose)
    p2v_info ("starting the libguestfs appliance");
  if (guestfs_launch (h) == -1) {
    *err = xasprintf ("libguestfs launch: %s", guestfs_last_error (h));
    goto bad;
  }
  roots = guestfs_inspect_os (h);
  if (!roots) {
    *err = xasprintf ("inspection: %s", guestfs_last_error (h));
    goto bad;
  }
  const char *root = NULL;
  size_t nlinux = 0;
  for (size_t i = 0; roots[i]; i++) {
    char *type = guestfs_inspect_get_type (h, roots[i]);
    bool is_linux = type && strcmp (type, "linux") == 0;
    free (type);
    if (!is_linux)
      continue;
    nlinux++;
    if (!root_device || strcmp (root_device, roots[i]) == 0)
      if (!root || root_device)
        root = roots[i];
  }
  if (nlinux == 0) {
    *err = xstrdup ("no Linux root filesystem found in the image(s)");
    *unrecognised = true;
    goto bad;
  }
  if (root_device && !root) {
    *err = xasprintf ("--root-device %s is not a Linux root found by inspection",
                      root_device);
    *unrecognised = true;
    goto bad;
  }
  if (nlinux > 1 && !root_device) {
    struct sbuf b = { 0 };
    for (size_t i = 0; roots[i]; i++)
      sb_printf (&b, " %s", roots[i]);
    *err = xasprintf ("several operating systems found (%s ); choose one with --root-device",
                      b.s);
    sb_free (&b);
    *unrecognised = true;
    goto bad;
  }
  mps = guestfs_inspect_get_mountpoints (h, root);
  if (!mps) {
    *err = xasprintf ("inspection: %s", guestfs_last_error (h));
    goto bad;
  }
  size_t nmp = 0;
  while (mps[nmp * 2])
    nmp++;
  qsort (mps, nmp, 2 * sizeof *mps, cmp_mp);
  /* Inspection passes fstab names it cannot resolve (/dev/cciss/c0d0p1,
   * by-id names of the old disks) through unchanged.  The "/" entry
   * pairs its old disk with the disk inspection found the root on, and
   * with a single image every old disk can only be that one.
   */
  struct devmap amap = { 0 };
  struct devname rootdn, d;
  bool root_parsed = devname_parse (root, strlen (root), &rootdn);
  for (size_t i = 0; i < nmp && root_parsed; i++)
    if (strcmp (mps[2 * i], "/") == 0
        && devname_parse (mps[2 * i + 1], strlen (mps[2 * i + 1]), &d))
      devmap_add (&amap, d.disk, rootdn.disk);
  for (size_t i = 0; i < nmp && n == 1; i++)
    if (devname_parse (mps[2 * i + 1], strlen (mps[2 * i + 1]), &d))
      devmap_add (&amap, d.disk, "sda");
  for (size_t i = 0; i < nmp; i++) {
    char *dev = xstrdup (strcmp (mps[2 * i], "/") == 0 ? root : mps[2 * i + 1]);
    if (guestfs_is_blockdev (h, dev) <= 0
        && devname_parse (dev, strlen (dev), &d)) {
      char *m = devmap_lookup (&amap, &d);
      if (m) { free (dev); dev = m; }
    }
    int r = readonly ? guestfs_mount_ro (h, dev, mps[2 * i])
      : guestfs_mount (h, dev, mps[2 * i]);
    free (dev);
    if (r == -1) {
      /* Swap or a damaged /home must not stop the conversion of / and /boot. */
      if (strcmp (mps[2 * i], "/") == 0) {
        *err = xasprintf ("mounting the root %s: %s", root,
                          guestfs_last_error (h));
        devmap_free (&amap);
        goto bad;
      }
      p2v_warning ("cannot mount %s on %s: %s",
                   mps[2 * i + 1], mps[2 * i], guestfs_last_error (h));
    }
  }
  devmap_free (&amap);
  free_strings (mps);
  free_strings (roots);
  struct gfs_guest *gg = xcalloc (1, sizeof *gg);
  gg->g.ops = &gfs_ops;
  gg->h = h;
  return &gg->g;
 bad:
  free_strings (mps);
  free_strings (roots);
  guestfs_close (h);
  return NULL;
}
