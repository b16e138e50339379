/* Device name families, partition suffixes, mapping and rewriting. */
#include <config.h>

#include "fixup/devname.h"
#include "common/test.h"

static void
parse_ok (const char *name, enum devfam fam, const char *disk, unsigned long part)
{
  struct devname d;
  bool ok = devname_parse (name, strlen (name), &d);
  if (!ok) { fprintf (stderr, "parse %s failed\n", name); test_failures++; return; }
  CHECK (d.fam == fam);
  CHECK_STR (d.disk, disk);
  CHECK (d.part == part);
}

static void
parse_bad (const char *name)
{
  struct devname d;
  if (devname_parse (name, strlen (name), &d)) {
    fprintf (stderr, "FAIL: %s parsed as a hardware device\n", name);
    test_failures++;
  }
}

static char *
rw (const char *text, const struct devmap *m)
{
  return devrewrite (text, m, REWRITE_SKIP_COMMENTS, NULL);
}

int
main (void)
{
  /* Every family and its partition rule. */
  parse_ok ("/dev/sda", FAM_SD, "sda", 0);
  parse_ok ("/dev/sda1", FAM_SD, "sda", 1);
  parse_ok ("/dev/sdab12", FAM_SD, "sdab", 12);
  parse_ok ("/dev/hda1", FAM_HD, "hda", 1);
  parse_ok ("/dev/xvda1", FAM_XVD, "xvda", 1);
  parse_ok ("/dev/vda1", FAM_VD, "vda", 1);
  parse_ok ("/dev/cciss/c0d0", FAM_CCISS, "cciss/c0d0", 0);
  parse_ok ("/dev/cciss/c0d0p1", FAM_CCISS, "cciss/c0d0", 1);
  parse_ok ("/dev/cciss/c1d12p3", FAM_CCISS, "cciss/c1d12", 3);
  parse_ok ("/dev/ida/c0d0p2", FAM_IDA, "ida/c0d0", 2);
  parse_ok ("/dev/nvme0n1p2", FAM_NVME, "nvme0n1", 2);
  parse_ok ("/dev/nvme0n1", FAM_NVME, "nvme0n1", 0);
  parse_ok ("/dev/mmcblk0p1", FAM_MMC, "mmcblk0", 1);
  parse_ok ("/dev/disk/by-id/scsi-3600508b1001030364231334637300700-part2",
            FAM_BYID, "disk/by-id/scsi-3600508b1001030364231334637300700", 2);
  parse_ok ("/dev/disk/by-id/cciss-3600508b1001030364231334637300700",
            FAM_BYID, "disk/by-id/cciss-3600508b1001030364231334637300700", 0);
  parse_ok ("/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0-part1",
            FAM_BYPATH, "disk/by-path/pci-0000:06:00.0-cciss-disk0", 1);
  parse_ok ("sdb", FAM_SD, "sdb", 0);
  /* Hardware-independent names are never touched. */
  parse_bad ("/dev/mapper/vg00-lvol00");
  parse_bad ("/dev/vg00/lvol00");
  parse_bad ("/dev/md0");
  parse_bad ("/dev/sr0");
  parse_bad ("/dev/disk/by-uuid/1234");
  /* by-id names of volumes, not of disks: the copy keeps them. */
  parse_bad ("/dev/disk/by-id/dm-uuid-LVM-Q2nB7xkUyZ3Zl1Kq0dFvJ8m3Rt6YpW4hVn2cD5sE9aG1fH7jK0lM3nP6qR8sT1uV");
  parse_bad ("/dev/disk/by-id/dm-name-ubuntu--vg-ubuntu--lv");
  parse_bad ("/dev/disk/by-id/md-uuid-3f2b1a0c:9d8e7f6a:5b4c3d2e:1f0a9b8c-part1");
  parse_bad ("/dev/disk/by-id/lvm-pv-uuid-Xk2wQp-7Ln3-Rz8v-Jm4t-Hc6y-Bf1s-Ud9gE0");
  parse_ok ("/dev/disk/by-id/dm-", FAM_BYID, "disk/by-id/dm-", 0);
  parse_bad ("/dev/cciss/c0d0p");
  parse_bad ("/dev/cciss/c0d01");       /* virt-v2v's mistake is not a name */
  parse_bad ("/dev/sda0");
  parse_bad ("/dev/nvme0n1p0");
  parse_bad ("/dev/sdcard1");
  parse_bad ("/dev/null");

  /* Formatting keeps each family's suffix rule. */
  char *s;
  CHECK_STR (s = devname_format ("cciss/c0d0", 1), "/dev/cciss/c0d0p1"); free (s);
  CHECK_STR (s = devname_format ("nvme0n1", 2), "/dev/nvme0n1p2"); free (s);
  CHECK_STR (s = devname_format ("mmcblk0", 1), "/dev/mmcblk0p1"); free (s);
  CHECK_STR (s = devname_format ("vda", 1), "/dev/vda1"); free (s);
  CHECK_STR (s = devname_format ("disk/by-id/virtio-abc", 3), "/dev/disk/by-id/virtio-abc-part3"); free (s);
  CHECK_STR (s = disk_name_for_index ("vd", 0), "vda"); free (s);
  CHECK_STR (s = disk_name_for_index ("sd", 25), "sdz"); free (s);
  CHECK_STR (s = disk_name_for_index ("sd", 26), "sdaa"); free (s);
  CHECK_STR (s = disk_name_for_index ("xvd", 701), "xvdzz"); free (s);
  CHECK_STR (s = disk_name_for_index ("sd", 702), "sdaaa"); free (s);

  /* cciss/nvme → vd and back: the suffix follows the new family. */
  struct devmap m = { 0 };
  CHECK (devmap_add (&m, "/dev/cciss/c0d0", "/dev/vda"));
  CHECK (devmap_add (&m, "nvme0n1", "vdb"));
  CHECK (devmap_add (&m, "/dev/mmcblk0", "/dev/vdc"));
  CHECK (devmap_add (&m, "/dev/disk/by-id/scsi-SHP_LOGICAL_VOLUME_5001438", "/dev/vda"));
  CHECK (devmap_add (&m, "/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0", "/dev/vda"));
  CHECK (!devmap_add (&m, "/dev/sda", "/dev/vda1"));   /* disk to partition */
  CHECK (!devmap_add (&m, "/dev/mapper/x", "/dev/vda"));
  s = rw ("/dev/cciss/c0d0p1 /boot ext3 defaults 1 2\n"
          "/dev/nvme0n1p2\t/data\txfs\tdefaults\t0 0\n"
          "/dev/mmcblk0p1 /sd vfat noauto 0 0\n"
          "/dev/disk/by-id/scsi-SHP_LOGICAL_VOLUME_5001438-part3 swap swap defaults 0 0\n"
          "/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0-part5 /x ext4 defaults 0 0\n"
          "/dev/vg00/lvol00 / ext3 defaults 1 1\n"
          "UUID=0a1b /home ext4 defaults 0 2\n", &m);
  CHECK_STR (s,
          "/dev/vda1 /boot ext3 defaults 1 2\n"
          "/dev/vdb2\t/data\txfs\tdefaults\t0 0\n"
          "/dev/vdc1 /sd vfat noauto 0 0\n"
          "/dev/vda3 swap swap defaults 0 0\n"
          "/dev/vda5 /x ext4 defaults 0 0\n"
          "/dev/vg00/lvol00 / ext3 defaults 1 1\n"
          "UUID=0a1b /home ext4 defaults 0 2\n");
  free (s);
  devmap_free (&m);

  /* vd → cciss gets the 'p' that virt-v2v forgets. */
  CHECK (devmap_add (&m, "vda", "cciss/c0d0"));
  s = rw ("root=/dev/vda2 resume=/dev/vda3\n", &m);
  CHECK_STR (s, "root=/dev/cciss/c0d0p2 resume=/dev/cciss/c0d0p3\n");
  free (s);
  devmap_free (&m);

  /* A swap that cannot collide: sda → vda while vda → vdb, in one pass,
   * and comments are left alone.
   */
  CHECK (devmap_add (&m, "sda", "vda"));
  CHECK (devmap_add (&m, "vda", "vdb"));
  const char *in = "# /dev/sda1 was the installer's disk\n"
    "/dev/sda1 / ext4 defaults 1 1\n/dev/vda1 /data ext4 defaults 0 2\n";
  s = rw (in, &m);
  CHECK_STR (s, "# /dev/sda1 was the installer's disk\n"
             "/dev/vda1 / ext4 defaults 1 1\n/dev/vdb1 /data ext4 defaults 0 2\n");
  free (s);
  devmap_free (&m);

  /* An exact partition entry wins over its disk's; names in longer
   * paths (/sys/dev/...) or followed by more name characters are not
   * device names.
   */
  CHECK (devmap_add (&m, "/dev/sda2", "/dev/vda3"));
  CHECK (devmap_add (&m, "/dev/sda", "/dev/vda"));
  s = rw ("a=/dev/sda2,b=/dev/sda1 /sys/dev/sda1 /dev/sda1x \"/dev/sda5\"\n", &m);
  CHECK_STR (s, "a=/dev/vda3,b=/dev/vda1 /sys/dev/sda1 /dev/sda1x \"/dev/vda5\"\n");
  free (s);

  /* Idempotence: an identity map changes nothing, and unmapped names
   * are reported, not guessed.
   */
  struct devmap id = { 0 };
  CHECK (devmap_add (&id, "vda", "vda"));
  struct rewrite_log log = { 0 };
  s = devrewrite ("/dev/vda1 / ext4\n/dev/sdb1 /x ext4\n", &id, 0, &log);
  CHECK_STR (s, "/dev/vda1 / ext4\n/dev/sdb1 /x ext4\n");
  CHECK (log.changed.n == 0);
  CHECK (log.unresolved.n == 1 && strcmp (log.unresolved.v[0], "/dev/sdb1") == 0);
  free (s);
  rewrite_log_free (&log);
  devmap_free (&id);
  devmap_free (&m);

  /* Collection in order of first appearance, comments skipped. */
  struct strlist disks = { 0 };
  devnames_collect ("# /dev/hda1\n/dev/sdb1 /\n/dev/sda1 /boot\n/dev/sdb2 swap\n", &disks);
  CHECK (disks.n == 2);
  if (disks.n == 2) {
    CHECK_STR (disks.v[0], "sdb");
    CHECK_STR (disks.v[1], "sda");
  }
  strlist_free (&disks);
  return TEST_DONE ();
}
