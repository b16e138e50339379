/* Reading a dying disk: unreadable sectors are retried in smaller
 * pieces, what stays unreadable becomes zeros, and every such range is
 * recorded in a bad-sector map that is written out for the admin.
 *
 * Map file format (written by p2v_badmap_write, read back strictly by
 * p2v_badmap_read):
 *
 *   # p2vstream bad-sector map
 *   # source: /dev/sda
 *   # size: 21474836480
 *   # ranges: 2, bytes: 4608
 *   # offset length
 *   1048576 512
 *   73400320 4096
 *
 * Lines starting with '#' are comments (the header is informative only);
 * every other line is "OFFSET LENGTH": two unsigned decimal byte
 * counts separated by one space, the bytes [OFFSET, OFFSET+LENGTH) of
 * the source could not be read and were sent as zeros.  Ranges are in
 * ascending order, never empty, and never overlap or touch (adjacent
 * ranges are merged).  Decimal bytes, so a range can be re-read with
 * dd iflag=skip_bytes,count_bytes skip=OFFSET count=LENGTH.  An empty
 * map (no range lines) means every byte was read.
 */
#ifndef P2V_SALVAGE_H
#define P2V_SALVAGE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct p2v_badrange {
  uint64_t offset;
  uint64_t length;
};

/* Sorted, merged ranges.  Not locked: one map per reading thread. */
struct p2v_badmap {
  struct p2v_badrange *r;
  size_t n, cap;
  uint64_t bytes;               /* sum of the lengths */
};

void p2v_badmap_init (struct p2v_badmap *m);
void p2v_badmap_free (struct p2v_badmap *m);
/* Records [offset, offset+length), merged with any range it overlaps
 * or touches.  A zero length is ignored.
 */
void p2v_badmap_add (struct p2v_badmap *m, uint64_t offset, uint64_t length);

/* Writes the map (format above) to path, via a temporary file renamed
 * into place so a crash never leaves half a map.  source and size only
 * fill the comment header.  Returns 0 or -1 (error printed).
 */
int p2v_badmap_write (const struct p2v_badmap *m, const char *path,
                      const char *source, uint64_t size);
/* Same text on a stream (e.g. stdout). */
int p2v_badmap_print (const struct p2v_badmap *m, FILE *out,
                      const char *source, uint64_t size);
/* Reads a map written by p2v_badmap_write into m (initialised by the
 * caller, ranges added to it).  Returns 0, or -1 with the file, line
 * and reason printed.
 */
int p2v_badmap_read (struct p2v_badmap *m, const char *path);

/* One line for the final report: "no unreadable sectors", or
 * "2 unreadable ranges, 4.5 KiB (4608 bytes) sent as zeros: 1048576+512,
 * 73400320+4096" with at most max_listed ranges then ", ..." — the map
 * file has them all.  Returns buf.
 */
const char *p2v_badmap_summary (const struct p2v_badmap *m, size_t max_listed,
                                char *buf, size_t len);

/* A reader that survives media errors. */
struct p2v_salvage {
  int fd;                 /* the caller's descriptor, not owned */
  char *path;             /* for messages */
  unsigned sector;        /* smallest piece retried: the logical block size */
  int direct_fd;          /* O_DIRECT reopen for the retries, or -1 */
  void *bounce;           /* aligned buffer for direct reads */
  size_t bounce_len;
  struct p2v_badmap *map; /* where unreadable ranges go, not owned */
};

/* Prepares to read fd (opened by the caller, e.g. p2v_source_open) and
 * to record into map.  The retry unit is the device's logical block
 * size (BLKSSZGET) for a block device, 512 otherwise.  Returns 0 or -1
 * (error printed).
 */
int p2v_salvage_init (struct p2v_salvage *s, int fd, const char *path,
                      struct p2v_badmap *map);
void p2v_salvage_close (struct p2v_salvage *s);

/* Reads [off, off+n) into buf like p2v_dev_pread, but a media error
 * (EIO, ENODATA, EREMOTEIO, EILSEQ) does not stop it: the failing part
 * is retried in halves down to s->sector, each piece that still fails
 * is zero-filled in buf and added to the map.  The retries use an
 * O_DIRECT descriptor when the source allows it, because buffered
 * reads fail a whole page (usually 4 KiB) for one bad 512-byte sector.
 * Returns the number of bytes of this range that stayed unreadable
 * (0 when everything was read), or -1 for any other error or an
 * unexpected end of file (printed).
 */
int64_t p2v_read_salvage (struct p2v_salvage *s, void *buf, size_t n, uint64_t off);

#endif
