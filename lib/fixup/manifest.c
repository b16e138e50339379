#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fixup/manifest.h"
#include "fixup/json.h"

static char *
opt_str (const struct json *j)
{
  const char *s = json_str (j);
  return s && *s ? xstrdup (s) : NULL;
}

static int
str_array (const struct json *j, const char *what, struct strlist *l, char **err)
{
  if (!j || j->type == JSON_NULL) return 0;
  if (j->type != JSON_ARRAY) {
    *err = xasprintf ("%s is not an array", what);
    return -1;
  }
  for (size_t i = 0; i < j->n; i++) {
    const char *s = json_str (j->items[i]);
    if (!s) {
      *err = xasprintf ("%s[%zu] is not a string", what, i);
      return -1;
    }
    if (*s) strlist_add_unique (l, s);
  }
  return 0;
}

int
manifest_parse (const char *text, size_t len, struct manifest *m, char **err)
{
  char *perr = NULL;
  memset (m, 0, sizeof *m);
  struct json *root = json_parse (text, len, &perr);
  if (!root) {
    *err = perr;
    return -1;
  }
  int r = -1;
  unsigned long long version;
  if (root->type != JSON_OBJECT) {
    *err = xstrdup ("not a JSON object");
    goto out;
  }
  const char *format = json_str (json_get (root, "format"));
  if (!format || strcmp (format, "p2vstream-manifest") != 0) {
    *err = xstrdup ("\"format\" is not \"p2vstream-manifest\"");
    goto out;
  }
  if (!json_uint (json_get (root, "version"), &version) || version != 1) {
    *err = xstrdup ("unsupported \"version\" (expected 1)");
    goto out;
  }
  const struct json *src = json_get (root, "source");
  if (src && src->type != JSON_OBJECT) {
    *err = xstrdup ("\"source\" is not an object");
    goto out;
  }
  m->path = opt_str (json_get (src, "path"));
  m->kernel_name = opt_str (json_get (src, "kernel_name"));
  if (!m->kernel_name && m->path && str_starts (m->path, "/dev/"))
    m->kernel_name = xstrdup (m->path + 5);
  if (str_array (json_get (src, "by_id"), "source.by_id", &m->by_id, err) == -1
      || str_array (json_get (src, "by_path"), "source.by_path", &m->by_path, err) == -1)
    goto out;

  const struct json *host = json_get (root, "host");
  m->hostname = opt_str (json_get (host, "hostname"));
  const struct json *nics = json_get (host, "nics");
  if (nics && nics->type == JSON_ARRAY) {
    m->nics = xcalloc (nics->n, sizeof *m->nics);
    for (size_t i = 0; i < nics->n; i++) {
      const struct json *n = nics->items[i];
      struct manifest_nic *mn = &m->nics[m->nnics];
      if (!n || n->type != JSON_OBJECT) {
        *err = xasprintf ("host.nics[%zu] is not an object", i);
        goto out;
      }
      const char *mac = json_str (json_get (n, "mac"));
      char canon[18];
      if (mac && *mac && !mac_parse (mac, strlen (mac), canon)) {
        *err = xasprintf ("host.nics[%zu].mac is not a MAC address", i);
        goto out;
      }
      mn->name = opt_str (json_get (n, "name"));
      mn->driver = opt_str (json_get (n, "driver"));
      mn->mac = mac && *mac ? xstrdup (canon) : NULL;
      m->nnics++;
    }
  }
  else if (nics && nics->type != JSON_NULL) {
    *err = xstrdup ("host.nics is not an array");
    goto out;
  }
  r = 0;
 out:
  json_free (root);
  if (r == -1) manifest_free (m);
  return r;
}

void
manifest_free (struct manifest *m)
{
  free (m->path);
  free (m->kernel_name);
  strlist_free (&m->by_id);
  strlist_free (&m->by_path);
  free (m->hostname);
  for (size_t i = 0; i < m->nnics; i++) {
    free (m->nics[i].name);
    free (m->nics[i].mac);
    free (m->nics[i].driver);
  }
  free (m->nics);
  memset (m, 0, sizeof *m);
}
