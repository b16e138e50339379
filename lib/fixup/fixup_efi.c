/* A UEFI guest on a new VM.
 *
 * The old server's firmware kept a boot entry in its NVRAM (Boot0000 →
 * \EFI\debian\shimx64.efi).  A new VM starts with empty NVRAM, and its
 * firmware then tries only the removable-media path \EFI\BOOT\BOOTX64.EFI
 * on each disk.  RHEL's shim package installs that path; Debian and
 * Ubuntu, as their installers leave them, do not, and the copy stops at
 * the firmware's "no bootable device".  So the fallback is put in place,
 * as a new file beside the guest's own loader (reported, undone on
 * failure like every other change):
 *
 *  - shim with fbx64.efi and the vendor's BOOTX64.CSV: shim becomes
 *    BOOTX64.EFI with fbx64.efi beside it.  On the first boot fallback
 *    reads BOOTX64.CSV, writes back the boot entry the old NVRAM had and
 *    boots it, as RHEL does.  grubx64.efi and mmx64.efi go beside too:
 *    without fallback (or where the firmware refuses the NVRAM write)
 *    shim loads grubx64.efi from its own directory.
 *  - GRUB alone: grubx64.efi becomes BOOTX64.EFI.  grub-install embeds
 *    where its configuration is (a UUID, or the ESP path of the signed
 *    image), not the path it was loaded from.
 *
 * The ESP is FAT: names match without regard to case.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fixup/internal.h"

#define ESP_EFI "/boot/efi/EFI"
/* No boot loader is this large; a bigger file is not one to copy. */
#define LOADER_MAX (64u << 20)

static const char *
find_ci (const struct strlist *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcasecmp (l->v[i], name) == 0)
      return l->v[i];
  return NULL;
}

/* The ESP directory named like the distribution (os-release ID; RHEL's
 * is "redhat"), else the first holding a loader.
 */
static char *
pick_vendor (struct run *r, const struct strlist *dirs)
{
  char *os = run_read (r, "/etc/os-release");
  char *id = NULL;
  if (os) {
    id = grubenv_get (os, "ID");
    free (os);
  }
  if (id && (id[0] == '"' || id[0] == '\'')) {
    size_t l = strlen (id);
    memmove (id, id + 1, l);
    if (l >= 2 && (id[l - 2] == '"' || id[l - 2] == '\''))
      id[l - 2] = '\0';
  }
  char *pick = NULL;
  size_t with_loader = 0;
  for (size_t i = 0; i < dirs->n; i++) {
    const char *d = dirs->v[i];
    if (strcasecmp (d, "BOOT") == 0)
      continue;
    char *p = xasprintf ("%s/%s", ESP_EFI, d);
    struct strlist files = { 0 };
    r->g->ops->list (r->g, p, &files);
    free (p);
    bool loader = find_ci (&files, "shimx64.efi") || find_ci (&files, "grubx64.efi");
    strlist_free (&files);
    if (!loader)
      continue;
    with_loader++;
    bool named = id && (strcasecmp (d, id) == 0
                        || (strcmp (id, "rhel") == 0 && strcasecmp (d, "redhat") == 0));
    if (!pick || named) {
      free (pick);
      pick = xstrdup (d);
      if (named)
        break;
    }
  }
  if (with_loader > 1 && pick)
    plan_warn (&r->plan, "the ESP holds several boot loaders; %s/%s is the "
               "one made the fallback", ESP_EFI, pick);
  free (id);
  return pick;
}

/* Plan DIR/NAME (found case-insensitively in FILES) copied to TO. */
static bool
plan_copy (struct run *r, const char *dir, const struct strlist *files,
           const char *name, const char *to, const char *why)
{
  const char *real = find_ci (files, name);
  if (!real)
    return false;
  char *from = xasprintf ("%s/%s", dir, real);
  char *data;
  size_t len;
  bool ok = false;
  if (r->g->ops->read (r->g, from, &data, &len) == -1)
    plan_warn (&r->plan, "cannot read %s: %s", from, r->g->ops->error (r->g));
  else if (len == 0 || len > LOADER_MAX) {
    plan_warn (&r->plan, "%s is %zu bytes, not a boot loader; not copied", from, len);
    free (data);
  }
  else {
    plan_add_copy (&r->plan, to, from, data, len, why);
    ok = true;
  }
  free (from);
  return ok;
}

void
fixup_efi (struct run *r)
{
  struct strlist dirs = { 0 }, files = { 0 }, boot = { 0 };
  r->g->ops->list (r->g, ESP_EFI, &dirs);
  char *vendor = pick_vendor (r, &dirs);
  if (!vendor) {
    strlist_free (&dirs);
    return;
  }
  r->efi_vendor = vendor;
  char *vdir = xasprintf ("%s/%s", ESP_EFI, vendor);
  r->g->ops->list (r->g, vdir, &files);
  bool shim = find_ci (&files, "shimx64.efi") != NULL;
  bool bios = r->g->ops->is_dir (r->g, "/boot/grub/i386-pc")
    || r->g->ops->is_dir (r->g, "/boot/grub2/i386-pc");
  plan_info (&r->plan, "The guest boots UEFI (\\EFI\\%s\\%s)%s: give the VM "
             "UEFI firmware (OVMF), not BIOS", vendor,
             shim ? find_ci (&files, "shimx64.efi") : find_ci (&files, "grubx64.efi"),
             bios ? " and also has GRUB for BIOS" : "");

  const char *bootname = find_ci (&dirs, "BOOT");
  char *bdir = xasprintf ("%s/%s", ESP_EFI, bootname ? bootname : "BOOT");
  r->g->ops->list (r->g, bdir, &boot);
  const char *have = find_ci (&boot, "BOOTX64.EFI");
  if (have) {
    plan_info (&r->plan, "%s/%s: the fallback boot loader is in place, left alone",
               bdir, have);
    goto out;
  }
  char *to = xasprintf ("%s/BOOTX64.EFI", bdir);
  if (shim) {
    if (plan_copy (r, vdir, &files, "shimx64.efi", to,
                   "the boot loader a VM with empty NVRAM finds: shim")) {
      char *p;
      bool csv = find_ci (&files, "BOOTX64.CSV") != NULL;
      p = xasprintf ("%s/fbx64.efi", bdir);
      if (csv)
        plan_copy (r, vdir, &files, "fbx64.efi", p,
                   "shim's fallback: restores the boot entry from BOOTX64.CSV");
      free (p);
      p = xasprintf ("%s/grubx64.efi", bdir);
      plan_copy (r, vdir, &files, "grubx64.efi", p, "GRUB, which shim loads from its directory");
      free (p);
      p = xasprintf ("%s/mmx64.efi", bdir);
      plan_copy (r, vdir, &files, "mmx64.efi", p, "shim's MOK manager");
      free (p);
    }
  }
  else
    plan_copy (r, vdir, &files, "grubx64.efi", to,
               "the boot loader a VM with empty NVRAM finds: GRUB");
  free (to);
 out:
  free (bdir);
  free (vdir);
  strlist_free (&dirs);
  strlist_free (&files);
  strlist_free (&boot);
}
