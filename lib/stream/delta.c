#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "stream/delta.h"
#include "common/util.h"

uint32_t
p2v_delta_window (uint32_t chunk_size)
{
  uint32_t w = P2V_DELTA_AHEAD_BYTES / chunk_size;
  /* With 16 MiB chunks the window still holds a few HASHES batches, so
   * the sender rarely waits for the next one.
   */
  return w < 16 ? 16 : w;
}

struct p2v_delta *
p2v_delta_new (uint64_t nchunks, uint32_t chunk_size)
{
  struct p2v_delta *d = xcalloc (1, sizeof *d);
  pthread_mutex_init (&d->lock, NULL);
  pthread_cond_init (&d->cond, NULL);
  d->window = p2v_delta_window (chunk_size);
  d->hash = xcalloc (d->window, P2V_CHUNK_HASH_LEN);
  d->nchunks = nchunks;
  return d;
}

void
p2v_delta_free (struct p2v_delta *d)
{
  if (!d)
    return;
  pthread_cond_destroy (&d->cond);
  pthread_mutex_destroy (&d->lock);
  free (d->hash);
  free (d);
}

void
p2v_delta_abort (struct p2v_delta *d)
{
  pthread_mutex_lock (&d->lock);
  d->aborted = true;
  pthread_cond_broadcast (&d->cond);
  pthread_mutex_unlock (&d->lock);
}

static uint8_t *
slot (struct p2v_delta *d, uint64_t k)
{
  return d->hash + (k % d->window) * P2V_CHUNK_HASH_LEN;
}

bool
p2v_delta_room (struct p2v_delta *d, uint64_t k)
{
  pthread_mutex_lock (&d->lock);
  bool room = k < d->settled + d->window;
  pthread_mutex_unlock (&d->lock);
  return room;
}

int
p2v_delta_wait_room (struct p2v_delta *d, uint64_t k)
{
  pthread_mutex_lock (&d->lock);
  while (!d->aborted && k >= d->settled + d->window)
    pthread_cond_wait (&d->cond, &d->lock);
  int r = d->aborted ? -1 : 0;
  pthread_mutex_unlock (&d->lock);
  return r;
}

const char *
p2v_delta_add (struct p2v_delta *d, uint64_t first, uint32_t count, const uint8_t *hashes)
{
  const char *why = NULL;
  pthread_mutex_lock (&d->lock);
  if (first != d->known)
    why = "chunk hashes out of order";
  else if (count > d->nchunks - first)
    why = "chunk hashes past the end of the source";
  /* Past the window the entries still needed would be overwritten. */
  else if (first + count > d->settled + d->window)
    why = "chunk hashes further ahead than the window allows";
  else {
    for (uint32_t i = 0; i < count; i++)
      memcpy (slot (d, first + i), hashes + (size_t) i * P2V_CHUNK_HASH_LEN,
              P2V_CHUNK_HASH_LEN);
    d->known = first + count;
    pthread_cond_broadcast (&d->cond);
  }
  pthread_mutex_unlock (&d->lock);
  return why;
}

int
p2v_delta_get (struct p2v_delta *d, uint64_t k, uint8_t out[P2V_CHUNK_HASH_LEN])
{
  pthread_mutex_lock (&d->lock);
  while (!d->aborted && k >= d->known)
    pthread_cond_wait (&d->cond, &d->lock);
  int r = -1;
  /* Below settled the entry may already hold a later chunk's hash. */
  if (!d->aborted && k >= d->settled) {
    memcpy (out, slot (d, k), P2V_CHUNK_HASH_LEN);
    r = 0;
  }
  pthread_mutex_unlock (&d->lock);
  return r;
}

bool
p2v_delta_announced (struct p2v_delta *d, uint64_t k)
{
  pthread_mutex_lock (&d->lock);
  bool yes = k >= d->settled && k < d->known;
  pthread_mutex_unlock (&d->lock);
  return yes;
}

const char *
p2v_delta_check_same (struct p2v_delta *d, uint64_t k, const uint8_t hash[P2V_CHUNK_HASH_LEN])
{
  const char *why = NULL;
  pthread_mutex_lock (&d->lock);
  if (k < d->settled || k >= d->known)
    why = "unchanged chunk whose hash the receiver did not announce";
  else if (memcmp (slot (d, k), hash, P2V_CHUNK_HASH_LEN) != 0)
    why = "unchanged chunk with another hash than the receiver announced";
  pthread_mutex_unlock (&d->lock);
  return why;
}

uint64_t
p2v_delta_known (struct p2v_delta *d)
{
  pthread_mutex_lock (&d->lock);
  uint64_t k = d->known;
  pthread_mutex_unlock (&d->lock);
  return k;
}

void
p2v_delta_settle (struct p2v_delta *d, uint64_t k)
{
  pthread_mutex_lock (&d->lock);
  if (k + 1 > d->settled) {
    d->settled = k + 1;
    pthread_cond_broadcast (&d->cond);
  }
  pthread_mutex_unlock (&d->lock);
}
