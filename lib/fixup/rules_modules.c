#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fixup/rules.h"

bool
modname_eq (const char *a, size_t alen, const char *b)
{
  if (strlen (b) != alen)
    return false;
  for (size_t i = 0; i < alen; i++) {
    char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
    if (x != y)
      return false;
  }
  return true;
}

/* Split a line into words; returns the number found (at most MAX). */
static size_t
words (const char *line, size_t len, const char **w, size_t *wl, size_t max)
{
  const char *p = line, *end = line + line_body_len (line, len);
  size_t n = 0;
  while (n < max) {
    p = skip_blank (p, end);
    if (p == end || *p == '#')
      break;
    const char *s = p;
    while (p < end && *p != ' ' && *p != '\t')
      p++;
    w[n] = s;
    wl[n] = (size_t) (p - s);
    n++;
  }
  return n;
}

char *
rule_modprobe (const char *text, const char *disk_driver,
               const char *net_driver, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line;
  size_t len;
  bool first_hba = true;

  while (next_line (text, &pos, &line, &len)) {
    const char *w[3];
    size_t wl[3];
    size_t n = words (line, len, w, wl, 3);
    if (n == 3 && wl[0] == 5 && memcmp (w[0], "alias", 5) == 0) {
      bool hba = wl[1] >= 16 && memcmp (w[1], "scsi_hostadapter", 16) == 0;
      bool eth = wl[1] > 3 && memcmp (w[1], "eth", 3) == 0;
      const char *want = hba ? disk_driver : eth ? net_driver : NULL;
      if (hba && !first_hba) {
        /* Only one controller remains; a stale alias would make
         * mkinitrd look for a driver the VM has no hardware for.
         */
        if (notes) {
          char *m = xasprintf ("removed \"%.*s\"", (int) line_body_len (line, len), line);
          strlist_add (notes, m);
          free (m);
        }
        continue;
      }
      if (hba)
        first_hba = false;
      if (want && !modname_eq (w[2], wl[2], want)) {
        sb_add (&out, line, (size_t) (w[2] - line));
        sb_adds (&out, want);
        sb_add (&out, w[2] + wl[2], len - (size_t) (w[2] + wl[2] - line));
        if (notes) {
          char *m = xasprintf ("alias %.*s %.*s → %s", (int) wl[1], w[1],
                               (int) wl[2], w[2], want);
          strlist_add (notes, m);
          free (m);
        }
        continue;
      }
    }
    sb_add (&out, line, len);
  }
  return sb_steal (&out);
}

static bool
listed (const char *text, const char *mod)
{
  size_t pos = 0;
  const char *line;
  size_t len;
  while (next_line (text, &pos, &line, &len)) {
    const char *w[1];
    size_t wl[1];
    if (words (line, len, w, wl, 1) == 1 && modname_eq (w[0], wl[0], mod))
      return true;
  }
  return false;
}

char *
rule_modules_file (const char *text, const struct strlist *mods,
                   struct strlist *notes)
{
  struct sbuf out = { 0 };
  bool header = false;
  sb_adds (&out, text);
  for (size_t i = 0; i < mods->n; i++) {
    if (listed (text, mods->v[i]))
      continue;
    if (!header) {
      if (out.len > 0 && out.s[out.len - 1] != '\n')
        sb_addc (&out, '\n');
      sb_adds (&out, "# Added by p2vfixup: drivers for the new virtual hardware.\n");
      header = true;
    }
    sb_printf (&out, "%s\n", mods->v[i]);
    if (notes) {
      char *m = xasprintf ("added module %s", mods->v[i]);
      strlist_add (notes, m);
      free (m);
    }
  }
  return sb_steal (&out);
}

/* Find "MODULES=" at the start of a non-comment line; returns the
 * value's start and length (without quotes).
 */
static bool
modules_assignment (const char *line, size_t len, const char **val, size_t *vlen)
{
  const char *end = line + line_body_len (line, len);
  const char *p = skip_blank (line, end);
  if ((size_t) (end - p) < 8 || memcmp (p, "MODULES=", 8) != 0)
    return false;
  p += 8;
  const char *e = trim_blank_end (p, end);
  if (e - p >= 2 && (*p == '"' || *p == '\'') && e[-1] == *p) { p++; e--; }
  *val = p;
  *vlen = (size_t) (e - p);
  return true;
}

char *
initramfs_conf_modules (const char *text)
{
  size_t pos = 0;
  const char *line, *v;
  size_t len, vl;
  char *r = NULL;
  while (next_line (text, &pos, &line, &len))
    if (modules_assignment (line, len, &v, &vl)) {
      free (r);
      r = xstrndup (v, vl);
    }
  return r;
}

char *
rule_initramfs_conf (const char *text, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line, *v;
  size_t len, vl;
  while (next_line (text, &pos, &line, &len)) {
    if (modules_assignment (line, len, &v, &vl) && vl == 3
        && memcmp (v, "dep", 3) == 0) {
      /* "dep" would look at the hardware of whatever machine runs
       * update-initramfs (the appliance or the LiveCD), not the VM.
       */
      sb_add (&out, line, (size_t) (v - line));
      sb_adds (&out, "list");
      sb_add (&out, v + 3, len - (size_t) (v + 3 - line));
      if (notes)
        strlist_add (notes, "MODULES=dep → MODULES=list");
      continue;
    }
    sb_add (&out, line, len);
  }
  return sb_steal (&out);
}

char *
rule_sysconfig_kernel (const char *text, const struct strlist *mods,
                       struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line;
  size_t len;
  while (next_line (text, &pos, &line, &len)) {
    const char *end = line + line_body_len (line, len);
    const char *p = skip_blank (line, end);
    if ((size_t) (end - p) >= 15 && memcmp (p, "INITRD_MODULES=", 15) == 0) {
      const char *v = p + 15;
      char q = (v < end && (*v == '"' || *v == '\'')) ? *v : 0;
      const char *vs = q ? v + 1 : v;
      const char *ve = q ? memchr (vs, q, (size_t) (end - vs)) : end;
      if (!ve)
        ve = end;
      struct sbuf val = { 0 };
      size_t added = 0;
      sb_add (&val, vs, (size_t) (ve - vs));
      for (size_t i = 0; i < mods->n; i++) {
        bool have = false;
        const char *s = vs;
        while (s < ve) {
          s = skip_blank (s, ve);
          const char *t = s;
          while (t < ve && *t != ' ' && *t != '\t')
            t++;
          if (t > s && modname_eq (s, (size_t) (t - s), mods->v[i]))
            have = true;
          s = t;
        }
        if (have)
          continue;
        if (val.len && val.s[val.len - 1] != ' ')
          sb_addc (&val, ' ');
        sb_adds (&val, mods->v[i]);
        added++;
        if (notes) {
          char *m = xasprintf ("INITRD_MODULES += %s", mods->v[i]);
          strlist_add (notes, m);
          free (m);
        }
      }
      if (added == 0) {
        sb_free (&val);
        sb_add (&out, line, len);
        continue;
      }
      sb_add (&out, line, (size_t) (v - line));
      /* A value with spaces needs quotes even if the old one had none. */
      char qq = q ? q : '"';
      sb_addc (&out, qq);
      sb_add (&out, val.s ? val.s : "", val.len);
      sb_addc (&out, qq);
      const char *rest = q && ve < end ? ve + 1 : ve;
      sb_add (&out, rest, len - (size_t) (rest - line));
      sb_free (&val);
      continue;
    }
    sb_add (&out, line, len);
  }
  return sb_steal (&out);
}

char *
dracut_conf (const struct strlist *mods)
{
  struct sbuf out = { 0 };
  sb_adds (&out, "# Added by p2vfixup: drivers for the new virtual hardware,\n"
           "# so that every future initramfs can find the root disk too.\n"
           "add_drivers+=\" ");
  for (size_t i = 0; i < mods->n; i++)
    sb_printf (&out, "%s ", mods->v[i]);
  sb_adds (&out, "\"\n");
  return sb_steal (&out);
}
