/* p2vsend's option values that need more than a number: what --compress,
 * --chunk-size and --digest say, the combinations that make no sense,
 * and one set of options per disk.  Each prints its one-line error and
 * returns -1; src/p2vsend.c maps that to P2V_EXIT_USAGE.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/util.h"
#include "stream/adapt.h"
#include "stream/codec.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "stream/stream.h"

int
p2v_opt_compress (const char *arg, struct p2v_send_opts *o)
{
  char *name = xstrdup (arg), *colon = strchr (name, ':');
  int r = -1, min, def, max;
  unsigned level;
  if (colon)
    *colon = '\0';
  if (strcmp (name, "auto") == 0) {
    o->codec = p2v_codec_from_name ("zstd");
    if (o->codec == -1 || colon)
      p2v_error ("--compress: auto %s", colon ? "takes no level: it chooses them"
                 : "needs zstd, which this build lacks");
    else {
      o->adapt = true;
      o->level = P2V_ADAPT_START;
      r = 0;
    }
    goto out;
  }
  o->adapt = false;
  o->codec = p2v_codec_from_name (name);
  if (o->codec == -1) {
    p2v_error ("--compress: unknown or unavailable codec '%s'", name);
    goto out;
  }
  p2v_codec_levels (o->codec, &min, &def, &max);
  if (colon && (p2v_parse_uint (colon + 1, (unsigned) min, (unsigned) max, &level) == -1
                || max == 0)) {
    p2v_error ("--compress: level for %s must be %d to %d", name, min, max);
    goto out;
  }
  /* No level: the codec's default, once the codec is final. */
  o->level = colon ? (int) level : -1;
  r = 0;
 out:
  free (name);
  return r;
}

int
p2v_opt_chunk_size (const char *arg, uint32_t *out)
{
  uint64_t v;
  if (p2v_parse_size (arg, &v) == -1 || v < P2V_CHUNK_MIN || v > P2V_CHUNK_MAX
      || (v & (v - 1)) != 0) {
    p2v_error ("--chunk-size: '%s' is not a power of two from 64K to 16M", arg);
    return -1;
  }
  *out = (uint32_t) v;
  return 0;
}

int
p2v_opt_send_digest (const char *arg, int *id)
{
  bool obsolete;
  if ((*id = p2v_digest_id_from_name (arg, &obsolete)) == -1) {
    p2v_error ("--digest: '%s' is not one of " P2V_DIGEST_NAMES, arg);
    return -1;
  }
  if (obsolete)
    p2v_warning ("--digest=%s is obsolete: using blkhash-sha256, the same idea "
                 "that blksum checks", arg);
  return 0;
}

int
p2v_send_opts_check (struct p2v_send_opts *o)
{
  if (o->level == -1) {
    int min, max;
    p2v_codec_levels (o->codec, &min, &o->level, &max);
  }
  /* A delta needs the receiver's hashes, so a way back; and it always
   * compares the whole disk, so there is nothing to resume.
   */
  if (o->delta && o->to_stdout) {
    p2v_error ("--delta needs a connection to p2vrecv (its hashes come back); "
               "it cannot write to --stdout");
    return -1;
  }
  if (o->delta && o->resume) {
    p2v_error ("--delta compares the whole disk every time; it has nothing to --resume "
               "(rerun the same --delta command after an interruption)");
    return -1;
  }
  return 0;
}

int
p2v_send_opts_per_disk (const struct p2v_send_opts *o, char *const *sources, unsigned n,
                        const char *const *digest_files, bool badmap_each,
                        struct p2v_send_opts *disks, char **badmaps)
{
  for (unsigned i = 0; i < n; i++) {
    disks[i] = *o;
    disks[i].disk = i;
    disks[i].ndisks = n;
    disks[i].source = sources[i];
    disks[i].digest_file = digest_files ? digest_files[i] : NULL;
    if (badmap_each && !o->badmap) {
      const char *base = strrchr (sources[i], '/');
      disks[i].badmap = badmaps[i] = xasprintf ("%s.badmap", base ? base + 1 : sources[i]);
    }
    for (unsigned k = 0; k < i; k++)
      if (disks[k].badmap && disks[i].badmap && strcmp (disks[k].badmap, disks[i].badmap) == 0) {
        p2v_error ("%s and %s would share the bad-sector map %s; run them in "
                   "separate sessions", disks[k].source, disks[i].source, disks[i].badmap);
        return -1;
      }
  }
  return 0;
}
