/* What the receiver (and later p2vfixup) needs to know about the source
 * disk and its machine: the kernel name and hardware aliases that the
 * guest's fstab and bootloader may use, and the NICs whose MACs its
 * network configuration may pin.
 */
#ifndef P2V_SOURCE_DESC_H
#define P2V_SOURCE_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"

struct p2v_source_desc {
  char *path;               /* as given on the command line */
  char *kernel_name;        /* "cciss/c0d0", "sda"; NULL for a file */
  char *model, *serial;     /* NULL when unknown */
  char *hostname;
  char *fingerprint;        /* SHA-256 of the first chunk: which disk this is */
  char *skipped_free;       /* --skip-free: "1 ext4 851443712, 2 swap ..."; NULL */
  uint64_t size;
  char **by_id;  size_t n_by_id;
  char **by_path; size_t n_by_path;
  struct p2v_nic *nics; size_t n_nics;
};

/* Fill d by looking at the running system (source-probe.c): sysfs for
 * the disk, the /dev/disk symlinks, /sys/class/net for NICs.
 */
void p2v_desc_probe (const char *path, int fd, uint64_t size,
                     struct p2v_source_desc *d);

/* Serialise as "key\tvalue\n" lines (the SOURCE record's text);
 * returns a malloc'd buffer and its length.
 */
char *p2v_desc_encode (const struct p2v_source_desc *d, size_t *len);
/* Parse text from a peer.  Unknown keys are ignored, values are kept
 * only if printable.  Returns 0, or -1 if the text is malformed.
 */
int p2v_desc_decode (const char *text, size_t len, struct p2v_source_desc *d);
void p2v_desc_free (struct p2v_source_desc *d);

/* The manifest's source and host fields, borrowed from d (m's other
 * fields are left as they are; never p2v_manifest_free it).
 */
void p2v_desc_to_manifest (const struct p2v_source_desc *d, struct p2v_manifest *m);

#endif
