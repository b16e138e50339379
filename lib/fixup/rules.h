/* The conversion rules.  Each is a pure function from a file's text to
 * its new text: no file access, so the same code serves the --root and
 * the libguestfs modes and is unit tested on fixtures.  Every rule keeps
 * comments, order, spacing and quoting, changes only what must change,
 * and is idempotent.  What changed is appended to NOTES, what was seen
 * but left alone to WARN (either may be NULL).
 */
#ifndef P2VFIXUP_RULES_H
#define P2VFIXUP_RULES_H

#include "fixup/text.h"
#include "fixup/devname.h"

/* --- device names: fstab, crypttab, GRUB files, device.map --- */

/* Rewrite device names on non-comment lines. */
char *rule_devices (const char *text, const struct devmap *m,
                    struct strlist *notes, struct strlist *warn);
/* GRUB legacy grub.conf/menu.lst: as rule_devices, plus anaconda's
 * "#boot=" line, which grub-install reads although it is a comment.
 */
char *rule_grub_legacy (const char *text, const struct devmap *m,
                        struct strlist *notes, struct strlist *warn);

/* --- modprobe.conf, modprobe.d/ --- */

/* First scsi_hostadapter alias → DISK_DRIVER, the others removed;
 * ethN aliases → NET_DRIVER.
 */
char *rule_modprobe (const char *text, const char *disk_driver,
                     const char *net_driver, struct strlist *notes);

/* --- network --- */

struct macmap {
  struct { char *key; char mac[18]; } *e;   /* key: old MAC or ifname */
  size_t n;
};
bool macmap_add (struct macmap *mm, const char *arg);      /* "OLD=NEW" */
/* KEY an interface name or an old MAC (a name from a guest's files
 * that is neither is refused: false), MAC a new one already parsed.
 */
bool macmap_put (struct macmap *mm, const char *key, const char *mac);
const char *macmap_lookup (const struct macmap *mm, const char *ifname,
                           const char *oldmac);
void macmap_free (struct macmap *mm);

/* A configuration that bound interface IFNAME (NULL: a file that names
 * no interface) to MAC.
 */
struct pins {
  struct { char *ifname; char mac[18]; } *e;
  size_t n;
};

struct netctx {
  const struct macmap *macs;
  const char *driver;           /* new NIC driver, e.g. "virtio_net" */
  /* Filled in by the rules: */
  struct strlist ifaces;        /* interface names configured */
  struct strlist kept;          /* names the file itself keeps (rename rules) */
  struct pins pins;             /* bound to an old MAC */
  struct macmap moved;          /* ifname → new MAC: a pin an earlier run moved */
  unsigned by_driver;           /* MAC matches that became driver matches */
};
void netctx_free (struct netctx *nc);
/* The interface a file that names it bound to MAC, or NULL. */
const char *netctx_pin_name (const struct pins *pins, const char *mac);

/* IFNAME is from the file name (ifcfg-eth0); DEVICE= overrides it. */
char *rule_ifcfg (const char *text, const char *ifname, struct netctx *nc,
                  struct strlist *notes);
char *rule_persistent_net (const char *text, struct netctx *nc,
                           struct strlist *notes);
char *rule_interfaces (const char *text, struct netctx *nc,
                       struct strlist *notes);
char *rule_nm_keyfile (const char *text, struct netctx *nc,
                       struct strlist *notes);
char *rule_netplan (const char *text, struct netctx *nc,
                    struct strlist *notes);
/* systemd-networkd .network and .link: MACs in [Match]; a .link's
 * [Link] Name= is a rename the guest keeps.
 */
char *rule_networkd (const char *text, struct netctx *nc,
                     struct strlist *notes);

/* udev rules that give the new NIC each old name in NAMES.  MACS maps
 * a name to the new MAC when known; otherwise the NIC is matched by
 * DRIVER (and by probe order when there are several).
 */
char *netnames_rules (const struct strlist *names, const struct macmap *macs,
                      const char *driver, struct strlist *notes);

/* --- initrd configuration --- */

/* A one-module-per-line file (Debian /etc/initramfs-tools/modules):
 * append the modules in MODS that are not listed yet.
 */
char *rule_modules_file (const char *text, const struct strlist *mods,
                         struct strlist *notes);
/* initramfs-tools initramfs.conf: MODULES=dep → MODULES=list. */
char *rule_initramfs_conf (const char *text, struct strlist *notes);
/* The effective MODULES= value in TEXT (last assignment) or NULL. */
char *initramfs_conf_modules (const char *text);
/* SUSE /etc/sysconfig/kernel: add MODS to INITRD_MODULES. */
char *rule_sysconfig_kernel (const char *text, const struct strlist *mods,
                             struct strlist *notes);
/* Contents of a dracut.conf.d file adding MODS. */
char *dracut_conf (const struct strlist *mods);

/* Module names compare equal with '-' and '_' exchanged. */
bool modname_eq (const char *a, size_t alen, const char *b);

#endif
