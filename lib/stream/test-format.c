#include <config.h>

#include "stream/codec.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "common/test.h"

int
main (void)
{
  uint8_t pre[P2V_PREAMBLE_LEN];
  struct p2v_preamble p;
  p2v_pack_preamble (pre);
  CHECK (memcmp (pre, "P2VSTRM\n", 8) == 0);
  CHECK (p2v_unpack_preamble (pre, &p) == 0 && p.major == 1 && p.minor == 1);
  pre[9] = 2;                                 /* major 2 */
  CHECK (p2v_unpack_preamble (pre, &p) == -2);
  pre[0] = 'X';
  CHECK (p2v_unpack_preamble (pre, &p) == -1);

  uint8_t rh[P2V_RECORD_HDR_LEN];
  struct p2v_record_hdr h;
  p2v_pack_record_hdr (rh, P2V_REC_CHUNK, P2V_RECF_SEALED, 0x01020304);
  p2v_unpack_record_hdr (rh, &h);
  CHECK (h.type == P2V_REC_CHUNK && h.flags == P2V_RECF_SEALED && h.length == 0x01020304);
  CHECK (rh[4] == 1 && rh[7] == 4);            /* big-endian on the wire */

  struct p2v_source_hdr s = { .size = 68719476736ull + 5, .chunk_size = 4 << 20,
                              .digest_id = P2V_DIGEST_SHA256 }, s2;
  uint8_t sb[P2V_SOURCE_FIXED_LEN];
  const char *why;
  p2v_pack_source (sb, &s);
  p2v_unpack_source (sb, &s2);
  CHECK (s2.size == s.size && s2.chunk_size == s.chunk_size && s2.digest_id == s.digest_id);
  CHECK (p2v_check_source (&s2, &why) == 0);
  s2.chunk_size = 3 << 20;
  CHECK (p2v_check_source (&s2, &why) == -1);
  s2.chunk_size = 32 << 20;
  CHECK (p2v_check_source (&s2, &why) == -1);
  s2.chunk_size = 1 << 20;
  /* Ids 1-4 and 6-9 are digests; 5 (the retired sha256-tree) and
   * anything past 9 are not.
   */
  for (int id = 0; id < 256; id++) {
    s2.digest_id = (uint8_t) id;
    bool known = (id >= 1 && id <= 4) || (id >= 6 && id <= 9);
    CHECK ((p2v_check_source (&s2, &why) == 0) == known);
  }
  s2.digest_id = P2V_DIGEST_MD5;
  s2.size = UINT64_MAX;
  CHECK (p2v_check_source (&s2, &why) == -1);
  /* Byte 17: the delta flag travels; an unknown flag is refused. */
  s.flags = P2V_SOURCE_DELTA;
  p2v_pack_source (sb, &s);
  CHECK (sb[17] == P2V_SOURCE_DELTA);
  p2v_unpack_source (sb, &s2);
  CHECK (s2.flags == P2V_SOURCE_DELTA && p2v_check_source (&s2, &why) == 0);
  sb[17] = 0x02;
  p2v_unpack_source (sb, &s2);
  CHECK (p2v_check_source (&s2, &why) == -1);

  struct p2v_chunk_hdr c = { 7, 3, 0x123456789abcull, 4194304, 0xdeadbeef }, c2;
  uint8_t cb[P2V_CHUNK_HDR_LEN];
  p2v_pack_chunk_hdr (cb, &c);
  p2v_unpack_chunk_hdr (cb, &c2);
  CHECK (c2.disk == 7 && c2.codec == 3 && c2.offset == c.offset
         && c2.raw_len == c.raw_len && c2.crc == c.crc);

  struct p2v_accept a = { 1, 99 }, a2;
  uint8_t ab[P2V_ACCEPT_LEN];
  p2v_pack_accept (ab, &a);
  p2v_unpack_accept (ab, &a2);
  CHECK (a2.disk == 1 && a2.start_offset == 99);

  struct p2v_end e = { 0, 1234, 32, { 0 } }, e2;
  for (int i = 0; i < 32; i++)
    e.digest[i] = (uint8_t) i;
  uint8_t eb[P2V_END_FIXED_LEN + P2V_DIGEST_MAX];
  size_t n = p2v_pack_end (eb, &e);
  CHECK (n == P2V_END_FIXED_LEN + 32);
  CHECK (p2v_unpack_end (eb, n, &e2) == 0 && e2.total == 1234 && e2.digest_len == 32
         && memcmp (e2.digest, e.digest, 32) == 0);
  CHECK (p2v_unpack_end (eb, n - 1, &e2) == -1);       /* length lies */
  CHECK (p2v_unpack_end (eb, 5, &e2) == -1);
  eb[12] = 200;                                        /* digest_len too big */
  CHECK (p2v_unpack_end (eb, n, &e2) == -1);

  struct p2v_result r = { 0, 5, 16, { 1, 2, 3 } }, r2;
  uint8_t rb[P2V_RESULT_FIXED_LEN + P2V_DIGEST_MAX + 16];
  n = p2v_pack_result (rb, &r);
  memcpy (rb + n, "mismatch", 8);
  const char *msg;
  size_t mlen;
  CHECK (p2v_unpack_result (rb, n + 8, &r2, &msg, &mlen) == 0 && r2.status == 5
         && r2.digest_len == 16 && mlen == 8 && memcmp (msg, "mismatch", 8) == 0);
  CHECK (p2v_unpack_result (rb, 10, &r2, &msg, &mlen) == -1);
  /* REFUSE: a status, then the reason. */
  uint8_t fb[P2V_REFUSE_FIXED_LEN + 9];
  uint32_t fst = 0;
  p2v_pack_refuse (fb, 6);
  memcpy (fb + P2V_REFUSE_FIXED_LEN, "too small", 9);
  CHECK (p2v_unpack_refuse (fb, sizeof fb, &fst, &msg, &mlen) == 0 && fst == 6
         && mlen == 9 && memcmp (msg, "too small", 9) == 0);
  CHECK (p2v_unpack_refuse (fb, 3, &fst, &msg, &mlen) == -1);
  /* Chunk frames: only exactly the next chunk is acceptable. */
  struct p2v_source_hdr sh = { .size = 10 * 65536 + 100, .chunk_size = 65536,
                               .digest_id = P2V_DIGEST_SHA256 };
  struct p2v_chunk_hdr k = { 0, P2V_CODEC_STORED, 65536, 65536, 0 };
  CHECK (p2v_check_chunk (&sh, &k, 65536, 65536, 1, 2) == NULL);
  CHECK (p2v_check_chunk (&sh, &k, 65536, 0, 1, 2) != NULL);          /* out of order */
  CHECK (p2v_check_chunk (&sh, &k, 65535, 65536, 1, 2) != NULL);      /* short payload */
  k.raw_len = 65537;
  CHECK (p2v_check_chunk (&sh, &k, 65537, 65536, 1, 2) != NULL);      /* longer than a chunk */
  k.offset = 10 * 65536;
  k.raw_len = 100;
  CHECK (p2v_check_chunk (&sh, &k, 100, 10 * 65536, 1, 2) == NULL);   /* the short last one */
  k.raw_len = 65536;
  CHECK (p2v_check_chunk (&sh, &k, 65536, 10 * 65536, 1, 2) != NULL); /* past the end */
  CHECK (p2v_check_chunk (&sh, &k, 65536, 11 * 65536, 1, 2) != NULL);
  k.offset = 0;
  k.codec = P2V_CODEC_ZERO;
  k.crc = 1;
  CHECK (p2v_check_chunk (&sh, &k, 0, 0, 1, 2) == NULL);
  CHECK (p2v_check_chunk (&sh, &k, 5, 0, 1, 2) != NULL);              /* zero with payload */
  k.crc = 2;
  CHECK (p2v_check_chunk (&sh, &k, 0, 0, 1, 2) != NULL);              /* wrong zero CRC */
  k.codec = P2V_CODEC_ZLIB;
  CHECK (p2v_check_chunk (&sh, &k, 65536, 0, 1, 2) != NULL);          /* "compressed", not smaller */
  CHECK (p2v_check_chunk (&sh, &k, 0, 0, 1, 2) != NULL);
  CHECK (p2v_check_chunk (&sh, &k, 1000, 0, 1, 2) == NULL);
  k.codec = 99;
  CHECK (p2v_check_chunk (&sh, &k, 1000, 0, 1, 2) != NULL);
  k.codec = P2V_CODEC_STORED;
  k.disk = 1;
  CHECK (p2v_check_chunk (&sh, &k, 65536, 0, 1, 2) != NULL);

  /* HASHES: framing only; 11 chunks in sh. */
  uint8_t hb[P2V_HASHES_FIXED_LEN + 3 * P2V_CHUNK_HASH_LEN];
  struct p2v_hashes_hdr hh = { 0, 8, 3 }, hh2;
  const uint8_t *hashes;
  memset (hb, 0xab, sizeof hb);
  p2v_pack_hashes_hdr (hb, &hh);
  CHECK (p2v_unpack_hashes (hb, sizeof hb, &sh, &hh2, &hashes) == NULL);
  CHECK (hh2.first == 8 && hh2.count == 3 && hashes == hb + P2V_HASHES_FIXED_LEN);
  CHECK (p2v_unpack_hashes (hb, sizeof hb - 1, &sh, &hh2, &hashes) != NULL);  /* length lies */
  CHECK (p2v_unpack_hashes (hb, 15, &sh, &hh2, &hashes) != NULL);
  hh.first = 9;                                        /* 9, 10, 11: past the end */
  p2v_pack_hashes_hdr (hb, &hh);
  CHECK (p2v_unpack_hashes (hb, sizeof hb, &sh, &hh2, &hashes) != NULL);
  hh.first = UINT64_MAX - 1;                           /* no wrap-around */
  p2v_pack_hashes_hdr (hb, &hh);
  CHECK (p2v_unpack_hashes (hb, sizeof hb, &sh, &hh2, &hashes) != NULL);
  hh = (struct p2v_hashes_hdr) { 0, 0, 0 };            /* empty */
  p2v_pack_hashes_hdr (hb, &hh);
  CHECK (p2v_unpack_hashes (hb, P2V_HASHES_FIXED_LEN, &sh, &hh2, &hashes) != NULL);
  hh = (struct p2v_hashes_hdr) { 1, 0, 3 };            /* another disk */
  p2v_pack_hashes_hdr (hb, &hh);
  CHECK (p2v_unpack_hashes (hb, sizeof hb, &sh, &hh2, &hashes) != NULL);

  /* SAME: only the next chunk, its exact length, only in a delta. */
  struct p2v_same sm = { 0, 10 * 65536, 100, { 7 } }, sm2;
  uint8_t smb[P2V_SAME_LEN];
  p2v_pack_same (smb, &sm);
  p2v_unpack_same (smb, &sm2);
  CHECK (sm2.offset == sm.offset && sm2.raw_len == 100 && sm2.hash[0] == 7);
  CHECK (p2v_check_same (&sh, &sm2, 10 * 65536) != NULL);      /* not a delta */
  sh.flags = P2V_SOURCE_DELTA;
  CHECK (p2v_check_same (&sh, &sm2, 10 * 65536) == NULL);
  CHECK (p2v_check_same (&sh, &sm2, 9 * 65536) != NULL);       /* out of order */
  sm2.raw_len = 65536;
  CHECK (p2v_check_same (&sh, &sm2, 10 * 65536) != NULL);      /* wrong length */
  sm2.offset = 11 * 65536;
  CHECK (p2v_check_same (&sh, &sm2, 11 * 65536) != NULL);      /* past the end */
  sm2.offset = 0;
  sm2.disk = 2;
  CHECK (p2v_check_same (&sh, &sm2, 0) != NULL);
  return TEST_DONE ();
}
