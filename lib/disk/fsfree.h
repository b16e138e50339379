/* p2vsend --skip-free: what the filesystems of a source leave unused,
 * found without mounting and without writing a byte:
 *
 *   ext2/3/4   the block bitmaps (libext2fs), trusted only when the
 *              filesystem is clean (not mounted read-write, no journal
 *              to replay, no errors recorded), its checksums verify,
 *              each group's free count matches its bitmap, and every
 *              block a file or the filesystem's own metadata uses is
 *              marked used: an inode walk, as e2fsck's first pass;
 *   swap       everything after the header page (a hibernation image
 *              has another signature and is sent whole);
 *   XFS        GETFSMAP's free space, mounted read-only through a
 *              read-only loop device (fsmap.c): a log that needs replay
 *              fails that mount, and the partition is sent whole.
 *
 *   LVM2 PV    the extents no LV uses, and each plain linear LV lying
 *              wholly on the PV read as above, in however many pieces
 *              (lvm.c reads the group's metadata without device-mapper,
 *              pieces.c reads an LV's pieces as one device; XFS only in
 *              one piece); not the free extents of a group active on
 *              this machine (an LV may grow meanwhile).
 *
 * Anything else (md members, LUKS, other filesystems, space outside the
 * partitions, a filesystem that fails any check) is sent whole, and
 * the report says so and why.
 */
#ifndef P2V_FSFREE_H
#define P2V_FSFREE_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/freemap.h"
#include "disk/lvm.h"

struct p2v_fsfree_part {
  unsigned number;          /* partition number; 0: a filesystem on the whole disk */
  char lv[P2V_LVM_NAME_LEN];  /* a PV's group ("vg00"), an LV in it ("vg00/root"), or "" */
  bool pv;                  /* an LVM PV: its LVs follow as parts of their own */
  uint64_t off, len;        /* where it starts on the disk, its size; len 0: an LV not read */
  struct p2v_run *pieces;   /* an LV: where its bytes lie, in order; NULL: [off, off + len) */
  size_t n_pieces;
  char fs[16];              /* "ext4", "swap", "xfs", "LVM2 PV", "" */
  uint64_t skipped;         /* free bytes that will read as zeros */
  char why[200];            /* sent whole: why */
};

struct p2v_fsfree {
  struct p2v_freemap map;   /* sealed */
  struct p2v_fsfree_part *parts;
  size_t n;
  uint64_t skipped;         /* bytes, in map */
};

/* Looks at every partition of the source at path (fd open on it, size
 * bytes).  0, with what was found in f, or -1 when the partition
 * table cannot be read at all (printed).  A partition that cannot be
 * read is no error: it is sent whole.
 */
int p2v_fsfree_scan (const char *path, int fd, uint64_t size, struct p2v_fsfree *f);

/* After the copy: whether all that was sent as zeros is free still.  A
 * filesystem mounted or written meanwhile (through any device node:
 * the page cache is dropped first) would have used some, and the copy
 * would hold zeros where data now is.  The same scan again, without
 * the inode walk (the bitmaps were proven then; what changed since is
 * in them, or the filesystem is not clean).  0, or -1 with what
 * changed and how in what ("partition 1 (ext4): mounted read-write,
 * or not cleanly unmounted").
 */
int p2v_fsfree_recheck (const char *path, int fd, uint64_t size, const struct p2v_fsfree *f,
                        char *what, size_t len);

/* One line per partition on stderr ("p2vsend: --skip-free: /dev/sda
 * partition 1 (ext4): 812.0 MiB of 1.0 GiB free, sent as zeros").
 */
void p2v_fsfree_report (const struct p2v_fsfree *f, const char *source);

/* "1 ext4 851443712, 2 swap 535822336": what the manifest keeps. */
char *p2v_fsfree_summary (const struct p2v_fsfree *f);

void p2v_fsfree_free (struct p2v_fsfree *f);

/* A filesystem the kernel reads (fstype "xfs") at [off, off + len) of
 * path, through a read-only loop device and mount and GETFSMAP (needs
 * root): as p2v_fsfree_ext, in one piece.  fsmap.c.
 */
int64_t p2v_fsfree_fsmap (const char *path, uint64_t off, uint64_t len, const char *fstype,
                          struct p2v_freemap *map, char *why, size_t why_len);

/* ext2/3/4 in the pieces v[0..n) of path (a partition is one piece):
 * adds its free blocks to map and returns the bytes added, or -1 with
 * why filled (nothing added).  For fsfree.c and its tests.
 */
int64_t p2v_fsfree_ext (const char *path, const struct p2v_run *v, size_t n,
                        struct p2v_freemap *map, char *why, size_t why_len, bool walk);

#endif
