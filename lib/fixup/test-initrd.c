/* initrd inspection: real cpio archives built here with libarchive,
 * an uncompressed early microcode archive in front of the main one in
 * each compression an initrd uses.
 */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>

#include "fixup/initrd.h"
#include "common/test.h"

static void
add_file (struct archive *a, const char *path, const char *data)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) strlen (data));
  archive_write_header (a, e);
  archive_write_data (a, data, strlen (data));
  archive_entry_free (e);
}

/* Returns the archive's size; appends to BUF at *LEN. */
static void
make_cpio (char *buf, size_t cap, size_t *len, int filter,
           const char *const *paths)
{
  struct archive *a = archive_write_new ();
  size_t used = 0;
  archive_write_set_format_cpio_newc (a);
  if (filter != ARCHIVE_FILTER_NONE)
    archive_write_add_filter (a, filter);
  archive_write_set_bytes_in_last_block (a, 1);
  if (archive_write_open_memory (a, buf + *len, cap - *len, &used) != ARCHIVE_OK) {
    fprintf (stderr, "archive_write_open_memory: %s\n", archive_error_string (a));
    test_failures++;
  }
  for (size_t i = 0; paths[i]; i++)
    add_file (a, paths[i], "x");
  archive_write_close (a);
  archive_write_free (a);
  *len += used;
}

static const char *const early[] = {
  "kernel/x86/microcode/GenuineIntel.bin", NULL
};
static const char *const main_nov[] = {
  "./init", "usr/lib/modules/6.1.0-9-amd64/kernel/drivers/scsi/hpsa.ko",
  "usr/lib/modules/6.1.0-9-amd64/kernel/fs/ext4/ext4.ko",
  "usr/lib/modules/6.1.0-9-amd64/kernel/drivers/net/ethernet/broadcom/bnx2.ko.xz",
  "usr/lib/udev/rules.d/70-persistent-net.rules", NULL
};
static const char *const main_v[] = {
  "init", "lib/modules/6.1.0-9-amd64/kernel/drivers/block/virtio_blk.ko.zst",
  "lib/modules/6.1.0-9-amd64/kernel/drivers/virtio/virtio_pci.ko",
  "lib/modules/6.1.0-9-amd64/kernel/drivers/block/xen-blkfront.ko.gz", NULL
};

int
main (void)
{
  static char buf[1 << 20];
  const int filters[] = { ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_XZ,
                          ARCHIVE_FILTER_ZSTD, ARCHIVE_FILTER_LZ4,
                          ARCHIVE_FILTER_NONE };
  const char *names[] = { "gzip", "xz", "zstd", "lz4", "none" };

  for (size_t f = 0; f < 5; f++) {
    struct initrd_info info;
    char *err = NULL;
    size_t len = 0;
    make_cpio (buf, sizeof buf, &len, ARCHIVE_FILTER_NONE, early);
    /* The kernel accepts zero padding between archives. */
    memset (buf + len, 0, 512);
    len += 512;
    make_cpio (buf, sizeof buf, &len, filters[f], main_nov);
    if (initrd_inspect (buf, len, &info, &err) == -1) {
      fprintf (stderr, "FAIL (%s): %s\n", names[f], err);
      free (err);
      test_failures++;
      continue;
    }
    CHECK (info.segments.n == 2);
    if (info.segments.n == 2)
      CHECK_STR (info.segments.v[1], names[f]);
    CHECK (strlist_has (&info.files, "kernel/x86/microcode/GenuineIntel.bin"));
    CHECK (strlist_has (&info.files, "init"));
    CHECK (initrd_has_module (&info, "hpsa"));
    CHECK (initrd_has_module (&info, "bnx2"));
    CHECK (initrd_has_module (&info, "ext4"));
    CHECK (!initrd_has_module (&info, "virtio_blk"));
    CHECK (info.modules.n == 3);
    initrd_info_free (&info);

    len = 0;
    make_cpio (buf, sizeof buf, &len, filters[f], main_v);
    CHECK (initrd_inspect (buf, len, &info, &err) == 0);
    CHECK (initrd_has_module (&info, "virtio_blk"));
    CHECK (initrd_has_module (&info, "virtio_pci"));
    CHECK (initrd_has_module (&info, "xen_blkfront"));
    CHECK (initrd_has_module (&info, "xen-blkfront"));
    initrd_info_free (&info);
  }

  /* Garbage is an error, not an empty initrd. */
  struct initrd_info info;
  char *err = NULL;
  memset (buf, 'A', 4096);
  CHECK (initrd_inspect (buf, 4096, &info, &err) == -1);
  free (err);
  /* A truncated compressed archive is damaged, not fine. */
  size_t len = 0;
  make_cpio (buf, sizeof buf, &len, ARCHIVE_FILTER_GZIP, main_v);
  err = NULL;
  CHECK (initrd_inspect (buf, len / 2, &info, &err) == -1);
  free (err);

  CHECK (module_path_is_storage_stack ("usr/lib/modules/6.1.0/kernel/fs/ext4/ext4.ko"));
  CHECK (module_path_is_storage_stack ("lib/modules/6.1.0/kernel/drivers/md/dm-mod.ko"));
  CHECK (!module_path_is_storage_stack ("lib/modules/6.1.0/kernel/drivers/scsi/hpsa.ko"));

  /* Built in per config, a module per modules.dep, or absent. */
  struct kernel_mods k = {
    .dep = strdup ("kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko\n"
                   "kernel/drivers/net/virtio_net.ko.xz: kernel/net/core/failover.ko\n"),
    .builtin = strdup ("kernel/drivers/virtio/virtio_pci.ko\n"),
    .config = strdup ("CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_BLK=m\n# CONFIG_XEN_BLKDEV_FRONTEND is not set\nCONFIG_ATA_PIIX=y\n"),
  };
  CHECK (kernel_module_state (&k, "virtio_blk") == KMOD_MODULE);
  CHECK (kernel_module_state (&k, "virtio_net") == KMOD_MODULE);
  CHECK (kernel_module_state (&k, "virtio_pci") == KMOD_BUILTIN);
  CHECK (kernel_module_state (&k, "ata_piix") == KMOD_BUILTIN);
  CHECK (kernel_module_state (&k, "xen_blkfront") == KMOD_ABSENT);
  kernel_mods_free (&k);
  /* RHEL 5 style: only a config file. */
  k.config = strdup ("CONFIG_VIRTIO_BLK=m\nCONFIG_FUSION_SPI=m\n");
  CHECK (kernel_module_state (&k, "virtio_blk") == KMOD_MODULE);
  CHECK (kernel_module_state (&k, "vmw_pvscsi") == KMOD_ABSENT);
  kernel_mods_free (&k);

  CHECK (kernel_version_cmp ("2.6.18-398.el5", "2.6.28") < 0);
  CHECK (kernel_version_cmp ("2.6.32-754.el6.x86_64", "2.6.28") > 0);
  CHECK (kernel_version_cmp ("3.10.0", "2.6.28") > 0);
  CHECK (kernel_version_cmp ("2.6.28", "2.6.28") == 0);
  return TEST_DONE ();
}
