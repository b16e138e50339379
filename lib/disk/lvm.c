#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/alloc.h"
#include "common/fileio.h"
#include "disk/lvm.h"

/* Everything here comes from the source disk: bounded before it is
 * believed.  LVM's own limits are far below these.
 */
#define MAX_TEXT (16u << 20)
#define MAX_DEPTH 32
#define MAX_NODES (1u << 20)
#define MAX_PVS 4096
#define MAX_PIECES 4096
#define NONE SIZE_MAX

/* LVM2's on-disk layout (lib/format_text/layout.h, lib/label/label.h). */
#define SECTOR 512
#define LABEL_SCAN_SECTORS 4
#define MDA_HEADER_SIZE 512
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define CRC_INIT 0xf597a6cfu
#define RAW_LOCN_IGNORED 1u

/* The metadata's syntax: "key = value", "key = [v, v]", "name { ... }",
 * "#" comments, quoted strings with backslash escapes.
 */
enum kind { SECTION, SETTING, STR, NUM };

struct node {
  enum kind kind;
  const char *name;         /* SECTION, SETTING: NUL-terminated */
  const char *s;            /* STR */
  int64_t num;              /* NUM */
  bool list;                /* SETTING: a [ ... ] value */
  size_t child, next;
};

struct parser {
  char *p, *end;            /* a private copy of the text, unescaped in place */
  struct node *nodes;
  size_t n, cap;
  const char *err;
};

static size_t
new_node (struct parser *ps, enum kind kind)
{
  if (ps->n == MAX_NODES) {
    ps->err = "too many entries";
    return NONE;
  }
  if (ps->n == ps->cap) {
    ps->cap = ps->cap ? ps->cap * 2 : 256;
    ps->nodes = xrealloc (ps->nodes, ps->cap * sizeof *ps->nodes);
  }
  struct node *nd = &ps->nodes[ps->n];
  memset (nd, 0, sizeof *nd);
  nd->kind = kind;
  nd->child = nd->next = NONE;
  return ps->n++;
}

static void
skip_space (struct parser *ps)
{
  while (ps->p < ps->end) {
    char c = *ps->p;
    if (c == '\0')
      ps->end = ps->p;      /* the area pads the text with NULs */
    else if (c == '#')
      while (ps->p < ps->end && *ps->p != '\n')
        ps->p++;
    else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      ps->p++;
    else
      break;
  }
}

static bool
ident_char (char c)
{
  return c > ' ' && c < 127 && !strchr ("={}[],\"#", c);
}

/* A name.  It is NUL-terminated in place once the "=" or "{" after it
 * has been read past: the byte after a name is never read again.
 */
static char *
ident (struct parser *ps, size_t *len)
{
  char *s = ps->p;
  while (ps->p < ps->end && ident_char (*ps->p))
    ps->p++;
  if (ps->p == s || ps->p == ps->end) {
    ps->err = ps->p == s ? "a name expected" : "truncated";
    return NULL;
  }
  *len = (size_t) (ps->p - s);
  return s;
}

static size_t
atom (struct parser *ps)
{
  if (ps->p >= ps->end) {
    ps->err = "truncated";
    return NONE;
  }
  if (*ps->p == '"') {
    char *r = ++ps->p, *w = r, *s = r;
    for (;;) {
      if (r >= ps->end) {
        ps->err = "unterminated string";
        return NONE;
      }
      if (*r == '"')
        break;
      if (*r == '\\' && ++r >= ps->end)
        continue;
      *w++ = *r++;
    }
    *w = '\0';
    ps->p = r + 1;
    size_t i = new_node (ps, STR);
    if (i != NONE)
      ps->nodes[i].s = s;
    return i;
  }
  bool neg = *ps->p == '-';
  if (neg)
    ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
    ps->err = "a value expected";
    return NONE;
  }
  uint64_t v = 0;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
    if (v > (INT64_MAX - 9) / 10) {
      ps->err = "a number out of range";
      return NONE;
    }
    v = v * 10 + (uint64_t) (*ps->p++ - '0');
  }
  if (ps->p < ps->end && *ps->p == '.')   /* a float: only its whole part matters here */
    for (ps->p++; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++)
      ;
  if (ps->p < ps->end && ident_char (*ps->p)) {
    ps->err = "garbage after a number";
    return NONE;
  }
  size_t i = new_node (ps, NUM);
  if (i != NONE)
    ps->nodes[i].num = neg ? -(int64_t) v : (int64_t) v;
  return i;
}

/* The value after "=": one atom or a list; the atoms become children
 * of setting.
 */
static bool
value (struct parser *ps, size_t setting)
{
  size_t last = NONE;
  bool list = ps->p < ps->end && *ps->p == '[';
  ps->nodes[setting].list = list;
  if (list)
    ps->p++;
  for (;;) {
    skip_space (ps);
    if (list && ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return true;
    }
    size_t a = atom (ps);
    if (a == NONE)
      return false;
    if (last == NONE)
      ps->nodes[setting].child = a;
    else
      ps->nodes[last].next = a;
    last = a;
    if (!list)
      return true;
    skip_space (ps);
    if (ps->p < ps->end && *ps->p == ',')
      ps->p++;
    else if (ps->p >= ps->end || *ps->p != ']') {
      ps->err = "a list is not closed";
      return false;
    }
  }
}

/* The items of section sec, up to its "}" (or the end, at depth 0). */
static bool
items (struct parser *ps, size_t sec, int depth)
{
  size_t last = NONE;
  for (;;) {
    skip_space (ps);
    if (ps->p >= ps->end) {
      if (depth == 0)
        return true;
      ps->err = "truncated";
      return false;
    }
    if (*ps->p == '}') {
      if (depth == 0) {
        ps->err = "a \"}\" too many";
        return false;
      }
      ps->p++;
      return true;
    }
    size_t nlen;
    char *name = ident (ps, &nlen);
    if (!name)
      return false;
    skip_space (ps);
    if (ps->p >= ps->end || (*ps->p != '{' && *ps->p != '=')) {
      ps->err = "\"=\" or \"{\" expected";
      return false;
    }
    bool section = *ps->p == '{';
    ps->p++;
    size_t i = new_node (ps, section ? SECTION : SETTING);
    if (i == NONE)
      return false;
    name[nlen] = '\0';
    ps->nodes[i].name = name;
    if (last == NONE)
      ps->nodes[sec].child = i;
    else
      ps->nodes[last].next = i;
    last = i;
    if (section) {
      if (depth + 1 >= MAX_DEPTH) {
        ps->err = "nested too deep";
        return false;
      }
      if (!items (ps, i, depth + 1))
        return false;
    }
    else {
      skip_space (ps);
      if (!value (ps, i))
        return false;
    }
  }
}

static size_t
find (const struct parser *ps, size_t sec, const char *name, enum kind kind)
{
  for (size_t i = ps->nodes[sec].child; i != NONE; i = ps->nodes[i].next)
    if (ps->nodes[i].kind == kind && strcmp (ps->nodes[i].name, name) == 0)
      return i;
  return NONE;
}

/* A setting holding one number, at least lo. */
static bool
get_num (const struct parser *ps, size_t sec, const char *name, int64_t lo, int64_t *v)
{
  size_t i = find (ps, sec, name, SETTING);
  if (i == NONE || ps->nodes[i].list)
    return false;
  size_t a = ps->nodes[i].child;
  if (a == NONE || ps->nodes[a].kind != NUM || ps->nodes[a].num < lo)
    return false;
  *v = ps->nodes[a].num;
  return true;
}

static const char *
get_str (const struct parser *ps, size_t sec, const char *name)
{
  size_t i = find (ps, sec, name, SETTING);
  if (i == NONE || ps->nodes[i].list)
    return NULL;
  size_t a = ps->nodes[i].child;
  return a != NONE && ps->nodes[a].kind == STR ? ps->nodes[a].s : NULL;
}

static bool
same_uuid (const char *text, const char *uuid)
{
  size_t k = 0;
  for (; *text; text++)
    if (*text != '-' && (k >= 32 || *text != uuid[k++]))
      return false;
  return k == 32;
}

struct alloc {
  uint64_t pe, count;
};

static int
cmp_alloc (const void *a, const void *b)
{
  const struct alloc *x = a, *y = b;
  return x->pe < y->pe ? -1 : x->pe > y->pe;
}

/* What one LV is on this PV, gathered from its segments. */
struct lvinfo {
  size_t node;
  bool here, elsewhere;     /* areas on this PV, on others */
  bool linear;              /* every segment plain linear on this PV */
  bool ordered;             /* ... listed in the LV's order */
  uint64_t next_le;
  struct p2v_run *pieces;   /* in extents, adjacent ones merged */
  size_t n_pieces;
};

struct walk {
  const struct parser *ps;
  const char *pv;           /* this PV's name in the group ("pv0") */
  const char **pv_names;    /* every PV's, sorted */
  size_t n_pv_names;
  uint64_t pe_count;
  struct alloc *alloc;
  size_t n_alloc;
  const char **refs;        /* every string the group's LVs hold, sorted */
  size_t n_refs;
  const char *err;
};

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static bool
in_sorted (const char **v, size_t n, const char *name)
{
  return n && bsearch (&name, v, n, sizeof *v, cmp_str) != NULL;
}

static void
push (const char ***v, size_t *n, const char *s)
{
  if (*n % 64 == 0)
    *v = xrealloc (*v, (*n + 64) * sizeof **v);
  (*v)[(*n)++] = s;
}

/* Every string under node i.  What names another LV (a snapshot's
 * origin and store, RAID and mirror legs, thin and cache pools, an
 * old-style "snapshots" section) is among them; so may be other words
 * ("READ", a tag), which only makes an LV of that name be left alone.
 */
static void
strings (struct walk *w, size_t i, int depth)
{
  const struct parser *ps = w->ps;
  for (size_t c = ps->nodes[i].child; c != NONE; c = ps->nodes[c].next) {
    if (ps->nodes[c].kind == STR)
      push (&w->refs, &w->n_refs, ps->nodes[c].s);
    else if (depth < MAX_DEPTH)
      strings (w, c, depth + 1);
  }
}

/* One segment of an LV: marks its areas on this PV as used and follows
 * whether the LV stays linear and in order.  An area is a name and a
 * first extent in a list; a PV's name first, as LVM reads them.
 */
static bool
segment (struct walk *w, size_t seg, struct lvinfo *lv)
{
  const struct parser *ps = w->ps;
  int64_t start, count, want = 1;
  const char *type = get_str (ps, seg, "type");
  if (!get_num (ps, seg, "start_extent", 0, &start) || !get_num (ps, seg, "extent_count", 1, &count)
      || !type) {
    w->err = "a segment without its extents or type";
    return false;
  }
  bool striped = strcmp (type, "striped") == 0, mirror = strcmp (type, "mirror") == 0;
  if ((striped && !get_num (ps, seg, "stripe_count", 1, &want))
      || (mirror && !get_num (ps, seg, "mirror_count", 1, &want)) || count % want) {
    w->err = "a segment without a valid stripe or mirror count";
    return false;
  }
  uint64_t area_len = (uint64_t) (striped ? count / want : count);
  int64_t areas = 0;
  unsigned areas_here = 0;
  for (size_t s = ps->nodes[seg].child; s != NONE; s = ps->nodes[s].next) {
    if (ps->nodes[s].kind != SETTING || !ps->nodes[s].list)
      continue;
    for (size_t a = ps->nodes[s].child; a != NONE; a = ps->nodes[a].next) {
      size_t b = ps->nodes[a].next;
      if (ps->nodes[a].kind != STR || b == NONE || ps->nodes[b].kind != NUM)
        continue;
      areas++;
      const char *name = ps->nodes[a].s;
      if (!in_sorted (w->pv_names, w->n_pv_names, name))
        continue;
      if (!striped && !mirror) {
        w->err = "a segment of a kind that lies on PVs but is not known here";
        return false;
      }
      if (strcmp (name, w->pv) != 0) {
        lv->elsewhere = true;
        continue;
      }
      if (ps->nodes[b].num < 0 || (uint64_t) ps->nodes[b].num > w->pe_count
          || area_len > w->pe_count - (uint64_t) ps->nodes[b].num) {
        w->err = "an LV's extents lie past the PV's end";
        return false;
      }
      uint64_t pe = (uint64_t) ps->nodes[b].num;
      if (w->n_alloc % 64 == 0)
        w->alloc = xrealloc (w->alloc, (w->n_alloc + 64) * sizeof *w->alloc);
      w->alloc[w->n_alloc++] = (struct alloc) { pe, area_len };
      lv->here = true;
      areas_here++;
      if ((uint64_t) start != lv->next_le)
        lv->ordered = false;
      lv->next_le = (uint64_t) start + (uint64_t) count;
      struct p2v_run *last = lv->n_pieces ? &lv->pieces[lv->n_pieces - 1] : NULL;
      if (last && last->off + last->len == pe)
        last->len += area_len;
      else if (lv->n_pieces == MAX_PIECES)
        lv->linear = false;   /* more pieces than any LV LVM made */
      else {
        lv->pieces = xrealloc (lv->pieces, (lv->n_pieces + 1) * sizeof *lv->pieces);
        lv->pieces[lv->n_pieces++] = (struct p2v_run) { pe, area_len };
      }
    }
  }
  /* LVM refuses a segment whose areas are not as many as it says. */
  if ((striped || mirror) && areas != want) {
    w->err = "a segment with more or fewer areas than it says";
    return false;
  }
  if (!striped || want != 1 || areas_here != 1)
    lv->linear = false;
  return true;
}

static int
fail (char *why, size_t why_len, const char *msg)
{
  snprintf (why, why_len, "%s", msg);
  return -1;
}

/* The group's LVs and free extents, once the text is a tree.  The
 * extents may not touch what reserved holds (the label, the metadata
 * areas).
 */
static int
read_group (const struct parser *ps, const char *uuid, uint64_t pv_len,
            const struct p2v_run *reserved, size_t n_reserved, struct p2v_lvm_pv *pv,
            uint64_t *seqno, char *why, size_t why_len)
{
  size_t vg = NONE, pvs = NONE;
  for (size_t i = ps->nodes[0].child; i != NONE; i = ps->nodes[i].next)
    if (ps->nodes[i].kind == SECTION
        && (pvs = find (ps, i, "physical_volumes", SECTION)) != NONE) {
      vg = i;
      break;
    }
  if (vg == NONE)
    return fail (why, why_len, "its metadata names no volume group");
  int64_t seq, ext;
  if (!get_num (ps, vg, "seqno", 0, &seq) || !get_num (ps, vg, "extent_size", 1, &ext)
      || ext > (int64_t) 1 << 32)
    return fail (why, why_len, "its metadata has no sequence number or extent size");
  const char *vg_id = get_str (ps, vg, "id");
  if (strlen (ps->nodes[vg].name) >= 128 || !vg_id || strlen (vg_id) >= sizeof pv->vg_id)
    return fail (why, why_len, "its volume group's name or id is not valid");
  /* Others may change a shared group while this one copies it. */
  const char *lock = get_str (ps, vg, "lock_type");
  size_t st = find (ps, vg, "status", SETTING);
  bool shared = lock && strcmp (lock, "none") != 0;
  for (size_t a = st == NONE ? NONE : ps->nodes[st].child; a != NONE; a = ps->nodes[a].next)
    shared = shared || (ps->nodes[a].kind == STR && (strcmp (ps->nodes[a].s, "CLUSTERED") == 0
                                                     || strcmp (ps->nodes[a].s, "SHARED") == 0));

  struct walk w = { .ps = ps };
  const char *me = NULL;
  int64_t pe_start = 0, pe_count = 0;
  int rc = -1;
  size_t k = 0;
  struct lvinfo *info = NULL;
  for (size_t i = ps->nodes[pvs].child; i != NONE; i = ps->nodes[i].next) {
    if (ps->nodes[i].kind != SECTION)
      continue;
    if (w.n_pv_names == MAX_PVS) {
      snprintf (why, why_len, "its group has more PVs than are read here");
      goto out;
    }
    push (&w.pv_names, &w.n_pv_names, ps->nodes[i].name);
    const char *id = get_str (ps, i, "id");
    if (!id || !same_uuid (id, uuid))
      continue;
    if (me) {
      snprintf (why, why_len, "two PVs of its group bear its UUID");
      goto out;
    }
    me = ps->nodes[i].name;
    if (!get_num (ps, i, "pe_start", 0, &pe_start) || !get_num (ps, i, "pe_count", 0, &pe_count)) {
      snprintf (why, why_len, "its metadata gives no extent area for this PV");
      goto out;
    }
  }
  if (!me) {
    snprintf (why, why_len, "this PV is not in its volume group's metadata");
    goto out;
  }
  qsort (w.pv_names, w.n_pv_names, sizeof *w.pv_names, cmp_str);
  for (size_t i = 1; i < w.n_pv_names; i++)
    if (strcmp (w.pv_names[i - 1], w.pv_names[i]) == 0) {
      snprintf (why, why_len, "two PVs of its group bear one name");
      goto out;
    }
  uint64_t es = (uint64_t) ext * SECTOR, area, start;
  if (__builtin_mul_overflow ((uint64_t) pe_start, SECTOR, &start)
      || __builtin_mul_overflow ((uint64_t) pe_count, es, &area) || start > pv_len
      || area > pv_len - start) {
    snprintf (why, why_len, "its extents lie past the partition's end");
    goto out;
  }
  for (size_t i = 0; i < n_reserved; i++)
    if (area && reserved[i].len && reserved[i].off < start + area
        && start < reserved[i].off + reserved[i].len) {
      snprintf (why, why_len, "its extents overlap its label or metadata");
      goto out;
    }
  w.pv = me;
  w.pe_count = (uint64_t) pe_count;
  /* Not the PVs' own sections: their strings name no LV. */
  for (size_t i = ps->nodes[vg].child; i != NONE; i = ps->nodes[i].next)
    if (i != pvs)
      strings (&w, i, 1);
  qsort (w.refs, w.n_refs, sizeof *w.refs, cmp_str);

  size_t lvs = find (ps, vg, "logical_volumes", SECTION);
  size_t n_lv = 0;
  for (size_t i = lvs == NONE ? NONE : ps->nodes[lvs].child; i != NONE; i = ps->nodes[i].next)
    n_lv += ps->nodes[i].kind == SECTION;
  info = xcalloc (n_lv ? n_lv : 1, sizeof *info);
  for (size_t i = lvs == NONE ? NONE : ps->nodes[lvs].child; i != NONE && !w.err;
       i = ps->nodes[i].next) {
    if (ps->nodes[i].kind != SECTION)
      continue;
    struct lvinfo *lv = &info[k++];
    *lv = (struct lvinfo) { .node = i, .linear = true, .ordered = true };
    unsigned segs = 0;
    for (size_t s = ps->nodes[i].child; s != NONE && !w.err; s = ps->nodes[s].next)
      if (ps->nodes[s].kind == SECTION) {
        segs++;
        segment (&w, s, lv);
      }
    if (segs == 0)
      lv->linear = false;
  }
  if (w.err) {
    snprintf (why, why_len, "%s", w.err);
    goto out;
  }
  /* Two areas on one extent: LVM refuses such metadata, and a
   * filesystem's free blocks could be another's data.
   */
  if (w.n_alloc > 1)
    qsort (w.alloc, w.n_alloc, sizeof *w.alloc, cmp_alloc);
  for (size_t j = 1; j < w.n_alloc; j++)
    if (w.alloc[j].pe < w.alloc[j - 1].pe + w.alloc[j - 1].count) {
      snprintf (why, why_len, "two LVs claim the same extents");
      goto out;
    }

  snprintf (pv->vg, sizeof pv->vg, "%s", ps->nodes[vg].name);
  snprintf (pv->vg_id, sizeof pv->vg_id, "%s", vg_id);
  pv->shared = shared;
  for (size_t j = 0; j < k; j++) {
    if (!info[j].here)
      continue;
    const char *name = ps->nodes[info[j].node].name;
    pv->lvs = xrealloc (pv->lvs, (pv->n_lvs + 1) * sizeof *pv->lvs);
    struct p2v_lvm_lv *out = &pv->lvs[pv->n_lvs++];
    memset (out, 0, sizeof *out);
    snprintf (out->name, sizeof out->name, "%.127s/%.127s", pv->vg, name);
    if (in_sorted (w.refs, w.n_refs, name))
      snprintf (out->why, sizeof out->why,
                "its blocks belong to another LV too (snapshot, RAID, mirror, thin or cache)");
    else if (info[j].elsewhere)
      snprintf (out->why, sizeof out->why, "it spans other PVs");
    else if (!info[j].linear)
      snprintf (out->why, sizeof out->why, "it is not a plain linear LV");
    else if (!info[j].ordered)
      snprintf (out->why, sizeof out->why, "its segments are not in order");
    else {
      out->pieces = info[j].pieces;
      out->n_pieces = info[j].n_pieces;
      info[j].pieces = NULL;
      for (size_t q = 0; q < out->n_pieces; q++)
        out->pieces[q] = (struct p2v_run) { start + out->pieces[q].off * es,
                                            out->pieces[q].len * es };
    }
  }

  uint64_t pe = 0;
  for (size_t j = 0; j <= w.n_alloc; j++) {
    uint64_t until = j < w.n_alloc ? w.alloc[j].pe : (uint64_t) pe_count;
    if (until > pe) {
      pv->free = xrealloc (pv->free, (pv->n_free + 1) * sizeof *pv->free);
      pv->free[pv->n_free++] = (struct p2v_run) { start + pe * es, (until - pe) * es };
      pv->free_bytes += (until - pe) * es;
    }
    if (j < w.n_alloc)
      pe = w.alloc[j].pe + w.alloc[j].count;
  }
  *seqno = (uint64_t) seq;
  rc = 0;
 out:
  for (size_t j = 0; j < k; j++)
    free (info[j].pieces);
  free (info);
  free (w.alloc);
  free (w.refs);
  free (w.pv_names);
  return rc;
}

int
p2v_lvm_parse (const char *text, size_t n, const char *uuid, uint64_t pv_len,
               const struct p2v_run *reserved, size_t n_reserved, struct p2v_lvm_pv *pv,
               uint64_t *seqno, char *why, size_t why_len)
{
  memset (pv, 0, sizeof *pv);
  if (n > MAX_TEXT)
    return fail (why, why_len, "its metadata is too large");
  struct parser ps = { 0 };
  ps.p = xmalloc (n + 1);
  memcpy (ps.p, text, n);
  ps.p[n] = '\0';
  char *copy = ps.p;
  ps.end = ps.p + n;
  size_t root = new_node (&ps, SECTION);
  int rc = -1;
  if (items (&ps, root, 0))
    rc = read_group (&ps, uuid, pv_len, reserved, n_reserved, pv, seqno, why, why_len);
  else
    snprintf (why, why_len, "its metadata does not parse (%s at byte %zu)", ps.err,
                  (size_t) (ps.p - copy));
  if (rc == -1)
    p2v_lvm_free (pv);
  free (ps.nodes);
  free (copy);
  return rc;
}

static uint64_t
le64 (const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t
le32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

/* LVM's CRC is zlib's without the inversions. */
static uint32_t
lvm_crc (const void *buf, size_t n)
{
  return ~(uint32_t) crc32 (~CRC_INIT & 0xffffffffu, buf, (uInt) n);
}

/* One metadata area at [mda, mda + size) of the PV: its newest text,
 * parsed.  0, or -1 with why.
 */
static int
read_area (int fd, uint64_t off, uint64_t len, uint64_t mda, uint64_t size, const char *uuid,
           const struct p2v_run *reserved, size_t n_reserved, struct p2v_lvm_pv *pv,
           uint64_t *seqno, char *why, size_t why_len)
{
  uint8_t h[MDA_HEADER_SIZE];
  if (size <= MDA_HEADER_SIZE || mda > len || size > len - mda
      || p2v_pread_full (fd, h, sizeof h, off + mda, NULL) == -1)
    return fail (why, why_len, "its metadata area cannot be read");
  if (memcmp (h + 4, MDA_MAGIC, 16) != 0 || le32 (h + 20) != 1 || le64 (h + 24) != mda
      || le64 (h + 32) != size)
    return fail (why, why_len, "its metadata area has no valid header");
  if (lvm_crc (h + 4, sizeof h - 4) != le32 (h))
    return fail (why, why_len, "its metadata area's checksum is wrong");
  /* The first raw location is the committed text (the second, when
   * there is one, LVM's precommitted next version); ignored, the whole
   * area is.
   */
  const uint8_t *rl = h + 40;
  uint64_t at = le64 (rl), n = le64 (rl + 8);
  uint32_t crc = le32 (rl + 16), flags = le32 (rl + 20);
  if (at != 0 && !(flags & RAW_LOCN_IGNORED)) {
    if (at < MDA_HEADER_SIZE || at >= size || n == 0 || n > MAX_TEXT
        || n > size - MDA_HEADER_SIZE)
      return fail (why, why_len, "its metadata's location is out of its area");
    /* A circular buffer: the text may wrap to just after the header. */
    char *text = xmalloc (n);
    uint64_t first = n < size - at ? n : size - at;
    int rc = -1;
    if (p2v_pread_full (fd, text, first, off + mda + at, NULL) == -1
        || (n > first && p2v_pread_full (fd, text + first, n - first,
                                         off + mda + MDA_HEADER_SIZE, NULL) == -1))
      fail (why, why_len, "its metadata cannot be read");
    else if (lvm_crc (text, n) != crc)
      fail (why, why_len, "its metadata's checksum is wrong");
    else
      rc = p2v_lvm_parse (text, n, uuid, len, reserved, n_reserved, pv, seqno, why, why_len);
    free (text);
    return rc;
  }
  return fail (why, why_len, at == 0 ? "it holds no group's metadata (a PV in no group, or "
                                       "its group keeps it on other PVs)"
                                     : "its metadata area is ignored (its group keeps it on "
                                       "other PVs)");
}

int
p2v_lvm_read (int fd, uint64_t off, uint64_t len, struct p2v_lvm_pv *pv, char *why,
              size_t why_len)
{
  memset (pv, 0, sizeof *pv);
  uint8_t b[LABEL_SCAN_SECTORS * SECTOR];
  if (len < sizeof b || p2v_pread_full (fd, b, sizeof b, off, NULL) == -1)
    return fail (why, why_len, "its label cannot be read");
  const uint8_t *l = NULL;
  for (unsigned k = 0; k < LABEL_SCAN_SECTORS && !l; k++) {
    const uint8_t *s = b + k * SECTOR;
    uint32_t hdr = le32 (s + 20);
    if (memcmp (s, "LABELONE", 8) == 0 && le64 (s + 8) == k && memcmp (s + 24, "LVM2 001", 8) == 0
        && hdr >= 32 && hdr <= SECTOR - 32 - 40 && lvm_crc (s + 20, SECTOR - 20) == le32 (s + 16))
      l = s;
  }
  if (!l)
    return fail (why, why_len, "its LVM label is not valid");
  size_t at = le32 (l + 20);
  char uuid[33];
  memcpy (uuid, l + at, 32);
  uuid[32] = '\0';
  /* After the UUID and size: data areas, a zero entry, metadata areas,
   * a zero entry, each entry 16 bytes, all inside the label's sector.
   */
  at += 40;
  while (at + 16 <= SECTOR && le64 (l + at) != 0)
    at += 16;
  at += 16;
  /* The label's sectors and every metadata area: no extent may lie
   * on them.
   */
  struct p2v_run reserved[SECTOR / 16 + 1] = { { 0, LABEL_SCAN_SECTORS * SECTOR } };
  size_t n_reserved = 1;
  for (size_t a = at; a + 16 <= SECTOR && le64 (l + a) != 0; a += 16)
    reserved[n_reserved++] = (struct p2v_run) { le64 (l + a), le64 (l + a + 8) };
  char err[160] = "";
  uint64_t best = 0;
  bool any = false;
  for (size_t i = 1; i < n_reserved; i++) {
    struct p2v_lvm_pv copy;
    uint64_t seq;
    char w[160];
    if (read_area (fd, off, len, reserved[i].off, reserved[i].len, uuid, reserved, n_reserved,
                   &copy, &seq, w, sizeof w) == -1) {
      if (!err[0])
        snprintf (err, sizeof err, "%s", w);
      continue;
    }
    if (any && seq <= best) {
      p2v_lvm_free (&copy);
      continue;
    }
    p2v_lvm_free (pv);
    *pv = copy;
    best = seq;
    any = true;
  }
  if (any)
    return 0;
  return fail (why, why_len, err[0] ? err : "it holds no metadata (it lives on another PV of the group)");
}

void
p2v_lvm_free (struct p2v_lvm_pv *pv)
{
  for (size_t i = 0; i < pv->n_lvs; i++)
    free (pv->lvs[i].pieces);
  free (pv->lvs);
  free (pv->free);
  memset (pv, 0, sizeof *pv);
}
