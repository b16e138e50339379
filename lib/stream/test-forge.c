/* Writes a hostile but correctly sealed stream to standard output: a
 * peer that holds the key (P2V_KEY) and lies in its frames.  Each case
 * starts like a real sender (HELLO, SOURCE for a 1 MiB disk in 64 KiB
 * chunks, one good chunk) and then misbehaves.  tests/trust-frames.sh
 * pipes it into p2vrecv --stdin and checks the clean refusal.
 *
 *   test-forge CASE
 *
 * Delta cases (tests/delta-hostile.sh) need the receiver's hashes, so
 * they talk to a listening p2vrecv over TCP: the same SOURCE with the
 * delta flag, then, after the receiver's first hashes, one forged SAME.
 *
 *   test-forge --connect PORT CASE
 *
 * And the other way round, a receiver holding the key that lies in its
 * HASHES to p2vsend --delta: it listens on 127.0.0.1 (the port goes to
 * PORT-FILE), accepts one sender, takes its SOURCE, accepts, and sends
 * one forged HASHES record (after CASE says how many good ones).
 *
 *   test-forge --listen PORT-FILE CASE
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "stream/codec.h"
#include "stream/crypto.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "stream/delta.h"
#include "stream/handshake.h"
#include "stream/net.h"
#include "common/util.h"
#include "stream/wire.h"

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

static void
same (uint64_t offset, uint32_t raw_len, const uint8_t *hash)
{
  struct p2v_same sm = { 0, offset, raw_len, { 0 } };
  uint8_t b[P2V_SAME_LEN];
  memcpy (sm.hash, hash, P2V_CHUNK_HASH_LEN);
  p2v_pack_same (b, &sm);
  p2v_chan_send (&ch, P2V_REC_SAME, b, sizeof b, NULL, NULL, 0);
}

/* Read the receiver's HASHES until want chunks are known (all 16 fit
 * in one window).  0, or -1.
 */
static int
read_hashes (uint8_t hashes[][P2V_CHUNK_HASH_LEN], uint64_t want)
{
  static uint8_t buf[P2V_HASHES_FIXED_LEN + P2V_HASHES_MAX * P2V_CHUNK_HASH_LEN];
  struct p2v_source_hdr sh = { .size = SIZE, .chunk_size = CS, .digest_id = P2V_DIGEST_SHA256 };
  uint64_t known = 0;
  while (known < want) {
    struct p2v_record_hdr h;
    struct p2v_hashes_hdr hh;
    const uint8_t *hs;
    if (p2v_chan_recv_record (&ch, &h, buf, sizeof buf) != 1 || h.type != P2V_REC_HASHES
        || p2v_unpack_hashes (buf, h.length, &sh, &hh, &hs) != NULL || hh.first != known)
      return -1;
    memcpy (hashes[known], hs, (size_t) hh.count * P2V_CHUNK_HASH_LEN);
    known += hh.count;
  }
  return 0;
}

static int
delta_case (const struct p2v_keys *keys, const char *port, const char *c)
{
  static uint8_t hashes[16][P2V_CHUNK_HASH_LEN];
  if ((ch.fd = p2v_connect ("127.0.0.1", port)) == -1
      || p2v_handshake_sender (&ch, true, keys, true, "receiver") != 0)
    return 1;
  struct p2v_source_hdr sh = { .size = SIZE, .chunk_size = CS, .digest_id = P2V_DIGEST_SHA256,
                               .flags = P2V_SOURCE_DELTA, .ndisks = 1 };
  uint8_t fixed[P2V_SOURCE_FIXED_LEN], acc[P2V_ACCEPT_LEN];
  char desc[] = "path\t/dev/forged\nhostname\tmallory\n";
  struct p2v_record_hdr h;
  p2v_pack_source (fixed, &sh);
  p2v_chan_send (&ch, P2V_REC_SOURCE, fixed, sizeof fixed, desc, desc, strlen (desc));
  if (p2v_chan_recv_record (&ch, &h, acc, sizeof acc) != 1 || h.type != P2V_REC_ACCEPT
      || h.length != sizeof acc) {
    fprintf (stderr, "test-forge: the receiver did not accept the delta\n");
    return 1;
  }
  if (read_hashes (hashes, 16) == -1) {
    fprintf (stderr, "test-forge: no hashes from the receiver\n");
    return 1;
  }
  if (strcmp (c, "same-out-of-order") == 0)     /* chunk 1 before chunk 0 */
    same (CS, CS, hashes[1]);
  else if (strcmp (c, "same-wrong-hash") == 0) { /* a hash the receiver did not announce */
    hashes[0][7] ^= 1;
    same (0, CS, hashes[0]);
  }
  else if (strcmp (c, "same-past-end") == 0) {  /* every chunk, then one more */
    for (uint64_t k = 0; k < 16; k++)
      same (k * CS, CS, hashes[k]);
    same (SIZE, CS, hashes[0]);
  }
  else if (strcmp (c, "same-short") == 0) {     /* a SAME record of the wrong length */
    uint8_t b[P2V_SAME_LEN - 1] = { 0 };
    p2v_chan_send (&ch, P2V_REC_SAME, b, sizeof b, NULL, NULL, 0);
  }
  else {
    fprintf (stderr, "test-forge: unknown case %s\n", c);
    return 1;
  }
  /* Stay until the receiver has judged (and hung up), so its verdict
   * is about our records, not about us leaving.
   */
  uint8_t sink[4096];
  while (read (ch.fd, sink, sizeof sink) > 0)
    ;
  return 0;
}

static void
hashes_rec (uint32_t disk, uint64_t first, uint32_t count, size_t len)
{
  static uint8_t b[P2V_HASHES_FIXED_LEN + P2V_HASHES_MAX * P2V_CHUNK_HASH_LEN];
  struct p2v_hashes_hdr hh = { disk, first, count };
  p2v_pack_hashes_hdr (b, &hh);
  memset (b + P2V_HASHES_FIXED_LEN, 0x5a, sizeof b - P2V_HASHES_FIXED_LEN);
  p2v_chan_send (&ch, P2V_REC_HASHES, b, len, NULL, NULL, 0);
}

static int
receiver_case (const struct p2v_keys *keys, const char *port_file, const char *c)
{
  char bound[128], peer[128];
  int lfd = p2v_listen ("127.0.0.1", "0", bound, sizeof bound);
  FILE *f = lfd >= 0 ? fopen (port_file, "w") : NULL;
  const char *colon = strrchr (bound, ':');
  if (!f || !colon)
    return 1;
  fprintf (f, "%s\n", colon + 1);
  fclose (f);
  if ((ch.fd = p2v_accept (lfd, peer, sizeof peer)) == -1
      || p2v_handshake_receiver (&ch, true, keys, peer) != 0)
    return 1;
  static uint8_t src[P2V_SOURCE_FIXED_LEN + P2V_TEXT_MAX];
  struct p2v_record_hdr h;
  struct p2v_source_hdr sh;
  if (p2v_chan_recv_record (&ch, &h, src, sizeof src) != 1 || h.type != P2V_REC_SOURCE
      || h.length < P2V_SOURCE_FIXED_LEN)
    return 1;
  p2v_unpack_source (src, &sh);
  uint8_t acc[P2V_ACCEPT_LEN];
  struct p2v_accept a = { 0, 0 };
  p2v_pack_accept (acc, &a);
  p2v_chan_send (&ch, P2V_REC_ACCEPT, acc, sizeof acc, NULL, NULL, 0);
  if (strcmp (c, "hashes-out-of-order") == 0)   /* chunk 1 first */
    hashes_rec (0, 1, 1, P2V_HASHES_FIXED_LEN + P2V_CHUNK_HASH_LEN);
  else if (strcmp (c, "hashes-ahead") == 0) {
    /* W + 1 hashes before the sender could settle a single chunk: past
     * the window whatever the timing (needs W < 1024: chunks of 1 MiB).
     */
    uint32_t w = p2v_delta_window (sh.chunk_size);
    if (w + 1 > P2V_HASHES_MAX)
      return 1;
    hashes_rec (0, 0, w + 1, P2V_HASHES_FIXED_LEN + (size_t) (w + 1) * P2V_CHUNK_HASH_LEN);
  }
  else if (strcmp (c, "hashes-wrong-disk") == 0)
    hashes_rec (3, 0, 1, P2V_HASHES_FIXED_LEN + P2V_CHUNK_HASH_LEN);
  else if (strcmp (c, "hashes-bad-length") == 0) /* says 2, carries 1 */
    hashes_rec (0, 0, 2, P2V_HASHES_FIXED_LEN + P2V_CHUNK_HASH_LEN);
  else {
    fprintf (stderr, "test-forge: unknown case %s\n", c);
    return 1;
  }
  /* Keep reading (the sender may be sending chunks) until it hangs up. */
  uint8_t sink[65536];
  while (read (ch.fd, sink, sizeof sink) > 0)
    ;
  return 0;
}

int
main (int argc, char **argv)
{
  char key[P2V_KEY_TEXT_LEN];
  struct p2v_keys keys;
  bool connect = argc == 4 && strcmp (argv[1], "--connect") == 0;
  bool listen = argc == 4 && strcmp (argv[1], "--listen") == 0;
  if ((argc != 2 && !connect && !listen) || p2v_key_resolve (NULL, NULL, key) != 1
      || p2v_keys_derive (key, &keys) == -1) {
    fprintf (stderr, "usage: P2V_KEY=... test-forge CASE | --connect PORT CASE | "
             "--listen PORT-FILE CASE\n");
    return 1;
  }
  if (connect)
    return delta_case (&keys, argv[2], argv[3]);
  if (listen)
    return receiver_case (&keys, argv[2], argv[3]);
  const char *c = argv[1];
  if (p2v_handshake_sender (&ch, false, &keys, true, "stdout") != 0)
    return 1;
  struct p2v_source_hdr sh = { .size = SIZE, .chunk_size = CS, .digest_id = P2V_DIGEST_SHA256 };
  /* A delta down a pipe: the receiver has no way to send its hashes. */
  if (strcmp (c, "delta-pipe") == 0)
    sh.flags = P2V_SOURCE_DELTA;
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
  else if (strcmp (c, "same-not-delta") == 0) { /* "unchanged" in a full copy */
    uint8_t h[P2V_CHUNK_HASH_LEN] = { 0 };
    same (CS, CS, h);
  }
  else if (strcmp (c, "delta-pipe") == 0)
    ;                                           /* refused at SOURCE */
  else {
    fprintf (stderr, "test-forge: unknown case %s\n", c);
    return 1;
  }
  return 0;
}
