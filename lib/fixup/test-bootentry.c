/* Which kernel and initrd GRUB boots. */
#include <config.h>

#include "fixup/bootentry.h"
#include "common/test.h"

int
main (void)
{
  struct boot_entry e;
  const char *grub1 =
    "default=1\n"
    "timeout=5\n"
    "title Red Hat Enterprise Linux Server (2.6.18-400.el5)\n"
    "\troot (hd0,0)\n"
    "\tkernel /vmlinuz-2.6.18-400.el5 ro root=/dev/vg00/lvol00\n"
    "\tinitrd /initrd-2.6.18-400.el5.img\n"
    "title Red Hat Enterprise Linux Server (2.6.18-398.el5)\n"
    "\troot (hd0,0)\n"
    "\tkernel (hd0,0)/vmlinuz-2.6.18-398.el5 ro root=/dev/vg00/lvol00 rhgb quiet\n"
    "\tinitrd /initrd-2.6.18-398.el5.img\n";
  CHECK (boot_entry_grub1 (grub1, &e) == 0);
  CHECK_STR (e.kernel, "/vmlinuz-2.6.18-398.el5");
  CHECK_STR (e.version, "2.6.18-398.el5");
  CHECK_STR (e.initrd, "/initrd-2.6.18-398.el5.img");
  CHECK_STR (e.cmdline, "ro root=/dev/vg00/lvol00 rhgb quiet");
  boot_entry_free (&e);

  const char *grub2 =
    "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\n"
    "menuentry 'Debian GNU/Linux' --class debian {\n"
    "\tload_video\n"
    "\tlinux\t/boot/vmlinuz-6.1.0-9-amd64 root=UUID=1234 ro net.ifnames=0 quiet\n"
    "\tinitrd\t/boot/intel-ucode.img /boot/initrd.img-6.1.0-9-amd64\n"
    "}\n"
    "submenu 'Advanced options' {\n"
    "\tmenuentry 'old' {\n"
    "\t\tlinux\t/boot/vmlinuz-5.10.0-8-amd64 root=UUID=1234 ro\n"
    "\t\tinitrd\t/boot/initrd.img-5.10.0-8-amd64\n"
    "\t}\n}\n";
  CHECK (boot_entry_grub2 (grub2, &e) == 0);
  CHECK_STR (e.version, "6.1.0-9-amd64");
  CHECK_STR (e.initrd, "/boot/initrd.img-6.1.0-9-amd64");
  CHECK (strstr (e.cmdline, "net.ifnames=0") != NULL);
  boot_entry_free (&e);

  /* An entry without initrd must not borrow the next entry's. */
  const char *noinitrd =
    "menuentry 'a' {\n\tlinux16 /vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/sda2\n}\n"
    "menuentry 'b' {\n\tlinux16 /vmlinuz-0-rescue root=/dev/sda2\n\tinitrd16 /initramfs-0-rescue.img\n}\n";
  CHECK (boot_entry_grub2 (noinitrd, &e) == 0);
  CHECK_STR (e.version, "3.10.0-1160.el7.x86_64");
  CHECK (e.initrd == NULL);
  boot_entry_free (&e);

  CHECK (boot_entry_grub2 ("set timeout=5\n", &e) == -1);
  return TEST_DONE ();
}
