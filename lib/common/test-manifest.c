/* The manifest: what p2vrecv writes, p2vfixup reads back field for
 * field; what is not ours, or not of our version, is refused.
 */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/manifest.h"
#include "common/test.h"
#include "common/util.h"

static void
refused (const char *text, const char *want_err)
{
  struct p2v_manifest m;
  char *err = NULL;
  CHECK (p2v_manifest_parse (text, strlen (text), &m, &err) == -1);
  CHECK (err != NULL && strstr (err, want_err) != NULL);
  if (err && !strstr (err, want_err))
    fprintf (stderr, "  error was: %s\n", err);
  CHECK (m.path == NULL && m.n_nics == 0);
  free (err);
}

int
main (void)
{
  char dir[] = "/tmp/p2vtest-man.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char *path = xasprintf ("%s/disk.img.p2v.json", dir);
  struct p2v_nic nics[] = { { "eth0", "00:1B:78:AA:BB:CC", "bnx2" },
                            { "eth1", NULL, "tg3" } };
  char *ids[] = { "/dev/disk/by-id/scsi-\"quoted\"", "/dev/disk/by-id/wwn-0x5000" };
  char *paths[] = { "/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0" };
  struct p2v_manifest w = {
    .path = "/dev/cciss/c0d0", .kernel_name = "cciss/c0d0", .model = "LOGICAL VOLUME",
    .size = 73407865856ULL, .by_id = ids, .n_by_id = 2, .by_path = paths, .n_by_path = 1,
    .hostname = "web01", .nics = nics, .n_nics = 2, .target = "/images/disk.img",
    .digest_algorithm = "blkhash-sha256", .digest_value = "abcd",
  };
  CHECK (p2v_manifest_write (path, &w) == 0);

  /* The text an admin reads. */
  char *text = test_slurp (path, NULL);
  CHECK (text != NULL);
  if (text) {
    CHECK (strstr (text, "\"format\": \"p2vstream-manifest\"") != NULL);
    CHECK (strstr (text, "\"version\": 1,") != NULL);
    CHECK (strstr (text, "\"serial\": null") != NULL);
    CHECK (strstr (text, "scsi-\\\"quoted\\\"") != NULL);
    CHECK (strstr (text, "\"algorithm\": \"blkhash-sha256\", \"value\": \"abcd\"") != NULL);
  }
  free (text);
  char *tmp = xasprintf ("%s.tmp", path);
  CHECK (access (tmp, F_OK) == -1);

  /* Read back: every field as written, the MAC canonical. */
  struct p2v_manifest m;
  char *err = NULL;
  CHECK (p2v_manifest_read (path, &m, &err) == 0);
  CHECK_STR (m.path, "/dev/cciss/c0d0");
  CHECK_STR (m.kernel_name, "cciss/c0d0");
  CHECK_STR (m.model, "LOGICAL VOLUME");
  CHECK (m.serial == NULL);
  CHECK (m.size == 73407865856ULL);
  CHECK (m.n_by_id == 2 && m.n_by_path == 1);
  if (m.n_by_id == 2) {
    CHECK_STR (m.by_id[0], ids[0]);
    CHECK_STR (m.by_id[1], ids[1]);
  }
  if (m.n_by_path == 1)
    CHECK_STR (m.by_path[0], paths[0]);
  CHECK_STR (m.hostname, "web01");
  CHECK (m.n_nics == 2);
  if (m.n_nics == 2) {
    CHECK_STR (m.nics[0].name, "eth0");
    CHECK_STR (m.nics[0].mac, "00:1b:78:aa:bb:cc");
    CHECK_STR (m.nics[0].driver, "bnx2");
    CHECK (m.nics[1].mac == NULL);
    CHECK_STR (m.nics[1].driver, "tg3");
  }
  CHECK_STR (m.target, "/images/disk.img");
  CHECK_STR (m.digest_algorithm, "blkhash-sha256");
  CHECK_STR (m.digest_value, "abcd");
  p2v_manifest_free (&m);

  char *def = p2v_manifest_default_path ("/images/disk.img", 0);
  CHECK_STR (def, "/images/disk.img.p2v.json");
  free (def);
  CHECK (p2v_manifest_default_path ("/dev/vda", 1) == NULL);
  CHECK (p2v_manifest_write ("/nonexistent/x.json", &w) == -1);

  /* Missing fields are unknown; kernel_name falls back to the path. */
  const char *minimal = "{\"format\":\"p2vstream-manifest\",\"version\":1,"
    "\"source\":{\"path\":\"/dev/sda\",\"by_id\":[\"\", \"/dev/disk/by-id/a\", "
    "\"/dev/disk/by-id/a\"]}, \"later\": {\"x\": 1}}";
  CHECK (p2v_manifest_parse (minimal, strlen (minimal), &m, &err) == 0);
  CHECK_STR (m.kernel_name, "sda");
  CHECK (m.n_by_id == 1 && m.n_nics == 0 && m.size == 0 && m.target == NULL);
  p2v_manifest_free (&m);

  refused ("{\"format\":\"other\",\"version\":1}", "\"format\"");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":2}", "version");
  refused ("{\"format\":\"p2vstream-manifest\"}", "version");
  refused ("[1]", "not a JSON object");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,"
           "\"host\":{\"nics\":[{\"mac\":\"00:1b:78\"}]}}", "host.nics[0].mac");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,"
           "\"host\":{\"nics\":[{\"name\":\"eth0\"}, 7]}}", "host.nics[1]");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,"
           "\"source\":{\"kernel_name\":5}}", "source.kernel_name");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,"
           "\"source\":{\"by_id\":[\"a\", 1]}}", "source.by_id[1]");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,"
           "\"source\":{\"size\":-1}}", "source.size");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1,\"source\":[]}", "\"source\"");
  refused ("{\"format\":\"p2vstream-manifest\",\"version\":1", "line 1");

  /* Only a regular file of a manifest's size is read. */
  CHECK (p2v_manifest_read (dir, &m, &err) == -1);
  CHECK (err && strstr (err, "not a regular file"));
  free (err);
  char *fifo = xasprintf ("%s/fifo", dir);
  CHECK (mkfifo (fifo, 0600) == 0);
  CHECK (p2v_manifest_read (fifo, &m, &err) == -1);   /* and does not hang */
  free (err);
  char *big = xasprintf ("%s/big", dir);
  int fd = open (big, O_WRONLY | O_CREAT | O_EXCL, 0600);
  CHECK (fd >= 0 && ftruncate (fd, P2V_MANIFEST_MAX + 1) == 0);
  close (fd);
  CHECK (p2v_manifest_read (big, &m, &err) == -1);
  CHECK (err && strstr (err, "larger"));
  free (err);
  CHECK (p2v_manifest_read ("/nonexistent/x.json", &m, &err) == -1);
  free (err);

  unlink (big);
  unlink (fifo);
  unlink (path);
  rmdir (dir);
  free (big);
  free (fifo);
  free (path);
  free (tmp);
  return TEST_DONE ();
}
