/* libFuzzer harness for everything p2vrecv does with a peer's bytes
 * before trusting them: the preamble, record framing, HELLO, SOURCE
 * header checks and description parsing, chunk frame checks, each
 * decoder (bounded by the chunk's declared length), END and RESULT,
 * and a delta's SAME (p2vrecv) and HASHES (what p2vsend parses).
 *
 * The input is read as a stream the way recv.c reads one; a sealed
 * record's tag is skipped rather than checked (the fuzzer cannot forge
 * tags; what an authenticated but hostile sender can send is what we
 * want to cover).  Seeds: tests/fuzz-corpus, real p2vsend streams.
 *
 *   make fuzz FUZZ_SECONDS=60
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "stream/codec.h"
#include "stream/crypto.h"
#include "stream/format.h"
#include "stream/source-desc.h"

struct input {
  const uint8_t *p;
  size_t left;
};

static const uint8_t *
take (struct input *in, size_t n)
{
  if (n > in->left)
    return NULL;
  const uint8_t *p = in->p;
  in->p += n;
  in->left -= n;
  return p;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static struct p2v_coder *coder;
  static uint8_t *raw;
  struct input in = { data, size };
  struct p2v_preamble pre;
  struct p2v_source_hdr sh;
  bool have_source = false;
  uint64_t expect = 0;
  uint32_t zfull = 0, zlast = 0;
  const uint8_t *p;

  if (!coder) {
    coder = p2v_coder_new (P2V_CODEC_STORED, 0);
    raw = malloc (P2V_CHUNK_MAX);
  }
  if (!(p = take (&in, P2V_PREAMBLE_LEN)) || p2v_unpack_preamble (p, &pre) != 0)
    return 0;

  for (int records = 0; records < 64; records++) {
    struct p2v_record_hdr h;
    if (!(p = take (&in, P2V_RECORD_HDR_LEN)))
      return 0;
    p2v_unpack_record_hdr (p, &h);
    uint32_t len = h.length;
    if (h.flags & P2V_RECF_SEALED) {
      if (len < P2V_TAG_LEN)
        return 0;
      len -= P2V_TAG_LEN;
    }
    if (len > P2V_RECORD_MAX || !(p = take (&in, len)))
      return 0;
    switch (h.type) {
    case P2V_REC_HELLO:
      if (len == P2V_HELLO_LEN)
        (void) p2v_get32 (p);
      break;
    case P2V_REC_SOURCE: {
      const char *why;
      struct p2v_source_desc d;
      if (len < P2V_SOURCE_FIXED_LEN)
        return 0;
      p2v_unpack_source (p, &sh);
      if (p2v_check_source (&sh, &why) == -1
          || p2v_desc_decode ((const char *) p + P2V_SOURCE_FIXED_LEN,
                              len - P2V_SOURCE_FIXED_LEN, &d) == -1)
        return 0;
      p2v_desc_free (&d);
      /* The zero CRCs a real receiver computes, cheaply: crc32_combine
       * needs no buffer of zeros.
       */
      uint32_t last = sh.size % sh.chunk_size ? sh.size % sh.chunk_size : sh.chunk_size;
      memset (raw, 0, sh.chunk_size);
      zfull = p2v_crc32 (raw, sh.chunk_size);
      zlast = p2v_crc32 (raw, last);
      have_source = true;
      expect = 0;
      break;
    }
    case P2V_REC_CHUNK: {
      struct p2v_chunk_hdr ch;
      if (!have_source || len < P2V_CHUNK_HDR_LEN || len - P2V_CHUNK_HDR_LEN > sh.chunk_size)
        return 0;
      p2v_unpack_chunk_hdr (p, &ch);
      uint32_t payload = len - P2V_CHUNK_HDR_LEN;
      if (p2v_check_chunk (&sh, &ch, payload, expect, zfull, zlast) != NULL)
        return 0;
      if (p2v_decompress (coder, ch.codec, p + P2V_CHUNK_HDR_LEN, payload, raw, ch.raw_len) == 0)
        (void) p2v_crc32 (raw, ch.raw_len);
      expect += ch.raw_len;
      break;
    }
    case P2V_REC_SAME: {
      struct p2v_same sm;
      if (!have_source || len != P2V_SAME_LEN)
        return 0;
      p2v_unpack_same (p, &sm);
      if (p2v_check_same (&sh, &sm, expect) != NULL)
        return 0;
      expect += sm.raw_len;
      break;
    }
    case P2V_REC_HASHES: {
      struct p2v_hashes_hdr hh;
      const uint8_t *hashes;
      if (have_source && p2v_unpack_hashes (p, len, &sh, &hh, &hashes) == NULL)
        (void) hashes[(size_t) hh.count * P2V_CHUNK_HASH_LEN - 1];
      break;
    }
    case P2V_REC_END: {
      struct p2v_end e;
      p2v_unpack_end (p, len, &e);
      return 0;
    }
    case P2V_REC_RESULT: {
      struct p2v_result r;
      const char *msg;
      size_t mlen;
      p2v_unpack_result (p, len, &r, &msg, &mlen);
      break;
    }
    case P2V_REC_ACCEPT:
      if (len == P2V_ACCEPT_LEN) {
        struct p2v_accept a;
        p2v_unpack_accept (p, &a);
      }
      break;
    default:
      if (!(h.type & P2V_REC_OPTIONAL))
        return 0;
    }
  }
  return 0;
}
