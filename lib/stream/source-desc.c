#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/source-desc.h"
#include "common/util.h"

/* Values travel as "key\tvalue\n": a tab or newline inside a value
 * would break the framing, and control characters have no business in
 * a device name, so they become '?'.
 */
static void
append (char **buf, size_t *len, size_t *cap, const char *key, const char *value)
{
  if (!value)
    return;
  size_t need = strlen (key) + strlen (value) + 3;
  if (*len + need > *cap) {
    *cap = (*cap + need) * 2;
    *buf = xrealloc (*buf, *cap);
  }
  char *p = *buf + *len;
  p += sprintf (p, "%s\t", key);
  for (const char *v = value; *v; v++)
    *p++ = (unsigned char) *v < 0x20 || *v == 0x7f ? '?' : *v;
  *p++ = '\n';
  *len = p - *buf;
}

char *
p2v_desc_encode (const struct p2v_source_desc *d, size_t *len)
{
  char *buf = NULL, num[32];
  size_t n = 0, cap = 0;
  snprintf (num, sizeof num, "%llu", (unsigned long long) d->size);
  append (&buf, &n, &cap, "path", d->path);
  append (&buf, &n, &cap, "kernel_name", d->kernel_name);
  append (&buf, &n, &cap, "size", num);
  append (&buf, &n, &cap, "model", d->model);
  append (&buf, &n, &cap, "serial", d->serial);
  append (&buf, &n, &cap, "hostname", d->hostname);
  append (&buf, &n, &cap, "skipped_free", d->skipped_free);
  append (&buf, &n, &cap, "fingerprint", d->fingerprint);
  for (size_t i = 0; i < d->n_by_id; i++)
    append (&buf, &n, &cap, "by_id", d->by_id[i]);
  for (size_t i = 0; i < d->n_by_path; i++)
    append (&buf, &n, &cap, "by_path", d->by_path[i]);
  for (size_t i = 0; i < d->n_nics; i++) {
    const struct p2v_nic *c = &d->nics[i];
    char *v = xasprintf ("%s %s %s", c->name, c->mac,
                         c->driver && *c->driver ? c->driver : "-");
    append (&buf, &n, &cap, "nic", v);
    free (v);
  }
  *len = n;
  return buf ? buf : xstrdup ("");
}

static int
printable (const char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

static void
push (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = xstrdup (s);
}

/* "name mac driver" — three words without spaces. */
static int
parse_nic (const char *value, struct p2v_nic *nic)
{
  const char *a = strchr (value, ' ');
  const char *b = a ? strchr (a + 1, ' ') : NULL;
  if (!a || !b || strchr (b + 1, ' ') || a == value || b == a + 1 || !b[1])
    return -1;
  nic->name = strndup (value, a - value);
  nic->mac = strndup (a + 1, b - a - 1);
  nic->driver = strcmp (b + 1, "-") == 0 ? xstrdup ("") : xstrdup (b + 1);
  return 0;
}

int
p2v_desc_decode (const char *text, size_t len, struct p2v_source_desc *d)
{
  memset (d, 0, sizeof *d);
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr (p, '\n', end - p);
    const char *tab = memchr (p, '\t', (nl ? nl : end) - p);
    if (!nl || !tab)
      goto bad;
    char *key = strndup (p, tab - p);
    char *value = strndup (tab + 1, nl - tab - 1);
    if (!key || !value || memchr (p, '\0', nl - p) || !printable (value)) {
      free (key);
      free (value);
      goto bad;
    }
    char **slot = NULL;
    if (strcmp (key, "path") == 0) slot = &d->path;
    else if (strcmp (key, "kernel_name") == 0) slot = &d->kernel_name;
    else if (strcmp (key, "model") == 0) slot = &d->model;
    else if (strcmp (key, "serial") == 0) slot = &d->serial;
    else if (strcmp (key, "hostname") == 0) slot = &d->hostname;
    else if (strcmp (key, "fingerprint") == 0) slot = &d->fingerprint;
    else if (strcmp (key, "skipped_free") == 0) slot = &d->skipped_free;
    if (slot) {
      free (*slot);
      *slot = value;
      value = NULL;
    }
    else if (strcmp (key, "size") == 0)
      d->size = strtoull (value, NULL, 10);  /* informative; the header has the real size */
    else if (strcmp (key, "by_id") == 0)
      push (&d->by_id, &d->n_by_id, value);
    else if (strcmp (key, "by_path") == 0)
      push (&d->by_path, &d->n_by_path, value);
    else if (strcmp (key, "nic") == 0) {
      struct p2v_nic nic;
      if (parse_nic (value, &nic) == 0) {
        d->nics = xrealloc (d->nics, (d->n_nics + 1) * sizeof *d->nics);
        d->nics[d->n_nics++] = nic;
      }
    }
    free (key);
    free (value);
    p = nl + 1;
  }
  return 0;
 bad:
  p2v_desc_free (d);
  return -1;
}

void
p2v_desc_free (struct p2v_source_desc *d)
{
  free (d->path);
  free (d->kernel_name);
  free (d->model);
  free (d->serial);
  free (d->hostname);
  free (d->skipped_free);
  free (d->fingerprint);
  for (size_t i = 0; i < d->n_by_id; i++)
    free (d->by_id[i]);
  free (d->by_id);
  for (size_t i = 0; i < d->n_by_path; i++)
    free (d->by_path[i]);
  free (d->by_path);
  for (size_t i = 0; i < d->n_nics; i++) {
    free (d->nics[i].name);
    free (d->nics[i].mac);
    free (d->nics[i].driver);
  }
  free (d->nics);
  memset (d, 0, sizeof *d);
}

void
p2v_desc_to_manifest (const struct p2v_source_desc *d, struct p2v_manifest *m)
{
  m->path = d->path;
  m->kernel_name = d->kernel_name;
  m->model = d->model;
  m->serial = d->serial;
  m->size = d->size;
  m->by_id = d->by_id;
  m->n_by_id = d->n_by_id;
  m->by_path = d->by_path;
  m->n_by_path = d->n_by_path;
  m->hostname = d->hostname;
  m->skipped_free = d->skipped_free;
  m->nics = d->nics;
  m->n_nics = d->n_nics;
}
