#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "disk/pieces.h"

uint64_t
p2v_pieces_len (const struct p2v_run *v, size_t n)
{
  uint64_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += v[i].len;
  return len;
}

/* Calls fn for each disk range that [at, at + len) of the pieces is;
 * false when it runs past their end.
 */
static bool
each_range (const struct p2v_run *v, size_t n, uint64_t at, uint64_t len,
            bool (*fn) (void *arg, uint64_t disk, uint64_t len, uint64_t done), void *arg)
{
  uint64_t base = 0, done = 0;
  for (size_t i = 0; i < n && len; base += v[i].len, i++) {
    if (at >= base + v[i].len)
      continue;
    uint64_t in = at - base, k = v[i].len - in < len ? v[i].len - in : len;
    if (!fn (arg, v[i].off + in, k, done))
      return false;
    at += k;
    len -= k;
    done += k;
  }
  return len == 0;
}

struct read_arg {
  int fd;
  uint8_t *buf;
};

static bool
read_range (void *arg, uint64_t disk, uint64_t len, uint64_t done)
{
  struct read_arg *r = arg;
  return p2v_pread_full (r->fd, r->buf + done, len, disk, NULL) == 0;
}

int
p2v_pieces_pread (int fd, const struct p2v_run *v, size_t n, void *buf, size_t len, uint64_t at)
{
  struct read_arg r = { fd, buf };
  errno = 0;
  if (each_range (v, n, at, len, read_range, &r))
    return 0;
  if (errno == 0)
    errno = EIO;
  return -1;
}

static bool
add_range (void *arg, uint64_t disk, uint64_t len, uint64_t done)
{
  (void) done;
  p2v_freemap_add (arg, disk, len);
  return true;
}

void
p2v_pieces_add (struct p2v_freemap *map, const struct p2v_run *v, size_t n, uint64_t at,
                uint64_t len)
{
  each_range (v, n, at, len, add_range, map);
}

uint64_t
p2v_pieces_bytes (const struct p2v_freemap *map, const struct p2v_run *v, size_t n)
{
  uint64_t b = 0;
  for (size_t i = 0; i < n; i++)
    b += p2v_freemap_bytes (map, v[i].off, v[i].len);
  return b;
}

/* The io manager.  libext2fs passes no argument to open but a name:
 * what to open is left here by p2v_pieces_io, for the one open that
 * follows in the same thread.
 */
struct channel_data {
  int fd;
  bool direct;
  struct p2v_run *v;
  size_t n;
  uint8_t *bounce;          /* O_DIRECT: aligned reads land here first */
  size_t bounce_len;
};

static __thread struct {
  const char *path;
  const struct p2v_run *v;
  size_t n;
} next_open;

#define ALIGN 4096

static errcode_t
pieces_read (io_channel ch, unsigned long long block, int count, void *data)
{
  struct channel_data *d = ch->private_data;
  uint64_t len = count < 0 ? (uint64_t) -(int64_t) count : (uint64_t) count * (uint64_t) ch->block_size;
  uint64_t at = block * (uint64_t) ch->block_size;
  if (!d->direct)
    return p2v_pieces_pread (d->fd, d->v, d->n, data, len, at) == 0 ? 0 : EXT2_ET_SHORT_READ;
  /* Every piece starts on an extent boundary, so aligning the pieces'
   * offsets aligns the disk's.
   */
  uint64_t a = at & ~(uint64_t) (ALIGN - 1);
  uint64_t span = ((at + len + ALIGN - 1) & ~(uint64_t) (ALIGN - 1)) - a;
  if (span > d->bounce_len) {
    free (d->bounce);
    d->bounce = NULL;
    d->bounce_len = 0;
    if (posix_memalign ((void **) &d->bounce, ALIGN, span) != 0)
      return EXT2_ET_NO_MEMORY;
    d->bounce_len = span;
  }
  if (p2v_pieces_pread (d->fd, d->v, d->n, d->bounce, span, a) == -1)
    return EXT2_ET_SHORT_READ;
  memcpy (data, d->bounce + (at - a), len);
  return 0;
}

static errcode_t
pieces_read32 (io_channel ch, unsigned long block, int count, void *data)
{
  return pieces_read (ch, block, count, data);
}

static errcode_t
pieces_write (io_channel ch, unsigned long long block, int count, const void *data)
{
  (void) ch, (void) block, (void) count, (void) data;
  return EXT2_ET_OP_NOT_SUPPORTED;
}

static errcode_t
pieces_write32 (io_channel ch, unsigned long block, int count, const void *data)
{
  return pieces_write (ch, block, count, data);
}

static errcode_t
pieces_set_blksize (io_channel ch, int blksize)
{
  ch->block_size = blksize;
  return 0;
}

static errcode_t
pieces_flush (io_channel ch)
{
  (void) ch;
  return 0;
}

static errcode_t
pieces_close (io_channel ch)
{
  if (--ch->refcount > 0)
    return 0;
  struct channel_data *d = ch->private_data;
  close (d->fd);
  free (d->bounce);
  free (d->v);
  free (d);
  free (ch->name);
  free (ch);
  return 0;
}

static errcode_t pieces_open (const char *name, int flags, io_channel *channel);

static struct struct_io_manager pieces_manager = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "p2vstream pieces",
  .open = pieces_open,
  .close = pieces_close,
  .set_blksize = pieces_set_blksize,
  .read_blk = pieces_read32,
  .write_blk = pieces_write32,
  .flush = pieces_flush,
  .read_blk64 = pieces_read,
  .write_blk64 = pieces_write,
};

static errcode_t
pieces_open (const char *name, int flags, io_channel *channel)
{
  if (!next_open.path || (flags & IO_FLAG_RW))
    return EXT2_ET_BAD_DEVICE_NAME;
  struct stat st;
  bool direct = stat (next_open.path, &st) == 0 && S_ISBLK (st.st_mode);
  int fd = open (next_open.path, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
  if (fd == -1)
    return errno;
  struct channel_data *d = xcalloc (1, sizeof *d);
  d->fd = fd;
  d->direct = direct;
  d->n = next_open.n;
  d->v = xmalloc (d->n * sizeof *d->v);
  memcpy (d->v, next_open.v, d->n * sizeof *d->v);
  next_open.path = NULL;
  io_channel ch = xcalloc (1, sizeof *ch);
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &pieces_manager;
  ch->name = xstrdup (name);
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = d;
  *channel = ch;
  return 0;
}

io_manager
p2v_pieces_io (const char *path, const struct p2v_run *v, size_t n)
{
  next_open.path = path;
  next_open.v = v;
  next_open.n = n;
  return &pieces_manager;
}
