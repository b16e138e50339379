#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <parted/parted.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "common/humanize.h"
#include "common/message.h"
#include "disk/fsfree.h"
#include "disk/partinfo.h"
#include "disk/pieces.h"


struct walk {
  ext2_filsys fs;
  blk64_t bad;              /* a used block the bitmap calls free; 0: none */
  ext2_ino_t ino;
};

static int
check_block (ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
             int ref_offset, void *priv)
{
  (void) blockcnt; (void) ref_blk; (void) ref_offset;
  struct walk *w = priv;
  blk64_t b = *blocknr;
  if (b < fs->super->s_first_data_block || b >= ext2fs_blocks_count (fs->super)
      || !ext2fs_test_block_bitmap2 (fs->block_map, b)) {
    w->bad = b ? b : 1;
    return BLOCK_ABORT;
  }
  return 0;
}

/* Every block the filesystem's own structures and its files use must
 * be marked used: a bitmap that says otherwise would have us send a
 * file's data as zeros.  0, or -1 with why.
 */
static int
bitmap_covers_use (ext2_filsys fs, char *why, size_t len)
{
  errcode_t err;
  ext2fs_block_bitmap meta;
  if ((err = ext2fs_allocate_block_bitmap (fs, "metadata", &meta))) {
    p2v_part_say (why, len, "cannot allocate a bitmap: %s", error_message (err));
    return -1;
  }
  for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
    ext2fs_reserve_super_and_bgd (fs, g, meta);
    ext2fs_mark_block_bitmap2 (meta, ext2fs_block_bitmap_loc (fs, g));
    ext2fs_mark_block_bitmap2 (meta, ext2fs_inode_bitmap_loc (fs, g));
    ext2fs_mark_block_bitmap_range2 (meta, ext2fs_inode_table_loc (fs, g),
                                     fs->inode_blocks_per_group);
  }
  blk64_t b = fs->super->s_first_data_block, end = ext2fs_blocks_count (fs->super) - 1, found;
  while (b <= end && ext2fs_find_first_set_block_bitmap2 (meta, b, end, &found) == 0) {
    if (!ext2fs_test_block_bitmap2 (fs->block_map, found)) {
      p2v_part_say (why, len, "its bitmap calls metadata block %llu free", (unsigned long long) found);
      ext2fs_free_block_bitmap (meta);
      return -1;
    }
    b = found + 1;
  }
  ext2fs_free_block_bitmap (meta);

  ext2_inode_scan scan;
  if ((err = ext2fs_open_inode_scan (fs, 0, &scan))) {
    p2v_part_say (why, len, "cannot read its inodes: %s", error_message (err));
    return -1;
  }
  size_t isz = EXT2_INODE_SIZE (fs->super);
  struct ext2_inode *inode = xmalloc (isz < sizeof (struct ext2_inode_large)
                                      ? sizeof (struct ext2_inode_large) : isz);
  struct walk w = { .fs = fs };
  ext2_ino_t ino;
  int rc = 0;
  for (;;) {
    err = ext2fs_get_next_inode_full (scan, &ino, inode, (int) isz);
    if (err) {
      p2v_part_say (why, len, "cannot read its inodes: %s", error_message (err));
      rc = -1;
      break;
    }
    if (ino == 0)
      break;
    /* An inode the bitmap calls free may be a deleted file's old copy,
     * its block list stale: only the inodes in use claim blocks.
     */
    if (!ext2fs_test_inode_bitmap2 (fs->inode_map, ino))
      continue;
    blk64_t acl = ext2fs_file_acl_block (fs, inode);
    if (acl && (acl >= ext2fs_blocks_count (fs->super)
                || !ext2fs_test_block_bitmap2 (fs->block_map, acl))) {
      p2v_part_say (why, len, "its bitmap calls block %llu of inode %u free",
           (unsigned long long) acl, ino);
      rc = -1;
      break;
    }
    if (!ext2fs_inode_has_valid_blocks2 (fs, inode))
      continue;
    w.ino = ino;
    err = ext2fs_block_iterate3 (fs, ino, BLOCK_FLAG_READ_ONLY, NULL, check_block, &w);
    if (err) {
      p2v_part_say (why, len, "cannot read the blocks of inode %u: %s", ino, error_message (err));
      rc = -1;
      break;
    }
    if (w.bad) {
      p2v_part_say (why, len, "its bitmap calls block %llu of inode %u free",
           (unsigned long long) w.bad, ino);
      rc = -1;
      break;
    }
  }
  free (inode);
  ext2fs_close_inode_scan (scan);
  return rc;
}

/* The next run of free blocks [*z, *u) at or after *b, which moves
 * past it.  false when there is none.
 */
static bool
next_free_run (ext2_filsys fs, blk64_t *b, blk64_t *z, blk64_t *u)
{
  blk64_t end = ext2fs_blocks_count (fs->super) - 1;
  if (*b > end || ext2fs_find_first_zero_block_bitmap2 (fs->block_map, *b, end, z) != 0)
    return false;
  if (ext2fs_find_first_set_block_bitmap2 (fs->block_map, *z, end, u) != 0)
    *u = end + 1;
  *b = *u;
  return true;
}

/* Each group's free count, which the kernel keeps beside its bitmap,
 * must agree with it.  0, or -1 with why.
 */
static int
check_group_counts (ext2_filsys fs, char *why, size_t len)
{
  uint64_t *nfree = xcalloc (fs->group_desc_count, sizeof *nfree);
  blk64_t first = fs->super->s_first_data_block, b = first, z, u;
  uint64_t per = fs->super->s_blocks_per_group;
  while (next_free_run (fs, &b, &z, &u))
    while (z < u) {
      dgrp_t g = (dgrp_t) ((z - first) / per);
      blk64_t gend = first + (g + 1) * per;
      blk64_t e = u < gend ? u : gend;
      nfree[g] += e - z;
      z = e;
    }
  int rc = 0;
  for (dgrp_t g = 0; g < fs->group_desc_count; g++)
    if (nfree[g] != ext2fs_bg_free_blocks_count (fs, g)) {
      p2v_part_say (why, len, "group %u's bitmap disagrees with its free count (%llu, not %u)", g,
           (unsigned long long) nfree[g], ext2fs_bg_free_blocks_count (fs, g));
      rc = -1;
      break;
    }
  free (nfree);
  return rc;
}

/* The walk trusts the inode bitmap, and the scan skips each group's
 * never-used tail (itable_unused): each group's bitmap must agree with
 * its free-inode count, and mark nothing in that tail.  0, or -1 with
 * why.
 */
static int
check_inode_groups (ext2_filsys fs, char *why, size_t len)
{
  uint32_t per = fs->super->s_inodes_per_group;
  bool tails = ext2fs_has_group_desc_csum (fs);
  for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
    uint32_t used = 0, last = 0;
    for (uint32_t i = 1; i <= per; i++)
      if (ext2fs_fast_test_inode_bitmap2 (fs->inode_map, (ext2_ino_t) (g * per + i))) {
        used++;
        last = i;
      }
    if (per - used != ext2fs_bg_free_inodes_count (fs, g)) {
      p2v_part_say (why, len, "group %u's inode bitmap disagrees with its free count", g);
      return -1;
    }
    if (tails && last > per - ext2fs_bg_itable_unused (fs, g)) {
      p2v_part_say (why, len, "group %u uses inode %u past its initialised table", g, last);
      return -1;
    }
  }
  return 0;
}

int64_t
p2v_fsfree_ext (const char *path, const struct p2v_run *v, size_t n, struct p2v_freemap *map,
                char *why, size_t why_len, bool walk)
{
  char opts[64];
  uint64_t len = p2v_pieces_len (v, n);
  snprintf (opts, sizeof opts, "offset=%" PRIu64, v[0].off);
  ext2_filsys fs;
  /* Read-only, and checksums verified (a bad one fails the open). */
  /* On a disk, past the page cache: the whole disk's cache is not the
   * partition's, and may hold a superblock older than the one on disk.
   */
  struct stat st;
  int flags = EXT2_FLAG_64BITS;
  if (stat (path, &st) == 0 && S_ISBLK (st.st_mode))
    flags |= EXT2_FLAG_DIRECT_IO;
  errcode_t err = n == 1 ? ext2fs_open2 (path, opts, flags, 0, 0, unix_io_manager, &fs)
                         : ext2fs_open2 ("pieces", NULL, flags, 0, 0, p2v_pieces_io (path, v, n), &fs);
  if (err) {
    p2v_part_say (why, why_len, "cannot open it: %s", error_message (err));
    return -1;
  }
  struct ext2_super_block *sb = fs->super;
  uint64_t bs = fs->blocksize, nblocks = ext2fs_blocks_count (sb);
  int64_t rc = -1;
  if (!(sb->s_state & EXT2_VALID_FS))
    p2v_part_say (why, why_len, "mounted read-write, or not cleanly unmounted");
  else if (sb->s_state & EXT2_ERROR_FS)
    p2v_part_say (why, why_len, "it recorded errors (e2fsck it first)");
  else if (ext2fs_has_feature_journal_needs_recovery (sb))
    p2v_part_say (why, why_len, "its journal needs recovery (mounted, or not cleanly unmounted)");
  else if (sb->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP)
    p2v_part_say (why, why_len, "it has features this libext2fs does not know");
  else if (ext2fs_has_feature_bigalloc (sb))
    p2v_part_say (why, why_len, "bigalloc clusters are not read");
  else if (nblocks > len / bs)
    p2v_part_say (why, why_len, "it is larger than its partition");
  else if ((err = ext2fs_read_bitmaps (fs)))
    p2v_part_say (why, why_len, "cannot read its bitmaps: %s", error_message (err));
  else if (check_group_counts (fs, why, why_len) == 0 && check_inode_groups (fs, why, why_len) == 0
           && (!walk || bitmap_covers_use (fs, why, why_len) == 0)) {
    rc = 0;
    blk64_t b = sb->s_first_data_block, z, u;
    while (next_free_run (fs, &b, &z, &u)) {
      p2v_pieces_add (map, v, n, z * bs, (u - z) * bs);
      rc += (int64_t) ((u - z) * bs);
    }
  }
  ext2fs_close_free (&fs);
  return rc;
}

static uint32_t
le32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

/* Linux swap: "SWAPSPACE2" ends the first page, of whatever size the
 * source's kernel used, and the header says where the area ends (it
 * may be smaller than its partition).  The header page (UUID, label)
 * is kept; [page, *end) holds only stale pages.  0 when this is no
 * version-1 swap area of ours (another byte order, a header that does
 * not fit the partition): sent whole.
 */
static uint64_t
swap_area (int fd, const struct p2v_run *v, size_t nv, uint64_t len, uint64_t *end)
{
  static const unsigned pages[] = { 4096, 8192, 16384, 65536 };
  for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
    char sig[10];
    uint8_t h[8];
    if (pages[i] >= len || p2v_pieces_pread (fd, v, nv, sig, 10, pages[i] - 10) == -1
        || memcmp (sig, "SWAPSPACE2", 10) != 0)
      continue;
    if (p2v_pieces_pread (fd, v, nv, h, 8, 1024) == -1 || le32 (h) != 1)
      return 0;
    uint64_t last = le32 (h + 4);
    if (last == 0 || (last + 1) * pages[i] > len)
      return 0;
    *end = (last + 1) * pages[i];
    return pages[i];
  }
  return 0;
}

/* An md RAID member: its superblock at the start (1.1), 4 KiB in (1.2)
 * or near the end (0.90, 1.0).
 */
static bool
md_member (int fd, const struct p2v_run *v, size_t nv, uint64_t len)
{
  uint64_t at[4] = { 0, 4096, 0, 0 };
  int n = 2;
  if (len >= 65536 * 2)
    at[n++] = (len / 65536 - 1) * 65536;
  if (len >= 8192 * 2)
    at[n++] = (len - 8192) & ~(uint64_t) 4095;
  for (int i = 0; i < n; i++) {
    uint8_t m[4];
    if (p2v_pieces_pread (fd, v, nv, m, 4, at[i]) == 0 && le32 (m) == 0xa92b4efc)
      return true;
  }
  return false;
}

/* What lies at [off, off + len): a name for the report, "" if unknown.
 * The formats whose signature is strong and whose tools wipe the old
 * ones come first (an md member before all: a RAID1 member shows its
 * array's contents); swap, whose old signature at 4 KiB outlives
 * pvcreate and mdadm, last, so an LVM PV or RAID member that once was
 * swap is not taken for swap.
 */
static void
identify (int fd, const struct p2v_run *v, size_t nv, char *fs, size_t fslen, uint64_t *page,
          uint64_t *swap_end)
{
  uint8_t b[4096];
  uint64_t len = p2v_pieces_len (v, nv);
  *page = 0;
  fs[0] = '\0';
  if (len < sizeof b || p2v_pieces_pread (fd, v, nv, b, sizeof b, 0) == -1)
    return;
  bool lvm = false;
  for (int k = 0; k < 4; k++)
    lvm = lvm || memcmp (b + 512 * k, "LABELONE", 8) == 0;
  /* An md RAID1 member with its superblock at the end shows what the
   * array holds at its start, an LVM label too: it is a member first.
   */
  if (md_member (fd, v, nv, len))
    snprintf (fs, fslen, "md member");
  else if (lvm)
    snprintf (fs, fslen, "LVM2 PV");
  else if (memcmp (b, "LUKS\xba\xbe", 6) == 0)
    snprintf (fs, fslen, "LUKS");
  else if (memcmp (b, "XFSB", 4) == 0)
    snprintf (fs, fslen, "xfs");
  else if (b[1080] == 0x53 && b[1081] == 0xef) {
    uint32_t compat = le32 (b + 1116), incompat = le32 (b + 1120);
    snprintf (fs, fslen, "%s", incompat & 0x2c0 ? "ext4" : compat & 4 ? "ext3" : "ext2");
  }
  else if (memcmp (b + 4086, "S1SUSPEND", 9) == 0 || memcmp (b + 4086, "ULSUSPEND", 9) == 0
           || memcmp (b + 4086, "LINHIB0001", 10) == 0)
    snprintf (fs, fslen, "hibernation");
  else if ((*page = swap_area (fd, v, nv, len, swap_end)))
    snprintf (fs, fslen, "swap");
}

static bool
has_holders (int dfd, const char *sub)
{
  int hfd = openat (dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *h = hfd == -1 ? NULL : fdopendir (hfd);
  bool held = false;
  for (struct dirent *x; h && (x = readdir (h));)
    held = held || x->d_name[0] != '.';
  if (h)
    closedir (h);
  else if (hfd != -1)
    close (hfd);
  return held;
}

/* Whether the kernel here has something built on this disk (fd) or
 * on its partition number: a device-mapper table, that is, an LV of
 * the group is active on this machine.
 */
static bool
held_here (int fd, unsigned number)
{
  struct stat st;
  char dir[64];
  if (fstat (fd, &st) == -1 || !S_ISBLK (st.st_mode))
    return false;
  snprintf (dir, sizeof dir, "/sys/dev/block/%u:%u", major (st.st_rdev), minor (st.st_rdev));
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1)
    return false;
  bool held = has_holders (dfd, "holders");
  int dup_fd = number ? dup (dfd) : -1;
  DIR *d = dup_fd == -1 ? NULL : fdopendir (dup_fd);
  for (struct dirent *e; d && (e = readdir (d));) {
    char path[300], num[16];
    snprintf (path, sizeof path, "%s/partition", e->d_name);
    int pfd = e->d_name[0] != '.' ? openat (dfd, path, O_RDONLY | O_CLOEXEC) : -1;
    ssize_t r = pfd == -1 ? -1 : read (pfd, num, sizeof num - 1);
    if (pfd != -1)
      close (pfd);
    if (r > 0 && (num[r] = '\0', strtoul (num, NULL, 10) == number)) {
      snprintf (path, sizeof path, "%s/holders", e->d_name);
      held = held || has_holders (dfd, path);
    }
  }
  if (d)
    closedir (d);
  else if (dup_fd != -1)
    close (dup_fd);
  close (dfd);
  return held;
}

/* Whether an LV of the group vg_id is active on this machine, on any
 * of its PVs (device-mapper names LVM's tables "LVM-" + the group's
 * id + the LV's, without dashes).
 */
static bool
group_active_here (const char *vg_id)
{
  char want[64] = "LVM-";
  size_t k = 4;
  for (const char *c = vg_id; *c && k < sizeof want - 1; c++)
    if (*c != '-')
      want[k++] = *c;
  want[k] = '\0';
  DIR *d = opendir ("/sys/block");
  bool active = false;
  for (struct dirent *e; d && !active && (e = readdir (d));) {
    char path[300], uuid[160];
    if (strncmp (e->d_name, "dm-", 3) != 0)
      continue;
    snprintf (path, sizeof path, "/sys/block/%s/dm/uuid", e->d_name);
    int u = open (path, O_RDONLY | O_CLOEXEC);
    ssize_t r = u == -1 ? -1 : read (u, uuid, sizeof uuid - 1);
    if (u != -1)
      close (u);
    active = r > (ssize_t) k && strncmp (uuid, want, k) == 0;
  }
  if (d)
    closedir (d);
  return active;
}

/* Part i is an LVM PV: its free extents into the map, and each of its
 * LVs appended as a part of its own, scanned after it.
 */
static void
scan_pv (int fd, struct p2v_fsfree *f, size_t i)
{
  struct p2v_fsfree_part *p = &f->parts[i];
  struct p2v_lvm_pv pv;
  if (p2v_lvm_read (fd, p->off, p->len, &pv, p->why, sizeof p->why) == -1)
    return;
  p->pv = true;
  snprintf (p->lv, sizeof p->lv, "%s", pv.vg);
  if (pv.free_bytes == 0)
    p2v_part_say (p->why, sizeof p->why, "every extent belongs to an LV");
  else if (pv.shared)
    p2v_part_say (p->why, sizeof p->why,
                  "its volume group is shared with other hosts: free extents sent whole");
  else if (held_here (fd, p->number) || group_active_here (pv.vg_id))
    p2v_part_say (p->why, sizeof p->why,
                  "its volume group is active on this machine: free extents sent whole");
  else {
    for (size_t k = 0; k < pv.n_free; k++)
      p2v_freemap_add (&f->map, p->off + pv.free[k].off, pv.free[k].len);
    p->skipped = 1;
  }
  uint64_t base = p->off;
  unsigned number = p->number;
  for (size_t k = 0; k < pv.n_lvs; k++) {
    f->parts = xrealloc (f->parts, (f->n + 1) * sizeof *f->parts);
    struct p2v_fsfree_part *q = &f->parts[f->n++];
    memset (q, 0, sizeof *q);
    q->number = number;
    snprintf (q->lv, sizeof q->lv, "%s", pv.lvs[k].name);
    snprintf (q->why, sizeof q->why, "%s", pv.lvs[k].why);
    if (pv.lvs[k].n_pieces) {
      q->pieces = pv.lvs[k].pieces;
      q->n_pieces = pv.lvs[k].n_pieces;
      pv.lvs[k].pieces = NULL;
      for (size_t j = 0; j < q->n_pieces; j++)
        q->pieces[j].off += base;
      q->off = q->pieces[0].off;
      q->len = p2v_pieces_len (q->pieces, q->n_pieces);
    }
  }
  p2v_lvm_free (&pv);
}

/* Where part p lies: an LV's pieces, or its one range in *one. */
static size_t
view (const struct p2v_fsfree_part *p, const struct p2v_run **v, struct p2v_run *one)
{
  if (p->n_pieces) {
    *v = p->pieces;
    return p->n_pieces;
  }
  *one = (struct p2v_run) { p->off, p->len };
  *v = one;
  return 1;
}

static void
scan_part (const char *path, int fd, struct p2v_fsfree *f, size_t i, bool walk)
{
  struct p2v_fsfree_part *p = &f->parts[i];
  const struct p2v_run *v;
  struct p2v_run one;
  size_t nv = view (p, &v, &one);
  uint64_t page, swap_end = 0;
  identify (fd, v, nv, p->fs, sizeof p->fs, &page, &swap_end);
  int64_t n = -1;
  if (strncmp (p->fs, "ext", 3) == 0)
    n = p2v_fsfree_ext (path, v, nv, &f->map, p->why, sizeof p->why, walk);
  else if (strcmp (p->fs, "xfs") == 0 && nv > 1)
    p2v_part_say (p->why, sizeof p->why, "XFS is read only from an LV in one piece (it is in %zu)",
                  nv);
  else if (strcmp (p->fs, "xfs") == 0)
    n = p2v_fsfree_fsmap (path, p->off, p->len, "xfs", &f->map, p->why, sizeof p->why);
  else if (page) {
    p2v_pieces_add (&f->map, v, nv, page, swap_end - page);
    n = (int64_t) (swap_end - page);
  }
  else if (strcmp (p->fs, "LVM2 PV") == 0 && !p->lv[0]) {
    scan_pv (fd, f, i);
    return;
  }
  else if (strcmp (p->fs, "hibernation") == 0)
    p2v_part_say (p->why, sizeof p->why, "a swap area holding a hibernation image");
  else if (p->fs[0])
    p2v_part_say (p->why, sizeof p->why, "%s is not read for free space%s", p->fs,
                  p->lv[0] ? " inside an LV" : "");
  else
    p2v_part_say (p->why, sizeof p->why, "no filesystem that --skip-free reads");
  /* The count comes from the sealed map (it may drop short runs). */
  p->skipped = n > 0 ? 1 : 0;
}

static int
scan (const char *path, int fd, uint64_t size, struct p2v_fsfree *f, bool walk)
{
  memset (f, 0, sizeof *f);
  /* What was written through another node of the same disk (/dev/sda1,
   * an LV) is not in this one's page cache: read the disk itself.
   */
  posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
  PedExceptionHandler *old = p2v_parted_quiet_begin ();
  PedDevice *dev = ped_device_get (path);
  PedDisk *disk = NULL;
  const PedDiskType *type = NULL;
  /* libparted calls a filesystem on the whole disk a "loop" table. */
  if (dev && ped_device_open (dev) && (type = ped_disk_probe (dev))
      && strcmp (type->name, "loop") != 0)
    disk = ped_disk_new (dev);
  if (disk) {
    for (PedPartition *pp = ped_disk_next_partition (disk, NULL); pp;
         pp = ped_disk_next_partition (disk, pp)) {
      if (pp->num <= 0 || (pp->type & PED_PARTITION_EXTENDED))
        continue;
      f->parts = xrealloc (f->parts, (f->n + 1) * sizeof *f->parts);
      struct p2v_fsfree_part *p = &f->parts[f->n++];
      memset (p, 0, sizeof *p);
      p->number = (unsigned) pp->num;
      p->off = (uint64_t) pp->geom.start * (uint64_t) dev->sector_size;
      p->len = (uint64_t) pp->geom.length * (uint64_t) dev->sector_size;
      if (p->off >= size || p->len > size - p->off)
        p->len = p->off >= size ? 0 : size - p->off;
    }
    ped_disk_destroy (disk);
  }
  if (dev) {
    ped_device_close (dev);
    ped_device_destroy (dev);
  }
  p2v_parted_quiet_end (old);
  if (!disk) {
    /* No table: a filesystem may fill the disk (a partition's image). */
    f->parts = xcalloc (1, sizeof *f->parts);
    f->n = 1;
    f->parts[0].len = size;
  }
  /* A PV appends its LVs: they are scanned in turn. */
  for (size_t i = 0; i < f->n; i++)
    if (f->parts[i].len)
      scan_part (path, fd, f, i, walk);
  p2v_freemap_seal (&f->map);
  /* A PV's own count is what its LVs leave: its free extents. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < f->n; i++) {
      struct p2v_fsfree_part *p = &f->parts[i];
      if (p->pv != (pass == 1) || !p->skipped)
        continue;
      const struct p2v_run *v;
      struct p2v_run one;
      size_t nv = view (p, &v, &one);
      p->skipped = p2v_pieces_bytes (&f->map, v, nv);
      for (size_t k = 0; pass == 1 && k < f->n; k++)
        if (!f->parts[k].pv && f->parts[k].lv[0] && f->parts[k].number == p->number)
          p->skipped -= f->parts[k].skipped;
    }
  for (size_t i = 0; i < f->n; i++)
    f->skipped += f->parts[i].skipped;
  return 0;
}

int
p2v_fsfree_scan (const char *path, int fd, uint64_t size, struct p2v_fsfree *f)
{
  return scan (path, fd, size, f, true);
}

/* "partition 2 LV vg00/root (ext4)", "partition 2 (LVM2 PV of vg00)". */
static void
name_part (const struct p2v_fsfree_part *p, char *out, size_t len)
{
  int w = p->number ? snprintf (out, len, "partition %u", p->number) : snprintf (out, len, "the disk");
  if (w < 0 || (size_t) w >= len)
    return;
  if (p->pv)
    snprintf (out + w, len - (size_t) w, " (LVM2 PV of %s)", p->lv);
  else
    snprintf (out + w, len - (size_t) w, "%s%s%s%s%s", p->lv[0] ? " LV " : "", p->lv,
              p->fs[0] ? " (" : "", p->fs, p->fs[0] ? ")" : "");
}

/* The part of f that holds disk byte at: an LV or partition, else the
 * PV around it.
 */
static const struct p2v_fsfree_part *
part_at (const struct p2v_fsfree *f, uint64_t at)
{
  const struct p2v_fsfree_part *outer = NULL;
  for (size_t i = 0; i < f->n; i++) {
    const struct p2v_fsfree_part *p = &f->parts[i];
    const struct p2v_run *v;
    struct p2v_run one;
    size_t nv = view (p, &v, &one);
    for (size_t k = 0; k < nv; k++)
      if (at >= v[k].off && at - v[k].off < v[k].len) {
        if (!p->pv)
          return p;
        outer = p;
      }
  }
  return outer;
}

int
p2v_fsfree_recheck (const char *path, int fd, uint64_t size, const struct p2v_fsfree *f,
                    char *what, size_t len)
{
  struct p2v_fsfree now;
  scan (path, fd, size, &now, false);
  int rc = 0;
  for (size_t i = 0; i < f->map.n && rc == 0; i++) {
    const struct p2v_extent *e = &f->map.v[i];
    if (p2v_freemap_covers (&now.map, e->off, e->len))
      continue;
    /* Where, and what the scan says of it now. */
    uint64_t at = e->off, a, b;
    while (p2v_freemap_next (&now.map, at, e->off + e->len, 0, &a, &b) && a == at)
      at = b;
    const struct p2v_fsfree_part *was = part_at (f, at), *is = part_at (&now, at);
    char name[64 + P2V_LVM_NAME_LEN];
    if (was)
      name_part (was, name, sizeof name);
    else
      snprintf (name, sizeof name, "byte %" PRIu64, at);
    snprintf (what, len, "%s: %s", name,
              is && !is->skipped && is->why[0] ? is->why : "blocks sent as zeros are in use now");
    rc = -1;
  }
  p2v_fsfree_free (&now);
  return rc;
}

void
p2v_fsfree_report (const struct p2v_fsfree *f, const char *source)
{
  char a[P2V_HUMAN_LEN], b[P2V_HUMAN_LEN], where[32 + P2V_LVM_NAME_LEN], fs[32 + P2V_LVM_NAME_LEN];
  for (size_t i = 0; i < f->n; i++) {
    const struct p2v_fsfree_part *p = &f->parts[i];
    int w = p->number ? snprintf (where, sizeof where, " partition %u", p->number) : 0;
    where[w] = '\0';
    if (p->lv[0] && !p->pv)
      snprintf (where + w, sizeof where - (size_t) w, " LV %s", p->lv);
    if (p->pv)
      snprintf (fs, sizeof fs, " (LVM2 PV of %s)", p->lv);
    else
      snprintf (fs, sizeof fs, "%s%s%s", p->fs[0] ? " (" : "", p->fs, p->fs[0] ? ")" : "");
    if (p->skipped)
      p2v_info ("--skip-free: %s%s%s: %s of %s %s, sent as zeros", source, where, fs,
                p2v_human_size (p->skipped, a), p2v_human_size (p->len, b),
                p->pv ? "in no LV" : "free");
    else
      p2v_info ("--skip-free: %s%s%s: %s%s", source, where, fs, p->pv ? "" : "sent whole: ",
                p->why[0] ? p->why : "nothing free");
  }
}

char *
p2v_fsfree_summary (const struct p2v_fsfree *f)
{
  char *s = xstrdup ("");
  for (size_t i = 0; i < f->n; i++) {
    const struct p2v_fsfree_part *p = &f->parts[i];
    if (!p->skipped)
      continue;
    char *t = xasprintf ("%s%s%u %s%s%s %" PRIu64, s, *s ? ", " : "", p->number, p->lv,
                         p->lv[0] ? " " : "", p->pv ? "free-extents" : p->fs, p->skipped);
    free (s);
    s = t;
  }
  return s;
}

void
p2v_fsfree_free (struct p2v_fsfree *f)
{
  p2v_freemap_free (&f->map);
  for (size_t i = 0; i < f->n; i++)
    free (f->parts[i].pieces);
  free (f->parts);
  memset (f, 0, sizeof *f);
}
