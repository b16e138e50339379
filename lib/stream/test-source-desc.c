#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream/source-desc.h"
#include "common/test.h"
#include "common/util.h"

int
main (void)
{
  char *ids[] = { "/dev/disk/by-id/cciss-3600508b1001030364231334637300700" };
  char *paths[] = { "/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0" };
  struct p2v_nic nics[] = { { "eth0", "00:1b:78:aa:bb:cc", "bnx2" },
                            { "eth1", "00:1b:78:aa:bb:cd", "" } };
  struct p2v_source_desc d = {
    .path = "/dev/cciss/c0d0", .kernel_name = "cciss/c0d0",
    .model = "LOGICAL\tVOLUME", .serial = NULL, .hostname = "web01",
    .size = 73407865856ull, .by_id = ids, .n_by_id = 1,
    .by_path = paths, .n_by_path = 1, .nics = nics, .n_nics = 2,
  }, e;
  size_t len;
  char *text = p2v_desc_encode (&d, &len);
  CHECK (p2v_desc_decode (text, len, &e) == 0);
  CHECK_STR (e.path, "/dev/cciss/c0d0");
  CHECK_STR (e.kernel_name, "cciss/c0d0");
  CHECK_STR (e.model, "LOGICAL?VOLUME");        /* a tab cannot break the framing */
  CHECK (e.serial == NULL);
  CHECK (e.size == 73407865856ull);
  CHECK (e.n_by_id == 1 && e.n_by_path == 1 && e.n_nics == 2);
  if (e.n_nics == 2) {
    CHECK_STR (e.nics[0].mac, "00:1b:78:aa:bb:cc");
    CHECK_STR (e.nics[0].driver, "bnx2");
    CHECK_STR (e.nics[1].driver, "");
  }
  p2v_desc_free (&e);
  free (text);

  CHECK (p2v_desc_decode ("path\t/dev/sda", 12, &e) == -1);        /* no newline */
  CHECK (p2v_desc_decode ("path/dev/sda\n", 13, &e) == -1);        /* no tab */
  CHECK (p2v_desc_decode ("path\t/dev/\x01sda\n", 15, &e) == -1);  /* control char */
  CHECK (p2v_desc_decode ("future\tx\nhostname\th\n", 20, &e) == 0);
  CHECK_STR (e.hostname, "h");                                    /* unknown key skipped */
  p2v_desc_free (&e);

  /* Probing a regular file: no disk identity, but the host's name. */
  int fd = open ("/proc/self/exe", O_RDONLY);
  p2v_desc_probe ("/proc/self/exe", fd, 1, &d);
  CHECK (d.kernel_name == NULL && d.n_by_id == 0);
  CHECK (d.hostname != NULL);
  for (size_t i = 0; i < d.n_nics; i++)
    CHECK (strlen (d.nics[i].mac) == 17);
  p2v_desc_free (&d);
  close (fd);
  return TEST_DONE ();
}
