/* Which kernel and initrd GRUB boots. */
#include <config.h>

#include "fixup/bootentry.h"
#include "common/test.h"
#include "common/alloc.h"

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

  /* RHEL 8: grub.cfg only says blscfg; the entry's options point at
   * grubenv's kernelopts.
   */
  const char *rhel8cfg =
    "### BEGIN /etc/grub.d/10_linux ###\n"
    "insmod part_gpt\ninsmod xfs\n"
    "set root='hd0,gpt2'\n"
    "# blscfg in a comment does not count\n"
    "blscfg\n"
    "### END /etc/grub.d/10_linux ###\n";
  CHECK (grub2_uses_bls (rhel8cfg));
  CHECK (!grub2_uses_bls (grub2));
  CHECK (boot_entry_grub2 (rhel8cfg, &e) == -1);
  const char *bls =
    "title Red Hat Enterprise Linux (4.18.0-513.5.1.el8_9.x86_64) 8.9 (Ootpa)\n"
    "version 4.18.0-513.5.1.el8_9.x86_64\n"
    "linux /vmlinuz-4.18.0-513.5.1.el8_9.x86_64\n"
    "initrd $tuned_initrd /initramfs-4.18.0-513.5.1.el8_9.x86_64.img\n"
    "options $kernelopts $tuned_params\n"
    "id rhel-20231020141024-4.18.0-513.5.1.el8_9.x86_64\n"
    "grub_users $grub_users\n"
    "grub_arg --unrestricted\n"
    "grub_class kernel\n";
  CHECK (boot_entry_bls (bls, "root=/dev/mapper/rhel-root ro resume=/dev/sda3", &e) == 0);
  CHECK_STR (e.version, "4.18.0-513.5.1.el8_9.x86_64");
  CHECK_STR (e.kernel, "/vmlinuz-4.18.0-513.5.1.el8_9.x86_64");
  CHECK_STR (e.initrd, "/initramfs-4.18.0-513.5.1.el8_9.x86_64.img");
  CHECK_STR (e.cmdline, "root=/dev/mapper/rhel-root ro resume=/dev/sda3 $tuned_params");
  boot_entry_free (&e);
  CHECK (boot_entry_bls ("title x\noptions root=/dev/sda2\n", NULL, &e) == -1);

  /* grubenv: 1024 bytes, padded with '#'; a rule may shorten it. */
  char env[1025];
  const char *vars = "# GRUB Environment Block\nsaved_entry=abc-4.18.0\n"
    "kernelopts=root=/dev/cciss/c0d0p2 ro resume=/dev/cciss/c0d0p3\n";
  memset (env, '#', 1024);
  memcpy (env, vars, strlen (vars));
  env[1024] = 0;
  char *v = grubenv_get (env, "kernelopts");
  CHECK_STR (v, "root=/dev/cciss/c0d0p2 ro resume=/dev/cciss/c0d0p3");
  free (v);
  v = grubenv_get (env, "saved_entry");
  CHECK_STR (v, "abc-4.18.0");
  free (v);
  CHECK (grubenv_get (env, "kernel") == NULL);
  char *shorter = xasprintf ("# GRUB Environment Block\nsaved_entry=abc-4.18.0\n"
                             "kernelopts=root=/dev/vda2 ro resume=/dev/vda3\n%s",
                             env + strlen (vars));
  char *fit = grubenv_refit (env, shorter);
  CHECK (fit && strlen (fit) == 1024);
  CHECK (fit && strstr (fit, "resume=/dev/vda3\n####") != NULL);
  free (fit);
  /* Variables that no longer fit are refused, not truncated. */
  char *big = xasprintf ("%.*s\nkernelopts=%01100d\n", 24, env, 0);
  CHECK (grubenv_refit (env, big) == NULL);
  return TEST_DONE ();
}
