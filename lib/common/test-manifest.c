#include <config.h>

#include <stdlib.h>
#include <unistd.h>

#include "digest.h"
#include "manifest.h"
#include "test.h"
#include "util.h"

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "r");
  if (!f)
    return NULL;
  char *buf = calloc (1, 65536);
  size_t n = fread (buf, 1, 65535, f);
  buf[n] = '\0';
  fclose (f);
  return buf;
}

int
main (void)
{
  char dir[] = "/tmp/p2vtest-man.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char *path = xasprintf ("%s/disk.img.p2v.json", dir);
  char *dpath = xasprintf ("%s/disk.sha256", dir);
  struct p2v_nic nics[] = { { "eth0", "00:1b:78:aa:bb:cc", "bnx2" } };
  char *ids[] = { "/dev/disk/by-id/scsi-\"quoted\"" };
  struct p2v_source_desc d = {
    .path = "/dev/cciss/c0d0", .kernel_name = "cciss/c0d0", .hostname = "web01",
    .size = 42, .by_id = ids, .n_by_id = 1, .nics = nics, .n_nics = 1,
  };
  CHECK (p2v_manifest_write (path, &d, "/images/disk.img", "sha256", "abcd") == 0);
  char *text = slurp (path);
  CHECK (text != NULL);
  if (text) {
    CHECK (strstr (text, "\"format\": \"p2vstream-manifest\"") != NULL);
    CHECK (strstr (text, "\"kernel_name\": \"cciss/c0d0\"") != NULL);
    CHECK (strstr (text, "\"size\": 42") != NULL);
    CHECK (strstr (text, "\"model\": null") != NULL);
    CHECK (strstr (text, "scsi-\\\"quoted\\\"") != NULL);     /* escaped */
    CHECK (strstr (text, "{ \"name\": \"eth0\", \"mac\": \"00:1b:78:aa:bb:cc\", "
                   "\"driver\": \"bnx2\" }") != NULL);
    CHECK (strstr (text, "\"value\": \"abcd\"") != NULL);
  }
  free (text);
  char *tmp = xasprintf ("%s.tmp", path);
  CHECK (access (tmp, F_OK) == -1);                           /* renamed into place */

  CHECK (p2v_digest_file_write (dpath, P2V_DIGEST_SHA256, "abcd", "/images/disk.img") == 0);
  text = slurp (dpath);
  CHECK_STR (text, "SHA256 (/images/disk.img) = abcd\n");
  free (text);
  CHECK (p2v_digest_file_write (dpath, P2V_DIGEST_BLKHASH_SHA256, "abcd",
                                "/images/disk.img") == 0);
  text = slurp (dpath);
  CHECK_STR (text, "BLKHASH-SHA256 (/images/disk.img) = abcd\n");
  free (text);

  char *def = p2v_manifest_default_path ("/images/disk.img", 0);
  CHECK_STR (def, "/images/disk.img.p2v.json");
  free (def);
  CHECK (p2v_manifest_default_path ("/dev/vda", 1) == NULL);
  CHECK (p2v_manifest_write ("/nonexistent/x.json", &d, "t", "sha256", "ab") == -1);

  unlink (path);
  unlink (dpath);
  rmdir (dir);
  free (path);
  free (dpath);
  free (tmp);
  return TEST_DONE ();
}
