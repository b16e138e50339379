/* Management agents of the old platform: they fail or spin on the new
 * hardware, but removing software is the admin's call (--remove-tools).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixup/internal.h"

struct agent {
  const char *name;
  const char *skip_target;      /* still wanted on this target */
  const char *paths[5];
  const char *packages[8];
};

static const struct agent agents[] = {
  { "HP Proliant Support Pack (hpasm/hp-health)", NULL,
    { "/opt/hp/hp-health", "/opt/compaq", "/sbin/hpasmcli", "/etc/init.d/hpasm",
      "/opt/hp/hpsmh" },
    { "hpasm", "hp-health", "hp-snmp-agents", "hpsmh", "hp-smh-templates",
      "hpacucli", "hpssacli", NULL } },
  { "Dell OpenManage", NULL,
    { "/opt/dell/srvadmin", "/etc/init.d/dataeng", NULL },
    { "srvadmin-all", "srvadmin-base", "srvadmin-omacore", "srvadmin-deng",
      "srvadmin-hapi", "srvadmin-isvc", "srvadmin-omcommon", NULL } },
  { "VMware Tools", "vmware",
    { "/etc/vmware-tools", "/usr/bin/vmware-toolbox-cmd", "/usr/bin/vmtoolsd", NULL },
    { "open-vm-tools", "vmware-tools", "open-vm-tools-desktop", NULL } },
  { "XenServer tools", "xen",
    { "/usr/sbin/xe-daemon", "/etc/init.d/xe-linux-distribution", "/opt/xensource", NULL },
    { "xe-guest-utilities", "xe-guest-utilities-xenstore", NULL } },
};

static char *
join_cmd (char *const *argv)
{
  struct sbuf b = { 0 };
  for (size_t i = 0; argv[i]; i++) {
    if (i)
      sb_addc (&b, ' ');
    sb_adds (&b, argv[i]);
  }
  return sb_steal (&b);
}

int
fixup_agents (struct run *r)
{
  bool dpkg = r->g->ops->is_dir (r->g, "/var/lib/dpkg/info");
  bool rpm = r->g->ops->is_file (r->g, "/bin/rpm") || r->g->ops->is_file (r->g, "/usr/bin/rpm");

  for (size_t a = 0; a < sizeof agents / sizeof agents[0]; a++) {
    const struct agent *ag = &agents[a];
    if (ag->skip_target && strcmp (ag->skip_target, r->t->name) == 0)
      continue;
    const char *seen = NULL;
    for (size_t i = 0; i < 5 && ag->paths[i] && !seen; i++)
      if (r->g->ops->is_file (r->g, ag->paths[i]) || r->g->ops->is_dir (r->g, ag->paths[i]))
        seen = ag->paths[i];
    if (!seen)
      continue;
    if (!r->o->remove_tools) {
      plan_warn (&r->plan, "%s installed (%s): useless on the new hardware, "
                 "left in place (--remove-tools removes it)", ag->name, seen);
      continue;
    }
    /* Only packages that are installed, so the command cannot fail on
     * an unknown name.
     */
    char *argv[16];
    size_t n = 0;
    if (dpkg) { argv[n++] = "/usr/bin/dpkg"; argv[n++] = "--purge"; }
    else if (rpm) { argv[n++] = "/bin/rpm"; argv[n++] = "-e"; argv[n++] = "--nodeps"; }
    size_t base = n;
    for (size_t i = 0; ag->packages[i] && n < 14; i++) {
      bool installed = false;
      if (dpkg) {
        char *p = xasprintf ("/var/lib/dpkg/info/%s.list", ag->packages[i]);
        installed = r->g->ops->is_file (r->g, p);
        free (p);
      }
      else if (rpm) {
        char *q[] = { "/bin/rpm", "-q", (char *) ag->packages[i], NULL };
        installed = r->g->ops->run (r->g, q, NULL) == 0;
      }
      if (installed)
        argv[n++] = (char *) ag->packages[i];
    }
    argv[n] = NULL;
    if (n == base) {
      plan_warn (&r->plan, "%s installed (%s) but not as a package p2vfixup "
                 "knows: remove it by hand", ag->name, seen);
      continue;
    }
    /* Run after the files are written and the initrd is good, so a
     * refused or failed conversion removes nothing.
     */
    char *cmd = join_cmd (argv);
    strlist_add (&r->plan.commands, cmd);
    strlist_add (&r->agent_names, ag->name);
    struct sbuf b = { 0 };
    for (size_t i = 0; argv[i]; i++) {
      if (i)
        sb_addc (&b, '\x1f');
      sb_adds (&b, argv[i]);
    }
    strlist_add (&r->agent_cmds, b.s);
    sb_free (&b);
    free (cmd);
  }
  return 0;
}

void
fixup_agents_remove (struct run *r)
{
  for (size_t k = 0; k < r->agent_cmds.n; k++) {
    struct strlist argv = { 0 };
    const char *s = r->agent_cmds.v[k];
    for (const char *c = s; ; c++)
      if (*c == '\x1f' || *c == '\0') {
        char *w = xstrndup (s, (size_t) (c - s));
        strlist_add (&argv, w);
        free (w);
        if (!*c)
          break;
        s = c + 1;
      }
    char *cmd = join_cmd (argv.v);
    char *out = NULL;
    if (r->g->ops->run (r->g, argv.v, &out) != 0)
      plan_warn (&r->plan, "%s: \"%s\" failed: %s", r->agent_names.v[k], cmd,
                 out ? out : "");
    else
      plan_info (&r->plan, "%s removed: %s", r->agent_names.v[k], cmd);
    free (out);
    free (cmd);
    strlist_free (&argv);
  }
}
