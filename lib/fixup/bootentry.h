/* Which kernel and initrd the bootloader boots by default. */
#ifndef P2VFIXUP_BOOTENTRY_H
#define P2VFIXUP_BOOTENTRY_H

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
void boot_entry_free (struct boot_entry *e);

#endif
