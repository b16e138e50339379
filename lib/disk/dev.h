/* Sources and targets: block devices, regular files and character
 * devices, each with its own small ops table for what differs between
 * them (how zeros are written, how the end is made durable).
 */
#ifndef P2V_DEV_H
#define P2V_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/freemap.h"

struct p2v_dev;

struct p2v_dev_ops {
  const char *kind;                  /* "block device", "file", ... */
  /* Make [off, off+n) read back as zeros. */
  int (*zero) (struct p2v_dev *d, uint64_t off, size_t n);
  /* Give the target its final size and make everything durable. */
  int (*finish) (struct p2v_dev *d);
};

struct p2v_dev {
  const struct p2v_dev_ops *ops;
  char *path;
  int fd;
  uint64_t size;        /* source: bytes to send; target: its capacity */
  bool reads_zero;      /* a new file: unwritten ranges already read as zeros */
  bool created;         /* we created this file */
  bool is_file;         /* a regular file (resume state lives beside it) */
  /* Target: a second descriptor of the same file opened O_DIRECT, for
   * writes whose buffer, offset and length are multiples of dio_align.
   */
  bool direct;
  int dfd;
  unsigned dio_align;
  uint64_t hole_from, hole_end; /* source file: [from, end) known to be a hole */
  /* Source: ranges its filesystems leave free (--skip-free), which read
   * as zeros; NULL: none.  Not owned.
   */
  const struct p2v_freemap *free;
};

/* Opens a source for reading.  Returns 0 or -1 (error printed). */
int p2v_source_open (const char *path, struct p2v_dev *d);

/* Is [off, off+n) of a source file a hole, which reads back as zeros
 * without being read?  From SEEK_DATA, remembered for the calls that
 * follow in order, so a 64 GiB sparse image costs a few lseeks, not a
 * 64 GiB read.  Also true when the range is all free (--skip-free).
 * Otherwise false for a block device (it has no holes the kernel knows
 * of) or where the filesystem cannot say.
 */
bool p2v_source_is_hole (struct p2v_dev *d, uint64_t off, size_t n);

/* A copy of a disk whose filesystems are mounted read-write is
 * inconsistent; of the running system's root, hopelessly so.  Warns
 * for the first, refuses the second unless force.  Returns 0, or the
 * exit status to stop with (printed).  Filesystems on LVM or md on top
 * of the disk are not seen.
 */
int p2v_source_in_use (struct p2v_dev *src, bool force);

/* Opens (or creates) a target for a source of need bytes.  Returns 0;
 * -1 for an I/O error (printed); or -2 when the target is unsuitable —
 * too small, mounted or in use — with the reason in why, which the
 * receiver both prints and sends to the sender.  Nothing is written
 * before the checks pass.  force skips the in-use check.  An existing
 * file longer than need is refused (cutting it would destroy what lies
 * past the end: most likely the admin named the wrong image) unless
 * force or may_shorten (a delta resyncs a file known to hold a copy).
 */
int p2v_target_open (const char *path, uint64_t need, bool force, bool may_shorten,
                     struct p2v_dev *d, char *why, size_t why_len);

/* Each of n paths names a different disk: the same device node under
 * two names (/dev/sdb and /dev/disk/by-id/...) or the same file through
 * a symlink counts as given twice.  0, or -1 with the error printed.
 */
int p2v_check_distinct (char *const *paths, unsigned n);

/* Whole reads and writes at an offset; -1 with the error printed.  A
 * source's free ranges read as zeros (the longer ones are not read).
 */
int p2v_dev_pread (struct p2v_dev *d, void *buf, size_t n, uint64_t off);
int p2v_dev_pwrite (struct p2v_dev *d, const void *buf, size_t n, uint64_t off);
/* Zeros, skipped when the target already reads back zeros there. */
int p2v_dev_zero (struct p2v_dev *d, uint64_t off, size_t n);
/* Start writing n bytes at off back to the disk, without waiting: a
 * later fsync then finds little left to do.  0, or -1 with errno when
 * the target reports an error (a target that cannot do it is no error).
 */
int p2v_dev_start_writeback (struct p2v_dev *d, uint64_t off, size_t n);
int p2v_dev_finish (struct p2v_dev *d);
void p2v_dev_close (struct p2v_dev *d);

#endif
