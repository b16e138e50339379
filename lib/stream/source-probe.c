/* Describing the source from the running system.  Nothing here may
 * fail the transfer: whatever cannot be read is simply left out of the
 * description.
 */
#include <config.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stream/source-desc.h"
#include "common/util.h"

/* First line of a sysfs attribute, trimmed; NULL if absent or empty. */
static char *
read_attr (const char *path)
{
  FILE *f = fopen (path, "re");
  if (!f)
    return NULL;
  char line[256];
  char *r = fgets (line, sizeof line, f);
  fclose (f);
  if (!r)
    return NULL;
  size_t n = strlen (line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
    line[--n] = '\0';
  char *s = line;
  while (*s == ' ')
    s++;
  return *s ? xstrdup (s) : NULL;
}

/* Symlinks in dir that resolve to the device rdev. */
static void
find_aliases (const char *dir, dev_t rdev, char ***out, size_t *n)
{
  DIR *d = opendir (dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char *p = xasprintf ("%s/%s", dir, e->d_name);
    struct stat st;
    if (stat (p, &st) == 0 && S_ISBLK (st.st_mode) && st.st_rdev == rdev) {
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = p;
    }
    else
      free (p);
  }
  closedir (d);
  /* readdir order is arbitrary; sort so the manifest is stable. */
  for (size_t i = 1; i < *n; i++)
    for (size_t j = i; j > 0 && strcmp ((*out)[j - 1], (*out)[j]) > 0; j--) {
      char *t = (*out)[j];
      (*out)[j] = (*out)[j - 1];
      (*out)[j - 1] = t;
    }
}

static void
probe_disk (dev_t rdev, struct p2v_source_desc *d)
{
  char sys[PATH_MAX], link[PATH_MAX];
  snprintf (sys, sizeof sys, "/sys/dev/block/%u:%u", major (rdev), minor (rdev));
  ssize_t n = readlink (sys, link, sizeof link - 1);
  if (n > 0) {
    link[n] = '\0';
    const char *base = strrchr (link, '/');
    char *name = xstrdup (base ? base + 1 : link);
    /* sysfs spells "cciss/c0d0" as "cciss!c0d0". */
    for (char *c = name; *c; c++)
      if (*c == '!')
        *c = '/';
    d->kernel_name = name;
  }
  char *p = xasprintf ("%s/device/model", sys);
  d->model = read_attr (p);
  free (p);
  p = xasprintf ("%s/device/serial", sys);
  d->serial = read_attr (p);
  free (p);
  if (!d->serial) {
    p = xasprintf ("%s/device/wwid", sys);
    d->serial = read_attr (p);
    free (p);
  }
  find_aliases ("/dev/disk/by-id", rdev, &d->by_id, &d->n_by_id);
  find_aliases ("/dev/disk/by-path", rdev, &d->by_path, &d->n_by_path);
}

/* Physical Ethernet NICs: the ones with a device behind them, whose
 * MACs a guest's network configuration can pin.
 */
static void
probe_nics (struct p2v_source_desc *d)
{
  DIR *dir = opendir ("/sys/class/net");
  if (!dir)
    return;
  struct dirent *e;
  while ((e = readdir (dir)) != NULL) {
    if (e->d_name[0] == '.' || strcmp (e->d_name, "lo") == 0)
      continue;
    char *p = xasprintf ("/sys/class/net/%s/type", e->d_name);
    char *type = read_attr (p);
    free (p);
    p = xasprintf ("/sys/class/net/%s/address", e->d_name);
    char *mac = read_attr (p);
    free (p);
    char drvlink[PATH_MAX], target[PATH_MAX];
    snprintf (drvlink, sizeof drvlink, "/sys/class/net/%s/device/driver", e->d_name);
    ssize_t n = readlink (drvlink, target, sizeof target - 1);
    if (type && strcmp (type, "1") == 0 && mac && n > 0) {
      target[n] = '\0';
      const char *base = strrchr (target, '/');
      d->nics = xrealloc (d->nics, (d->n_nics + 1) * sizeof *d->nics);
      d->nics[d->n_nics].name = xstrdup (e->d_name);
      d->nics[d->n_nics].mac = mac;
      d->nics[d->n_nics].driver = xstrdup (base ? base + 1 : target);
      d->n_nics++;
      mac = NULL;
    }
    free (type);
    free (mac);
  }
  closedir (dir);
  for (size_t i = 1; i < d->n_nics; i++)
    for (size_t j = i; j > 0 && strcmp (d->nics[j - 1].name, d->nics[j].name) > 0; j--) {
      struct p2v_nic t = d->nics[j];
      d->nics[j] = d->nics[j - 1];
      d->nics[j - 1] = t;
    }
}

void
p2v_desc_probe (const char *path, int fd, uint64_t size, struct p2v_source_desc *d)
{
  memset (d, 0, sizeof *d);
  d->path = xstrdup (path);
  d->size = size;
  char host[256];
  if (gethostname (host, sizeof host) == 0) {
    host[sizeof host - 1] = '\0';
    d->hostname = xstrdup (host);
  }
  struct stat st;
  if (fstat (fd, &st) == 0 && S_ISBLK (st.st_mode))
    probe_disk (st.st_rdev, d);
  probe_nics (d);
}
