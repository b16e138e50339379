/* One p2vfixup run: recognise the guest, plan every change through the
 * rules, then show (--dry-run) or apply them and rebuild the initrd.
 * Nothing is written before the whole plan is known, so an
 * unrecognised guest or a missing driver leaves the guest untouched.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "fixup/internal.h"
#include "common/manifest.h"

/* Which disk names earlier runs wrote: on a second run "vda" may be
 * both a manifest's source name (disk 2 was vda on the old host) and
 * the new name of disk 1; only this record tells them apart.
 */
#define STATE_FILE "/etc/p2vfixup.disks"
#define BLS_DIR "/boot/loader/entries"

char *
run_read (struct run *r, const char *path)
{
  const char *planned = plan_text (&r->plan, path);
  if (planned)
    return xstrdup (planned);
  char *d;
  size_t n;
  if (!r->g->ops->is_file (r->g, path))
    return NULL;
  if (r->g->ops->read (r->g, path, &d, &n) == -1) {
    plan_warn (&r->plan, "cannot read %s: %s", path, r->g->ops->error (r->g));
    return NULL;
  }
  if (memchr (d, '\0', n)) {
    /* Not a text file: the rules must not touch it. */
    plan_warn (&r->plan, "%s is not a text file, left alone", path);
    free (d);
    return NULL;
  }
  return d;
}

void
run_change (struct run *r, const char *path, const char *cur, char *new_,
            struct strlist *notes)
{
  if (strcmp (cur ? cur : "", new_) == 0 && cur) {
    free (new_);
    strlist_free (notes);
    return;
  }
  const char *orig = NULL;
  char *disk = NULL;
  if (!plan_find (&r->plan, path)) {
    size_t n;
    if (r->g->ops->is_file (r->g, path)
        && r->g->ops->read (r->g, path, &disk, &n) == 0)
      orig = disk;
  }
  plan_add (&r->plan, path, orig, new_, notes);
  free (disk);
}

/* --- recognising the guest --- */

static char *
os_name (struct run *r)
{
  char *t = run_read (r, "/etc/os-release");
  if (t) {
    size_t pos = 0;
    const char *line;
    size_t len;
    char *name = NULL;
    while (next_line (t, &pos, &line, &len)) {
      size_t n = line_body_len (line, len);
      if (n > 12 && memcmp (line, "PRETTY_NAME=", 12) == 0) {
        const char *v = line + 12;
        size_t vl = n - 12;
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) { v++; vl -= 2; }
        name = xstrndup (v, vl);
      }
    }
    free (t);
    if (name)
      return name;
  }
  static const char *const rel[] = { "/etc/redhat-release", "/etc/SuSE-release",
                                     "/etc/debian_version", NULL };
  for (size_t i = 0; rel[i]; i++) {
    t = run_read (r, rel[i]);
    if (!t)
      continue;
    char *nl = strchr (t, '\n');
    if (nl)
      *nl = '\0';
    char *name = i == 2 ? xasprintf ("Debian %s", t) : xstrdup (t);
    free (t);
    return name;
  }
  return xstrdup ("unknown Linux");
}

/* Where GRUB 2 keeps grub.cfg: on the ESP for UEFI RHEL/CentOS 7-8
 * (/etc/grub2-efi.cfg links there) and SUSE, in /boot elsewhere.
 * Debian's ESP grub.cfg is a stub that loads /boot/grub's, so a file
 * without a kernel entry gives way to the next.
 */
static void
grub2_candidates (struct run *r, struct strlist *c)
{
  struct strlist efi = { 0 };
  r->g->ops->list (r->g, "/boot/efi/EFI", &efi);
  for (size_t i = 0; i < efi.n; i++) {
    char *p = xasprintf ("/boot/efi/EFI/%s/grub.cfg", efi.v[i]);
    strlist_add (c, p);
    free (p);
  }
  strlist_free (&efi);
  strlist_add (c, "/boot/grub/grub.cfg");
  strlist_add (c, "/boot/grub2/grub.cfg");
}

static const char *const grub1_cfgs[] = {
  "/boot/grub/grub.conf", "/boot/grub/menu.lst", NULL
};

/* grubenv beside grub.cfg (on the ESP for RHEL 8 UEFI) or in /boot. */
static char *
read_grubenv (struct run *r)
{
  char *env = NULL;
  if (r->grub_file) {
    const char *slash = strrchr (r->grub_file, '/');
    char *p = xasprintf ("%.*s/grubenv", (int) (slash - r->grub_file), r->grub_file);
    env = run_read (r, p);
    free (p);
  }
  if (!env)
    env = run_read (r, "/boot/grub2/grubenv");
  return env;
}

/* RHEL 8+ and Fedora: grub.cfg says "blscfg" and the kernels are
 * /boot/loader/entries/NAME.conf.  GRUB boots grubenv's saved_entry, else
 * the newest version.
 */
static int
find_bls_entry (struct run *r)
{
  struct strlist names = { 0 };
  r->g->ops->list (r->g, BLS_DIR, &names);
  char *env = read_grubenv (r);
  char *saved = env ? grubenv_get (env, "saved_entry") : NULL;
  char *kopts = env ? grubenv_get (env, "kernelopts") : NULL;
  const char *pick = NULL;
  for (size_t i = 0; i < names.n; i++) {
    const char *n = names.v[i];
    size_t l = strlen (n);
    if (l <= 5 || !str_ends (n, ".conf"))
      continue;
    if (saved && strlen (saved) == l - 5 && memcmp (saved, n, l - 5) == 0) {
      pick = n;
      break;
    }
    if (!pick || strverscmp (n, pick) > 0)
      pick = n;
  }
  int ret = -1;
  if (pick) {
    char *p = xasprintf ("%s/%s", BLS_DIR, pick);
    char *text = run_read (r, p);
    if (text && boot_entry_bls (text, kopts, &r->boot) == 0) {
      r->bls_entry = p;
      p = NULL;
      ret = 0;
    }
    free (text);
    free (p);
  }
  strlist_free (&names);
  free (env);
  free (saved);
  free (kopts);
  return ret;
}

static int
find_bootloader (struct run *r, char **err)
{
  struct strlist cands = { 0 };
  char *found = NULL;
  bool ok = false;
  grub2_candidates (r, &cands);
  for (size_t i = 0; !ok && i < cands.n; i++) {
    char *text = run_read (r, cands.v[i]);
    if (!text)
      continue;
    if (!found)
      found = xstrdup (cands.v[i]);
    free (r->grub_file);
    r->grub_file = xstrdup (cands.v[i]);
    ok = boot_entry_grub2 (text, &r->boot) == 0
      || (grub2_uses_bls (text) && find_bls_entry (r) == 0);
    free (text);
  }
  strlist_free (&cands);
  for (size_t i = 0; !ok && !found && grub1_cfgs[i]; i++) {
    char *text = run_read (r, grub1_cfgs[i]);
    if (!text)
      continue;
    found = xstrdup (grub1_cfgs[i]);
    free (r->grub_file);
    r->grub_file = xstrdup (grub1_cfgs[i]);
    r->grub_legacy = true;
    ok = boot_entry_grub1 (text, &r->boot) == 0;
    free (text);
  }
  if (!ok) {
    *err = found ? xasprintf ("%s has no kernel entry%s", found,
                              r->grub_legacy ? "" : " (nor BLS entries it reads)")
      : xstrdup ("unknown bootloader: no GRUB configuration in /boot/grub, "
                 "/boot/grub2 or the ESP (/boot/efi/EFI/*/grub.cfg)");
    free (found);
    return -1;
  }
  free (found);
  const char *from = r->bls_entry ? r->bls_entry : r->grub_file;
  if (!r->boot.version) {
    *err = xasprintf ("cannot tell the kernel version from %s in %s",
                      r->boot.kernel, from);
    return -1;
  }
  /* Paths in GRUB are relative to the partition it reads, which is
   * /boot when that is a filesystem of its own.
   */
  if (r->boot.initrd) {
    char *b = xasprintf ("/boot%s", r->boot.initrd);
    if (!str_starts (r->boot.initrd, "/boot/") && r->g->ops->is_file (r->g, b))
      r->initrd_path = b;
    else {
      free (b);
      r->initrd_path = xstrdup (r->boot.initrd);
    }
  }
  return 0;
}

static void
read_kernel_mods (struct run *r)
{
  const char *v = r->boot.version;
  char *p;
  p = xasprintf ("/lib/modules/%s/modules.dep", v);
  r->kmods.dep = run_read (r, p);
  free (p);
  p = xasprintf ("/lib/modules/%s/modules.builtin", v);
  r->kmods.builtin = run_read (r, p);
  free (p);
  p = xasprintf ("/boot/config-%s", v);
  r->kmods.config = run_read (r, p);
  free (p);
}

static const char *
pick_driver (struct run *r, const char *const *cands, bool old_ide)
{
  size_t n = 0;
  while (n < 3 && cands[n])
    n++;
  for (size_t k = 0; k < n; k++) {
    const char *c = cands[old_ide ? n - 1 - k : k];
    if (kernel_module_state (&r->kmods, c) != KMOD_ABSENT)
      return c;
  }
  return NULL;
}

static int
choose_drivers (struct run *r, char **err)
{
  const char *prefix = target_disk_prefix (r->t, r->boot.version);
  bool old_ide = strcmp (prefix, "hd") == 0;
  if (!r->kmods.dep && !r->kmods.builtin && !r->kmods.config) {
    *err = xasprintf ("kernel %s: neither /lib/modules/%s/modules.dep nor "
                      "/boot/config-%s found", r->boot.version, r->boot.version,
                      r->boot.version);
    return -1;
  }
  r->disk_driver = pick_driver (r, r->t->disk_drivers, old_ide);
  if (!r->disk_driver) {
    *err = xasprintf ("kernel %s has no %s driver, so it cannot find its "
                      "disk on --target %s (try another target)",
                      r->boot.version, r->t->disk_drivers[0], r->t->name);
    return -1;
  }
  for (size_t i = 0; i < 3 && r->t->extra_drivers[i]; i++) {
    const char *x = r->t->extra_drivers[i];
    if (old_ide && strcmp (x, "sd_mod") == 0)
      x = "ide_disk";
    if (kernel_module_state (&r->kmods, x) == KMOD_ABSENT)
      plan_warn (&r->plan, "kernel %s has no %s driver", r->boot.version, x);
    else
      strlist_add (&r->extra_drivers, x);
  }
  r->net_driver = pick_driver (r, r->t->net_drivers, false);
  if (!r->net_driver) {
    r->net_driver = r->t->net_drivers[0];
    plan_warn (&r->plan, "kernel %s has no %s driver: the network will not "
               "come up", r->boot.version, r->net_driver);
  }
  return 0;
}

/* --- device names --- */

/* Add PATH by the name of the file it reaches, once. */
static void
add_devfile (struct run *r, struct strlist *files, const char *path)
{
  if (!r->g->ops->is_file (r->g, path))
    return;
  char *real = r->g->ops->resolve (r->g, path);
  strlist_add_unique (files, real ? real : path);
  free (real);
}

static void
device_files (struct run *r, struct strlist *files)
{
  static const char *const fixed[] = {
    "/etc/fstab", "/etc/crypttab", "/etc/default/grub",
    "/boot/grub/device.map", "/boot/grub2/device.map",
    "/boot/grub/grubenv", "/boot/grub2/grubenv",
    "/etc/initramfs-tools/conf.d/resume", "/etc/uswsusp.conf",
    /* What kernel-install (Fedora, RHEL 9) and perl-Bootloader (SUSE)
     * give the next kernel update's entry: old names there would come
     * back with it.
     */
    "/etc/kernel/cmdline", "/etc/sysconfig/bootloader", NULL
  };
  char *real = r->g->ops->resolve (r->g, r->grub_file);
  if (real) {
    free (r->grub_file);
    r->grub_file = real;
  }
  add_devfile (r, files, r->grub_file);
  /* A UEFI guest's GRUB reads the grub.cfg (and grubenv) on the ESP. */
  struct strlist efi = { 0 };
  r->g->ops->list (r->g, "/boot/efi/EFI", &efi);
  for (size_t i = 0; i < efi.n; i++)
    for (int k = 0; k < 2; k++) {
      char *p = xasprintf ("/boot/efi/EFI/%s/%s", efi.v[i], k ? "grubenv" : "grub.cfg");
      add_devfile (r, files, p);
      free (p);
    }
  strlist_free (&efi);
  /* Every BLS entry, not only the default: the admin may pick another. */
  struct strlist bls = { 0 };
  r->g->ops->list (r->g, BLS_DIR, &bls);
  for (size_t i = 0; i < bls.n; i++)
    if (str_ends (bls.v[i], ".conf")) {
      char *p = xasprintf ("%s/%s", BLS_DIR, bls.v[i]);
      add_devfile (r, files, p);
      free (p);
    }
  strlist_free (&bls);
  for (size_t i = 0; fixed[i]; i++)
    add_devfile (r, files, fixed[i]);
}

static const char *
image_manifest (struct run *r, size_t i, char **owned)
{
  *owned = NULL;
  if (i < r->o->manifests.n)
    return r->o->manifests.v[i];
  if (i >= r->o->nimages)
    return NULL;
  *owned = xasprintf ("%s.p2v.json", r->o->images[i]);
  if (access (*owned, R_OK) == 0)
    return *owned;
  free (*owned);
  *owned = NULL;
  return NULL;
}

static int
manifests_to_map (struct run *r, const char *prefix, char **err)
{
  size_t n = r->o->nimages > r->o->manifests.n ? r->o->nimages : r->o->manifests.n;
  for (size_t i = 0; i < n; i++) {
    char *owned;
    const char *path = image_manifest (r, i, &owned);
    if (!path)
      continue;
    char *perr = NULL;
    struct p2v_manifest m;
    if (p2v_manifest_read (path, &m, &perr) == -1) {
      *err = xasprintf ("manifest %s: %s", path, perr);
      free (perr);
      free (owned);
      return -1;
    }
    char *disk = disk_name_for_index (prefix, (unsigned) i);
    if (m.kernel_name && !devmap_add (&r->map, m.kernel_name, disk))
      plan_warn (&r->plan, "manifest %s: source %s is not a disk name p2vfixup knows",
                 path, m.kernel_name);
    for (size_t k = 0; k < m.n_by_id; k++)
      devmap_add (&r->map, m.by_id[k], disk);
    for (size_t k = 0; k < m.n_by_path; k++)
      devmap_add (&r->map, m.by_path[k], disk);
    plan_info (&r->plan, "disk %zu: was %s (manifest %s), now /dev/%s", i + 1,
               m.path ? m.path : m.kernel_name ? m.kernel_name : "unknown",
               path, disk);
    free (disk);
    p2v_manifest_free (&m);
    free (owned);
  }
  return 0;
}

/* GRUB's device.map says which disk the BIOS booted as hdN. */
static void
devicemap_hints (struct run *r, const char *text, struct devmap *hints,
                 const char *prefix)
{
  size_t pos = 0;
  const char *line;
  size_t len;
  while (next_line (text, &pos, &line, &len)) {
    size_t n = line_body_len (line, len);
    if (line_is_comment (line, len) || n < 6 || memcmp (line, "(hd", 3) != 0)
      continue;
    const char *close = memchr (line, ')', n);
    unsigned long idx;
    if (!close || !p2v_parse_digits (line + 3, (size_t) (close - line - 3), &idx))
      continue;
    const char *dev = skip_blank (close + 1, line + n);
    const char *e = dev;
    while (e < line + n && *e != ' ' && *e != '\t')
      e++;
    struct devname d;
    if (!devname_parse (dev, (size_t) (e - dev), &d) || d.part != 0)
      continue;
    char *disk = disk_name_for_index (prefix, (unsigned) idx);
    devmap_add (hints, d.disk, disk);
    free (disk);
  }
}

static bool
claimed (const struct devmap *m, const struct strlist *present, const char *disk)
{
  for (size_t i = 0; i < m->n; i++)
    if (!m->e[i].exact && strcmp (m->e[i].new_, disk) == 0
        && strlist_has (present, m->e[i].old))
      return true;
  return false;
}

static char *
next_free (const struct devmap *m, const struct strlist *present,
           const char *prefix)
{
  for (unsigned i = 0; ; i++) {
    char *d = disk_name_for_index (prefix, i);
    if (!claimed (m, present, d))
      return d;
    free (d);
  }
}

/* 0; -1 for a bad --map (usage); -2 for a manifest that cannot be
 * read or trusted (the guest cannot be converted as asked).
 */
static int
build_map (struct run *r, const struct strlist *files, char **err)
{
  const char *prefix = target_disk_prefix (r->t, r->boot.version);
  struct strlist present = { 0 };
  for (size_t i = 0; i < r->o->maps.n; i++) {
    char *eq = strchr (r->o->maps.v[i], '=');
    char *old = eq ? xstrndup (r->o->maps.v[i], (size_t) (eq - r->o->maps.v[i])) : NULL;
    bool ok = eq && devmap_add (&r->map, old, eq + 1);
    free (old);
    if (!ok) {
      *err = xasprintf ("--map %s: expected OLD=NEW, two disks or two partitions",
                        r->o->maps.v[i]);
      return -1;
    }
  }
  /* Names an earlier run produced are already right: pin them before
   * the manifests, whose source names (vda on the old host) may equal
   * them.
   */
  char *state = run_read (r, STATE_FILE);
  if (state) {
    size_t pos = 0;
    const char *line;
    size_t len;
    while (next_line (state, &pos, &line, &len)) {
      if (line_is_comment (line, len))
        continue;
      size_t n = line_body_len (line, len);
      const char *sp = memchr (line, ' ', n);
      if (!sp)
        continue;
      char *nw = xstrndup (sp + 1, n - (size_t) (sp + 1 - line));
      char *old = xstrndup (line, (size_t) (sp - line));
      strlist_add_unique (&r->state_old, old);
      strlist_add_unique (&r->state_new, nw);
      if (!devmap_has (&r->map, nw))
        devmap_add (&r->map, nw, nw);
      free (nw);
      free (old);
    }
    free (state);
  }
  if (manifests_to_map (r, prefix, err) == -1)
    return -2;

  for (size_t i = 0; i < files->n; i++) {
    char *t = run_read (r, files->v[i]);
    if (!t)
      continue;
    devnames_collect (t, &present);
    if (str_ends (files->v[i], "/device.map")) {
      struct devmap hints = { 0 };
      devicemap_hints (r, t, &hints, prefix);
      for (size_t k = 0; k < hints.n; k++)
        if (!devmap_has (&r->map, hints.e[k].old)
            && !claimed (&r->map, &present, hints.e[k].new_)) {
          devmap_add (&r->map, hints.e[k].old, hints.e[k].new_);
          plan_info (&r->plan, "/dev/%s → /dev/%s (BIOS disk order in %s)",
                     hints.e[k].old, hints.e[k].new_, files->v[i]);
        }
      devmap_free (&hints);
    }
    free (t);
  }

  enum devfam target_fam = devname_family (prefix[0] == 'v' ? "vda"
                                           : prefix[0] == 'x' ? "xvda"
                                           : prefix[0] == 'h' ? "hda" : "sda");
  /* Old names take the free slots in the order they were found; a name
   * already in the target's form stays unless an old name now needs its
   * slot (sda → vda pushes an existing vda to vdb).
   */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < present.n; i++) {
      const char *d = present.v[i];
      enum devfam f = devname_family (d);
      if (devmap_has (&r->map, d) || f == FAM_BYID || f == FAM_BYPATH || f == FAM_NONE)
        continue;
      if ((pass == 0) == (f == target_fam))
        continue;
      char *nd = (f == target_fam && !claimed (&r->map, &present, d))
        ? xstrdup (d) : next_free (&r->map, &present, prefix);
      devmap_add (&r->map, d, nd);
      if (strcmp (d, nd) != 0)
        plan_info (&r->plan, "/dev/%s → /dev/%s (order found in the guest's files)",
                   d, nd);
      if (r->o->nimages && strcmp (d, nd) != 0) {
        char *last = disk_name_for_index (prefix, (unsigned) r->o->nimages - 1);
        if (strlen (nd) > strlen (last) || (strlen (nd) == strlen (last) && strcmp (nd, last) > 0))
          plan_warn (&r->plan, "/dev/%s → /dev/%s, but only %zu image(s) were given",
                     d, nd, r->o->nimages);
        free (last);
      }
      free (nd);
    }
  /* Record what this run renames (see STATE_FILE). */
  for (size_t i = 0; i < r->map.n; i++)
    if (!r->map.e[i].exact && strcmp (r->map.e[i].old, r->map.e[i].new_) != 0
        && strlist_has (&present, r->map.e[i].old)) {
      char *l = xasprintf ("%s %s", r->map.e[i].old, r->map.e[i].new_);
      strlist_add_unique (&r->state_lines, l);
      free (l);
    }
  strlist_free (&present);
  return 0;
}

static void
write_state (struct run *r)
{
  if (r->state_lines.n == 0)
    return;
  struct sbuf b = { 0 };
  char *cur = run_read (r, STATE_FILE);
  if (cur)
    sb_adds (&b, cur);
  else
    sb_adds (&b, "# Written by p2vfixup: disk names it rewrote (old new), so that\n"
             "# a later run knows these new names are already right.\n");
  for (size_t i = 0; i < r->state_lines.n; i++)
    if (!cur || !strstr (cur, r->state_lines.v[i]))
      sb_printf (&b, "%s\n", r->state_lines.v[i]);
  struct strlist notes = { 0 };
  strlist_add (&notes, "records the disk names rewritten, for later runs");
  run_change (r, STATE_FILE, cur, sb_steal (&b), &notes);
  free (cur);
}

static void
rewrite_devices (struct run *r, const struct strlist *files)
{
  for (size_t i = 0; i < files->n; i++) {
    char *cur = run_read (r, files->v[i]);
    if (!cur)
      continue;
    struct strlist notes = { 0 }, warn = { 0 };
    bool legacy = r->grub_legacy && strcmp (files->v[i], r->grub_file) == 0;
    char *n = legacy ? rule_grub_legacy (cur, &r->map, &notes, &warn)
      : rule_devices (cur, &r->map, &notes, &warn);
    for (size_t k = 0; k < warn.n; k++)
      plan_warn (&r->plan, "%s: %s", files->v[i], warn.v[k]);
    strlist_free (&warn);
    if (str_ends (files->v[i], "/grubenv") && strcmp (cur, n) != 0
        && !(n = grubenv_refit (cur, n))) {
      plan_warn (&r->plan, "%s: the new names do not fit its 1024 bytes; "
                 "left alone (edit it with grub2-editenv)", files->v[i]);
      strlist_free (&notes);
      free (cur);
      continue;
    }
    run_change (r, files->v[i], cur, n, &notes);
    free (cur);
  }
}

static void
rewrite_modprobe (struct run *r)
{
  struct strlist files = { 0 }, d = { 0 };
  strlist_add (&files, "/etc/modprobe.conf");
  strlist_add (&files, "/etc/modules.conf");
  r->g->ops->list (r->g, "/etc/modprobe.d", &d);
  for (size_t i = 0; i < d.n; i++)
    if (str_ends (d.v[i], ".conf") || !strchr (d.v[i], '.')) {
      char *p = xasprintf ("/etc/modprobe.d/%s", d.v[i]);
      strlist_add (&files, p);
      free (p);
    }
  strlist_free (&d);
  for (size_t i = 0; i < files.n; i++) {
    char *cur = run_read (r, files.v[i]);
    if (!cur)
      continue;
    struct strlist notes = { 0 };
    char *n = rule_modprobe (cur, r->disk_driver, r->net_driver, &notes);
    run_change (r, files.v[i], cur, n, &notes);
    free (cur);
  }
  strlist_free (&files);
}

int
fixup_run (const struct fixup_opts *o)
{
  struct run r = { .o = o };
  char *err = NULL;
  int ret = P2V_EXIT_IO;
  bool unrecognised = false;
  struct strlist devfiles = { 0 };

  r.t = target_find (o->target);
  if (!r.t) {
    p2v_error ("unknown --target %s (one of %s)",
               o->target, target_names ());
    return P2V_EXIT_USAGE;
  }
  if (o->root_dir)
    r.g = guest_open_root (o->root_dir, &err);
  else r.g = guest_open_images (o->images, o->nimages, o->dry_run, o->root_device,
                                o->verbose, &err, &unrecognised);
  if (!r.g) {
    p2v_error ("%s", err);
    free (err);
    return unrecognised ? P2V_EXIT_UNRECOGNISED : P2V_EXIT_IO;
  }

  if (!r.g->ops->is_file (r.g, "/etc/fstab")) {
    err = xstrdup ("not a Linux root: no /etc/fstab");
    ret = P2V_EXIT_UNRECOGNISED;
    goto out;
  }
  r.os_name = os_name (&r);
  if (find_bootloader (&r, &err) == -1) { ret = P2V_EXIT_UNRECOGNISED; goto out; }
  read_kernel_mods (&r);
  if (choose_drivers (&r, &err) == -1) { ret = P2V_EXIT_UNRECOGNISED; goto out; }
  plan_info (&r.plan, "Guest: %s, %s %s%s%s, kernel %s; target %s: %s%s%s, %s",
             r.os_name, r.grub_legacy ? "GRUB legacy" : "GRUB 2", r.grub_file,
             r.bls_entry ? " + " : "", r.bls_entry ? r.bls_entry : "",
             r.boot.version, r.t->name, r.disk_driver,
             r.extra_drivers.n ? " + " : "",
             r.extra_drivers.n ? r.extra_drivers.v[0] : "", r.net_driver);

  device_files (&r, &devfiles);
  int mapped = build_map (&r, &devfiles, &err);
  if (mapped < 0) {
    ret = mapped == -2 ? P2V_EXIT_UNRECOGNISED : P2V_EXIT_USAGE;
    goto out;
  }
  rewrite_devices (&r, &devfiles);
  write_state (&r);
  rewrite_modprobe (&r);
  fixup_efi (&r);
  if (fixup_network (&r) == -1)
    goto out;
  if (fixup_agents (&r) == -1)
    goto out;
  if (!o->no_initrd && fixup_initrd_plan (&r) == -1) {
    ret = P2V_EXIT_INITRD;
    goto out;
  }

  if (o->dry_run) {
    plan_print_diff (&r.plan);
    plan_report (&r.plan, true);
    ret = P2V_EXIT_OK;
    goto out;
  }
  if (plan_apply (&r.plan, r.g, o->no_backup) == -1)
    goto out;
  if (r.rebuild_cmds.n && fixup_initrd_rebuild (&r) == -1) {
    /* Files that name virtio disks with an initrd that cannot reach
     * them would leave the guest worse than before.
     */
    plan_undo (&r.plan, r.g);
    plan_report (&r.plan, false);
    p2v_error ("the initrd could not be rebuilt with "
               "the new drivers; every change was undone");
    ret = P2V_EXIT_INITRD;
    goto out;
  }
  fixup_agents_remove (&r);
  plan_report (&r.plan, false);
  ret = P2V_EXIT_OK;

 out:
  if (err)
    p2v_error ("%s", err);
  free (err);
  if (r.g->ops->close (r.g) == -1 && ret == P2V_EXIT_OK)
    ret = P2V_EXIT_IO;
  strlist_free (&devfiles);
  plan_free (&r.plan);
  free (r.os_name);
  free (r.grub_file);
  free (r.bls_entry);
  free (r.efi_vendor);
  free (r.initrd_path);
  boot_entry_free (&r.boot);
  kernel_mods_free (&r.kmods);
  devmap_free (&r.map);
  strlist_free (&r.extra_drivers);
  strlist_free (&r.rebuild_cmds);
  strlist_free (&r.state_lines);
  strlist_free (&r.state_old);
  strlist_free (&r.state_new);
  strlist_free (&r.agent_cmds);
  strlist_free (&r.agent_names);
  return ret;
}
