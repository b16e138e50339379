#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/digest.h"
#include "disk/dev.h"
#include "stream/sum.h"
#include "common/test.h"
#include "common/util.h"

/* The digest of the whole file fed serially, as bytes: the reference. */
static void
serial (int id, const uint8_t *data, size_t n, char hex[P2V_DIGEST_HEX_MAX])
{
  struct p2v_digest *d = p2v_digest_new (id);
  p2v_digest_update (d, data, n);
  uint8_t md[P2V_DIGEST_MAX];
  p2v_digest_final (d, md);
  p2v_hex (md, p2v_digest_size (id), hex);
  p2v_digest_free (d);
}

static uint64_t last_progress;
static void
progress (void *arg, uint64_t done)
{
  (void) arg;
  CHECK (done > last_progress || done == 0);
  last_progress = done;
}

static unsigned stop_after;
static bool
stop (void *arg)
{
  (void) arg;
  return stop_after && --stop_after == 0;
}

static void
ranges (const char *path, const uint8_t *data, size_t size)
{
  int ids[] = { P2V_DIGEST_BLKHASH_SHA256, P2V_DIGEST_BLKHASH_MD5, P2V_DIGEST_SHA256 };
  for (size_t a = 0; a < sizeof ids / sizeof ids[0]; a++)
    for (unsigned threads = 1; threads <= 5; threads += 2) {
      struct p2v_dev dev;
      CHECK (p2v_source_open (path, &dev) == 0);
      struct p2v_digest *d = p2v_digest_new (ids[a]);
      last_progress = 0;
      struct p2v_sum_cb cb = { .progress = progress };
      /* In two ranges, as a resume's prefix and the rest. */
      uint64_t cut = 3 * P2V_SUM_SEGMENT + P2V_BLKHASH_BLOCK;
      CHECK (p2v_sum_range (d, &dev, 0, cut, threads, &cb) == 0);
      CHECK (last_progress == cut);
      CHECK (p2v_sum_range (d, &dev, cut, size - cut, threads, NULL) == 0);
      uint8_t md[P2V_DIGEST_MAX];
      char got[P2V_DIGEST_HEX_MAX], want[P2V_DIGEST_HEX_MAX];
      p2v_digest_final (d, md);
      p2v_hex (md, p2v_digest_size (ids[a]), got);
      p2v_digest_free (d);
      serial (ids[a], data, size, want);
      if (strcmp (got, want) != 0)
        fprintf (stderr, "%s with %u threads:\n", p2v_digest_name (ids[a]), threads);
      CHECK_STR (got, want);
      p2v_dev_close (&dev);
    }

  /* A stop from the caller ends it with -1, threads joined. */
  struct p2v_dev dev;
  CHECK (p2v_source_open (path, &dev) == 0);
  struct p2v_digest *d = p2v_digest_new (P2V_DIGEST_BLKHASH_SHA256);
  stop_after = 2;
  struct p2v_sum_cb cb = { .stop = stop };
  CHECK (p2v_sum_range (d, &dev, 0, size, 3, &cb) == -1);
  stop_after = 0;
  p2v_digest_free (d);
  /* A read past the end fails rather than hashing zeros. */
  d = p2v_digest_new (P2V_DIGEST_BLKHASH_SHA256);
  CHECK (p2v_sum_range (d, &dev, 0, size + 10 * P2V_SUM_SEGMENT, 2, NULL) == -1);
  p2v_digest_free (d);
  p2v_dev_close (&dev);
}

static void
parse (void)
{
  int id;
  char hex[P2V_DIGEST_HEX_MAX], *name;
  char l1[] = "BLKHASH-SHA256 (/dev/sda (old)) = "
    "AF5570F5A1810B7AF78CAF4BC70A660F0DF51E42BAF91D4DE5B2328DE0E83DFC\n";
  CHECK (p2v_sum_parse_line (l1, P2V_DIGEST_SHA256, &id, hex, &name) == 1);
  CHECK (id == P2V_DIGEST_BLKHASH_SHA256);
  CHECK_STR (hex, "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc");
  CHECK_STR (name, "/dev/sda (old)");
  char l2[] = "d41d8cd98f00b204e9800998ecf8427e  disk one.img\n";
  CHECK (p2v_sum_parse_line (l2, P2V_DIGEST_MD5, &id, hex, &name) == 2);
  CHECK (id == P2V_DIGEST_MD5);
  CHECK_STR (name, "disk one.img");
  char l3[] = "MD5 (x) = d41d8cd98f00b204e9800998ecf8427e";
  CHECK (p2v_sum_parse_line (l3, P2V_DIGEST_BLKHASH_SHA256, &id, hex, &name) == 1);
  CHECK (id == P2V_DIGEST_MD5);
  char l4[] = "# a comment", l5[] = "\n";
  CHECK (p2v_sum_parse_line (l4, P2V_DIGEST_MD5, &id, hex, &name) == 0);
  CHECK (p2v_sum_parse_line (l5, P2V_DIGEST_MD5, &id, hex, &name) == 0);
  /* Wrong lengths, unknown tags, junk: not digest lines. */
  char b1[] = "SHA256 (x) = d41d8cd98f00b204e9800998ecf8427e";
  char b2[] = "CRC32 (x) = d41d8cd9";
  char b3[] = "d41d8cd98f00b204e9800998ecf8427e  x";      /* md5's length, sha256 expected */
  char b4[] = "hello world";
  char b5[] = "SHA256-TREE-4194304 (x) = af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc";
  char b6[] = "MD5 () = d41d8cd98f00b204e9800998ecf8427e";
  char *bad[] = { b1, b2, b3, b4, b5, b6 };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (p2v_sum_parse_line (bad[i], P2V_DIGEST_SHA256, &id, hex, &name) != -1)
      fprintf (stderr, "accepted bad line %zu\n", i);
    CHECK (p2v_sum_parse_line (bad[i], P2V_DIGEST_SHA256, &id, hex, &name) == -1);
  }
}

/* The digest files p2vsend and p2vrecv write: sha256sum --tag's form. */
static void
test_digest_file_write (void)
{
  char dir[] = "/tmp/p2vtest-dfile.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char *dpath = xasprintf ("%s/disk.sha256", dir);
  CHECK (p2v_digest_file_write (dpath, P2V_DIGEST_SHA256, "abcd", "/images/disk.img") == 0);
  char buf[256] = "";
  FILE *f = fopen (dpath, "r");
  CHECK (f && fgets (buf, sizeof buf, f));
  if (f)
    fclose (f);
  CHECK_STR (buf, "SHA256 (/images/disk.img) = abcd\n");
  CHECK (p2v_digest_file_write (dpath, P2V_DIGEST_BLKHASH_SHA256, "abcd",
                                "/images/disk.img") == 0);
  f = fopen (dpath, "r");
  CHECK (f && fgets (buf, sizeof buf, f));
  if (f)
    fclose (f);
  CHECK_STR (buf, "BLKHASH-SHA256 (/images/disk.img) = abcd\n");
  CHECK (p2v_digest_file_write ("/nonexistent/d", P2V_DIGEST_SHA256, "ab", "t") == -1);
  unlink (dpath);
  rmdir (dir);
  free (dpath);
}

int
main (void)
{
  parse ();

  /* A sparse file: a hole, data, zeros written out, data with a zero
   * block inside, and a short tail: 9 segments and a bit.
   */
  char path[] = "/tmp/test-sum.XXXXXX";
  int fd = mkstemp (path);
  CHECK (fd >= 0);
  size_t size = 9 * P2V_SUM_SEGMENT + 12345;
  uint8_t *data = xcalloc (1, size);
  for (size_t i = 2 * P2V_SUM_SEGMENT; i < 3 * P2V_SUM_SEGMENT; i++)
    data[i] = (uint8_t) (i * 31 + (i >> 13));
  for (size_t i = 5 * P2V_SUM_SEGMENT; i < size; i++)
    data[i] = (uint8_t) (i * 17 + 3);
  memset (data + 6 * P2V_SUM_SEGMENT, 0, P2V_BLKHASH_BLOCK);
  CHECK (ftruncate (fd, (off_t) size) == 0);
  CHECK (pwrite (fd, data + 2 * P2V_SUM_SEGMENT, P2V_SUM_SEGMENT, 2 * P2V_SUM_SEGMENT)
         == P2V_SUM_SEGMENT);
  CHECK (pwrite (fd, data + 3 * P2V_SUM_SEGMENT, P2V_SUM_SEGMENT, 3 * P2V_SUM_SEGMENT)
         == P2V_SUM_SEGMENT);
  CHECK (pwrite (fd, data + 5 * P2V_SUM_SEGMENT, size - 5 * P2V_SUM_SEGMENT, 5 * P2V_SUM_SEGMENT)
         == (ssize_t) (size - 5 * P2V_SUM_SEGMENT));
  close (fd);
  ranges (path, data, size);
  unlink (path);
  free (data);
  test_digest_file_write ();
  return TEST_DONE ();
}
