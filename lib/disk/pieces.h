/* Byte ranges of a disk read as one device, in order: an LV that LVM
 * laid out in pieces (extended after another LV was made), or a
 * partition, a single piece.  Reads through it, its free runs put on
 * the disk's map, and a libext2fs io manager over it, so --skip-free
 * reads an ext filesystem wherever its LV lies.
 */
#ifndef P2V_PIECES_H
#define P2V_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "disk/freemap.h"

struct p2v_run {
  uint64_t off, len;        /* bytes on the disk */
};

uint64_t p2v_pieces_len (const struct p2v_run *v, size_t n);

/* len bytes at offset at of the device the pieces make: 0, or -1 with
 * errno (EIO past its end).
 */
int p2v_pieces_pread (int fd, const struct p2v_run *v, size_t n, void *buf, size_t len,
                      uint64_t at);

/* [at, at + len) of the pieces' device, as the disk ranges it is. */
void p2v_pieces_add (struct p2v_freemap *map, const struct p2v_run *v, size_t n, uint64_t at,
                     uint64_t len);

/* The bytes of a sealed map inside the pieces. */
uint64_t p2v_pieces_bytes (const struct p2v_freemap *map, const struct p2v_run *v, size_t n);

/* An io manager reading the pieces of path (read-only; O_DIRECT on a
 * block device, as p2v_fsfree_ext does): the next ext2fs_open2 with it,
 * in this thread, opens them, whatever name it is given.
 */
io_manager p2v_pieces_io (const char *path, const struct p2v_run *v, size_t n);

#endif
