/* Unreadable sectors: the bad-sector map and the retrying reader.
 *
 * Retry strategy: the caller's read (a whole chunk, usually 4 MiB) is
 * tried once as it is.  When it fails with a media error, the failing
 * rest is cut in two at a sector boundary and each half is read again;
 * a half that fails is cut again, down to one sector, which is then
 * given up on: zeros in the buffer, a range in the map.  One bad
 * sector in a 4 MiB chunk costs about 2 × 13 reads, and every readable
 * sector around it is recovered.  (ddrescue does better on large dead
 * areas by skipping ahead first; a P2V copy reads each chunk once, in
 * order, so bisection keeps it simple and bounded by the chunk.)
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/humanize.h"
#include "common/parse.h"
#include "disk/salvage.h"
#include "common/util.h"

/* Direct reads go through a bounce buffer of this size; larger pieces
 * are split without being read, which the bisection does anyway.
 */
#define BOUNCE_LEN (1024 * 1024)

void
p2v_badmap_init (struct p2v_badmap *m)
{
  memset (m, 0, sizeof *m);
}

void
p2v_badmap_free (struct p2v_badmap *m)
{
  free (m->r);
  memset (m, 0, sizeof *m);
}

void
p2v_badmap_add (struct p2v_badmap *m, uint64_t offset, uint64_t length)
{
  if (length == 0)
    return;
  if (length > UINT64_MAX - offset)
    length = UINT64_MAX - offset;
  uint64_t end = offset + length;

  /* First range that ends at or after offset: it may touch ours. */
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->r[mid].offset + m->r[mid].length < offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Swallow every range that starts at or before our end. */
  size_t j = lo;
  while (j < m->n && m->r[j].offset <= end) {
    if (m->r[j].offset < offset)
      offset = m->r[j].offset;
    if (m->r[j].offset + m->r[j].length > end)
      end = m->r[j].offset + m->r[j].length;
    m->bytes -= m->r[j].length;
    j++;
  }
  size_t merged = j - lo;
  if (merged == 0) {
    if (m->n == m->cap) {
      m->cap = m->cap ? 2 * m->cap : 16;
      m->r = xrealloc (m->r, m->cap * sizeof *m->r);
    }
    memmove (&m->r[lo + 1], &m->r[lo], (m->n - lo) * sizeof *m->r);
    m->n++;
  }
  else if (merged > 1) {
    memmove (&m->r[lo + 1], &m->r[j], (m->n - j) * sizeof *m->r);
    m->n -= merged - 1;
  }
  m->r[lo].offset = offset;
  m->r[lo].length = end - offset;
  m->bytes += end - offset;
}

int
p2v_badmap_print (const struct p2v_badmap *m, FILE *out,
                  const char *source, uint64_t size)
{
  fprintf (out, "# p2vstream bad-sector map\n");
  fprintf (out, "# source: %s\n", source ? source : "-");
  fprintf (out, "# size: %" PRIu64 "\n", size);
  fprintf (out, "# ranges: %zu, bytes: %" PRIu64 "\n", m->n, m->bytes);
  fprintf (out, "# offset length\n");
  for (size_t i = 0; i < m->n; i++)
    fprintf (out, "%" PRIu64 " %" PRIu64 "\n", m->r[i].offset, m->r[i].length);
  return ferror (out) ? -1 : 0;
}

struct badmap_file {
  const struct p2v_badmap *m;
  const char *source;
  uint64_t size;
};

static int
badmap_fill (FILE *f, const void *arg)
{
  const struct badmap_file *b = arg;
  return p2v_badmap_print (b->m, f, b->source, b->size);
}

int
p2v_badmap_write (const struct p2v_badmap *m, const char *path,
                  const char *source, uint64_t size)
{
  /* A map holds nothing secret. */
  struct badmap_file b = { m, source, size };
  if (p2v_replace_file (path, 0644, badmap_fill, &b) == -1) {
    p2v_error ("cannot write the bad-sector map %s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}

int
p2v_badmap_read (struct p2v_badmap *m, const char *path)
{
  FILE *f = fopen (path, "r");
  if (!f) {
    p2v_error ("cannot open the bad-sector map %s: %s", path, strerror (errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned lineno = 0;
  uint64_t prev_end = 0;
  bool first = true;
  int ret = 0;
  const char *why = NULL;

  while ((len = getline (&line, &cap, f)) != -1) {
    lineno++;
    if (len > 0 && line[len - 1] == '\n')
      line[--len] = '\0';
    if (line[0] == '#')
      continue;
    if ((size_t) len != strlen (line)) {
      why = "a NUL byte";
      break;
    }
    char *sp = strchr (line, ' ');
    uint64_t off, n;
    if (!sp) {
      why = "expected \"OFFSET LENGTH\"";
      break;
    }
    *sp = '\0';
    if (p2v_parse_u64 (line, &off) == -1 || p2v_parse_u64 (sp + 1, &n) == -1) {
      why = "expected two unsigned decimal numbers \"OFFSET LENGTH\"";
      break;
    }
    if (n == 0 || n > UINT64_MAX - off) {
      why = "empty or overflowing range";
      break;
    }
    /* The writer merges touching ranges, so anything else is not ours. */
    if (!first && off <= prev_end) {
      why = "ranges out of order, overlapping or touching";
      break;
    }
    first = false;
    prev_end = off + n;
    p2v_badmap_add (m, off, n);
  }
  if (why) {
    p2v_error ("%s:%u: %s", path, lineno, why);
    ret = -1;
  }
  else if (ferror (f)) {
    p2v_error ("cannot read the bad-sector map %s: %s", path, strerror (errno));
    ret = -1;
  }
  free (line);
  fclose (f);
  return ret;
}

const char *
p2v_badmap_summary (const struct p2v_badmap *m, size_t max_listed,
                    char *buf, size_t len)
{
  char h[P2V_HUMAN_LEN];
  if (len == 0)
    return buf;
  if (m->n == 0) {
    snprintf (buf, len, "no unreadable sectors");
    return buf;
  }
  size_t used = snprintf (buf, len, "%zu unreadable range%s, %s (%" PRIu64
                          " bytes) sent as zeros:",
                          m->n, m->n == 1 ? "" : "s",
                          p2v_human_size (m->bytes, h), m->bytes);
  for (size_t i = 0; i < m->n && used < len; i++) {
    if (i == max_listed) {
      snprintf (buf + used, len - used, " ...");
      break;
    }
    used += snprintf (buf + used, len - used, "%s %" PRIu64 "+%" PRIu64,
                      i ? "," : "", m->r[i].offset, m->r[i].length);
  }
  return buf;
}

int
p2v_salvage_init (struct p2v_salvage *s, int fd, const char *path,
                  struct p2v_badmap *map)
{
  struct stat st;
  memset (s, 0, sizeof *s);
  s->fd = fd;
  s->direct_fd = -1;
  s->map = map;
  s->path = xstrdup (path);
  s->sector = 512;
  if (fstat (fd, &st) == -1) {
    p2v_error ("cannot stat %s: %s", path, strerror (errno));
    p2v_salvage_close (s);
    return -1;
  }
  if (S_ISBLK (st.st_mode)) {
    int ss;
    if (ioctl (fd, BLKSSZGET, &ss) == -1) {
      p2v_error ("cannot get the sector size of %s: %s", path, strerror (errno));
      p2v_salvage_close (s);
      return -1;
    }
    if (ss >= 512 && (ss & (ss - 1)) == 0)
      s->sector = ss;
  }
  return 0;
}

void
p2v_salvage_close (struct p2v_salvage *s)
{
  if (s->direct_fd >= 0)
    close (s->direct_fd);
  s->direct_fd = -1;
  free (s->bounce);
  s->bounce = NULL;
  free (s->path);
  s->path = NULL;
}

static bool
media_error (int e)
{
  return e == EIO || e == ENODATA || e == EREMOTEIO || e == EILSEQ || e == EBADMSG;
}

/* The retries want sector granularity, which buffered reads cannot
 * give: the page cache fails a whole page for one bad sector.  Reopen
 * the caller's descriptor (it may be a path that no longer names it)
 * with O_DIRECT; where that is refused, retry through the page cache.
 */
static void
open_direct (struct p2v_salvage *s)
{
  char proc[64];
  if (s->bounce)
    return;
  s->bounce = xaligned_alloc (BOUNCE_LEN);
  s->bounce_len = BOUNCE_LEN;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", s->fd);
  s->direct_fd = open (proc, O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (s->direct_fd == -1)
    s->direct_fd = open (s->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
}

enum { READ_OK = 0, READ_BAD = 1, READ_FATAL = -1 };

static int
read_fatal (struct p2v_salvage *s, uint64_t off, int e)
{
  p2v_error ("read error on %s at offset %" PRIu64 ": %s", s->path, off,
             e ? strerror (e) : "unexpected end of file (did the source shrink?)");
  return READ_FATAL;
}

/* Reads [off, off+n) exactly: READ_OK, READ_BAD on a media error, or
 * READ_FATAL (printed).
 */
static int
read_buffered (struct p2v_salvage *s, char *buf, size_t n, uint64_t off)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread (s->fd, buf + got, n - got, off + got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1 && media_error (errno))
      return READ_BAD;
    if (r <= 0)
      return read_fatal (s, off + got, r == 0 ? 0 : errno);
    got += r;
  }
  return READ_OK;
}

static int
read_piece (struct p2v_salvage *s, char *buf, size_t n, uint64_t off)
{
  if (s->direct_fd == -1)
    return read_buffered (s, buf, n, off);

  uint64_t a_off = off / s->sector * s->sector;
  uint64_t a_end = (off + n + s->sector - 1) / s->sector * s->sector;
  if (a_end - a_off > s->bounce_len)
    return READ_BAD;            /* too big to read directly: split it */
  size_t want = off + n - a_off, got = 0;
  while (got < want) {
    ssize_t r = pread (s->direct_fd, (char *) s->bounce + got,
                       a_end - a_off - got, a_off + got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1 && errno == EINVAL && got == 0) {
      /* The file system refuses direct reads here after all. */
      close (s->direct_fd);
      s->direct_fd = -1;
      return read_buffered (s, buf, n, off);
    }
    if (r == -1 && media_error (errno))
      return READ_BAD;
    if (r <= 0)
      return read_fatal (s, a_off + got, r == 0 ? 0 : errno);
    got += r;
    /* A short direct read that is not at the end means the next
     * sector failed; keep reading so the error, if any, is seen.
     */
  }
  memcpy (buf, (char *) s->bounce + (off - a_off), n);
  return READ_OK;
}

/* Recovers what it can of [off, off+n); known_bad skips the first read
 * when the caller just saw this very range fail.  Returns the bytes
 * given up on, or -1.
 */
static int64_t
salvage (struct p2v_salvage *s, char *buf, size_t n, uint64_t off, bool known_bad)
{
  if (!known_bad) {
    int r = read_piece (s, buf, n, off);
    if (r == READ_OK)
      return 0;
    if (r == READ_FATAL)
      return -1;
  }
  uint64_t end = off + n;
  if (off / s->sector == (end - 1) / s->sector) {
    /* Within one sector: nothing smaller is worth asking the drive. */
    memset (buf, 0, n);
    p2v_badmap_add (s->map, off, n);
    return n;
  }
  uint64_t mid = (off + n / 2) / s->sector * s->sector;
  if (mid <= off)
    mid = (off / s->sector + 1) * s->sector;
  int64_t a = salvage (s, buf, mid - off, off, false);
  if (a == -1)
    return -1;
  int64_t b = salvage (s, buf + (mid - off), end - mid, mid, false);
  if (b == -1)
    return -1;
  return a + b;
}

int64_t
p2v_read_salvage (struct p2v_salvage *s, void *buf, size_t n, uint64_t off)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread (s->fd, (char *) buf + got, n - got, off + got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1 && media_error (errno)) {
      open_direct (s);
      return salvage (s, (char *) buf + got, n - got, off + got, true);
    }
    if (r <= 0)
      return read_fatal (s, off + got, r == 0 ? 0 : errno);
    got += r;
  }
  return 0;
}
