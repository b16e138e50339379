#include <config.h>

#include <string.h>

#include "stream/codec.h"
#include "stream/digest.h"
#include "stream/format.h"

uint16_t p2v_get16 (const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }
uint32_t
p2v_get32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
uint64_t p2v_get64 (const uint8_t *p) { return (uint64_t) p2v_get32 (p) << 32 | p2v_get32 (p + 4); }
void p2v_put16 (uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
void
p2v_put32 (uint8_t *p, uint32_t v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
void p2v_put64 (uint8_t *p, uint64_t v) { p2v_put32 (p, v >> 32); p2v_put32 (p + 4, (uint32_t) v); }

void
p2v_pack_preamble (uint8_t out[P2V_PREAMBLE_LEN])
{
  memcpy (out, P2V_MAGIC, 8);
  p2v_put16 (out + 8, P2V_VERSION_MAJOR);
  p2v_put16 (out + 10, P2V_VERSION_MINOR);
  p2v_put32 (out + 12, 0);
}

int
p2v_unpack_preamble (const uint8_t in[P2V_PREAMBLE_LEN], struct p2v_preamble *p)
{
  if (memcmp (in, P2V_MAGIC, 8) != 0)
    return -1;
  p->major = p2v_get16 (in + 8);
  p->minor = p2v_get16 (in + 10);
  p->flags = p2v_get32 (in + 12);
  /* A newer minor only adds optional records; a newer major may change
   * anything.
   */
  return p->major == P2V_VERSION_MAJOR ? 0 : -2;
}

void
p2v_pack_record_hdr (uint8_t out[P2V_RECORD_HDR_LEN], uint8_t type, uint8_t flags,
                     uint32_t length)
{
  out[0] = type;
  out[1] = flags;
  p2v_put16 (out + 2, 0);
  p2v_put32 (out + 4, length);
}

void
p2v_unpack_record_hdr (const uint8_t in[P2V_RECORD_HDR_LEN], struct p2v_record_hdr *h)
{
  h->type = in[0];
  h->flags = in[1];
  h->length = p2v_get32 (in + 4);
}

void
p2v_pack_source (uint8_t out[P2V_SOURCE_FIXED_LEN], const struct p2v_source_hdr *s)
{
  p2v_put32 (out, s->disk);
  p2v_put64 (out + 4, s->size);
  p2v_put32 (out + 12, s->chunk_size);
  out[16] = s->digest_id;
  out[17] = s->flags;
  p2v_put16 (out + 18, s->ndisks);
}

void
p2v_unpack_source (const uint8_t in[P2V_SOURCE_FIXED_LEN], struct p2v_source_hdr *s)
{
  s->disk = p2v_get32 (in);
  s->size = p2v_get64 (in + 4);
  s->chunk_size = p2v_get32 (in + 12);
  s->digest_id = in[16];
  s->flags = in[17];
  /* Written as 0 before several disks per session existed: one disk. */
  s->ndisks = p2v_get16 (in + 18) ? p2v_get16 (in + 18) : 1;
}

int
p2v_check_source (const struct p2v_source_hdr *s, const char **why)
{
  if (s->chunk_size < P2V_CHUNK_MIN || s->chunk_size > P2V_CHUNK_MAX
      || (s->chunk_size & (s->chunk_size - 1)) != 0) {
    *why = "chunk size is not a power of two between 64 KiB and 16 MiB";
    return -1;
  }
  if (s->ndisks > P2V_DISKS_MAX || s->disk >= s->ndisks) {
    *why = "disk index out of range";
    return -1;
  }
  /* A flag we do not know changes the meaning of what follows. */
  if (s->flags & ~P2V_SOURCE_FLAGS_KNOWN) {
    *why = "unknown source flags";
    return -1;
  }
  if (p2v_digest_size (s->digest_id) == 0) {
    *why = "unknown digest algorithm";
    return -1;
  }
  /* Offsets must stay representable as off_t. */
  if (s->size > (uint64_t) INT64_MAX - P2V_CHUNK_MAX) {
    *why = "source size is out of range";
    return -1;
  }
  return 0;
}

void
p2v_pack_accept (uint8_t out[P2V_ACCEPT_LEN], const struct p2v_accept *a)
{
  p2v_put32 (out, a->disk);
  p2v_put64 (out + 4, a->start_offset);
}

void
p2v_unpack_accept (const uint8_t in[P2V_ACCEPT_LEN], struct p2v_accept *a)
{
  a->disk = p2v_get32 (in);
  a->start_offset = p2v_get64 (in + 4);
}

void
p2v_pack_chunk_hdr (uint8_t out[P2V_CHUNK_HDR_LEN], const struct p2v_chunk_hdr *c)
{
  p2v_put32 (out, c->disk);
  out[4] = c->codec;
  out[5] = out[6] = out[7] = 0;
  p2v_put64 (out + 8, c->offset);
  p2v_put32 (out + 16, c->raw_len);
  p2v_put32 (out + 20, c->crc);
}

void
p2v_unpack_chunk_hdr (const uint8_t in[P2V_CHUNK_HDR_LEN], struct p2v_chunk_hdr *c)
{
  c->disk = p2v_get32 (in);
  c->codec = in[4];
  c->offset = p2v_get64 (in + 8);
  c->raw_len = p2v_get32 (in + 16);
  c->crc = p2v_get32 (in + 20);
}

size_t
p2v_pack_end (uint8_t *out, const struct p2v_end *e)
{
  p2v_put32 (out, e->disk);
  p2v_put64 (out + 4, e->total);
  out[12] = e->digest_len;
  memcpy (out + 13, e->digest, e->digest_len);
  return P2V_END_FIXED_LEN + e->digest_len;
}

int
p2v_unpack_end (const uint8_t *in, size_t len, struct p2v_end *e)
{
  if (len < P2V_END_FIXED_LEN)
    return -1;
  e->disk = p2v_get32 (in);
  e->total = p2v_get64 (in + 4);
  e->digest_len = in[12];
  if (e->digest_len > P2V_DIGEST_MAX || len != P2V_END_FIXED_LEN + (size_t) e->digest_len)
    return -1;
  memcpy (e->digest, in + 13, e->digest_len);
  return 0;
}

void
p2v_pack_refuse (uint8_t out[P2V_REFUSE_FIXED_LEN], uint32_t status)
{
  p2v_put32 (out, status);
}

int
p2v_unpack_refuse (const uint8_t *in, size_t len, uint32_t *status,
                   const char **msg, size_t *msg_len)
{
  if (len < P2V_REFUSE_FIXED_LEN)
    return -1;
  *status = p2v_get32 (in);
  *msg = (const char *) in + P2V_REFUSE_FIXED_LEN;
  *msg_len = len - P2V_REFUSE_FIXED_LEN;
  return 0;
}

size_t
p2v_pack_result (uint8_t *out, const struct p2v_result *r)
{
  p2v_put32 (out, r->disk);
  p2v_put32 (out + 4, r->status);
  out[8] = r->digest_len;
  memcpy (out + 9, r->digest, r->digest_len);
  return P2V_RESULT_FIXED_LEN + r->digest_len;
}

int
p2v_unpack_result (const uint8_t *in, size_t len, struct p2v_result *r,
                   const char **msg, size_t *msg_len)
{
  if (len < P2V_RESULT_FIXED_LEN)
    return -1;
  r->disk = p2v_get32 (in);
  r->status = p2v_get32 (in + 4);
  r->digest_len = in[8];
  if (r->digest_len > P2V_DIGEST_MAX || len < P2V_RESULT_FIXED_LEN + (size_t) r->digest_len)
    return -1;
  memcpy (r->digest, in + 9, r->digest_len);
  *msg = (const char *) in + P2V_RESULT_FIXED_LEN + r->digest_len;
  *msg_len = len - P2V_RESULT_FIXED_LEN - r->digest_len;
  return 0;
}

const char *
p2v_check_chunk (const struct p2v_source_hdr *sh, const struct p2v_chunk_hdr *h,
                 uint32_t payload, uint64_t expect,
                 uint32_t zero_crc_full, uint32_t zero_crc_last)
{
  if (expect >= sh->size)
    return "chunk past the end of the source";
  uint64_t left = sh->size - expect;
  uint32_t want = left < sh->chunk_size ? (uint32_t) left : sh->chunk_size;
  if (h->disk != sh->disk)
    return "chunk for a disk that is not in this session";
  if (h->offset != expect)
    return "chunk out of order";
  if (h->raw_len != want)
    return "chunk length does not match the source size";
  switch (h->codec) {
  case P2V_CODEC_ZERO:
    if (payload != 0)
      return "zero chunk with a payload";
    if (h->crc != (want == sh->chunk_size ? zero_crc_full : zero_crc_last))
      return "zero chunk with a wrong checksum";
    return NULL;
  case P2V_CODEC_STORED:
    return payload == h->raw_len ? NULL : "stored chunk of the wrong length";
  default:
    if (!p2v_codec_available (h->codec))
      return "chunk compressed with a codec this build does not have";
    /* The sender stores a chunk raw unless compression made it smaller. */
    return payload > 0 && payload < h->raw_len ? NULL : "compressed chunk of an impossible length";
  }
}

/* The length of chunk seq of the source: the last one may be short. */
static uint32_t
chunk_len_at (const struct p2v_source_hdr *sh, uint64_t off)
{
  uint64_t left = sh->size - off;
  return left < sh->chunk_size ? (uint32_t) left : sh->chunk_size;
}

void
p2v_pack_hashes_hdr (uint8_t out[P2V_HASHES_FIXED_LEN], const struct p2v_hashes_hdr *h)
{
  p2v_put32 (out, h->disk);
  p2v_put64 (out + 4, h->first);
  p2v_put32 (out + 12, h->count);
}

const char *
p2v_unpack_hashes (const uint8_t *in, size_t len, const struct p2v_source_hdr *sh,
                   struct p2v_hashes_hdr *h, const uint8_t **hashes)
{
  if (len < P2V_HASHES_FIXED_LEN)
    return "hash list too short";
  h->disk = p2v_get32 (in);
  h->first = p2v_get64 (in + 4);
  h->count = p2v_get32 (in + 12);
  uint64_t nchunks = (sh->size + sh->chunk_size - 1) / sh->chunk_size;
  if (h->disk != sh->disk)
    return "hash list for a disk that is not in this session";
  if (h->count == 0 || h->count > P2V_HASHES_MAX)
    return "hash list with an impossible count";
  if (len != P2V_HASHES_FIXED_LEN + (size_t) h->count * P2V_CHUNK_HASH_LEN)
    return "hash list length does not match its count";
  if (h->first >= nchunks || h->count > nchunks - h->first)
    return "hash list past the end of the source";
  *hashes = in + P2V_HASHES_FIXED_LEN;
  return NULL;
}

void
p2v_pack_same (uint8_t out[P2V_SAME_LEN], const struct p2v_same *s)
{
  p2v_put32 (out, s->disk);
  p2v_put64 (out + 4, s->offset);
  p2v_put32 (out + 12, s->raw_len);
  memcpy (out + 16, s->hash, P2V_CHUNK_HASH_LEN);
}

void
p2v_unpack_same (const uint8_t in[P2V_SAME_LEN], struct p2v_same *s)
{
  s->disk = p2v_get32 (in);
  s->offset = p2v_get64 (in + 4);
  s->raw_len = p2v_get32 (in + 12);
  memcpy (s->hash, in + 16, P2V_CHUNK_HASH_LEN);
}

const char *
p2v_check_same (const struct p2v_source_hdr *sh, const struct p2v_same *s, uint64_t expect)
{
  if (!(sh->flags & P2V_SOURCE_DELTA))
    return "unchanged-chunk record in a stream that is not a delta";
  if (expect >= sh->size)
    return "unchanged chunk past the end of the source";
  if (s->disk != sh->disk)
    return "unchanged chunk for a disk that is not in this session";
  if (s->offset != expect)
    return "unchanged chunk out of order";
  if (s->raw_len != chunk_len_at (sh, expect))
    return "unchanged chunk length does not match the source size";
  return NULL;
}
