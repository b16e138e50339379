#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include <archive.h>
#include <archive_entry.h>

#include "fixup/initrd.h"
#include "fixup/rules.h"

static char *
module_name_of (const char *path)
{
  const char *b = strrchr (path, '/');
  b = b ? b + 1 : path;
  const char *ko = strstr (b, ".ko");
  if (!ko || ko == b)
    return NULL;
  const char *rest = ko + 3;
  if (*rest && strcmp (rest, ".xz") && strcmp (rest, ".gz") && strcmp (rest, ".zst"))
    return NULL;
  char *n = xstrndup (b, (size_t) (ko - b));
  for (char *c = n; *c; c++)
    if (*c == '-')
      *c = '_';
  return n;
}

int
initrd_inspect (const void *data, size_t len, struct initrd_info *info,
                char **err)
{
  const unsigned char *d = data;
  size_t off = 0;
  memset (info, 0, sizeof *info);

  while (off < len) {
    /* Archives are padded with zeros between them. */
    while (off < len && d[off] == 0)
      off++;
    if (off >= len)
      break;
    struct archive *a = archive_read_new ();
    archive_read_support_filter_all (a);
    archive_read_support_format_cpio (a);
    if (archive_read_open_memory (a, d + off, len - off) != ARCHIVE_OK) {
      *err = xasprintf ("cannot read the archive at offset %zu: %s", off,
                        archive_error_string (a));
      archive_read_free (a);
      goto bad;
    }
    struct archive_entry *e;
    int r;
    size_t entries = 0;
    while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
      const char *p = archive_entry_pathname (e);
      if (p) {
        while (p[0] == '.' && p[1] == '/')
          p += 2;
        if (*p && strcmp (p, ".") != 0) {
          strlist_add (&info->files, p);
          char *m = module_name_of (p);
          if (m)
            strlist_add_unique (&info->modules, m);
          free (m);
        }
      }
      entries++;
      if (archive_read_data_skip (a) != ARCHIVE_OK) { r = ARCHIVE_FATAL; break; }
    }
    if (r != ARCHIVE_EOF) {
      *err = xasprintf ("damaged archive at offset %zu: %s", off,
                        archive_error_string (a));
      archive_read_free (a);
      goto bad;
    }
    bool compressed = archive_filter_count (a) > 1
      && archive_filter_code (a, 0) != ARCHIVE_FILTER_NONE;
    strlist_add (&info->segments, archive_filter_name (a, 0));
    /* For an uncompressed archive libarchive's count of consumed bytes
     * is exactly where the next archive may start.  A compressed one is
     * the last: the kernel only allows uncompressed ones in front.
     */
    la_int64_t used = archive_filter_bytes (a, -1);
    archive_read_free (a);
    if (compressed || used <= 0 || entries == 0)
      break;
    off += (size_t) used;
  }
  if (info->segments.n == 0) {
    *err = xstrdup ("no cpio archive found");
    goto bad;
  }
  return 0;
 bad:
  initrd_info_free (info);
  return -1;
}

void
initrd_info_free (struct initrd_info *info)
{
  strlist_free (&info->modules);
  strlist_free (&info->files);
  strlist_free (&info->segments);
}

bool
initrd_has_module (const struct initrd_info *info, const char *mod)
{
  for (size_t i = 0; i < info->modules.n; i++)
    if (modname_eq (info->modules.v[i], strlen (info->modules.v[i]), mod))
      return true;
  return false;
}

bool
module_path_is_storage_stack (const char *path)
{
  static const char *const dirs[] = {
    "/kernel/fs/", "/kernel/crypto/", "/kernel/lib/", "/kernel/drivers/md/",
    "/kernel/arch/x86/crypto/", NULL
  };
  for (size_t i = 0; dirs[i]; i++)
    if (strstr (path, dirs[i]))
      return true;
  return false;
}

static const struct { const char *mod, *sym; } symbols[] = {
  { "virtio_blk", "CONFIG_VIRTIO_BLK" },
  { "virtio_pci", "CONFIG_VIRTIO_PCI" },
  { "virtio_net", "CONFIG_VIRTIO_NET" },
  { "virtio_scsi", "CONFIG_SCSI_VIRTIO" },
  { "vmw_pvscsi", "CONFIG_VMWARE_PVSCSI" },
  { "mptspi", "CONFIG_FUSION_SPI" },
  { "vmxnet3", "CONFIG_VMXNET3" },
  { "e1000", "CONFIG_E1000" },
  { "xen_blkfront", "CONFIG_XEN_BLKDEV_FRONTEND" },
  { "xen_netfront", "CONFIG_XEN_NETDEV_FRONTEND" },
  { "ata_piix", "CONFIG_ATA_PIIX" },
  { "piix", "CONFIG_BLK_DEV_PIIX" },
  { "ahci", "CONFIG_SATA_AHCI" },
  { "sd_mod", "CONFIG_BLK_DEV_SD" },
  { "ext4", "CONFIG_EXT4_FS" },
  { "ext3", "CONFIG_EXT3_FS" },
  { "xfs", "CONFIG_XFS_FS" },
};

const char *
module_config_symbol (const char *mod)
{
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    if (modname_eq (mod, strlen (mod), symbols[i].mod))
      return symbols[i].sym;
  return NULL;
}

/* Is there a line in TEXT whose path's module name is MOD?  In
 * modules.dep the path ends at the first ':'.
 */
static bool
listed_module (const char *text, const char *mod)
{
  size_t pos = 0;
  const char *line;
  size_t len;
  if (!text)
    return false;
  while (next_line (text, &pos, &line, &len)) {
    size_t n = line_body_len (line, len);
    const char *colon = memchr (line, ':', n);
    if (colon)
      n = (size_t) (colon - line);
    char *p = xstrndup (line, n);
    char *m = module_name_of (p);
    bool hit = m && modname_eq (m, strlen (m), mod);
    free (m);
    free (p);
    if (hit)
      return true;
  }
  return false;
}

static bool
config_value (const char *config, const char *sym, char want)
{
  size_t pos = 0, sl = strlen (sym);
  const char *line;
  size_t len;
  if (!config)
    return false;
  while (next_line (config, &pos, &line, &len)) {
    size_t n = line_body_len (line, len);
    if (n == sl + 2 && memcmp (line, sym, sl) == 0 && line[sl] == '='
        && line[sl + 1] == want)
      return true;
  }
  return false;
}

enum kmod_state
kernel_module_state (const struct kernel_mods *k, const char *mod)
{
  const char *sym = module_config_symbol (mod);
  if (listed_module (k->builtin, mod) || (sym && config_value (k->config, sym, 'y')))
    return KMOD_BUILTIN;
  if (listed_module (k->dep, mod) || (!k->dep && sym && config_value (k->config, sym, 'm')))
    return KMOD_MODULE;
  return KMOD_ABSENT;
}

void
kernel_mods_free (struct kernel_mods *k)
{
  free (k->dep);
  free (k->builtin);
  free (k->config);
  k->dep = k->builtin = k->config = NULL;
}

int
kernel_version_cmp (const char *a, const char *b)
{
  while (*a || *b) {
    if (!isdigit ((unsigned char) *a) || !isdigit ((unsigned char) *b))
      return isdigit ((unsigned char) *a) - isdigit ((unsigned char) *b);
    unsigned long x = 0, y = 0;
    while (isdigit ((unsigned char) *a))
      x = x * 10 + (unsigned long) (*a++ - '0');
    while (isdigit ((unsigned char) *b))
      y = y * 10 + (unsigned long) (*b++ - '0');
    if (x != y)
      return x < y ? -1 : 1;
    if (*a != '.' || *b != '.')
      return 0;
    a++; b++;
  }
  return 0;
}
