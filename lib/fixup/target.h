/* What each --target means: disk naming and the drivers the guest
 * needs for the new virtual hardware.
 */
#ifndef P2VFIXUP_TARGET_H
#define P2VFIXUP_TARGET_H

struct target {
  const char *name;
  const char *disk_prefix;             /* NULL: chosen by kernel age (ide) */
  const char *disk_drivers[3];         /* candidates, preferred first */
  const char *extra_drivers[3];        /* also needed to reach the disk */
  const char *net_drivers[3];
};

const struct target *target_find (const char *name);
/* "kvm|virtio-scsi|..." for messages. */
const char *target_names (void);
/* IDE disks were hdX until libata took over PATA. */
const char *target_disk_prefix (const struct target *t, const char *kernel_version);

#endif
