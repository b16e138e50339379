/* Moving a GPT backup to the end of a larger disk.
 *
 * Done by hand, not by libparted's "Fix" answer: on commit libparted
 * rewrites the protective MBR (a hybrid MBR would be lost) and
 * regenerates every entry from its own model of the table, while the
 * job here is to leave everything but the backup alone.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <parted/parted.h>
#include <zlib.h>

#include "common/humanize.h"
#include "common/parse.h"
#include "disk/partinfo.h"
#include "common/util.h"


#define GPT_SIG "EFI PART"

static uint32_t le32 (const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24; }
static uint64_t le64 (const uint8_t *p) { return le32 (p) | (uint64_t) le32 (p + 4) << 32; }
static void put32 (uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64 (uint8_t *p, uint64_t v) { put32 (p, v); put32 (p + 4, v >> 32); }

enum {
  H_SIZE = 12, H_CRC = 16, H_MY = 24, H_ALT = 32, H_FIRST = 40, H_LAST = 48,
  H_ENTRIES = 72, H_NENTRIES = 80, H_ENTSIZE = 84, H_ENTCRC = 88,
};

static uint32_t
header_crc (const uint8_t *h)
{
  uint8_t tmp[512];
  uint32_t size = le32 (h + H_SIZE);
  memcpy (tmp, h, size);
  put32 (tmp + H_CRC, 0);
  return crc32 (0, tmp, size);
}


/* A disk's GPT as read and checked: its primary header and array. */
struct gpt {
  uint64_t size;                /* bytes */
  unsigned ss;                  /* sector size */
  uint8_t *primary;             /* the primary header's sector (4 KiB) */
  uint8_t *entries;             /* the partition array, ent_secs sectors */
  uint32_t hsize, nent, entsize;
  size_t ent_bytes;
  uint64_t ent_secs;
  uint64_t alt, last_usable;    /* as the primary says */
  uint64_t last;                /* the disk's last sector */
  uint64_t new_ent_lba;         /* where the backup array goes */
};

static int
io_error (const char *op, const char *path)
{
  p2v_error ("cannot %s the GPT of %s: %s", op, path,
             errno ? strerror (errno) : "the disk ends early");
  return -1;
}

/* The disk's size and sector size, and a GPT in force: a primary header
 * behind a protective (or hybrid) MBR.  1 when found, 0 when there is
 * none (what says so), -1 on error (printed).
 */
static int
gpt_find (int fd, const char *path, struct gpt *g, char *what, size_t what_len)
{
  struct stat st;
  if (fstat (fd, &st) == -1) {
    p2v_error ("cannot stat %s: %s", path, strerror (errno));
    return -1;
  }
  if (S_ISBLK (st.st_mode)) {
    int bss;
    if (ioctl (fd, BLKGETSIZE64, &g->size) == -1 || ioctl (fd, BLKSSZGET, &bss) == -1) {
      p2v_error ("cannot get the size of %s: %s", path, strerror (errno));
      return -1;
    }
    g->ss = bss;
  }
  else
    g->size = st.st_size;

  /* An image file does not say its sector size: the header is at LBA 1
   * of whichever size finds it.
   */
  uint8_t *sec = g->primary = xaligned_alloc (4096);
  unsigned tries[2] = { 512, 4096 };
  for (int i = 0; i < 2 && g->ss == 0; i++) {
    if ((uint64_t) 2 * tries[i] > g->size)
      break;
    if (p2v_pread_full (fd, sec, tries[i], tries[i], NULL) == -1)
      return io_error ("read", path);
    if (memcmp (sec, GPT_SIG, 8) == 0)
      g->ss = tries[i];
  }
  if (g->ss == 0 || g->ss > 4096 || (uint64_t) 2 * g->ss > g->size) {
    p2v_part_say (what, what_len, "%s has no GPT: nothing to move", path);
    return 0;
  }
  /* A GPT is only in force behind a protective (or hybrid) MBR: an MBR
   * disk that was GPT once may still carry the old headers, and the
   * stale backup may sit inside its last partition.
   */
  if (p2v_pread_full (fd, sec, 512, 0, NULL) == -1)
    return io_error ("read", path);
  bool protective = false;
  for (int i = 0; i < 4; i++)
    protective |= sec[446 + 16 * i + 4] == 0xEE;
  if (sec[510] != 0x55 || sec[511] != 0xAA || !protective) {
    p2v_part_say (what, what_len, "%s has no GPT (no protective MBR): nothing to move", path);
    return 0;
  }
  if (p2v_pread_full (fd, sec, g->ss, g->ss, NULL) == -1)
    return io_error ("read", path);
  if (memcmp (sec, GPT_SIG, 8) != 0) {
    p2v_part_say (what, what_len, "%s has no GPT: nothing to move", path);
    return 0;
  }
  return 1;
}

/* Only a primary that is valid in every respect is copied: the backup
 * is rebuilt from it, never from guesses.  Reads the array.  1 when the
 * backup can move, 0 when it is already at the end (what says so), -1
 * when the table is refused (printed).
 */
static int
gpt_validate (int fd, const char *path, struct gpt *g, char *what, size_t what_len)
{
  const uint8_t *sec = g->primary;
  unsigned ss = g->ss;
  g->hsize = le32 (sec + H_SIZE);
  g->nent = le32 (sec + H_NENTRIES);
  g->entsize = le32 (sec + H_ENTSIZE);
  if (g->hsize < 92 || g->hsize > ss || g->hsize > 512 || header_crc (sec) != le32 (sec + H_CRC)
      || le64 (sec + H_MY) != 1 || g->entsize < 128 || g->entsize % 8 != 0
      || g->nent == 0 || (uint64_t) g->nent * g->entsize > 4 * 1024 * 1024) {
    p2v_error ("%s: the primary GPT header is invalid; not moving the backup GPT", path);
    return -1;
  }
  uint64_t first = le64 (sec + H_FIRST), ent_lba = le64 (sec + H_ENTRIES);
  g->alt = le64 (sec + H_ALT);
  g->last_usable = le64 (sec + H_LAST);
  g->last = g->size / ss - 1;
  g->ent_bytes = (size_t) g->nent * g->entsize;
  g->ent_secs = (g->ent_bytes + ss - 1) / ss;
  if (g->alt == g->last) {
    p2v_part_say (what, what_len, "%s: the backup GPT is already at the end of the disk", path);
    return 0;
  }
  if (g->alt > g->last) {
    p2v_error ("%s is smaller than its GPT says: the backup header should be at "
               "sector %" PRIu64 " but the disk ends at sector %" PRIu64, path, g->alt, g->last);
    return -1;
  }
  g->entries = xaligned_alloc (g->ent_secs * ss);
  memset (g->entries, 0, g->ent_secs * ss);
  if (ent_lba < 2 || ent_lba + g->ent_secs > first
      || p2v_pread_full (fd, g->entries, g->ent_bytes, ent_lba * ss, NULL) == -1
      || crc32 (0, g->entries, g->ent_bytes) != le32 (sec + H_ENTCRC)) {
    p2v_error ("%s: the primary GPT partition array is invalid; not moving the backup GPT", path);
    return -1;
  }
  g->new_ent_lba = g->last - g->ent_secs;
  if (g->last_usable >= g->alt || g->new_ent_lba <= g->last_usable) {
    p2v_error ("%s: the GPT's usable area overlaps its backup; not moving it", path);
    return -1;
  }
  /* Refuse rather than write over a partition that reaches past the
   * usable area (no valid table has one, but this one is someone's
   * only copy).
   */
  static const uint8_t unused[16];
  for (uint32_t i = 0; i < g->nent; i++) {
    const uint8_t *e = g->entries + (size_t) i * g->entsize;
    if (memcmp (e, unused, 16) != 0 && le64 (e + 40) >= g->new_ent_lba) {
      p2v_error ("%s: GPT partition %u ends at sector %" PRIu64 ", where the backup "
                 "GPT must go; not moving it", path, i + 1, le64 (e + 40));
      return -1;
    }
  }
  return 1;
}

/* The primary as it will point at the new backup (updated in place),
 * and the new backup header's sector (returned; the caller frees it).
 */
static uint8_t *
gpt_plan (struct gpt *g)
{
  uint8_t *primary = g->primary;
  put64 (primary + H_ALT, g->last);
  put64 (primary + H_LAST, g->new_ent_lba - 1);
  put32 (primary + H_CRC, header_crc (primary));
  uint8_t *backup = xaligned_alloc (g->ss);
  memset (backup, 0, g->ss);
  memcpy (backup, primary, g->hsize);
  put64 (backup + H_MY, g->last);
  put64 (backup + H_ALT, 1);
  put64 (backup + H_ENTRIES, g->new_ent_lba);
  put32 (backup + H_CRC, header_crc (backup));
  return backup;
}

/* The new backup first, flushed, then the primary that points at it:
 * until then the old pair stays consistent.  Then the old backup
 * header is cleared and a pure protective MBR stretched.  0, or -1
 * (printed).
 */
static int
gpt_write (int fd, const char *path, const struct gpt *g, const uint8_t *backup, bool *wiped)
{
  unsigned ss = g->ss;
  if (p2v_pwrite_full (fd, g->entries, g->ent_secs * ss, g->new_ent_lba * ss, NULL) == -1
      || p2v_pwrite_full (fd, backup, ss, g->last * ss, NULL) == -1 || p2v_fsync (fd) == -1
      || p2v_pwrite_full (fd, g->primary, ss, ss, NULL) == -1 || p2v_fsync (fd) == -1)
    return io_error ("write", path);

  /* The old backup header now lies in free space; left there, it is
   * a second, stale GPT for tools that scan for signatures.
   */
  uint8_t *sec = xaligned_alloc (ss);
  int r = -1;
  *wiped = false;
  if (p2v_pread_full (fd, sec, ss, g->alt * ss, NULL) == -1) {
    io_error ("read", path);
    goto out;
  }
  if (memcmp (sec, GPT_SIG, 8) == 0 && le64 (sec + H_MY) == g->alt) {
    memset (sec, 0, ss);
    if (p2v_pwrite_full (fd, sec, ss, g->alt * ss, NULL) == -1) {
      io_error ("write", path);
      goto out;
    }
    *wiped = true;
  }

  /* UEFI: a protective MBR's 0xEE entry spans the disk (or 0xFFFFFFFF
   * sectors).  Only a pure protective MBR that spanned the old disk is
   * stretched; a hybrid MBR is someone's deliberate layout.
   */
  static const uint8_t unused[16];
  if (p2v_pread_full (fd, sec, 512, 0, NULL) == -1) {
    io_error ("read", path);
    goto out;
  }
  uint8_t *pe = sec + 446;
  bool pure = sec[510] == 0x55 && sec[511] == 0xAA && pe[4] == 0xEE
    && le32 (pe + 8) == 1 && memcmp (pe + 16, unused, 16) == 0
    && memcmp (pe + 32, unused, 16) == 0 && memcmp (pe + 48, unused, 16) == 0;
  uint32_t want_old = g->alt > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t) g->alt;
  uint32_t want_new = g->last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t) g->last;
  if (pure && le32 (pe + 12) == want_old && want_old != want_new) {
    put32 (pe + 12, want_new);
    if (p2v_pwrite_full (fd, sec, 512, 0, NULL) == -1) {
      io_error ("write", path);
      goto out;
    }
  }
  if (p2v_fsync (fd) == -1) {
    io_error ("write", path);
    goto out;
  }
  r = 0;
 out:
  free (sec);
  return r;
}

int
p2v_gpt_relocate_backup_fd (int fd, const char *path, char *what, size_t what_len)
{
  struct gpt g = { 0 };
  uint8_t *backup = NULL;
  bool wiped;
  p2v_part_say (what, what_len, "%s", "");
  int r = gpt_find (fd, path, &g, what, what_len);
  if (r == 1)
    r = gpt_validate (fd, path, &g, what, what_len);
  if (r == 1) {
    backup = gpt_plan (&g);
    if (gpt_write (fd, path, &g, backup, &wiped) == -1)
      r = -1;
  }
  if (r == 1) {
    char h[P2V_HUMAN_LEN];
    p2v_part_say (what, what_len, "%s: moved the backup GPT from sector %" PRIu64 " to sector %"
                  PRIu64 " (the end of the disk); %s of new space usable after sector %" PRIu64
                  "%s", path, g.alt, g.last, p2v_human_size ((g.last - g.alt) * g.ss, h),
                  g.last_usable, wiped ? "; old backup header cleared" : "");
  }
  free (g.primary);
  free (g.entries);
  free (backup);
  return r;
}

int
p2v_gpt_relocate_backup (const char *path, char *what, size_t what_len)
{
  int fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    p2v_error ("cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  int r = p2v_gpt_relocate_backup_fd (fd, path, what, what_len);
  if (close (fd) == -1 && r != -1) {
    p2v_error ("cannot close %s: %s", path, strerror (errno));
    r = -1;
  }
  return r;
}

