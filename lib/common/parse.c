#include <config.h>

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/util.h"

/* strtoull accepts leading spaces, a sign and "-1" (wrapping it), so
 * check the first character ourselves and let strtoull only convert.
 */
static int
parse_digits (const char *s, uint64_t *out, const char **end)
{
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  char *e;
  unsigned long long v = strtoull (s, &e, 10);
  if (errno == ERANGE)
    return -1;
  *out = v;
  *end = e;
  return 0;
}

int
p2v_parse_u64 (const char *s, uint64_t *out)
{
  const char *end;
  uint64_t v;
  if (parse_digits (s, &v, &end) == -1 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int
p2v_parse_uint (const char *s, unsigned min, unsigned max, unsigned *out)
{
  uint64_t v;
  if (p2v_parse_u64 (s, &v) == -1 || v < min || v > max)
    return -1;
  *out = (unsigned) v;
  return 0;
}

int
p2v_parse_size (const char *s, uint64_t *out)
{
  const char *end;
  uint64_t v;
  if (parse_digits (s, &v, &end) == -1)
    return -1;
  unsigned shift = 0;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': shift = 10; break;
  case 'm': case 'M': shift = 20; break;
  case 'g': case 'G': shift = 30; break;
  case 't': case 'T': shift = 40; break;
  case 'p': case 'P': shift = 50; break;
  case 'b': case 'B':
    if (end[1] != '\0')
      return -1;
    *out = v;
    return 0;
  default: return -1;
  }
  if (shift) {
    end++;
    /* Accept the spellings people use: 4K, 4KB, 4KiB. */
    if (strcmp (end, "iB") == 0 || strcmp (end, "B") == 0)
      end += strlen (end);
    if (*end != '\0')
      return -1;
    if (v > (UINT64_MAX >> shift))
      return -1;
    v <<= shift;
  }
  *out = v;
  return 0;
}

static int
valid_port (const char *p)
{
  unsigned port;
  return p2v_parse_uint (p, 0, 65535, &port) == 0;
}

int
p2v_parse_hostport (const char *s, int port_only_ok,
                    const char *default_port, char **host, char **port)
{
  const char *h = s, *hend, *p = NULL;

  *host = *port = NULL;
  if (*s == '\0')
    return -1;

  if (*s == '[') {
    h = s + 1;
    hend = strchr (h, ']');
    if (!hend || hend == h)
      return -1;
    if (hend[1] == ':')
      p = hend + 2;
    else if (hend[1] != '\0')
      return -1;
  }
  else {
    const char *colon = strchr (s, ':');
    if (colon && strchr (colon + 1, ':'))
      return -1;                /* bare IPv6: needs [brackets] */
    if (colon) {
      hend = colon;
      p = colon + 1;
    }
    else if (port_only_ok && strspn (s, "0123456789") == strlen (s)) {
      /* All digits: a port, even an invalid one (rejected below). */
      hend = s;
      p = s;
    }
    else
      hend = s + strlen (s);
  }

  if (p == NULL)
    p = default_port;
  if (p == NULL || !valid_port (p))
    return -1;
  if (hend == h && !port_only_ok)
    return -1;
  for (const char *c = h; c < hend; c++)
    if (*c == ' ' || *c == '\t' || *c == '/')
      return -1;

  *host = hend > h ? strndup (h, hend - h) : NULL;
  *port = xstrdup (p);
  return 0;
}

int
p2v_opt_uint (const char *opt, const char *arg, unsigned min, unsigned max, unsigned *out)
{
  if (p2v_parse_uint (arg, min, max, out) == 0)
    return 0;
  p2v_error ("%s: '%s' is not a number from %u to %u", opt, arg, min, max);
  return -1;
}

int
p2v_opt_repeat (const char *opt, const char *arg, const char **list, unsigned *n,
                unsigned max)
{
  if (*n == max) {
    p2v_error ("%s: at most %u, one per disk", opt, max);
    return -1;
  }
  list[(*n)++] = arg;
  return 0;
}

int
p2v_opt_per_disk (const char *opt, unsigned given, unsigned disks)
{
  if (given == 0 || given == disks)
    return 0;
  p2v_error ("%s given %u time%s for %u disk%s: give it once per disk, in order", opt,
             given, given == 1 ? "" : "s", disks, disks == 1 ? "" : "s");
  return -1;
}

bool
p2v_parse_mac (const char *s, size_t n, char out[18])
{
  if (n != 17) return false;
  for (size_t i = 0; i < 17; i++) {
    if (i % 3 == 2) {
      if (s[i] != ':' && s[i] != '-') return false;
      out[i] = ':';
    }
    else {
      if (!isxdigit ((unsigned char) s[i])) return false;
      out[i] = tolower ((unsigned char) s[i]);
    }
  }
  out[17] = '\0';
  return true;
}

bool
p2v_parse_digits (const char *s, size_t n, unsigned long *out)
{
  unsigned long v = 0;
  if (n == 0 || n > 9)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned long) (s[i] - '0');
  }
  *out = v;
  return true;
}
