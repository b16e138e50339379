#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "fixup/devname.h"

/* Characters that can appear in a device path.  by-id names use
 * letters, digits and "-_.:+@"; anything else (space, quote, comma,
 * bracket) ends the name.
 */
static bool
is_name_char (char c)
{
  return isalnum ((unsigned char) c) || strchr ("/-_.:+@", c) != NULL;
}

/* Parse digits at *P (within [*P, END)), no leading zeros except "0". */
static bool
take_num (const char **p, const char *end, unsigned long *v)
{
  const char *s = *p;
  while (*p < end && isdigit ((unsigned char) **p))
    (*p)++;
  size_t n = (size_t) (*p - s);
  if (n == 0 || (n > 1 && s[0] == '0'))
    return false;
  return p2v_parse_digits (s, n, v);
}

static bool
take_lit (const char **p, const char *end, const char *lit)
{
  size_t n = strlen (lit);
  if ((size_t) (end - *p) < n || memcmp (*p, lit, n) != 0)
    return false;
  *p += n;
  return true;
}

/* "sd" letters [digits] and friends. */
static bool
parse_letters (const char *p, const char *end, const char *prefix,
               enum devfam fam, struct devname *d)
{
  const char *s = p;
  if (!take_lit (&p, end, prefix))
    return false;
  const char *l = p;
  while (p < end && *p >= 'a' && *p <= 'z')
    p++;
  if (p == l || p - l > 3)
    return false;
  size_t disklen = (size_t) (p - s);
  d->part = 0;
  if (p < end && (!take_num (&p, end, &d->part) || d->part == 0))
    return false;
  if (p != end)
    return false;
  d->fam = fam;
  memcpy (d->disk, s, disklen);
  d->disk[disklen] = '\0';
  return true;
}

/* "cciss/c0d0" "p1", "nvme0n1" "p2", "mmcblk0" "p1". */
static bool
parse_numbered (const char *p, const char *end, const char *lit1,
                const char *lit2, enum devfam fam, struct devname *d)
{
  const char *s = p;
  unsigned long v;
  if (!take_lit (&p, end, lit1) || !take_num (&p, end, &v))
    return false;
  if (lit2 && (!take_lit (&p, end, lit2) || !take_num (&p, end, &v)))
    return false;
  size_t disklen = (size_t) (p - s);
  d->part = 0;
  if (p < end) {
    if (!take_lit (&p, end, "p") || !take_num (&p, end, &d->part)
        || p != end || d->part == 0)
      return false;
  }
  d->fam = fam;
  memcpy (d->disk, s, disklen);
  d->disk[disklen] = '\0';
  return true;
}

/* by-id names that udev derives from what is on the disk, not from the
 * hardware (device-mapper and LVM volumes, md arrays): the copy keeps
 * them, so they are not the old machine's names.  Ubuntu's installer
 * mounts / by dm-uuid-LVM-….
 */
static bool
is_content_id (const char *p, const char *end)
{
  static const char *const prefixes[] = {
    "dm-name-", "dm-uuid-", "md-name-", "md-uuid-", "lvm-pv-uuid-", NULL
  };
  for (size_t i = 0; prefixes[i]; i++) {
    size_t n = strlen (prefixes[i]);
    if ((size_t) (end - p) > n && memcmp (p, prefixes[i], n) == 0)
      return true;
  }
  return false;
}

static bool
parse_link (const char *p, const char *end, const char *dir,
            enum devfam fam, struct devname *d)
{
  const char *s = p;
  if (!take_lit (&p, end, dir) || p == end)
    return false;
  if (fam == FAM_BYID && is_content_id (p, end))
    return false;
  const char *e = end;
  d->part = 0;
  /* A trailing "-partN" is the partition. */
  const char *q = end;
  while (q > p && isdigit ((unsigned char) q[-1]))
    q--;
  if (q < end && q - p > 5 && memcmp (q - 5, "-part", 5) == 0) {
    const char *t = q;
    if (!take_num (&t, end, &d->part) || t != end || d->part == 0)
      return false;
    e = q - 5;
  }
  if (memchr (p, '/', (size_t) (e - p)))
    return false;
  d->fam = fam;
  memcpy (d->disk, s, (size_t) (e - s));
  d->disk[e - s] = '\0';
  return true;
}

bool
devname_parse (const char *name, size_t len, struct devname *d)
{
  const char *p = name, *end = name + len;
  if (len >= 5 && memcmp (p, "/dev/", 5) == 0)
    p += 5;
  if (end - p <= 0 || end - p >= (long) sizeof d->disk)
    return false;
  memset (d, 0, sizeof *d);
  return parse_letters (p, end, "sd", FAM_SD, d)
    || parse_letters (p, end, "hd", FAM_HD, d)
    || parse_letters (p, end, "vd", FAM_VD, d)
    || parse_letters (p, end, "xvd", FAM_XVD, d)
    || parse_numbered (p, end, "cciss/c", "d", FAM_CCISS, d)
    || parse_numbered (p, end, "ida/c", "d", FAM_IDA, d)
    || parse_numbered (p, end, "nvme", "n", FAM_NVME, d)
    || parse_numbered (p, end, "mmcblk", NULL, FAM_MMC, d)
    || parse_link (p, end, "disk/by-id/", FAM_BYID, d)
    || parse_link (p, end, "disk/by-path/", FAM_BYPATH, d);
}

enum devfam
devname_family (const char *disk)
{
  struct devname d;
  if (!devname_parse (disk, strlen (disk), &d))
    return FAM_NONE;
  return d.part == 0 || d.fam == FAM_BYID || d.fam == FAM_BYPATH
    ? d.fam : FAM_NONE;
}

char *
devname_format (const char *disk, unsigned long part)
{
  if (part == 0)
    return xasprintf ("/dev/%s", disk);
  if (str_starts (disk, "disk/by-"))
    return xasprintf ("/dev/%s-part%lu", disk, part);
  /* The kernel puts a 'p' between a disk name ending in a digit and the
   * partition number; virt-v2v forgets this (c0d0p1 → c0d01).
   */
  size_t n = strlen (disk);
  bool digit = n > 0 && isdigit ((unsigned char) disk[n - 1]);
  return xasprintf ("/dev/%s%s%lu", disk, digit ? "p" : "", part);
}

char *
disk_name_for_index (const char *prefix, unsigned index)
{
  char letters[8];
  int n = 0;
  char tmp[8];
  /* Bijective base 26, as the kernel's sd_format_disk_name. */
  unsigned i = index + 1;
  while (i > 0 && n < 7) {
    i--;
    tmp[n++] = (char) ('a' + i % 26);
    i /= 26;
  }
  for (int k = 0; k < n; k++)
    letters[k] = tmp[n - 1 - k];
  letters[n] = '\0';
  return xasprintf ("%s%s", prefix, letters);
}

static const char *
strip_dev (const char *s)
{
  return str_starts (s, "/dev/") ? s + 5 : s;
}

bool
devmap_add (struct devmap *m, const char *old, const char *new_)
{
  struct devname o, n;
  old = strip_dev (old);
  new_ = strip_dev (new_);
  if (!devname_parse (old, strlen (old), &o)
      || !devname_parse (new_, strlen (new_), &n))
    return false;
  /* A whole disk maps to a whole disk; a partition to a partition. */
  bool exact = o.part != 0 || n.part != 0;
  if (exact && (o.part == 0 || n.part == 0))
    return false;
  for (size_t i = 0; i < m->n; i++)
    if (strcmp (m->e[i].old, old) == 0)
      return true;
  m->e = xrealloc (m->e, (m->n + 1) * sizeof *m->e);
  m->e[m->n].old = xstrdup (exact ? old : o.disk);
  m->e[m->n].new_ = xstrdup (exact ? new_ : n.disk);
  m->e[m->n].exact = exact;
  m->n++;
  return true;
}

bool
devmap_has (const struct devmap *m, const char *old)
{
  old = strip_dev (old);
  for (size_t i = 0; i < m->n; i++)
    if (strcmp (m->e[i].old, old) == 0)
      return true;
  return false;
}

bool
devmap_targets (const struct devmap *m, const char *new_)
{
  new_ = strip_dev (new_);
  for (size_t i = 0; i < m->n; i++)
    if (!m->e[i].exact && strcmp (m->e[i].new_, new_) == 0)
      return true;
  return false;
}

char *
devmap_lookup (const struct devmap *m, const struct devname *d)
{
  char *full = devname_format (d->disk, d->part);
  for (size_t i = 0; i < m->n; i++)
    if (m->e[i].exact && strcmp (m->e[i].old, full + 5) == 0) {
      free (full);
      return xasprintf ("/dev/%s", m->e[i].new_);
    }
  free (full);
  for (size_t i = 0; i < m->n; i++)
    if (!m->e[i].exact && strcmp (m->e[i].old, d->disk) == 0)
      return devname_format (m->e[i].new_, d->part);
  return NULL;
}

void
devmap_free (struct devmap *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free (m->e[i].old);
    free (m->e[i].new_);
  }
  free (m->e);
  m->e = NULL;
  m->n = 0;
}

void
rewrite_log_free (struct rewrite_log *log)
{
  strlist_free (&log->changed);
  strlist_free (&log->unresolved);
}

/* At TEXT+I, is there a "/dev/" that starts a name (not the middle of
 * another path such as /sys/dev/)?  Returns the length of the name.
 */
static size_t
name_at (const char *text, size_t i)
{
  if (strncmp (text + i, "/dev/", 5) != 0)
    return 0;
  if (i > 0 && is_name_char (text[i - 1]))
    return 0;
  size_t n = 5;
  while (text[i + n] && is_name_char (text[i + n]))
    n++;
  /* A trailing '.' or ':' is punctuation in prose, not the name. */
  while (n > 5 && strchr (".:", text[i + n - 1]))
    n--;
  return n;
}

char *
devrewrite (const char *text, const struct devmap *m, int flags,
            struct rewrite_log *log)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line;
  size_t len;

  while (next_line (text, &pos, &line, &len)) {
    if ((flags & REWRITE_SKIP_COMMENTS) && line_is_comment (line, len)) {
      sb_add (&out, line, len);
      continue;
    }
    size_t base = (size_t) (line - text);
    for (size_t i = 0; i < len; ) {
      size_t n = name_at (text, base + i);
      struct devname d;
      if (n == 0 || !devname_parse (line + i, n, &d)) {
        if (n == 0)
          n = 1;
        sb_add (&out, line + i, n);
        i += n;
        continue;
      }
      char *rep = devmap_lookup (m, &d);
      if (rep) {
        sb_adds (&out, rep);
        if (log && strncmp (rep, line + i, n) != 0) {
          char *c = xasprintf ("%.*s → %s", (int) n, line + i, rep);
          strlist_add_unique (&log->changed, c);
          free (c);
        }
        free (rep);
      }
      else {
        sb_add (&out, line + i, n);
        if (log) {
          char *c = xstrndup (line + i, n);
          strlist_add_unique (&log->unresolved, c);
          free (c);
        }
      }
      i += n;
    }
  }
  return sb_steal (&out);
}

void
devnames_collect (const char *text, struct strlist *disks)
{
  size_t pos = 0;
  const char *line;
  size_t len;

  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    size_t base = (size_t) (line - text);
    for (size_t i = 0; i < len; i++) {
      size_t n = name_at (text, base + i);
      struct devname d;
      if (n && devname_parse (line + i, n, &d)) {
        strlist_add_unique (disks, d.disk);
        i += n - 1;
      }
    }
  }
}
