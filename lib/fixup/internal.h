/* State shared by the steps of one p2vfixup run (fixup*.c). */
#ifndef P2VFIXUP_INTERNAL_H
#define P2VFIXUP_INTERNAL_H

#include "fixup/fixup.h"
#include "fixup/ops.h"
#include "fixup/plan.h"
#include "fixup/target.h"
#include "fixup/bootentry.h"
#include "fixup/initrd.h"
#include "fixup/devname.h"

struct run {
  const struct fixup_opts *o;
  struct guest *g;
  struct plan plan;
  const struct target *t;
  const char *disk_driver, *net_driver;
  struct strlist extra_drivers;
  char *os_name;
  char *grub_file;              /* grub.cfg or grub.conf */
  bool grub_legacy;
  char *bls_entry;              /* the BLS entry GRUB boots, or NULL */
  char *efi_vendor;             /* the ESP's boot loader dir (EFI/debian), or NULL */
  struct boot_entry boot;
  char *initrd_path;            /* guest path of the default initrd */
  struct kernel_mods kmods;
  struct devmap map;
  struct strlist rebuild_cmds;  /* argv joined by '\x1f' */
  struct strlist state_lines;   /* "old new" renamed by this run */
  struct strlist state_old, state_new;   /* recorded by earlier runs */
  struct strlist agent_cmds, agent_names; /* --remove-tools, run last */
};

/* Read PATH as it will be after the planned changes (so rules chain),
 * NULL if it does not exist.  *ORIG gets the on-disk text (or NULL).
 */
char *run_read (struct run *r, const char *path);
/* Apply a planned change from a rule's output. */
void run_change (struct run *r, const char *path, const char *cur, char *new_,
                 struct strlist *notes);

int fixup_network (struct run *r);
/* A UEFI guest: say so, and plan the removable-media loader a VM with
 * empty NVRAM looks for.
 */
void fixup_efi (struct run *r);
int fixup_agents (struct run *r);
void fixup_agents_remove (struct run *r);
/* Decide whether the initrd must be rebuilt and plan its configuration;
 * returns -1 (with a message) if it needs one and cannot have it.
 */
int fixup_initrd_plan (struct run *r);
/* Run the planned rebuild and check the result. */
int fixup_initrd_rebuild (struct run *r);

#endif
