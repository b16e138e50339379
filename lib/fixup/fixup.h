/* p2vfixup's entry point: convert one guest for its new hypervisor. */
#ifndef P2VFIXUP_FIXUP_H
#define P2VFIXUP_FIXUP_H

#include <stdbool.h>
#include "fixup/util.h"
#include "fixup/rules.h"

/* Exit codes, documented in p2vfixup(1). */
enum {
  FIXUP_OK = 0,
  FIXUP_ERROR = 1,              /* I/O or other failure while converting */
  FIXUP_USAGE = 2,              /* bad command line */
  FIXUP_UNRECOGNISED = 3,       /* not a guest we can convert; nothing changed */
  FIXUP_INITRD = 4,             /* initrd could not be made to carry the
                                   drivers; every change was undone */
};

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
