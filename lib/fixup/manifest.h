/* The manifest p2vrecv writes beside each copied disk (DISK.p2v.json):
 * which source disk it was, under which hardware-bound aliases, and the
 * source host's NICs.  Every field may be missing.
 */
#ifndef P2VFIXUP_MANIFEST_H
#define P2VFIXUP_MANIFEST_H

#include "fixup/util.h"

struct manifest_nic {
  char *name, *mac, *driver;    /* mac canonical (lower case) or NULL */
};

struct manifest {
  char *path;                   /* "/dev/cciss/c0d0" */
  char *kernel_name;            /* "cciss/c0d0" */
  struct strlist by_id, by_path;
  char *hostname;
  struct manifest_nic *nics;
  size_t nnics;
};

/* Returns 0, or -1 with *ERR set (malloc'd). */
int manifest_parse (const char *text, size_t len, struct manifest *m, char **err);
void manifest_free (struct manifest *m);

#endif
