#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "digest.h"
#include "manifest.h"
#include "util.h"

char *
p2v_manifest_default_path (const char *target, int target_is_blockdev)
{
  return target_is_blockdev ? NULL : xasprintf ("%s.p2v.json", target);
}

static void
string_array (FILE *f, char **v, size_t n)
{
  fputc ('[', f);
  for (size_t i = 0; i < n; i++) {
    if (i)
      fputs (", ", f);
    p2v_json_string (f, v[i]);
  }
  fputc (']', f);
}

struct manifest {
  const struct p2v_source_desc *d;
  const char *target, *digest_name, *digest_hex;
  int digest_id;
};

static int
manifest_fill (FILE *f, const void *arg)
{
  const struct manifest *m = arg;
  const struct p2v_source_desc *d = m->d;
  const char *target = m->target, *digest_name = m->digest_name, *digest_hex = m->digest_hex;
  fputs ("{\n  \"format\": \"p2vstream-manifest\",\n  \"version\": 1,\n", f);
  fputs ("  \"source\": {\n    \"path\": ", f);
  p2v_json_string (f, d->path);
  fputs (",\n    \"kernel_name\": ", f);
  p2v_json_string (f, d->kernel_name);
  fprintf (f, ",\n    \"size\": %llu,\n    \"model\": ", (unsigned long long) d->size);
  p2v_json_string (f, d->model);
  fputs (",\n    \"serial\": ", f);
  p2v_json_string (f, d->serial);
  fputs (",\n    \"by_id\": ", f);
  string_array (f, d->by_id, d->n_by_id);
  fputs (",\n    \"by_path\": ", f);
  string_array (f, d->by_path, d->n_by_path);
  fputs ("\n  },\n  \"host\": {\n    \"hostname\": ", f);
  p2v_json_string (f, d->hostname);
  fputs (",\n    \"nics\": [", f);
  for (size_t i = 0; i < d->n_nics; i++) {
    fputs (i ? ",\n      { \"name\": " : "\n      { \"name\": ", f);
    p2v_json_string (f, d->nics[i].name);
    fputs (", \"mac\": ", f);
    p2v_json_string (f, d->nics[i].mac);
    fputs (", \"driver\": ", f);
    p2v_json_string (f, d->nics[i].driver);
    fputs (" }", f);
  }
  fputs (d->n_nics ? "\n    ]\n  },\n  \"target\": " : "]\n  },\n  \"target\": ", f);
  p2v_json_string (f, target);
  fputs (",\n  \"digest\": { \"algorithm\": ", f);
  p2v_json_string (f, digest_name);
  fputs (", \"value\": ", f);
  p2v_json_string (f, digest_hex);
  fputs (" }\n}\n", f);
  return 0;
}

static int
replace (const char *path, int (*fill) (FILE *, const void *), const struct manifest *m)
{
  if (p2v_replace_file (path, 0644, fill, m) == -1) {
    p2v_error ("cannot write %s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}

int
p2v_manifest_write (const char *path, const struct p2v_source_desc *d,
                    const char *target, const char *digest_name,
                    const char *digest_hex)
{
  struct manifest m = { .d = d, .target = target, .digest_name = digest_name,
                        .digest_hex = digest_hex };
  return replace (path, manifest_fill, &m);
}

static int
digest_fill (FILE *f, const void *arg)
{
  const struct manifest *m = arg;
  /* The tagged form of `sha256sum --tag`: it names the algorithm, and
   * coreutils' -c checks the plain ones and refuses (rather than
   * misreports) a blkhash, which p2vsum --check and blksum verify.
   */
  char tag[32];
  p2v_digest_tag (m->digest_id, tag, sizeof tag);
  fprintf (f, "%s (%s) = %s\n", tag, m->target, m->digest_hex);
  return 0;
}

int
p2v_digest_file_write (const char *path, int digest_id,
                       const char *digest_hex, const char *target)
{
  struct manifest m = { .target = target, .digest_hex = digest_hex, .digest_id = digest_id };
  return replace (path, digest_fill, &m);
}
