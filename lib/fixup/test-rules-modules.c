/* modprobe.conf, initramfs-tools, SUSE sysconfig and dracut rules. */
#include <config.h>

#include "fixup/rules.h"
#include "common/test.h"

static const char rhel5_modprobe[] =
  "alias eth0 bnx2\n"
  "alias eth1 bnx2\n"
  "alias scsi_hostadapter cciss\n"
  "alias scsi_hostadapter1 ata_piix\n"
  "options bnx2 disable_msi=1\n"
  "# alias scsi_hostadapter2 qla2xxx\n"
  "alias usb-controller ehci-hcd\n";

static const char rhel5_modprobe_want[] =
  "alias eth0 virtio_net\n"
  "alias eth1 virtio_net\n"
  "alias scsi_hostadapter virtio_blk\n"
  "options bnx2 disable_msi=1\n"
  "# alias scsi_hostadapter2 qla2xxx\n"
  "alias usb-controller ehci-hcd\n";

int
main (void)
{
  struct strlist notes = { 0 }, mods = { 0 };
  char *s, *s2;

  s = rule_modprobe (rhel5_modprobe, "virtio_blk", "virtio_net", &notes);
  CHECK_STR (s, rhel5_modprobe_want);
  CHECK (notes.n == 4);
  s2 = rule_modprobe (s, "virtio_blk", "virtio_net", NULL);
  CHECK_STR (s2, s);
  free (s); free (s2);
  strlist_free (&notes);
  /* Tabs between words survive. */
  s = rule_modprobe ("alias\tscsi_hostadapter\tmptspi\n", "vmw_pvscsi", "vmxnet3", NULL);
  CHECK_STR (s, "alias\tscsi_hostadapter\tvmw_pvscsi\n");
  free (s);

  strlist_add (&mods, "virtio_pci");
  strlist_add (&mods, "virtio_blk");
  strlist_add (&mods, "ext4");
  const char *deb_modules =
    "# List of modules that you want to include in your initramfs.\n"
    "#\n"
    "# raid1\n"
    "# sd_mod\n"
    "ext4";                     /* no final newline */
  s = rule_modules_file (deb_modules, &mods, &notes);
  CHECK_STR (s, "# List of modules that you want to include in your initramfs.\n"
             "#\n# raid1\n# sd_mod\next4\n"
             "# Added by p2vfixup: drivers for the new virtual hardware.\n"
             "virtio_pci\nvirtio_blk\n");
  CHECK (notes.n == 2);
  s2 = rule_modules_file (s, &mods, NULL);
  CHECK_STR (s2, s);
  free (s); free (s2);
  strlist_free (&notes);

  const char *conf =
    "# MODULES: [ most | netboot | dep | list ]\n"
    "#\n"
    "MODULES=dep\n"
    "BUSYBOX=auto\n";
  char *mode = initramfs_conf_modules (conf);
  CHECK_STR (mode, "dep");
  free (mode);
  s = rule_initramfs_conf (conf, &notes);
  CHECK_STR (s, "# MODULES: [ most | netboot | dep | list ]\n#\nMODULES=list\nBUSYBOX=auto\n");
  s2 = rule_initramfs_conf (s, NULL);
  CHECK_STR (s2, s);
  free (s); free (s2);
  s = rule_initramfs_conf ("MODULES=most\n", NULL);
  CHECK_STR (s, "MODULES=most\n");
  free (s);
  strlist_free (&notes);

  /* SLES 10/11 /etc/sysconfig/kernel. */
  const char *suse =
    "## Type:        string\n"
    "## Command:     /sbin/mkinitrd\n"
    "#\n"
    "# This variable contains the list of modules to be added to the initial\n"
    "#\n"
    "INITRD_MODULES=\"cciss processor thermal fan jbd ext3 edd\"\n"
    "DOMU_INITRD_MODULES=\"xennet xenblk\"\n";
  s = rule_sysconfig_kernel (suse, &mods, &notes);
  CHECK (strstr (s, "INITRD_MODULES=\"cciss processor thermal fan jbd ext3 edd virtio_pci virtio_blk ext4\"\n") != NULL);
  CHECK (strstr (s, "DOMU_INITRD_MODULES=\"xennet xenblk\"\n") != NULL);
  CHECK (notes.n == 3);
  s2 = rule_sysconfig_kernel (s, &mods, NULL);
  CHECK_STR (s2, s);
  free (s); free (s2);
  strlist_free (&notes);

  s = dracut_conf (&mods);
  CHECK (strstr (s, "\nadd_drivers+=\" virtio_pci virtio_blk ext4 \"\n") != NULL);
  free (s);
  CHECK (modname_eq ("xen-blkfront", 12, "xen_blkfront"));
  strlist_free (&mods);
  return TEST_DONE ();
}
