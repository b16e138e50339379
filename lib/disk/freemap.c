#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "disk/freemap.h"

static int
by_offset (const void *a, const void *b)
{
  const struct p2v_extent *x = a, *y = b;
  return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort, merge touching and overlapping runs, and drop those shorter
 * than min_len.
 */
static void
compact (struct p2v_freemap *m)
{
  if (m->n > 1)       /* an empty map has no array: qsort must not see NULL */
    qsort (m->v, m->n, sizeof *m->v, by_offset);
  size_t k = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (k && m->v[k - 1].off + m->v[k - 1].len >= m->v[i].off) {
      uint64_t end = m->v[i].off + m->v[i].len;
      if (end > m->v[k - 1].off + m->v[k - 1].len)
        m->v[k - 1].len = end - m->v[k - 1].off;
    }
    else
      m->v[k++] = m->v[i];
  }
  m->n = 0;
  for (size_t i = 0; i < k; i++)
    if (m->v[i].len >= m->min_len)
      m->v[m->n++] = m->v[i];
  m->sorted = true;
}

void
p2v_freemap_add (struct p2v_freemap *m, uint64_t off, uint64_t len)
{
  if (len == 0 || len < m->min_len)
    return;
  if (m->n == m->cap) {
    if (m->cap == P2V_FREEMAP_MAX) {
      /* Full: merge, and when that is not enough give up the short runs. */
      compact (m);
      while (m->n > P2V_FREEMAP_MAX / 2) {
        m->min_len = m->min_len ? m->min_len * 2 : 8192;
        compact (m);
      }
      if (len < m->min_len)
        return;
    }
    else {
      m->cap = m->cap ? 2 * m->cap : 256;
      if (m->cap > P2V_FREEMAP_MAX)
        m->cap = P2V_FREEMAP_MAX;
      m->v = xrealloc (m->v, m->cap * sizeof *m->v);
    }
  }
  m->v[m->n++] = (struct p2v_extent) { off, len };
  m->sorted = false;
}

void
p2v_freemap_seal (struct p2v_freemap *m)
{
  compact (m);
}

/* The first extent that ends after off. */
static size_t
first_after (const struct p2v_freemap *m, uint64_t off)
{
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->v[mid].off + m->v[mid].len <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

uint64_t
p2v_freemap_bytes (const struct p2v_freemap *m, uint64_t off, uint64_t len)
{
  uint64_t end = off + len, n = 0;
  for (size_t i = first_after (m, off); i < m->n && m->v[i].off < end; i++) {
    uint64_t a = m->v[i].off > off ? m->v[i].off : off;
    uint64_t b = m->v[i].off + m->v[i].len < end ? m->v[i].off + m->v[i].len : end;
    n += b - a;
  }
  return n;
}

bool
p2v_freemap_covers (const struct p2v_freemap *m, uint64_t off, uint64_t len)
{
  return len && p2v_freemap_bytes (m, off, len) == len;
}

bool
p2v_freemap_next (const struct p2v_freemap *m, uint64_t off, uint64_t end, uint64_t min,
                  uint64_t *a, uint64_t *b)
{
  for (size_t i = first_after (m, off); i < m->n && m->v[i].off < end; i++) {
    if (m->v[i].len < min)
      continue;
    *a = m->v[i].off > off ? m->v[i].off : off;
    *b = m->v[i].off + m->v[i].len < end ? m->v[i].off + m->v[i].len : end;
    return true;
  }
  return false;
}

void
p2v_freemap_mask (const struct p2v_freemap *m, void *buf, size_t len, uint64_t off)
{
  uint64_t end = off + len;
  for (size_t i = first_after (m, off); i < m->n && m->v[i].off < end; i++) {
    uint64_t a = m->v[i].off > off ? m->v[i].off : off;
    uint64_t b = m->v[i].off + m->v[i].len < end ? m->v[i].off + m->v[i].len : end;
    memset ((char *) buf + (a - off), 0, b - a);
  }
}

void
p2v_freemap_free (struct p2v_freemap *m)
{
  free (m->v);
  memset (m, 0, sizeof *m);
}
