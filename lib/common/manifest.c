#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/jsonread.h"
#include "common/manifest.h"
#include "common/parse.h"
#include "common/util.h"

char *
p2v_manifest_default_path (const char *target, int target_is_blockdev)
{
  return target_is_blockdev ? NULL : xasprintf ("%s.p2v.json", target);
}

static void
string_array (FILE *f, char *const *v, size_t n)
{
  fputc ('[', f);
  for (size_t i = 0; i < n; i++) {
    if (i)
      fputs (", ", f);
    p2v_json_string (f, v[i]);
  }
  fputc (']', f);
}

static int
manifest_fill (FILE *f, const void *arg)
{
  const struct p2v_manifest *m = arg;
  fprintf (f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", P2V_MANIFEST_FORMAT,
           P2V_MANIFEST_VERSION);
  fputs ("  \"source\": {\n    \"path\": ", f);
  p2v_json_string (f, m->path);
  fputs (",\n    \"kernel_name\": ", f);
  p2v_json_string (f, m->kernel_name);
  fprintf (f, ",\n    \"size\": %llu,\n    \"model\": ", (unsigned long long) m->size);
  p2v_json_string (f, m->model);
  fputs (",\n    \"serial\": ", f);
  p2v_json_string (f, m->serial);
  fputs (",\n    \"by_id\": ", f);
  string_array (f, m->by_id, m->n_by_id);
  fputs (",\n    \"by_path\": ", f);
  string_array (f, m->by_path, m->n_by_path);
  fputs (",\n    \"skipped_free\": ", f);
  p2v_json_string (f, m->skipped_free);
  fputs ("\n  },\n  \"host\": {\n    \"hostname\": ", f);
  p2v_json_string (f, m->hostname);
  fputs (",\n    \"nics\": [", f);
  for (size_t i = 0; i < m->n_nics; i++) {
    fputs (i ? ",\n      { \"name\": " : "\n      { \"name\": ", f);
    p2v_json_string (f, m->nics[i].name);
    fputs (", \"mac\": ", f);
    p2v_json_string (f, m->nics[i].mac);
    fputs (", \"driver\": ", f);
    p2v_json_string (f, m->nics[i].driver);
    fputs (" }", f);
  }
  fputs (m->n_nics ? "\n    ]\n  },\n  \"target\": " : "]\n  },\n  \"target\": ", f);
  p2v_json_string (f, m->target);
  fputs (",\n  \"digest\": { \"algorithm\": ", f);
  p2v_json_string (f, m->digest_algorithm);
  fputs (", \"value\": ", f);
  p2v_json_string (f, m->digest_value);
  fputs (" }\n}\n", f);
  return 0;
}

int
p2v_manifest_write (const char *path, const struct p2v_manifest *m)
{
  if (p2v_replace_file (path, 0644, manifest_fill, m) == -1) {
    p2v_error ("cannot write %s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}

/* An absent, null or empty string is unknown; another type is an error. */
static int
opt_str (const struct json *j, const char *what, char **out, char **err)
{
  *out = NULL;
  if (!j || j->type == JSON_NULL)
    return 0;
  if (j->type != JSON_STRING) {
    *err = xasprintf ("%s is not a string", what);
    return -1;
  }
  if (*j->str)
    *out = xstrdup (j->str);
  return 0;
}

static int
str_array (const struct json *j, const char *what, char ***v, size_t *n, char **err)
{
  if (!j || j->type == JSON_NULL)
    return 0;
  if (j->type != JSON_ARRAY) {
    *err = xasprintf ("%s is not an array", what);
    return -1;
  }
  *v = xcalloc (j->n, sizeof **v);
  for (size_t i = 0; i < j->n; i++) {
    const char *s = json_str (j->items[i]);
    if (!s) {
      *err = xasprintf ("%s[%zu] is not a string", what, i);
      return -1;
    }
    bool dup = !*s;
    for (size_t k = 0; k < *n && !dup; k++)
      dup = strcmp ((*v)[k], s) == 0;
    if (!dup)
      (*v)[(*n)++] = xstrdup (s);
  }
  return 0;
}

static int
object (const struct json *j, const char *what, char **err)
{
  if (j && j->type != JSON_OBJECT && j->type != JSON_NULL) {
    *err = xasprintf ("%s is not an object", what);
    return -1;
  }
  return 0;
}

static int
parse_nics (const struct json *nics, struct p2v_manifest *m, char **err)
{
  if (!nics || nics->type == JSON_NULL)
    return 0;
  if (nics->type != JSON_ARRAY) {
    *err = xstrdup ("host.nics is not an array");
    return -1;
  }
  m->nics = xcalloc (nics->n, sizeof *m->nics);
  for (size_t i = 0; i < nics->n; i++) {
    const struct json *n = nics->items[i];
    struct p2v_nic *mn = &m->nics[m->n_nics];
    char what[64], *mac;
    if (n->type != JSON_OBJECT) {
      *err = xasprintf ("host.nics[%zu] is not an object", i);
      return -1;
    }
    m->n_nics++;
    snprintf (what, sizeof what, "host.nics[%zu].name", i);
    if (opt_str (json_get (n, "name"), what, &mn->name, err) == -1)
      return -1;
    snprintf (what, sizeof what, "host.nics[%zu].driver", i);
    if (opt_str (json_get (n, "driver"), what, &mn->driver, err) == -1)
      return -1;
    snprintf (what, sizeof what, "host.nics[%zu].mac", i);
    if (opt_str (json_get (n, "mac"), what, &mac, err) == -1)
      return -1;
    if (mac) {
      char canon[18];
      bool ok = p2v_parse_mac (mac, strlen (mac), canon);
      free (mac);
      if (!ok) {
        *err = xasprintf ("%s is not a MAC address", what);
        return -1;
      }
      mn->mac = xstrdup (canon);
    }
  }
  return 0;
}

int
p2v_manifest_parse (const char *text, size_t len, struct p2v_manifest *m, char **err)
{
  memset (m, 0, sizeof *m);
  *err = NULL;
  struct json *root = json_parse (text, len, err);
  if (!root)
    return -1;
  int r = -1;
  unsigned long long version, size;
  const struct json *src = json_get (root, "source"), *host = json_get (root, "host");
  const struct json *dig = json_get (root, "digest"), *sz = json_get (src, "size");
  if (root->type != JSON_OBJECT) {
    *err = xstrdup ("not a JSON object");
    goto out;
  }
  const char *format = json_str (json_get (root, "format"));
  if (!format || strcmp (format, P2V_MANIFEST_FORMAT) != 0) {
    *err = xstrdup ("\"format\" is not \"" P2V_MANIFEST_FORMAT "\"");
    goto out;
  }
  if (!json_uint (json_get (root, "version"), &version) || version != P2V_MANIFEST_VERSION) {
    *err = xasprintf ("unsupported \"version\" (this program reads %d)", P2V_MANIFEST_VERSION);
    goto out;
  }
  if (object (src, "\"source\"", err) == -1 || object (host, "\"host\"", err) == -1
      || object (dig, "\"digest\"", err) == -1)
    goto out;
  if (sz && sz->type != JSON_NULL) {
    if (!json_uint (sz, &size)) {
      *err = xstrdup ("source.size is not a size in bytes");
      goto out;
    }
    m->size = size;
  }
  if (opt_str (json_get (src, "path"), "source.path", &m->path, err) == -1
      || opt_str (json_get (src, "kernel_name"), "source.kernel_name", &m->kernel_name, err) == -1
      || opt_str (json_get (src, "model"), "source.model", &m->model, err) == -1
      || opt_str (json_get (src, "serial"), "source.serial", &m->serial, err) == -1
      || str_array (json_get (src, "by_id"), "source.by_id", &m->by_id, &m->n_by_id, err) == -1
      || str_array (json_get (src, "by_path"), "source.by_path", &m->by_path, &m->n_by_path,
                    err) == -1
      || opt_str (json_get (src, "skipped_free"), "source.skipped_free", &m->skipped_free,
                  err) == -1
      || opt_str (json_get (host, "hostname"), "host.hostname", &m->hostname, err) == -1
      || parse_nics (json_get (host, "nics"), m, err) == -1
      || opt_str (json_get (root, "target"), "target", &m->target, err) == -1
      || opt_str (json_get (dig, "algorithm"), "digest.algorithm", &m->digest_algorithm,
                  err) == -1
      || opt_str (json_get (dig, "value"), "digest.value", &m->digest_value, err) == -1)
    goto out;
  /* Older writers named only the path. */
  if (!m->kernel_name && m->path && strncmp (m->path, "/dev/", 5) == 0 && m->path[5])
    m->kernel_name = xstrdup (m->path + 5);
  r = 0;
 out:
  json_free (root);
  if (r == -1)
    p2v_manifest_free (m);
  return r;
}

int
p2v_manifest_read (const char *path, struct p2v_manifest *m, char **err)
{
  memset (m, 0, sizeof *m);
  /* O_NONBLOCK: a FIFO planted under the manifest's name must not hang us. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd == -1 || fstat (fd, &st) == -1) {
    *err = xasprintf ("%s", strerror (errno));
    if (fd >= 0)
      close (fd);
    return -1;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > P2V_MANIFEST_MAX) {
    *err = xstrdup (S_ISREG (st.st_mode) ? "larger than a manifest can be"
                    : "not a regular file");
    close (fd);
    return -1;
  }
  /* Read exactly the size fstat gave: a file that grows meanwhile is
   * cut there, one that shrinks fails (ENODATA).
   */
  size_t n = (size_t) st.st_size;
  char *text = xmalloc (n + 1);
  if (p2v_pread_full (fd, text, n, 0, NULL) == -1) {
    *err = xstrdup (errno ? strerror (errno) : "changed while being read");
    close (fd);
    free (text);
    return -1;
  }
  close (fd);
  int r = p2v_manifest_parse (text, n, m, err);
  free (text);
  return r;
}

static void
free_strings (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

void
p2v_manifest_free (struct p2v_manifest *m)
{
  free (m->path);
  free (m->kernel_name);
  free (m->model);
  free (m->serial);
  free_strings (m->by_id, m->n_by_id);
  free_strings (m->by_path, m->n_by_path);
  free (m->hostname);
  free (m->skipped_free);
  for (size_t i = 0; i < m->n_nics; i++) {
    free (m->nics[i].name);
    free (m->nics[i].mac);
    free (m->nics[i].driver);
  }
  free (m->nics);
  free (m->target);
  free (m->digest_algorithm);
  free (m->digest_value);
  memset (m, 0, sizeof *m);
}
