#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/parse.h"
#include "stream/resume.h"
#include "common/util.h"

char *
p2v_state_path (const char *target, bool target_is_file, const char *state_dir)
{
  if (target_is_file)
    return xasprintf ("%s.p2v-state", target);
  char *name = xstrdup (target[0] == '/' ? target + 1 : target);
  for (char *c = name; *c; c++)
    if (*c == '/')
      *c = '_';
  char *p = xasprintf ("%s/%s.p2v-state", state_dir, name);
  free (name);
  return p;
}

void
p2v_state_free (struct p2v_resume_state *s)
{
  free (s->fingerprint);
  free (s->source);
  memset (s, 0, sizeof *s);
}

/* A state file is a dozen lines; "source" may hold a sender's host
 * name and path as long as a SOURCE description allows (256 KiB): this
 * is beyond any state we write.
 */
#define STATE_MAX_BYTES (1024 * 1024)

int
p2v_state_load (const char *path, struct p2v_resume_state *s)
{
  memset (s, 0, sizeof *s);
  FILE *f = fopen (path, "re");
  if (!f) {
    if (errno == ENOENT)
      return 0;
    p2v_error ("cannot read the resume state %s: %s", path, strerror (errno));
    return -1;
  }
  /* No fixed line buffer: "source" holds the sender's host name and
   * device path, which may be long.  The file is ours (0600), but a
   * bound on its size (checked before reading, so getline never grows
   * past it) keeps a damaged one from eating memory.
   */
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int have = 0, lineno = 0;
  struct stat st;
  if (fstat (fileno (f), &st) == -1 || !S_ISREG (st.st_mode) || st.st_size > STATE_MAX_BYTES)
    goto bad;
  while ((n = getline (&line, &cap, f)) != -1) {
    lineno++;
    if (n == 0 ||  line[n - 1] != '\n' || strlen (line) != (size_t) n)
      goto bad;
    line[n - 1] = '\0';
    char *sp = strchr (line, ' ');
    if (!sp)
      goto bad;
    *sp = '\0';
    const char *k = line, *v = sp + 1;
    uint64_t u;
    if (strcmp (k, "version") == 0) {
      if (strcmp (v, "1") != 0)
        goto bad;
      have |= 1;
    }
    else if (strcmp (k, "key") == 0) {
      if (p2v_key_normalize (v, s->key) == -1)
        goto bad;
      have |= 2;
    }
    else if (strcmp (k, "size") == 0) {
      if (p2v_parse_u64 (v, &s->size) == -1)
        goto bad;
      have |= 4;
    }
    else if (strcmp (k, "chunk_size") == 0) {
      if (p2v_parse_u64 (v, &u) == -1 || u == 0 || u > UINT32_MAX)
        goto bad;
      s->chunk_size = (uint32_t) u;
      have |= 8;
    }
    else if (strcmp (k, "digest") == 0) {
      if (p2v_parse_u64 (v, &u) == -1 || u > 255)
        goto bad;
      s->digest_id = (int) u;
      have |= 16;
    }
    else if (strcmp (k, "durable") == 0) {
      if (p2v_parse_u64 (v, &s->durable) == -1)
        goto bad;
      have |= 32;
    }
    else if (strcmp (k, "fingerprint") == 0) {
      free (s->fingerprint);
      s->fingerprint = xstrdup (v);
      have |= 64;
    }
    else if (strcmp (k, "source") == 0) {
      free (s->source);
      s->source = xstrdup (v);
    }
    /* Unknown keys: written by a newer version; ignore. */
  }
  free (line);
  fclose (f);
  if (have != 127 || s->durable > s->size || s->durable % s->chunk_size != 0) {
    p2v_error ("resume state %s is incomplete or inconsistent; remove it to start over", path);
    p2v_state_free (s);
    return -1;
  }
  return 1;
 bad:
  free (line);
  fclose (f);
  p2v_error ("resume state %s is malformed at line %d; remove it to start over", path, lineno);
  p2v_state_free (s);
  return -1;
}

static int
state_fill (FILE *f, const void *arg)
{
  const struct p2v_resume_state *s = arg;
  fprintf (f, "version 1\nkey %s\nsize %llu\nchunk_size %u\ndigest %d\n"
           "fingerprint %s\nsource %s\ndurable %llu\n",
           s->key, (unsigned long long) s->size, s->chunk_size, s->digest_id,
           s->fingerprint ? s->fingerprint : "-", s->source ? s->source : "-",
           (unsigned long long) s->durable);
  return 0;
}

int
p2v_state_save (const char *path, const struct p2v_resume_state *s)
{
  /* It holds the session key: owner-only. */
  if (p2v_replace_file (path, 0600, state_fill, s) == -1) {
    p2v_error ("cannot write the resume state %s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}
