/* p2vfixup's entry point: convert one guest for its new hypervisor. */
#ifndef P2VFIXUP_FIXUP_H
#define P2VFIXUP_FIXUP_H

#include <stdbool.h>
#include "common/util.h"
#include "fixup/text.h"
#include "fixup/rules.h"

/* fixup_run returns one of common/exit.h's statuses: P2V_EXIT_OK,
 * _USAGE, _IO (a failure while converting; what was written is put
 * back), _UNRECOGNISED (nothing changed) or _INITRD (all undone).
 */

struct fixup_opts {
  const char *target;
  char **images;
  size_t nimages;
  const char *root_dir;
  const char *root_device;
  struct strlist manifests;     /* --manifest, in IMAGE order */
  struct strlist maps;          /* --map OLD=NEW */
  struct macmap macs;           /* --mac */
  bool dry_run, no_backup, no_initrd, remove_tools;
  int verbose;
};

int fixup_run (const struct fixup_opts *o);

#endif
