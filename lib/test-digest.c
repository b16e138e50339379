#include <config.h>

#include <stdlib.h>

#include "digest.h"
#include "test.h"

static void
vector (const char *alg, const void *data, size_t n, size_t reps, const char *want)
{
  int id = p2v_digest_id_from_name (alg);
  CHECK (id > 0);
  struct p2v_digest *d = p2v_digest_new (id);
  CHECK (d != NULL);
  if (!d)
    return;
  for (size_t i = 0; i < reps; i++)
    p2v_digest_update (d, data, n);
  uint8_t out[P2V_DIGEST_MAX];
  char hex[P2V_DIGEST_HEX_MAX];
  p2v_digest_final (d, out);
  p2v_hex (out, p2v_digest_size (id), hex);
  CHECK_STR (hex, want);
  p2v_digest_free (d);
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

  /* The tree's outer hash is SHA-256 over what it is fed (the chunks'
   * hashes): the same vector.
   */
  vector ("sha256-tree", "abc", 3, 1,
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK (p2v_digest_id_from_name ("sha256-tree") == P2V_DIGEST_SHA256_TREE);
  CHECK (p2v_digest_size (P2V_DIGEST_SHA256_TREE) == 32);
  CHECK (p2v_digest_is_tree (P2V_DIGEST_SHA256_TREE) && !p2v_digest_is_tree (P2V_DIGEST_SHA256));

  CHECK (p2v_digest_id_from_name ("crc32") == -1);
  CHECK (p2v_digest_id_from_name ("SHA256") == -1);
  CHECK (p2v_digest_size (P2V_DIGEST_SHA512) == 64);
  CHECK (p2v_digest_size (99) == 0);
  CHECK (p2v_digest_name (99) == NULL);
  return TEST_DONE ();
}
