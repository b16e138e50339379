/* Block device names: parse the hardware-bound families, map whole
 * disks old → new, and rewrite every /dev/ name in a text in one pass.
 */
#ifndef P2VFIXUP_DEVNAME_H
#define P2VFIXUP_DEVNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "fixup/text.h"

enum devfam {
  FAM_NONE = 0,                 /* not hardware bound: UUID=, mapper, LVM, md */
  FAM_SD, FAM_HD, FAM_VD, FAM_XVD,
  FAM_CCISS, FAM_IDA, FAM_NVME, FAM_MMC,
  FAM_BYID, FAM_BYPATH,
};

struct devname {
  enum devfam fam;
  char disk[256];               /* whole disk without /dev/, e.g. "cciss/c0d0" */
  unsigned long part;           /* 0 = the whole disk */
};

/* Parse the name NAME (with or without "/dev/"), exactly and entirely.
 * Returns false if it is not a hardware-bound device name.
 */
bool devname_parse (const char *name, size_t len, struct devname *d);

/* Family of a whole-disk name such as "vda" or "cciss/c0d0". */
enum devfam devname_family (const char *disk);

/* "/dev/" + disk + the family's partition suffix + part. */
char *devname_format (const char *disk, unsigned long part);

/* Kernel name of disk number INDEX (0-based) with PREFIX ("vd", "sd",
 * "hd", "xvd"): 0 → "vda", 26 → "vdaa".
 */
char *disk_name_for_index (const char *prefix, unsigned index);

struct devmap_entry {
  char *old;                    /* whole disk or exact partition, no /dev/ */
  char *new_;
  bool exact;                   /* only this name, partitions do not follow */
};

struct devmap {
  struct devmap_entry *e;
  size_t n;
};

/* Add OLD → NEW (names with or without /dev/).  A later entry for the
 * same OLD is ignored, so explicit --map entries added first win.
 * Returns false if either side is not a device name we understand.
 */
bool devmap_add (struct devmap *m, const char *old, const char *new_);
/* True if the whole disk OLD already has an entry. */
bool devmap_has (const struct devmap *m, const char *old);
/* True if some entry maps to NEW. */
bool devmap_targets (const struct devmap *m, const char *new_);
/* Map a parsed name; returns a new "/dev/…" string or NULL if unmapped. */
char *devmap_lookup (const struct devmap *m, const struct devname *d);
void devmap_free (struct devmap *m);

/* Callbacks from devrewrite: a name that changed, and a hardware-bound
 * name that nothing maps (left as it was).
 */
struct rewrite_log {
  struct strlist changed;       /* "OLD → NEW" */
  struct strlist unresolved;    /* "/dev/…" */
};

#define REWRITE_SKIP_COMMENTS 1

/* Rewrite every hardware-bound /dev/ name in TEXT through M in a single
 * left-to-right pass, so that swaps (sda→vda while vda→vdb) cannot
 * collide.  Returns a new string.  LOG may be NULL.
 */
char *devrewrite (const char *text, const struct devmap *m, int flags,
                  struct rewrite_log *log);

/* Collect the whole-disk names of hardware-bound devices in TEXT in
 * order of first appearance (non-comment lines only).
 */
void devnames_collect (const char *text, struct strlist *disks);

void rewrite_log_free (struct rewrite_log *log);

#endif
