#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/types.h>

#include "fixup/rules.h"

static bool
valid_ifname (const char *s, size_t n)
{
  if (n == 0 || n > 15)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr ("_.-", s[i]))
      return false;
  return true;
}

bool
macmap_add (struct macmap *mm, const char *arg)
{
  const char *eq = strchr (arg, '=');
  char new_[18];
  if (!eq || !p2v_parse_mac (eq + 1, strlen (eq + 1), new_))
    return false;
  char *key = xstrndup (arg, (size_t) (eq - arg));
  bool ok = macmap_put (mm, key, new_);
  free (key);
  return ok;
}

bool
macmap_put (struct macmap *mm, const char *key, const char *mac)
{
  char old[18];
  size_t kl = strlen (key);
  bool is_mac = p2v_parse_mac (key, kl, old);
  if (!is_mac && !valid_ifname (key, kl))
    return false;
  mm->e = xrealloc (mm->e, (mm->n + 1) * sizeof *mm->e);
  mm->e[mm->n].key = xstrdup (is_mac ? old : key);
  snprintf (mm->e[mm->n].mac, sizeof mm->e[mm->n].mac, "%s", mac);
  mm->n++;
  return true;
}

const char *
macmap_lookup (const struct macmap *mm, const char *ifname, const char *oldmac)
{
  if (!mm)
    return NULL;
  for (size_t i = 0; oldmac && i < mm->n; i++)
    if (strcmp (mm->e[i].key, oldmac) == 0)
      return mm->e[i].mac;
  for (size_t i = 0; ifname && i < mm->n; i++)
    if (strcmp (mm->e[i].key, ifname) == 0)
      return mm->e[i].mac;
  return NULL;
}

void
macmap_free (struct macmap *mm)
{
  for (size_t i = 0; i < mm->n; i++)
    free (mm->e[i].key);
  free (mm->e);
  mm->e = NULL;
  mm->n = 0;
}

void
netctx_free (struct netctx *nc)
{
  strlist_free (&nc->ifaces);
  strlist_free (&nc->kept);
  for (size_t i = 0; i < nc->pins.n; i++)
    free (nc->pins.e[i].ifname);
  free (nc->pins.e);
  nc->pins = (struct pins) { 0 };
  macmap_free (&nc->moved);
  nc->by_driver = 0;
}

static bool
same_name (const char *a, const char *b)
{
  return a && b ? strcmp (a, b) == 0 : a == b;
}

static void
pin_add (struct pins *pins, const char *ifname, const char *mac)
{
  for (size_t i = 0; i < pins->n; i++)
    if (same_name (pins->e[i].ifname, ifname) && strcmp (pins->e[i].mac, mac) == 0)
      return;
  pins->e = xrealloc (pins->e, (pins->n + 1) * sizeof *pins->e);
  pins->e[pins->n].ifname = ifname ? xstrdup (ifname) : NULL;
  snprintf (pins->e[pins->n].mac, sizeof pins->e[pins->n].mac, "%s", mac);
  pins->n++;
}

enum action { KEEP, REPLACE, REMOVE };

/* What to do with MAC pinned for IFNAME: a MAC that is already one of
 * the new ones stays (that is what makes a second run a no-op).
 */
static enum action
resolve (struct netctx *nc, const char *ifname, const char *mac,
         const char **newmac)
{
  for (size_t i = 0; nc->macs && i < nc->macs->n; i++)
    if (strcmp (nc->macs->e[i].mac, mac) == 0) {
      if (ifname && !macmap_lookup (&nc->moved, ifname, NULL))
        macmap_put (&nc->moved, ifname, mac);
      return KEEP;
    }
  pin_add (&nc->pins, ifname, mac);
  *newmac = macmap_lookup (nc->macs, ifname, mac);
  return *newmac ? REPLACE : REMOVE;
}

/* NEW written in the style of OLD (upper/lower case, ':' or '-'). */
static void
add_mac_like (struct sbuf *b, const char *old, const char *new_)
{
  bool upper = false;
  for (int i = 0; i < 17; i++)
    if (isupper ((unsigned char) old[i]))
      upper = true;
  for (int i = 0; i < 17; i++) {
    char c = new_[i];
    if (i % 3 == 2)
      c = old[i];
    else if (upper)
      c = (char) toupper ((unsigned char) c);
    sb_addc (b, c);
  }
}

static void
note (struct strlist *notes, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
static void
note (struct strlist *notes, const char *fmt, ...)
{
  if (!notes)
    return;
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    s = NULL;
  va_end (ap);
  if (s)
    strlist_add (notes, s);
  free (s);
}

/* Find a MAC written as 17 characters inside [P, END). */
static const char *
find_mac (const char *p, const char *end, char canon[18])
{
  for (; end - p >= 17; p++)
    if (p2v_parse_mac (p, 17, canon)
        && (end - p == 17 || !isxdigit ((unsigned char) p[17])))
      return p;
  return NULL;
}

/* KEY=VALUE, shell style (no blanks around '=', quotes stripped) or,
 * INI, as systemd reads unit files (blanks around '=' allowed, '#' and
 * ';' comments, no quoting): true with the value's bounds.
 */
static bool
assign (const char *line, size_t len, const char *key, bool ini,
        const char **v, size_t *vl)
{
  const char *end = line + line_body_len (line, len);
  const char *p = skip_blank (line, end);
  size_t kl = strlen (key);
  if (p == end || (ini && (*p == '#' || *p == ';'))
      || (size_t) (end - p) <= kl || memcmp (p, key, kl) != 0)
    return false;
  p += kl;
  if (ini)
    p = skip_blank (p, end);
  if (p == end || *p != '=')
    return false;
  p++;
  if (ini)
    p = skip_blank (p, end);
  end = trim_blank_end (p, end);
  if (!ini && end - p >= 2 && (*p == '"' || *p == '\'') && end[-1] == *p) {
    p++;
    end--;
  }
  *v = p;
  *vl = (size_t) (end - p);
  return true;
}

static bool
shell_assign (const char *line, size_t len, const char *key,
              const char **v, size_t *vl)
{
  return assign (line, len, key, false, v, vl);
}

/* Emit LINE with the MAC at OFF replaced by NEWMAC. */
static void
replace_mac_at (struct sbuf *out, const char *line, size_t len,
                const char *at, const char *newmac)
{
  sb_add (out, line, (size_t) (at - line));
  add_mac_like (out, at, newmac);
  sb_add (out, at + 17, len - (size_t) (at + 17 - line));
}

char *
rule_ifcfg (const char *text, const char *ifname, struct netctx *nc,
            struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line, *v;
  size_t len, vl;
  char *name = xstrdup (ifname ? ifname : "?");

  while (next_line (text, &pos, &line, &len))
    if (!line_is_comment (line, len) && shell_assign (line, len, "DEVICE", &v, &vl)
        && valid_ifname (v, vl)) {
      free (name);
      name = xstrndup (v, vl);
    }
  strlist_add_unique (&nc->ifaces, name);

  pos = 0;
  while (next_line (text, &pos, &line, &len)) {
    const char *key = NULL;
    char mac[18];
    if (!line_is_comment (line, len)) {
      if (shell_assign (line, len, "HWADDR", &v, &vl))
        key = "HWADDR";
      else if (shell_assign (line, len, "MACADDR", &v, &vl))
        key = "MACADDR";
    }
    if (!key || !p2v_parse_mac (v, vl, mac)) {
      sb_add (&out, line, len);
      continue;
    }
    const char *newmac;
    switch (resolve (nc, name, mac, &newmac)) {
    case KEEP:
      sb_add (&out, line, len);
      break;
    case REPLACE:
      replace_mac_at (&out, line, len, v, newmac);
      note (notes, "%s: %s %s → %s", name, key, mac, newmac);
      break;
    case REMOVE:
      note (notes, "%s: removed %s=%s (pinned to the old NIC)", name, key, mac);
      break;
    }
  }
  free (name);
  return sb_steal (&out);
}

/* udev rules: split a line on commas outside quotes. */
static size_t
split_tokens (const char *s, size_t n, const char **tok, size_t *tl, size_t max)
{
  size_t k = 0;
  const char *p = s, *end = s + n;
  while (p < end && k < max) {
    p = skip_blank (p, end);
    const char *t = p;
    bool q = false;
    while (p < end && (q || *p != ',')) {
      if (*p == '"')
        q = !q;
      p++;
    }
    const char *e = trim_blank_end (t, p);
    if (e > t) { tok[k] = t; tl[k] = (size_t) (e - t); k++; }
    if (p < end)
      p++;
  }
  return k;
}

static bool
tok_is (const char *t, size_t tl, const char *prefix)
{
  size_t n = strlen (prefix);
  return tl >= n && memcmp (t, prefix, n) == 0;
}

/* The quoted value of "NAME=" / "NAME:=" in a udev rule line. */
static char *
udev_name (const char **tok, const size_t *tl, size_t k)
{
  for (size_t i = 0; i < k; i++) {
    const char *v = NULL;
    if (tok_is (tok[i], tl[i], "NAME=\""))
      v = tok[i] + 6;
    else if (tok_is (tok[i], tl[i], "NAME:=\""))
      v = tok[i] + 7;
    if (v && tl[i] > (size_t) (v - tok[i]) && tok[i][tl[i] - 1] == '"')
      return xstrndup (v, tl[i] - (size_t) (v - tok[i]) - 1);
    /* SUSE 10/11: IMPORT="/lib/udev/rename_netiface %k eth0" */
    const char *r = memmem (tok[i], tl[i], "rename_netiface %k ", 19);
    if (r && tok_is (tok[i], tl[i], "IMPORT") && tok[i][tl[i] - 1] == '"') {
      const char *n = r + 19, *e = tok[i] + tl[i] - 1;
      if (e > n && valid_ifname (n, (size_t) (e - n)))
        return xstrndup (n, (size_t) (e - n));
    }
  }
  return NULL;
}

static ssize_t
udev_addr_token (const char **tok, const size_t *tl, size_t k, char mac[18])
{
  for (size_t i = 0; i < k; i++)
    if ((tok_is (tok[i], tl[i], "ATTR{address}==\"")
         || tok_is (tok[i], tl[i], "SYSFS{address}==\""))
        && find_mac (tok[i], tok[i] + tl[i], mac))
      return (ssize_t) i;
  return -1;
}

#define MAXTOK 32

char *
rule_persistent_net (const char *text, struct netctx *nc, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0, pinned = 0, index = 0;
  const char *line, *tok[MAXTOK];
  size_t len, tl[MAXTOK];
  char mac[18];

  /* With several NICs the driver alone cannot tell them apart, so the
   * rules fall back to the kernel's probe order.
   */
  while (next_line (text, &pos, &line, &len)) {
    if (line_is_comment (line, len))
      continue;
    size_t k = split_tokens (line, line_body_len (line, len), tok, tl, MAXTOK);
    char *name = udev_name (tok, tl, k);
    if (name && udev_addr_token (tok, tl, k, mac) >= 0)
      pinned++;
    free (name);
  }

  pos = 0;
  while (next_line (text, &pos, &line, &len)) {
    size_t body = line_body_len (line, len);
    size_t k = line_is_comment (line, len) ? 0
      : split_tokens (line, body, tok, tl, MAXTOK);
    char *name = udev_name (tok, tl, k);
    ssize_t a = name ? udev_addr_token (tok, tl, k, mac) : -1;
    if (name) {
      strlist_add_unique (&nc->ifaces, name);
      strlist_add_unique (&nc->kept, name);
    }
    if (a < 0) {
      sb_add (&out, line, len);
      free (name);
      continue;
    }
    const char *newmac;
    const char *at;
    switch (resolve (nc, name, mac, &newmac)) {
    case KEEP:
      sb_add (&out, line, len);
      break;
    case REPLACE:
      at = find_mac (tok[a], tok[a] + tl[a], mac);
      replace_mac_at (&out, line, len, at, newmac);
      note (notes, "%s: rule now matches the new MAC %s instead of %s",
            name, newmac, mac);
      break;
    case REMOVE:
      sb_add (&out, line, (size_t) (tok[0] - line));
      bool first = true;
      for (size_t i = 0; i < k; i++) {
        bool drop = tok_is (tok[i], tl[i], "DRIVERS==\"?*\"")
          || (pinned > 1 && tok_is (tok[i], tl[i], "KERNEL=="));
        if (drop)
          continue;
        if (!first)
          sb_adds (&out, ", ");
        first = false;
        if (i == (size_t) a) {
          sb_printf (&out, "DRIVERS==\"%s\"", nc->driver);
          if (pinned > 1)
            sb_printf (&out, ", KERNEL==\"eth%zu\"", index);
        }
        else
          sb_add (&out, tok[i], tl[i]);
      }
      sb_add (&out, line + body, len - body);
      if (pinned > 1)
        note (notes, "%s: rule matched old MAC %s; now matches the %s NIC "
              "probed as eth%zu (use --mac to match the new MAC instead)",
              name, mac, nc->driver, index);
      else
        note (notes, "%s: rule matched old MAC %s; now matches the %s NIC",
              name, mac, nc->driver);
      break;
    }
    index++;
    free (name);
  }
  return sb_steal (&out);
}

/* First word of a line and the rest. */
static bool
first_word (const char *line, size_t len, const char **w, size_t *wl)
{
  const char *end = line + line_body_len (line, len);
  const char *p = skip_blank (line, end);
  if (p == end || *p == '#')
    return false;
  *w = p;
  while (p < end && *p != ' ' && *p != '\t')
    p++;
  *wl = (size_t) (p - *w);
  return true;
}

char *
rule_interfaces (const char *text, struct netctx *nc, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line, *w;
  size_t len, wl;
  char *iface = NULL;

  while (next_line (text, &pos, &line, &len)) {
    if (!first_word (line, len, &w, &wl)) {
      sb_add (&out, line, len);
      continue;
    }
#define IS(s) (wl == strlen (s) && memcmp (w, s, wl) == 0)
    if (IS ("iface") || IS ("mapping")) {
      free (iface);
      iface = line_word (line, len, 1, NULL);
    }
    if (IS ("iface") || IS ("auto") || str_starts (w, "allow-")) {
      for (int i = 1; ; i++) {
        char *n = line_word (line, len, i, NULL);
        if (!n)
          break;
        if (strcmp (n, "lo") != 0 && valid_ifname (n, strlen (n))
            && (IS ("iface") ? i == 1 : true))
          strlist_add_unique (&nc->ifaces, n);
        free (n);
        if (IS ("iface"))
          break;
      }
    }
    char mac[18];
    const char *at;
    if (IS ("hwaddress")
        && (at = find_mac (w, line + line_body_len (line, len), mac))) {
      const char *newmac;
      switch (resolve (nc, iface, mac, &newmac)) {
      case KEEP:
        sb_add (&out, line, len);
        break;
      case REPLACE:
        replace_mac_at (&out, line, len, at, newmac);
        note (notes, "%s: hwaddress %s → %s", iface ? iface : "?", mac, newmac);
        break;
      case REMOVE:
        note (notes, "%s: removed \"hwaddress %s\" (pinned to the old NIC)",
              iface ? iface : "?", mac);
        break;
      }
      continue;
    }
#undef IS
    sb_add (&out, line, len);
  }
  free (iface);
  return sb_steal (&out);
}

char *
rule_nm_keyfile (const char *text, struct netctx *nc, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0;
  const char *line, *v;
  size_t len, vl;
  char *name = NULL;

  while (next_line (text, &pos, &line, &len))
    if (!line_is_comment (line, len)
        && shell_assign (line, len, "interface-name", &v, &vl)
        && valid_ifname (v, vl)) {
      free (name);
      name = xstrndup (v, vl);
    }
  if (name)
    strlist_add_unique (&nc->ifaces, name);

  pos = 0;
  while (next_line (text, &pos, &line, &len)) {
    char mac[18];
    if (line_is_comment (line, len)
        || !shell_assign (line, len, "mac-address", &v, &vl)
        || !p2v_parse_mac (v, vl, mac)) {
      sb_add (&out, line, len);
      continue;
    }
    const char *newmac;
    switch (resolve (nc, name, mac, &newmac)) {
    case KEEP:
      sb_add (&out, line, len);
      break;
    case REPLACE:
      replace_mac_at (&out, line, len, v, newmac);
      note (notes, "%s: mac-address %s → %s", name ? name : "connection",
            mac, newmac);
      break;
    case REMOVE:
      note (notes, "%s: removed mac-address=%s (pinned to the old NIC)",
            name ? name : "connection", mac);
      break;
    }
  }
  free (name);
  return sb_steal (&out);
}

/* systemd unit-style files (networkd's .network and .link): "[Section]"
 * headers and "Key = value" lines, '#' or ';' comments.  Returns the
 * section name's bounds, or false when LINE is no header.
 */
static bool
ini_section (const char *line, size_t len, const char **name, size_t *nl)
{
  const char *end = line + line_body_len (line, len);
  const char *p = skip_blank (line, end);
  end = trim_blank_end (p, end);
  if (end - p < 2 || *p != '[' || end[-1] != ']')
    return false;
  *name = p + 1;
  *nl = (size_t) (end - p - 2);
  return true;
}

static bool
ini_assign (const char *line, size_t len, const char *key,
            const char **v, size_t *vl)
{
  return assign (line, len, key, true, v, vl);
}

static bool
sect_is (const char *name, size_t nl, const char *want)
{
  return nl == strlen (want) && memcmp (name, want, nl) == 0;
}

/* Keys of [Match] that test the machine, not the link: with only these
 * left the section takes every link.
 */
static bool
machine_condition (const char *line, size_t len)
{
  static const char *const keys[] = {
    "Host", "Virtualization", "KernelCommandLine", "KernelVersion",
    "Credential", "Architecture", "Firmware", NULL
  };
  const char *v;
  size_t vl;
  for (size_t i = 0; keys[i]; i++)
    if (ini_assign (line, len, keys[i], &v, &vl))
      return true;
  return false;
}

/* Any [Match] key other than the MACs that selects links: without the
 * MACs the section still selects some links, not all of them.
 */
static bool
match_has_other_keys (const char *text)
{
  size_t pos = 0, len, nl;
  const char *line, *name;
  bool in_match = false;
  while (next_line (text, &pos, &line, &len)) {
    if (ini_section (line, len, &name, &nl)) {
      in_match = sect_is (name, nl, "Match");
      continue;
    }
    const char *end = line + line_body_len (line, len);
    const char *p = skip_blank (line, end);
    if (!in_match || p == end || *p == '#' || *p == ';' || !memchr (p, '=', (size_t) (end - p)))
      continue;
    const char *v;
    size_t vl;
    if (!ini_assign (line, len, "MACAddress", &v, &vl)
        && !ini_assign (line, len, "PermanentMACAddress", &v, &vl)
        && !machine_condition (line, len))
      return true;
  }
  return false;
}

const char *
netctx_pin_name (const struct pins *pins, const char *mac)
{
  for (size_t i = 0; i < pins->n; i++)
    if (pins->e[i].ifname && strcmp (pins->e[i].mac, mac) == 0)
      return pins->e[i].ifname;
  return NULL;
}

char *
rule_networkd (const char *text, struct netctx *nc, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0, len, nl, vl;
  const char *line, *name, *v;
  char *ifname = NULL;          /* [Link] Name= (.link) or one [Match] Name= */
  bool in_match = false, in_link = false, renames = false;

  while (next_line (text, &pos, &line, &len)) {
    if (ini_section (line, len, &name, &nl)) {
      in_match = sect_is (name, nl, "Match");
      in_link = sect_is (name, nl, "Link");
      continue;
    }
    if (in_link && ini_assign (line, len, "Name", &v, &vl) && valid_ifname (v, vl)) {
      free (ifname);
      ifname = xstrndup (v, vl);
      renames = true;
    }
    else if (in_match && !renames && ini_assign (line, len, "Name", &v, &vl)) {
      /* Name lists and globs say nothing certain about one NIC. */
      free (ifname);
      ifname = valid_ifname (v, vl) ? xstrndup (v, vl) : NULL;
    }
  }
  if (ifname) {
    strlist_add_unique (&nc->ifaces, ifname);
    if (renames)
      strlist_add_unique (&nc->kept, ifname);
  }

  bool others = match_has_other_keys (text);
  const char *who = ifname ? ifname : "[Match]";
  pos = 0;
  in_match = false;
  while (next_line (text, &pos, &line, &len)) {
    if (ini_section (line, len, &name, &nl))
      in_match = sect_is (name, nl, "Match");
    const char *key = "MACAddress";
    if (!in_match
        || (!ini_assign (line, len, key, &v, &vl)
            && !ini_assign (line, len, key = "PermanentMACAddress", &v, &vl))
        || vl == 0) {
      sb_add (&out, line, len);
      continue;
    }
    /* A space-separated list: each MAC kept, replaced or dropped. */
    struct sbuf list = { 0 }, gone = { 0 };
    bool changed = false;
    const char *p = v, *vend = v + vl;
    while (p < vend) {
      const char *t = p;
      while (p < vend && *p != ' ' && *p != '\t')
        p++;
      char mac[18];
      const char *newmac;
      enum action act = p2v_parse_mac (t, (size_t) (p - t), mac)
        ? resolve (nc, ifname, mac, &newmac) : KEEP;
      if (act != REMOVE && list.len)
        sb_addc (&list, ' ');
      switch (act) {
      case KEEP:
        sb_add (&list, t, (size_t) (p - t));
        break;
      case REPLACE:
        add_mac_like (&list, t, newmac);
        note (notes, "%s: %s %s → %s", who, key, mac, newmac);
        changed = true;
        break;
      case REMOVE:
        changed = true;
        sb_printf (&gone, "%s%s", gone.len ? " " : "", mac);
        break;
      }
      p = skip_blank (p, vend);
    }
    const char *lend = line + line_body_len (line, len);
    if (!changed)
      sb_add (&out, line, len);
    else if (list.len || others) {
      if (list.len) {
        sb_add (&out, line, (size_t) (v - line));
        sb_add (&out, list.s, list.len);
        sb_add (&out, v + vl, len - (size_t) (v + vl - line));
      }
      if (gone.len)
        note (notes, "%s: removed %s %s (pinned to the old NIC)", who, key, gone.s);
    }
    else {
      /* An empty [Match] takes every link, loopback included.  Match
       * the name a .link gave that MAC (it holds on the new NIC), else
       * the new hardware's driver.
       */
      const char *named = ifname ? NULL : netctx_pin_name (&nc->pins, gone.s);
      sb_add (&out, line, (size_t) (skip_blank (line, lend) - line));
      if (named) {
        sb_printf (&out, "Name=%s", named);
        note (notes, "%s: match on old MAC %s → match on the name %s", who, gone.s, named);
      }
      else {
        sb_printf (&out, "Driver=%s", nc->driver);
        note (notes, "%s: match on old MAC %s → match on driver %s", who, gone.s, nc->driver);
        nc->by_driver++;
      }
      sb_add (&out, lend, len - (size_t) (lend - line));
    }
    sb_free (&list);
    sb_free (&gone);
  }
  free (ifname);
  return sb_steal (&out);
}

/* netplan: enough YAML to follow block mappings by indentation. */
struct yframe {
  size_t indent;
  char *key;
};

struct nplan_if {
  char *id;
  bool has_match;
  char *set_name;
};

char *
rule_netplan (const char *text, struct netctx *nc, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t pos = 0, depth = 0, nifs = 0;
  const char *line;
  size_t len;
  struct yframe st[32];
  struct nplan_if *ifs = NULL;

  while (next_line (text, &pos, &line, &len)) {
    const char *end = line + line_body_len (line, len);
    const char *p = skip_blank (line, end);
    if (p == end || *p == '#') { sb_add (&out, line, len); continue; }
    size_t indent = (size_t) (p - line);
    if (*p == '-' ) { sb_add (&out, line, len); continue; }
    const char *colon = memchr (p, ':', (size_t) (end - p));
    if (!colon) { sb_add (&out, line, len); continue; }
    char *key = xstrndup (p, (size_t) (colon - p));
    const char *val = skip_blank (colon + 1, end);
    const char *vend = trim_blank_end (val, end);
    const char *hash = memchr (val, '#', (size_t) (vend - val));
    if (hash)
      vend = trim_blank_end (val, hash);
    if (vend - val >= 2 && (*val == '"' || *val == '\'') && vend[-1] == *val) {
      val++; vend--;
    }

    while (depth > 0 && st[depth - 1].indent >= indent)
      free (st[--depth].key);
    const char *parent = depth ? st[depth - 1].key : "";
    /* Which interface block are we in? */
    struct nplan_if *cur = NULL;
    for (size_t i = 0; i + 1 < depth; i++)
      if (strcmp (st[i].key, "ethernets") == 0)
        for (size_t j = 0; j < nifs; j++)
          if (strcmp (ifs[j].id, st[i + 1].key) == 0)
            cur = &ifs[j];

    if (strcmp (parent, "ethernets") == 0) {
      ifs = xrealloc (ifs, (nifs + 1) * sizeof *ifs);
      ifs[nifs].id = xstrdup (key);
      ifs[nifs].has_match = false;
      ifs[nifs].set_name = NULL;
      nifs++;
    }
    if (cur && strcmp (key, "match") == 0)
      cur->has_match = true;
    if (cur && strcmp (key, "set-name") == 0 && vend > val) {
      free (cur->set_name);
      cur->set_name = xstrndup (val, (size_t) (vend - val));
    }

    char mac[18];
    if (cur && strcmp (key, "macaddress") == 0
        && p2v_parse_mac (val, (size_t) (vend - val), mac)) {
      const char *name = cur->set_name ? cur->set_name : cur->id;
      const char *newmac;
      bool in_match = strcmp (parent, "match") == 0;
      switch (resolve (nc, name, mac, &newmac)) {
      case KEEP:
        sb_add (&out, line, len);
        break;
      case REPLACE:
        replace_mac_at (&out, line, len, val, newmac);
        note (notes, "%s: macaddress %s → %s", cur->id, mac, newmac);
        break;
      case REMOVE:
        if (in_match) {
          /* An empty match would take every NIC; match the new
           * hardware's driver instead.
           */
          sb_add (&out, line, indent);
          sb_printf (&out, "driver: %s", nc->driver);
          nc->by_driver++;
          sb_add (&out, end, len - (size_t) (end - line));
          note (notes, "%s: match on old MAC %s → match on driver %s",
                cur->id, mac, nc->driver);
        }
        else
          note (notes, "%s: removed macaddress %s (pinned to the old NIC)",
                cur->id, mac);
        break;
      }
    }
    else
      sb_add (&out, line, len);

    if (depth < 32) {
      st[depth].indent = indent;
      st[depth].key = key;
      depth++;
    }
    else
      free (key);
  }
  while (depth > 0)
    free (st[--depth].key);

  for (size_t i = 0; i < nifs; i++) {
    if (ifs[i].set_name) {
      strlist_add_unique (&nc->ifaces, ifs[i].set_name);
      strlist_add_unique (&nc->kept, ifs[i].set_name);
    }
    else if (!ifs[i].has_match)
      strlist_add_unique (&nc->ifaces, ifs[i].id);
    free (ifs[i].id);
    free (ifs[i].set_name);
  }
  free (ifs);
  return sb_steal (&out);
}

char *
netnames_rules (const struct strlist *names, const struct macmap *macs,
                const char *driver, struct strlist *notes)
{
  struct sbuf out = { 0 };
  size_t unmatched = 0, index = 0;
  for (size_t i = 0; i < names->n; i++)
    if (!macmap_lookup (macs, names->v[i], NULL))
      unmatched++;

  sb_adds (&out,
           "# Written by p2vfixup: the new virtual NICs get the names the\n"
           "# guest's network configuration uses, which they would not get\n"
           "# by themselves on the new hardware.\n");
  for (size_t i = 0; i < names->n; i++) {
    const char *n = names->v[i];
    const char *mac = macmap_lookup (macs, n, NULL);
    if (mac) {
      sb_printf (&out, "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"%s\", "
                 "ATTR{type}==\"1\", NAME=\"%s\"\n", mac, n);
      note (notes, "%s: kept for the NIC with MAC %s", n, mac);
    }
    else if (unmatched == 1) {
      sb_printf (&out, "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"%s\", "
                 "ATTR{type}==\"1\", NAME=\"%s\"\n", driver, n);
      note (notes, "%s: kept for the %s NIC", n, driver);
    }
    else {
      sb_printf (&out, "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"%s\", "
                 "ATTR{type}==\"1\", KERNEL==\"eth%zu\", NAME=\"%s\"\n",
                 driver, index, n);
      note (notes, "%s: kept for the %s NIC probed as eth%zu "
            "(give --mac %s=NEW-MAC to match exactly)", n, driver, index, n);
      index++;
    }
  }
  return sb_steal (&out);
}
