#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stream/codec.h"
#include "stream/digest.h"
#include "common/test.h"

static void
final_hex (struct p2v_digest *d, char hex[P2V_DIGEST_HEX_MAX])
{
  uint8_t out[P2V_DIGEST_MAX];
  p2v_digest_final (d, out);
  p2v_hex (out, p2v_digest_size (p2v_digest_id (d)), hex);
  p2v_digest_free (d);
}

static void
vector (const char *alg, const void *data, size_t n, size_t reps, const char *want)
{
  int id = p2v_digest_id_from_name (alg, NULL);
  CHECK (id > 0);
  struct p2v_digest *d = p2v_digest_new (id);
  CHECK (d != NULL);
  if (!d)
    return;
  for (size_t i = 0; i < reps; i++)
    p2v_digest_update (d, data, n);
  char hex[P2V_DIGEST_HEX_MAX];
  final_hex (d, hex);
  CHECK_STR (hex, want);
}

/* The images of ../shared/blkhash-vectors/make-images.sh, made here the
 * same way: "random" bytes are AES-128-CTR of zeros under a fixed key.
 */
static void
rnd (uint8_t *out, size_t n, uint8_t iv_last)
{
  static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
  uint8_t iv[16] = { 0 };
  iv[15] = iv_last;
  memset (out, 0, n);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
  int len;
  CHECK (c && EVP_EncryptInit_ex (c, EVP_aes_128_ctr (), NULL, key, iv) == 1
         && EVP_EncryptUpdate (c, out, &len, out, (int) n) == 1);
  EVP_CIPHER_CTX_free (c);
}

struct image {
  const char *name;
  uint8_t *data;
  size_t size;
  const char *blkhash_sha256, *sha256;
};

/* Feed an image as the pipelines do: chunks of cs (a multiple of the
 * block), zero chunks as zeros, others as block digests (blkhash) or
 * their bytes.
 */
static void
by_chunks (const char *alg, const struct image *im, size_t cs, const char *want)
{
  int id = p2v_digest_id_from_name (alg, NULL);
  struct p2v_digest *d = p2v_digest_new (id);
  static uint8_t blocks[P2V_BLOCK_DIGESTS_MAX];
  for (size_t off = 0; off < im->size; off += cs) {
    size_t n = im->size - off < cs ? im->size - off : cs;
    bool zero = p2v_is_zero (im->data + off, n), by_blocks = !zero && p2v_digest_is_blocks (id);
    if (by_blocks)
      p2v_digest_blocks (id, im->data + off, n, blocks);
    p2v_digest_add_chunk (d, zero, by_blocks ? blocks : NULL, im->data + off, n);
  }
  CHECK (p2v_digest_length (d) == im->size);
  char hex[P2V_DIGEST_HEX_MAX];
  final_hex (d, hex);
  if (strcmp (hex, want) != 0)
    fprintf (stderr, "%s in chunks of %zu:\n", im->name, cs);
  CHECK_STR (hex, want);
}

/* Fed as bytes in awkward pieces (a prime length) and all at once. */
static void
by_bytes (const char *alg, const struct image *im, const char *want)
{
  int id = p2v_digest_id_from_name (alg, NULL);
  struct p2v_digest *d = p2v_digest_new (id);
  for (size_t off = 0; off < im->size; off += 99991)
    p2v_digest_update (d, im->data + off, im->size - off < 99991 ? im->size - off : 99991);
  char hex[P2V_DIGEST_HEX_MAX];
  final_hex (d, hex);
  if (strcmp (hex, want) != 0)
    fprintf (stderr, "%s in pieces:\n", im->name);
  CHECK_STR (hex, want);
  vector (alg, im->data, im->size, 1, want);
}

static void
blksum_vectors (void)
{
  const size_t MiB = 1 << 20;
  struct image im[] = {
    /* What blksum 0.11.0 printed, and sha256sum (blkhash-vectors/digests.txt). */
    { "empty.img", NULL, 0,
      "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "one-byte.img", NULL, 1,
      "a64a187a24c2d405b2e6e8df661f89e3107ba40c3817d284f97493b2c75ca522",
      "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" },
    { "block-minus-1.img", NULL, 65535,
      "fa090b9e83c7222a7d21ce2e4861a6f79f9fe917c3c332c5944e09295821b8c2",
      "27e8de8722beefe8cea403d33fd0a7eb41014c2d325d97016419d7e43cd63dd9" },
    { "block.img", NULL, 65536,
      "f48738f42b706be169969ef7ba27d687192690d16009b2d65bb3ffa124b389ab",
      "db054af24994e7ada3586ff8c7c75edcb2855378dcaf4cfa0b3518f0997bb1de" },
    { "block-plus-1.img", NULL, 65537,
      "1f7f851d619d85a64abb967dbb3663e247272ce27e9a7c9e10d8b098bbfb43a0",
      "e03c6dbaf732fb9b7ce64d2dec1bbe41599e33d33cf462014b5055213605fef7" },
    { "mixed.img", NULL, 4 * MiB + 8 * MiB + MiB + 7,
      "1e11cb8410ea453523bb6e139ea3c55029fa1268f4bc7ffa2e1ade7eabcf49dc",
      "2a369588443d62a1c31d6e145bb0a6c3650fc2bd46958328080d935a84da3a8e" },
    { "zeros-partial.img", NULL, 1000000,
      "5d79352739ce6606a1d45cd4f0e2ae01ffc24cbd017ea363776bb792d8689029",
      "d29751f2649b32ff572b5e0a9f541ea660a50f94ff0beedfb0b692b924cc8025" },
    { "sparse-64m.img", NULL, 64 * MiB,
      "928319d81c6180a04e527d560211c821155a574ed2fed0853adba55dae20b34c",
      "3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351" },
    { "two-bytes.img", NULL, MiB,
      "f969263cbd9b9d2c04c7f695353953e724fe33569449b2e5dd179611b087f5db",
      "9514f337e850d3702a9685f23b877692c4e8383804ff78896c4757e5e931c81b" },
  };
  size_t n = sizeof im / sizeof im[0];
  for (size_t i = 0; i < n; i++)
    im[i].data = calloc (im[i].size ? im[i].size : 1, 1);
  im[1].data[0] = 'x';
  rnd (im[2].data, 65535, 1);
  rnd (im[3].data, 65536, 2);
  rnd (im[4].data, 65537, 3);
  rnd (im[5].data, 4 * MiB, 4);
  rnd (im[5].data + 12 * MiB, MiB + 7, 5);
  im[8].data[70000] = 'A';
  im[8].data[MiB - 1] = 'B';

  for (size_t i = 0; i < n; i++) {
    by_bytes ("sha256", &im[i], im[i].sha256);
    by_bytes ("blkhash-sha256", &im[i], im[i].blkhash_sha256);
    by_chunks ("blkhash-sha256", &im[i], 64 * 1024, im[i].blkhash_sha256);
    by_chunks ("blkhash-sha256", &im[i], 4 * MiB, im[i].blkhash_sha256);
    by_chunks ("sha256", &im[i], 4 * MiB, im[i].sha256);
  }
  /* The other inner hashes, on mixed.img. */
  by_bytes ("blkhash-sha1", &im[5], "32bf8d168b9ade41010c2d9776867af6c0966676");
  by_chunks ("blkhash-sha1", &im[5], 1 * MiB, "32bf8d168b9ade41010c2d9776867af6c0966676");
  by_bytes ("blkhash-md5", &im[5], "c40395e4c9ec460abbe3e2d787494feb");
  by_chunks ("blkhash-md5", &im[5], 16 * MiB, "c40395e4c9ec460abbe3e2d787494feb");
  for (size_t i = 0; i < n; i++)
    free (im[i].data);
}

int
main (void)
{
  /* FIPS 180 / RFC 1321 vectors. */
  vector ("md5", "", 0, 1, "d41d8cd98f00b204e9800998ecf8427e");
  vector ("md5", "abc", 3, 1, "900150983cd24fb0d6963f7d28e17f72");
  vector ("sha1", "abc", 3, 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
  vector ("sha256", "abc", 3, 1,
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  vector ("sha256", "", 0, 1,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  vector ("sha512", "abc", 3, 1,
          "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  /* Fed in pieces, as the pipeline does: one million 'a'. */
  vector ("sha256", "aaaaaaaaaa", 10, 100000,
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  blksum_vectors ();

  bool obsolete;
  CHECK (p2v_digest_id_from_name ("blkhash", &obsolete) == P2V_DIGEST_BLKHASH_SHA256 && !obsolete);
  CHECK (p2v_digest_id_from_name ("sha256-tree", &obsolete) == P2V_DIGEST_BLKHASH_SHA256 && obsolete);
  CHECK (p2v_digest_id_from_name ("blkhash-sha512", NULL) == P2V_DIGEST_BLKHASH_SHA512);
  CHECK (p2v_digest_name (5) == NULL && p2v_digest_size (5) == 0);
  CHECK (p2v_digest_is_blocks (P2V_DIGEST_DEFAULT) && !p2v_digest_is_blocks (P2V_DIGEST_SHA256));
  CHECK (p2v_digest_size (P2V_DIGEST_BLKHASH_MD5) == 16);
  CHECK (p2v_digest_id_from_name ("crc32", NULL) == -1);
  CHECK (p2v_digest_id_from_name ("SHA256", NULL) == -1);
  CHECK (p2v_digest_size (P2V_DIGEST_SHA512) == 64);
  CHECK (p2v_digest_size (99) == 0);
  CHECK (p2v_digest_name (99) == NULL);
  return TEST_DONE ();
}
