/* The network step: unpin MACs in every kind of network configuration,
 * then make sure each configured interface name still exists on the
 * new NIC.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixup/internal.h"

#define NAMES_RULES "/etc/udev/rules.d/70-p2v-net-names.rules"

static bool
skip_name (const char *n)
{
  return str_ends (n, ".p2vbak") || str_ends (n, "~") || str_ends (n, ".bak")
    || str_ends (n, ".orig") || str_ends (n, ".rpmsave") || str_ends (n, ".rpmnew")
    || str_ends (n, ".dpkg-old") || str_ends (n, ".dpkg-dist");
}

enum netkind { IFCFG, PERSISTENT, INTERFACES, NMKEY, NETPLAN, NETWORKD };

static void
apply (struct run *r, struct netctx *nc, const char *path, enum netkind k,
       const char *ifname)
{
  char *cur = run_read (r, path);
  if (!cur)
    return;
  struct strlist notes = { 0 };
  char *n = NULL;
  switch (k) {
  case IFCFG: n = rule_ifcfg (cur, ifname, nc, &notes); break;
  case PERSISTENT: n = rule_persistent_net (cur, nc, &notes); break;
  case INTERFACES: n = rule_interfaces (cur, nc, &notes); break;
  case NMKEY: n = rule_nm_keyfile (cur, nc, &notes); break;
  case NETPLAN: n = rule_netplan (cur, nc, &notes); break;
  case NETWORKD: n = rule_networkd (cur, nc, &notes); break;
  }
  run_change (r, path, cur, n, &notes);
  free (cur);
}

static void
apply_dir (struct run *r, struct netctx *nc, const char *dir, const char *prefix,
           const char *suffix, enum netkind k)
{
  struct strlist names = { 0 };
  r->g->ops->list (r->g, dir, &names);
  for (size_t i = 0; i < names.n; i++) {
    const char *n = names.v[i];
    if (skip_name (n) || !str_starts (n, prefix) || (suffix && !str_ends (n, suffix)))
      continue;
    if (k == IFCFG && strcmp (n, "ifcfg-lo") == 0)
      continue;
    char *p = xasprintf ("%s/%s", dir, n);
    if (r->g->ops->is_file (r->g, p))
      apply (r, nc, p, k, k == IFCFG ? n + 6 : NULL);
    free (p);
  }
  strlist_free (&names);
}

/* Does the guest's udev give NICs "predictable" names (eno1, enp3s0)
 * instead of keeping the kernel's ethN?
 */
static bool
predictable_names (struct run *r)
{
  if (r->boot.cmdline && strstr (r->boot.cmdline, "net.ifnames=0"))
    return false;
  return r->g->ops->is_file (r->g, "/lib/systemd/systemd-udevd")
    || r->g->ops->is_file (r->g, "/usr/lib/systemd/systemd-udevd");
}

int
fixup_network (struct run *r)
{
  struct netctx nc = { .macs = &r->o->macs, .driver = r->net_driver };

  apply_dir (r, &nc, "/etc/sysconfig/network-scripts", "ifcfg-", NULL, IFCFG);
  apply_dir (r, &nc, "/etc/sysconfig/network", "ifcfg-", NULL, IFCFG);
  apply (r, &nc, "/etc/udev/rules.d/70-persistent-net.rules", PERSISTENT, NULL);
  apply (r, &nc, "/etc/udev/rules.d/30-net_persistent_names.rules", PERSISTENT, NULL);
  apply (r, &nc, "/etc/network/interfaces", INTERFACES, NULL);
  apply_dir (r, &nc, "/etc/network/interfaces.d", "", NULL, INTERFACES);
  apply_dir (r, &nc, "/etc/NetworkManager/system-connections", "", NULL, NMKEY);
  apply_dir (r, &nc, "/etc/netplan", "", ".yaml", NETPLAN);
  apply_dir (r, &nc, "/etc/systemd/network", "", ".link", NETWORKD);
  apply_dir (r, &nc, "/etc/systemd/network", "", ".network", NETWORKD);

  for (size_t i = 0; i < nc.pins.n; i++) {
    const char *ifname = nc.pins.e[i].ifname, *mac = nc.pins.e[i].mac;
    /* A file that names no interface (a networkd .network matching the
     * MAC a .link names) adds nothing when another file named it.
     */
    if (!ifname) {
      if (!netctx_pin_name (&nc.pins, mac))
        plan_info (&r->plan, "Network: a configuration bound to MAC %s alone "
                   "(it names no interface)", mac);
      continue;
    }
    plan_info (&r->plan, "Interface %s: was pinned to MAC %s", ifname, mac);
  }
  bool predictable = predictable_names (r);
  struct strlist need = { 0 };
  for (size_t i = 0; i < nc.ifaces.n; i++) {
    const char *n = nc.ifaces.v[i];
    if (strcmp (n, "lo") == 0 || strchr (n, '.') || strchr (n, ':')
        || str_starts (n, "bond") || str_starts (n, "br") || str_starts (n, "vlan")
        || str_starts (n, "team"))
      continue;                 /* virtual interfaces are named by their config */
    if (strlist_has (&nc.kept, n))
      plan_info (&r->plan, "Interface %s: named by the guest's own rename rules, "
                 "now matching the new NIC", n);
    else if (!predictable && str_starts (n, "eth"))
      plan_info (&r->plan, "Interface %s: the kernel's own name for the new %s NIC, "
                 "nothing to do", n, r->net_driver);
    else
      strlist_add (&need, n);
  }
  if (need.n) {
    /* --mac OLD-MAC=NEW also tells the new MAC of the interface that
     * was pinned to OLD-MAC: match it exactly rather than by driver.
     */
    struct macmap bynames = { 0 };
    for (size_t i = 0; i < nc.moved.n; i++)
      macmap_put (&bynames, nc.moved.e[i].key, nc.moved.e[i].mac);
    for (size_t i = 0; i < nc.pins.n; i++) {
      const char *nm = macmap_lookup (&r->o->macs, NULL, nc.pins.e[i].mac);
      if (nm && nc.pins.e[i].ifname)
        macmap_put (&bynames, nc.pins.e[i].ifname, nm);
    }
    for (size_t i = 0; i < r->o->macs.n; i++)
      macmap_put (&bynames, r->o->macs.e[i].key, r->o->macs.e[i].mac);
    struct strlist notes = { 0 };
    char *text = netnames_rules (&need, &bynames, r->net_driver, &notes);
    macmap_free (&bynames);
    for (size_t i = 0; i < notes.n; i++)
      plan_info (&r->plan, "Interface %s", notes.v[i]);
    char *cur = run_read (r, NAMES_RULES);
    run_change (r, NAMES_RULES, cur, text, &notes);
    free (cur);
  }
  if (nc.by_driver > 1)
    plan_warn (&r->plan, "%u network configurations matched their NIC by its old MAC "
               "and now match any %s NIC: with several NICs give --mac OLD=NEW for each",
               nc.by_driver, r->net_driver);
  if (nc.ifaces.n == 0)
    plan_info (&r->plan, "Network: no interface configuration found");
  strlist_free (&need);
  netctx_free (&nc);
  return 0;
}
