/* Byte ranges of a source that its filesystems do not use (p2vsend
 * --skip-free): read as zeros, so they cost neither a read nor the
 * wire, and the digests on both ends cover the source as sent.
 *
 * Sorted, merged extents, searched by bisection (the reader goes in
 * order, but the workers and a resume's prefix re-hash do not).  The
 * count is bounded: past P2V_FREEMAP_MAX extents the shortest runs are
 * dropped (sent after all), so a badly fragmented filesystem costs at
 * most 64 MiB here, whatever its size.
 */
#ifndef P2V_FREEMAP_H
#define P2V_FREEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P2V_FREEMAP_MAX (4u << 20)

struct p2v_extent {
  uint64_t off, len;
};

struct p2v_freemap {
  struct p2v_extent *v;
  size_t n, cap;
  uint64_t min_len;         /* runs shorter than this were dropped */
  bool sorted;
};

/* [off, off + len) is free.  Any order; overlaps are merged. */
void p2v_freemap_add (struct p2v_freemap *m, uint64_t off, uint64_t len);
/* Sort and merge: call once after the last add, before the lookups. */
void p2v_freemap_seal (struct p2v_freemap *m);
/* Free bytes in [off, off + len). */
uint64_t p2v_freemap_bytes (const struct p2v_freemap *m, uint64_t off, uint64_t len);
/* Is all of [off, off + len) free? */
bool p2v_freemap_covers (const struct p2v_freemap *m, uint64_t off, uint64_t len);
/* The first free run of at least min bytes that ends after off and
 * starts before end, clipped to [off, end), in [*a, *b).  false: none.
 */
bool p2v_freemap_next (const struct p2v_freemap *m, uint64_t off, uint64_t end, uint64_t min,
                       uint64_t *a, uint64_t *b);
/* Zero the free parts of buf, which holds [off, off + len). */
void p2v_freemap_mask (const struct p2v_freemap *m, void *buf, size_t len, uint64_t off);
void p2v_freemap_free (struct p2v_freemap *m);

#endif
