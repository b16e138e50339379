/* How the rules reach the guest's files: a table of operations with two
 * implementations, a directory (--root, the LiveCD workflow) and a
 * libguestfs handle (disk images).  All paths are absolute guest paths.
 */
#ifndef P2VFIXUP_OPS_H
#define P2VFIXUP_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "fixup/text.h"

struct guest;

struct guest_ops {
  /* Returns 0, or -1 with errno (ENOENT for a missing file); the
   * contents are NUL-terminated.
   */
  int (*read) (struct guest *g, const char *path, char **data, size_t *len);
  /* Replace PATH (keeping its mode and owner) or create it 0644. */
  int (*write) (struct guest *g, const char *path, const char *data, size_t len);
  /* Remove a file (used to undo a file this run created). */
  int (*remove) (struct guest *g, const char *path);
  /* Create one directory 0755 (a rule writing into a directory the
   * guest lacks); remove an empty one (undoing that).
   */
  int (*mkdir) (struct guest *g, const char *path);
  int (*rmdir) (struct guest *g, const char *path);
  bool (*is_file) (struct guest *g, const char *path);
  bool (*is_dir) (struct guest *g, const char *path);
  /* Names in DIR (no "." or ".."), sorted.  Missing DIR → empty. */
  int (*list) (struct guest *g, const char *dir, struct strlist *names);
  /* Run ARGV inside the guest (chroot).  Output goes to *OUT if not
   * NULL.  Returns the exit status, or -1 if it could not run.
   */
  int (*run) (struct guest *g, char *const *argv, char **out);
  /* PATH with symlinks followed inside the guest, so that two names of
   * one file (RHEL's /boot/grub2/grubenv links to the ESP's) are
   * rewritten once.  NULL if it cannot be resolved.
   */
  char *(*resolve) (struct guest *g, const char *path);
  const char *(*error) (struct guest *g);
  /* Returns -1 if the changes could not be flushed to the guest. */
  int (*close) (struct guest *g);
};

struct guest {
  const struct guest_ops *ops;
  char errbuf[512];
};

/* --root DIR. */
struct guest *guest_open_root (const char *dir, char **err);

/* PATH opened from ROOTFD as openat2 RESOLVE_IN_ROOT would (symlinks
 * followed but never above ROOTFD), for kernels without openat2.
 */
int root_walk (int rootfd, const char *path, int flags, mode_t mode, bool no_symlinks);

/* Disk images through libguestfs: inspect, pick the one Linux root (or
 * ROOT_DEVICE), mount its filesystems as its fstab says.
 */
struct guest *guest_open_images (char *const *images, size_t n, bool readonly,
                                 const char *root_device, int verbose,
                                 char **err, bool *unrecognised);

#endif
