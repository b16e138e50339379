/* p2vfixup: make a copied Linux guest boot and reach its network on a
 * new hypervisor.  This file is only the command line; the work is in
 * lib/fixup/.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "fixup/fixup.h"
#include "fixup/target.h"

enum {
  OPT_ROOT_DEVICE = 256, OPT_MANIFEST, OPT_MAP, OPT_MAC, OPT_NO_BACKUP,
  OPT_NO_INITRD, OPT_REMOVE_TOOLS, OPT_VERSION, OPT_DRY_RUN, OPT_ROOT,
};

static const struct option options[] = {
  { "target", required_argument, NULL, 't' },
  { "root", required_argument, NULL, OPT_ROOT },
  { "root-device", required_argument, NULL, OPT_ROOT_DEVICE },
  { "manifest", required_argument, NULL, OPT_MANIFEST },
  { "map", required_argument, NULL, OPT_MAP },
  { "mac", required_argument, NULL, OPT_MAC },
  { "dry-run", no_argument, NULL, 'n' },
  { "no-backup", no_argument, NULL, OPT_NO_BACKUP },
  { "no-initrd", no_argument, NULL, OPT_NO_INITRD },
  { "remove-tools", no_argument, NULL, OPT_REMOVE_TOOLS },
  { "verbose", no_argument, NULL, 'v' },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, OPT_VERSION },
  { NULL, 0, NULL, 0 },
};

static void
usage (FILE *f)
{
  fprintf (f,
"Usage: p2vfixup --target TARGET [OPTIONS] IMAGE...\n"
"       p2vfixup --target TARGET [OPTIONS] --root DIR\n"
"Make a copied Linux guest boot and reach its network on new virtual hardware.\n"
"\n"
"  -t, --target T        kvm, virtio-scsi, vmware, xen, ide or sata\n"
"      --root DIR        the guest is mounted at DIR (no libguestfs)\n"
"      --root-device DEV which root to convert when the images hold several\n"
"      --manifest F      p2vrecv manifest for the next IMAGE (default IMAGE.p2v.json)\n"
"      --map OLD=NEW     device name mapping (a whole disk or one partition)\n"
"      --mac OLD=NEW     OLD is a MAC or an interface name, NEW the new MAC\n"
"  -n, --dry-run         print the diff and the commands, change nothing\n"
"      --no-backup       do not keep NAME.p2vbak copies\n"
"      --no-initrd       do not look at or rebuild the initrd\n"
"      --remove-tools    remove old-platform agents (hpasm, OpenManage, ...)\n"
"  -v, --verbose         say more; twice traces libguestfs\n"
"See p2vfixup(1).\n");
}

static int
usage_error (const char *msg, const char *arg)
{
  p2v_error ("%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
  fprintf (stderr, "Try 'p2vfixup --help'.\n");
  return P2V_EXIT_USAGE;
}

int
main (int argc, char *argv[])
{
  struct fixup_opts o = { 0 };
  int c, r;

  p2v_set_progname (argv[0]);

  while ((c = getopt_long (argc, argv, "t:nvh", options, NULL)) != -1) {
    switch (c) {
    case 't':
      if (!target_find (optarg)) {
        r = usage_error ("unknown --target (kvm, virtio-scsi, vmware, xen, ide, sata)", optarg);
        goto out;
      }
      o.target = optarg;
      break;
    case OPT_ROOT: o.root_dir = optarg; break;
    case OPT_ROOT_DEVICE: o.root_device = optarg; break;
    case OPT_MANIFEST: strlist_add (&o.manifests, optarg); break;
    case OPT_MAP:
      if (!strchr (optarg, '=')) { r = usage_error ("--map needs OLD=NEW", optarg); goto out; }
      strlist_add (&o.maps, optarg);
      break;
    case OPT_MAC:
      if (!macmap_add (&o.macs, optarg)) {
        r = usage_error ("--mac needs OLD=NEW with OLD a MAC or an interface "
                         "name and NEW a MAC", optarg);
        goto out;
      }
      break;
    case 'n': o.dry_run = true; break;
    case OPT_NO_BACKUP: o.no_backup = true; break;
    case OPT_NO_INITRD: o.no_initrd = true; break;
    case OPT_REMOVE_TOOLS: o.remove_tools = true; break;
    case 'v': o.verbose++; break;
    case 'h': usage (stdout); r = 0; goto out;
    case OPT_VERSION: printf ("p2vfixup %s\n", PACKAGE_VERSION); r = 0; goto out;
    default: r = usage_error ("bad option", NULL); goto out;
    }
  }
  o.images = argv + optind;
  o.nimages = (size_t) (argc - optind);
  if (!o.target) { r = usage_error ("--target is required", NULL); goto out; }
  if (o.root_dir && o.nimages) { r = usage_error ("give --root DIR or IMAGEs, not both", NULL); goto out; }
  if (!o.root_dir && !o.nimages) { r = usage_error ("no IMAGE and no --root DIR", NULL); goto out; }
  if (o.root_dir && o.root_device) { r = usage_error ("--root-device only applies to IMAGEs", NULL); goto out; }
  if (o.nimages && o.manifests.n > o.nimages) { r = usage_error ("more --manifest than IMAGEs", NULL); goto out; }

  r = fixup_run (&o);
 out:
  strlist_free (&o.manifests);
  strlist_free (&o.maps);
  macmap_free (&o.macs);
  return r;
}
