/* Which kernel and initrd the bootloader boots by default. */
#ifndef P2VFIXUP_BOOTENTRY_H
#define P2VFIXUP_BOOTENTRY_H

#include <stdbool.h>

struct boot_entry {
  char *kernel;                 /* path as GRUB sees it: "/vmlinuz-6.1.0-9-amd64" */
  char *initrd;                 /* last initrd on the line (after microcode) */
  char *cmdline;                /* the kernel arguments */
  char *version;                /* "6.1.0-9-amd64" from the kernel file name */
};

/* GRUB 2 grub.cfg: the first linux/linux16/linuxefi line (the first
 * menuentry, which GRUB_DEFAULT=0 boots).  Returns 0 or -1 if none.
 */
int boot_entry_grub2 (const char *text, struct boot_entry *e);
/* GRUB legacy: the "default=N" title's kernel and initrd. */
int boot_entry_grub1 (const char *text, struct boot_entry *e);
/* One BootLoaderSpec entry (/boot/loader/entries/NAME.conf, RHEL 8+,
 * Fedora): its linux, last initrd and options lines.  KERNELOPTS, if
 * not NULL, replaces "$kernelopts" in options (RHEL 8 keeps the
 * arguments in grubenv).  Returns 0 or -1 without a linux line.
 */
int boot_entry_bls (const char *text, const char *kernelopts, struct boot_entry *e);
/* True if a grub.cfg reads BLS entries ("blscfg" on a line of its own). */
bool grub2_uses_bls (const char *text);
/* The value of NAME=... in a GRUB environment block, or NULL. */
char *grubenv_get (const char *text, const char *name);
/* NEW is OLD (a GRUB environment block, a fixed-size file GRUB writes
 * in place) after a rule changed it: give it back OLD's size by
 * trimming or adding its '#' padding.  Returns the refitted text (NEW
 * is consumed), or NULL if the variables no longer fit.
 */
char *grubenv_refit (const char *old, char *new_);
void boot_entry_free (struct boot_entry *e);

#endif
