/* libFuzzer over what --skip-free reads of an LVM PV on a source disk
 * (lvm.c): an input starting with "T" is metadata text for
 * p2v_lvm_parse; any other is the start of a PV for p2v_lvm_read,
 * label, area header and text with their checksums.  The seeds
 * (tests/fuzz-lvm-corpus) are what LVM itself wrote.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk/lvm.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct p2v_lvm_pv pv;
  char why[160];
  uint64_t seq;
  if (size > 0 && data[0] == 'T') {
    const struct p2v_run reserved = { 0, 1 << 20 };
    if (p2v_lvm_parse ((const char *) data + 1, size - 1, "ydVukjW5MFyncNwrL9i9oLELeXcKTeBB",
                       64 << 20, &reserved, 1, &pv, &seq, why, sizeof why) == 0)
      p2v_lvm_free (&pv);
    return 0;
  }
  static int fd = -1;
  if (fd == -1)
    fd = memfd_create ("pv", 0);
  if (fd == -1 || ftruncate (fd, 0) == -1 || pwrite (fd, data, size, 0) != (ssize_t) size)
    return 0;
  /* A PV larger than the input: its extents fit, its reads past the
   * input fail as a short disk's would.
   */
  if (p2v_lvm_read (fd, 0, UINT64_C (1) << 30, &pv, why, sizeof why) == 0)
    p2v_lvm_free (&pv);
  return 0;
}
