#include <config.h>

#include <string.h>

#include "fixup/target.h"
#include "fixup/initrd.h"

static const struct target targets[] = {
  { "kvm", "vd", { "virtio_blk" }, { "virtio_pci" }, { "virtio_net" } },
  { "virtio-scsi", "sd", { "virtio_scsi" }, { "virtio_pci", "sd_mod" },
    { "virtio_net" } },
  /* pvscsi and vmxnet3 arrived in 2.6.33/2.6.32; older guests get the
   * LSI Logic and e1000 emulations, which every kernel has.
   */
  { "vmware", "sd", { "vmw_pvscsi", "mptspi" }, { "sd_mod" },
    { "vmxnet3", "e1000" } },
  { "xen", "xvd", { "xen_blkfront" }, { NULL }, { "xen_netfront" } },
  { "ide", NULL, { "ata_piix", "piix" }, { "sd_mod" }, { "e1000" } },
  /* An AHCI controller, as VirtualBox, Proxmox's sata disks and VMware's
   * SATA controller present it; e1000 is the NIC all three offer.
   */
  { "sata", "sd", { "ahci" }, { "sd_mod" }, { "e1000" } },
};

const struct target *
target_find (const char *name)
{
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (strcmp (targets[i].name, name) == 0)
      return &targets[i];
  return NULL;
}

const char *
target_names (void)
{
  return "kvm, virtio-scsi, vmware, xen, ide, sata";
}

const char *
target_disk_prefix (const struct target *t, const char *kernel_version)
{
  if (t->disk_prefix)
    return t->disk_prefix;
  /* libata's PATA drivers became the distributions' default around
   * 2.6.28 (RHEL 6 2.6.32 uses sdX, RHEL 5 2.6.18 hdX).
   */
  return kernel_version && kernel_version_cmp (kernel_version, "2.6.28") < 0
    ? "hd" : "sd";
}
