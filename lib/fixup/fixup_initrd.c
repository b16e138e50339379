/* The initrd step.  Look first (libarchive on the initrd the bootloader
 * boots, /boot/config-* and modules.builtin for built-in drivers) and
 * rebuild only if the new disk's drivers are missing, with the guest's
 * own tool and the drivers added to its configuration, so later kernel
 * updates keep them.  Then look again.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixup/internal.h"

#define SEP '\x1f'

static const char *const update_initramfs[] = { "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL };
static const char *const dracut[] = { "/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut", NULL };
static const char *const mkinitrd[] = { "/sbin/mkinitrd", "/usr/sbin/mkinitrd", "/usr/bin/mkinitrd", NULL };

static const char *
find_tool (struct run *r, const char *const *cands)
{
  for (size_t i = 0; cands[i]; i++)
    if (r->g->ops->is_file (r->g, cands[i]))
      return cands[i];
  return NULL;
}

static void
add_cmd (struct run *r, const char *const *argv)
{
  struct sbuf b = { 0 }, shown = { 0 };
  for (size_t i = 0; argv[i]; i++) {
    if (i) { sb_addc (&b, SEP); sb_addc (&shown, ' '); }
    sb_adds (&b, argv[i]);
    sb_adds (&shown, argv[i]);
  }
  strlist_add (&r->rebuild_cmds, b.s);
  strlist_add (&r->plan.commands, shown.s);
  sb_free (&b);
  sb_free (&shown);
}

static int
inspect (struct run *r, struct initrd_info *info, char **err)
{
  char *data;
  size_t len;
  if (r->g->ops->read (r->g, r->initrd_path, &data, &len) == -1) {
    *err = xasprintf ("cannot read the initrd: %s", r->g->ops->error (r->g));
    return -1;
  }
  char *e = NULL;
  int ret = initrd_inspect (data, len, info, &e);
  free (data);
  if (ret == -1) {
    *err = xasprintf ("%s: %s", r->initrd_path, e);
    free (e);
  }
  return ret;
}

/* The drivers that must be in the initrd (or built in) for the root
 * disk to appear.
 */
static void
required (struct run *r, struct strlist *req)
{
  strlist_add (req, r->disk_driver);
  for (size_t i = 0; i < r->extra_drivers.n; i++)
    strlist_add (req, r->extra_drivers.v[i]);
}

static void
missing_from (struct run *r, const struct initrd_info *info,
              const struct strlist *req, struct strlist *missing, struct sbuf *desc)
{
  for (size_t i = 0; i < req->n; i++) {
    const char *m = req->v[i];
    enum kmod_state s = kernel_module_state (&r->kmods, m);
    const char *what = s == KMOD_BUILTIN ? "built into the kernel"
      : initrd_has_module (info, m) ? "in the initrd" : "MISSING";
    if (strcmp (what, "MISSING") == 0)
      strlist_add (missing, m);
    sb_printf (desc, "%s%s %s", desc->len ? ", " : "", m, what);
  }
}

/* Did this run change udev rules the initrd carries a copy of? */
static bool
initrd_rules_stale (struct run *r, const struct initrd_info *info)
{
  bool names_nics = false;
  for (size_t i = 0; i < info->files.n; i++)
    if (str_ends (info->files.v[i], "/80-net-setup-link.rules")
        || str_ends (info->files.v[i], "/70-persistent-net.rules"))
      names_nics = true;
  for (size_t i = 0; i < r->plan.n; i++) {
    const char *p = r->plan.c[i].path;
    if (!str_starts (p, "/etc/udev/rules.d/"))
      continue;
    const char *base = p + strlen ("/etc/udev/rules.d/");
    for (size_t k = 0; k < info->files.n; k++)
      if (str_ends (info->files.v[k], base))
        return true;
    if (!r->plan.c[i].old && names_nics)
      return true;
  }
  return false;
}

static void
plan_rule (struct run *r, const char *path, char *(*rule) (const char *, const struct strlist *, struct strlist *),
           const struct strlist *mods, bool create)
{
  char *cur = run_read (r, path);
  if (!cur && !create)
    return;
  struct strlist notes = { 0 };
  char *n = rule (cur ? cur : "", mods, &notes);
  run_change (r, path, cur, n, &notes);
  free (cur);
}

static void
plan_initramfs_conf (struct run *r)
{
  struct strlist files = { 0 }, d = { 0 };
  strlist_add (&files, "/etc/initramfs-tools/initramfs.conf");
  r->g->ops->list (r->g, "/etc/initramfs-tools/conf.d", &d);
  for (size_t i = 0; i < d.n; i++) {
    char *p = xasprintf ("/etc/initramfs-tools/conf.d/%s", d.v[i]);
    strlist_add (&files, p);
    free (p);
  }
  strlist_free (&d);
  char *mode = NULL;
  for (size_t i = 0; i < files.n; i++) {
    char *cur = run_read (r, files.v[i]);
    if (!cur)
      continue;
    char *m = initramfs_conf_modules (cur);
    if (m) { free (mode); mode = m; }
    struct strlist notes = { 0 };
    char *n = rule_initramfs_conf (cur, &notes);
    run_change (r, files.v[i], cur, n, &notes);
    free (cur);
  }
  if (mode && strcmp (mode, "most") == 0 && !r->o->root_dir)
    plan_warn (&r->plan, "initramfs-tools MODULES=most: update-initramfs may take "
               "many minutes inside the libguestfs appliance");
  free (mode);
  strlist_free (&files);
}

int
fixup_initrd_plan (struct run *r)
{
  struct initrd_info info;
  struct strlist req = { 0 }, missing = { 0 }, mods = { 0 };
  struct sbuf desc = { 0 };
  char *err = NULL;
  int ret = -1;

  if (!r->initrd_path) {
    plan_warn (&r->plan, "%s boots kernel %s without an initrd: the new disk "
               "driver must be built in", r->grub_file, r->boot.version);
    return 0;
  }
  if (inspect (r, &info, &err) == -1) {
    p2v_error ("%s", err);
    free (err);
    return -1;
  }
  required (r, &req);
  missing_from (r, &info, &req, &missing, &desc);
  bool net_in = initrd_has_module (&info, r->net_driver)
    || kernel_module_state (&r->kmods, r->net_driver) == KMOD_BUILTIN;
  struct sbuf segs = { 0 };
  for (size_t i = 0; i < info.segments.n; i++)
    sb_printf (&segs, "%s%s", i ? "+" : "", info.segments.v[i]);
  plan_info (&r->plan, "initrd %s (%s, %zu modules): %s; %s %s", r->initrd_path,
             segs.s, info.modules.n, desc.s, r->net_driver,
             net_in ? "present" : "not in it (loaded later from the root filesystem)");
  sb_free (&segs);
  bool stale = initrd_rules_stale (r, &info);
  if (missing.n == 0 && !stale) {
    plan_info (&r->plan, "initrd: nothing missing, not rebuilt");
    ret = 0;
    goto out;
  }
  if (missing.n == 0)
    plan_info (&r->plan, "initrd: carries udev rules this run changed, rebuilt");

  /* Everything the new hardware needs, so the initrd also brings up
   * the NIC early (network root, iSCSI) and the list stays complete.
   */
  for (size_t i = 0; i < req.n; i++)
    strlist_add_unique (&mods, req.v[i]);
  if (kernel_module_state (&r->kmods, r->net_driver) == KMOD_MODULE)
    strlist_add_unique (&mods, r->net_driver);

  const char *ver = r->boot.version;
  const char *tool;
  if ((tool = find_tool (r, update_initramfs))) {
    /* MODULES=list needs the root's own filesystem and block-layer
     * modules named too: carry over those the old initrd had.
     */
    for (size_t i = 0; i < info.files.n; i++)
      if (module_path_is_storage_stack (info.files.v[i])) {
        const char *b = strrchr (info.files.v[i], '/');
        char *m = xstrdup (b ? b + 1 : info.files.v[i]);
        char *ko = strstr (m, ".ko");
        if (ko) {
          *ko = '\0';
          for (char *c = m; *c; c++)
            if (*c == '-')
              *c = '_';
          strlist_add_unique (&mods, m);
        }
        free (m);
      }
    plan_rule (r, "/etc/initramfs-tools/modules", rule_modules_file, &mods, true);
    plan_initramfs_conf (r);
    const char *argv[] = { tool, "-u", "-k", ver, NULL };
    add_cmd (r, argv);
  }
  else if ((tool = find_tool (r, dracut))) {
    char *text = dracut_conf (&mods);
    char *cur = run_read (r, "/etc/dracut.conf.d/90-p2vfixup.conf");
    struct strlist notes = { 0 };
    strlist_add (&notes, "dracut adds the new hardware's drivers to every initramfs");
    run_change (r, "/etc/dracut.conf.d/90-p2vfixup.conf", cur, text, &notes);
    free (cur);
    const char *argv[] = { tool, "-f", r->initrd_path, ver, NULL };
    add_cmd (r, argv);
  }
  else if ((tool = find_tool (r, mkinitrd))) {
    char *sk = run_read (r, "/etc/sysconfig/kernel");
    bool suse = sk && strstr (sk, "INITRD_MODULES=");
    free (sk);
    if (suse) {
      plan_rule (r, "/etc/sysconfig/kernel", rule_sysconfig_kernel, &mods, false);
      char *k = xasprintf ("vmlinuz-%s", ver);
      const char *ib = strrchr (r->initrd_path, '/');
      const char *argv[] = { tool, "-b", "/boot", "-k", k, "-i", ib ? ib + 1 : r->initrd_path, NULL };
      add_cmd (r, argv);
      free (k);
    }
    else {
      /* Red Hat's mkinitrd reads scsi_hostadapter from modprobe.conf
       * (rewritten above); --with adds the rest.
       */
      const char *argv[16];
      size_t n = 0;
      argv[n++] = tool;
      argv[n++] = "-f";
      char *with[8];
      size_t nw = 0;
      for (size_t i = 0; i < mods.n && nw < 8; i++)
        argv[n++] = with[nw++] = xasprintf ("--with=%s", mods.v[i]);
      argv[n++] = r->initrd_path;
      argv[n++] = ver;
      argv[n] = NULL;
      add_cmd (r, argv);
      for (size_t i = 0; i < nw; i++)
        free (with[i]);
    }
  }
  else {
    p2v_error ("the initrd lacks %s and the guest has "
               "none of update-initramfs, dracut or mkinitrd to rebuild it; "
               "nothing was changed", missing.n ? missing.v[0] : "new udev rules");
    goto out;
  }
  ret = 0;
 out:
  initrd_info_free (&info);
  strlist_free (&req);
  strlist_free (&missing);
  strlist_free (&mods);
  sb_free (&desc);
  return ret;
}

static char **
split_cmd (const char *s)
{
  size_t n = 1;
  for (const char *c = s; *c; c++)
    n += *c == SEP;
  char **argv = xcalloc (n + 1, sizeof *argv);
  size_t k = 0;
  const char *start = s;
  for (const char *c = s; ; c++)
    if (*c == SEP || *c == '\0') {
      argv[k++] = xstrndup (start, (size_t) (c - start));
      if (!*c)
        break;
      start = c + 1;
    }
  return argv;
}

static void
free_argv (char **argv)
{
  for (size_t i = 0; argv[i]; i++)
    free (argv[i]);
  free (argv);
}

static void
print_tail (const char *out)
{
  if (!out)
    return;
  size_t n = strlen (out);
  const char *p = n > 2000 ? out + n - 2000 : out;
  fprintf (stderr, "%s%s", p, n && out[n - 1] != '\n' ? "\n" : "");
}

int
fixup_initrd_rebuild (struct run *r)
{
  struct guest *g = r->g;
  char *bak = xasprintf ("%s.p2vbak", r->initrd_path);
  bool had_bak = g->ops->is_file (g, bak);
  int ret = -1;

  /* Keep the working initrd aside: the rebuild may fail half way. */
  if (!had_bak) {
    char *cp[] = { "/bin/cp", "-p", r->initrd_path, bak, NULL };
    char *out = NULL;
    if (g->ops->run (g, cp, &out) != 0) {
      p2v_error ("could not back up %s", r->initrd_path);
      print_tail (out);
      free (out);
      free (bak);
      return -1;
    }
    free (out);
  }
  for (size_t i = 0; i < r->rebuild_cmds.n; i++) {
    char **argv = split_cmd (r->rebuild_cmds.v[i]);
    char *shown = xstrdup (r->rebuild_cmds.v[i]);
    for (char *c = shown; *c; c++)
      if (*c == SEP)
        *c = ' ';
    char *out = NULL;
    if (r->o->verbose)
      p2v_info ("running %s in the guest", shown);
    int st = g->ops->run (g, argv, &out);
    if (st != 0) {
      p2v_error ("%s failed (status %d):", argv[0], st);
      print_tail (out);
      free (out);
      free (shown);
      free_argv (argv);
      goto restore;
    }
    plan_info (&r->plan, "initrd: ran %s", shown);
    free (shown);
    free (out);
    free_argv (argv);
  }

  struct initrd_info info;
  struct strlist req = { 0 }, missing = { 0 };
  struct sbuf desc = { 0 };
  char *err = NULL;
  if (inspect (r, &info, &err) == -1) {
    p2v_error ("after the rebuild: %s", err);
    free (err);
    goto restore;
  }
  required (r, &req);
  missing_from (r, &info, &req, &missing, &desc);
  plan_info (&r->plan, "initrd after the rebuild (%zu modules): %s",
             info.modules.n, desc.s);
  bool ok = missing.n == 0;
  if (!ok)
    p2v_error ("the rebuilt initrd still lacks %s",
               missing.v[0]);
  initrd_info_free (&info);
  strlist_free (&req);
  strlist_free (&missing);
  sb_free (&desc);
  if (!ok)
    goto restore;
  if (r->o->no_backup && !had_bak)
    g->ops->remove (g, bak);
  else if (!had_bak)
    plan_info (&r->plan, "initrd: the old one is kept as %s", bak);
  ret = 0;
  free (bak);
  return ret;

 restore:
  if (!had_bak) {
    char *cp[] = { "/bin/cp", "-p", bak, r->initrd_path, NULL };
    if (g->ops->run (g, cp, NULL) != 0)
      p2v_error ("could not restore %s from %s",
                 r->initrd_path, bak);
    else
      g->ops->remove (g, bak);
  }
  free (bak);
  return ret;
}
