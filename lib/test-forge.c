/* Writes a hostile but correctly sealed stream to standard output: a
 * peer that holds the key (P2V_KEY) and lies in its frames.  Each case
 * starts like a real sender (HELLO, SOURCE for a 1 MiB disk in 64 KiB
 * chunks, one good chunk) and then misbehaves.  tests/trust-frames.sh
 * pipes it into p2vrecv --stdin and checks the clean refusal.
 *
 *   test-forge CASE
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "codec.h"
#include "crypto.h"
#include "digest.h"
#include "format.h"
#include "handshake.h"
#include "util.h"
#include "wire.h"

#define CS 65536u
#define SIZE (16u * CS)

static struct p2v_chan ch = { .fd = STDOUT_FILENO };
static uint8_t data[CS];

static void
chunk (uint8_t codec, uint64_t offset, uint32_t raw_len, uint32_t crc,
       const void *payload, size_t plen)
{
  struct p2v_chunk_hdr h = { 0, codec, offset, raw_len, crc };
  uint8_t hb[P2V_CHUNK_HDR_LEN], *copy = malloc (plen ? plen : 1);
  memcpy (copy, payload, plen);
  p2v_pack_chunk_hdr (hb, &h);
  p2v_chan_send (&ch, P2V_REC_CHUNK, hb, sizeof hb, copy, copy, plen);
  free (copy);
}

int
main (int argc, char **argv)
{
  char key[P2V_KEY_TEXT_LEN];
  struct p2v_keys keys;
  if (argc != 2 || p2v_key_resolve (NULL, NULL, key) != 1 || p2v_keys_derive (key, &keys) == -1) {
    fprintf (stderr, "usage: P2V_KEY=... test-forge CASE\n");
    return 1;
  }
  const char *c = argv[1];
  if (p2v_handshake_sender (&ch, false, &keys, true, "stdout") != 0)
    return 1;
  struct p2v_source_hdr sh = { 0, SIZE, CS, P2V_DIGEST_SHA256 };
  uint8_t fixed[P2V_SOURCE_FIXED_LEN];
  const char *desc = "path\t/dev/forged\nhostname\tmallory\n";
  char *dcopy = strdup (desc);
  p2v_pack_source (fixed, &sh);
  p2v_chan_send (&ch, P2V_REC_SOURCE, fixed, sizeof fixed, dcopy, dcopy, strlen (desc));
  free (dcopy);

  for (size_t i = 0; i < CS; i++)
    data[i] = (uint8_t) (i * 7 + 3);
  uint32_t crc = (uint32_t) crc32_z (0, data, CS);
  chunk (P2V_CODEC_STORED, 0, CS, crc, data, CS);

  if (strcmp (c, "beyond-end") == 0)            /* an offset far outside the disk */
    chunk (P2V_CODEC_STORED, 1ull << 40, CS, crc, data, CS);
  else if (strcmp (c, "overlap") == 0)          /* the same chunk again */
    chunk (P2V_CODEC_STORED, 0, CS, crc, data, CS);
  else if (strcmp (c, "skip") == 0)             /* a gap */
    chunk (P2V_CODEC_STORED, 2 * CS, CS, crc, data, CS);
  else if (strcmp (c, "long-chunk") == 0)       /* longer than the chunk size */
    chunk (P2V_CODEC_STORED, CS, CS + 1, crc, data, CS);
  else if (strcmp (c, "bomb") == 0) {
    /* 16 MiB of zeros deflated, claimed to be 64 KiB: the decoder must
     * stop at 64 KiB, not inflate the rest.
     */
    size_t big = 16u << 20;
    uint8_t *zeros = calloc (1, big), *z = malloc (compressBound (big));
    uLongf zl = compressBound (big);
    compress2 (z, &zl, zeros, big, 9);
    chunk (P2V_CODEC_ZLIB, CS, CS, crc, z, zl);
    free (zeros);
    free (z);
  }
  else if (strcmp (c, "huge-record") == 0) {    /* a length that would need 4 GiB */
    uint8_t hdr[P2V_RECORD_HDR_LEN];
    p2v_pack_record_hdr (hdr, P2V_REC_CHUNK, P2V_RECF_SEALED, 0xfffffff0u);
    p2v_write_full (STDOUT_FILENO, hdr, sizeof hdr);
    p2v_write_full (STDOUT_FILENO, data, 4096);
  }
  else if (strcmp (c, "unknown-type") == 0) {
    uint8_t x[4] = { 0 };
    p2v_chan_send (&ch, 0x42, x, sizeof x, NULL, NULL, 0);
  }
  else if (strcmp (c, "mid-frame") == 0) {      /* the sender dies inside a frame */
    /* Seal a real record into a scratch file, then send only its start. */
    FILE *f = tmpfile ();
    ch.fd = fileno (f);
    chunk (P2V_CODEC_STORED, CS, CS, crc, data, CS);
    uint8_t *rec = malloc (CS);
    if (pread (ch.fd, rec, 30000, 0) != 30000)
      return 1;
    p2v_write_full (STDOUT_FILENO, rec, 30000);
    free (rec);
    fclose (f);
  }
  else if (strcmp (c, "bad-crc") == 0)          /* authentic record, lying checksum */
    chunk (P2V_CODEC_STORED, CS, CS, crc ^ 1, data, CS);
  else {
    fprintf (stderr, "test-forge: unknown case %s\n", c);
    return 1;
  }
  return 0;
}
