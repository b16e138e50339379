#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "fixup/diff.h"
#include "fixup/text.h"

struct lines {
  const char **s;
  size_t *len;
  size_t n;
};

static void
split (const char *text, struct lines *l)
{
  size_t pos = 0, cap = 0;
  const char *line;
  size_t len;
  l->s = NULL; l->len = NULL; l->n = 0;
  while (text && next_line (text, &pos, &line, &len)) {
    if (l->n == cap) {
      cap = cap ? cap * 2 : 64;
      l->s = xrealloc (l->s, cap * sizeof *l->s);
      l->len = xrealloc (l->len, cap * sizeof *l->len);
    }
    l->s[l->n] = line;
    l->len[l->n] = len;
    l->n++;
  }
}

static bool
same (const struct lines *a, size_t i, const struct lines *b, size_t j)
{
  return a->len[i] == b->len[j] && memcmp (a->s[i], b->s[j], a->len[i]) == 0;
}

struct op { char c; size_t ai, bi; };

static void
emit_line (struct sbuf *out, char c, const char *s, size_t len)
{
  sb_addc (out, c);
  sb_add (out, s, len);
  if (len == 0 || s[len - 1] != '\n')
    sb_adds (out, "\n\\ No newline at end of file\n");
}

char *
unified_diff (const char *path, const char *old, const char *new_)
{
  struct lines a, b;
  split (old, &a);
  split (new_, &b);
  /* Changes are local, so trimming the common ends leaves a small middle
   * for the quadratic LCS table.
   */
  size_t pre = 0;
  while (pre < a.n && pre < b.n && same (&a, pre, &b, pre))
    pre++;
  size_t suf = 0;
  while (suf < a.n - pre && suf < b.n - pre
         && same (&a, a.n - 1 - suf, &b, b.n - 1 - suf)) suf++;
  size_t n = a.n - pre - suf, m = b.n - pre - suf;
  struct op *ops = xmalloc ((a.n + b.n + 1) * sizeof *ops);
  size_t nops = 0;
  for (size_t i = 0; i < pre; i++)
    ops[nops++] = (struct op) { ' ', i, i };

  uint32_t *t = xcalloc ((n + 1) * (m + 1), sizeof *t);
#define T(i, j) t[(i) * (m + 1) + (j)]
  for (size_t i = n; i-- > 0; )
    for (size_t j = m; j-- > 0; )
      T (i, j) = same (&a, pre + i, &b, pre + j) ? T (i + 1, j + 1) + 1
        : (T (i + 1, j) >= T (i, j + 1) ? T (i + 1, j) : T (i, j + 1));
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same (&a, pre + i, &b, pre + j)) {
      ops[nops++] = (struct op) { ' ', pre + i, pre + j }; i++; j++;
    }
    else if (i < n && (j == m || T (i + 1, j) >= T (i, j + 1))) {
      ops[nops++] = (struct op) { '-', pre + i, pre + j }; i++;
    }
    else {
      ops[nops++] = (struct op) { '+', pre + i, pre + j }; j++;
    }
  }
#undef T
  free (t);
  for (size_t k = 0; k < suf; k++)
    ops[nops++] = (struct op) { ' ', a.n - suf + k, b.n - suf + k };

  struct sbuf out = { 0 };
  const size_t ctx = 3;
  size_t k = 0;
  bool header = false;
  while (k < nops) {
    while (k < nops && ops[k].c == ' ')
      k++;
    if (k == nops)
      break;
    size_t start = k > ctx ? k - ctx : 0;
    /* Extend the hunk while the next change is within 2*ctx lines. */
    size_t end = k, last = k;
    while (end < nops) {
      if (ops[end].c != ' ')
        last = end;
      else if (end - last > 2 * ctx)
        break;
      end++;
    }
    end = last + 1 + ctx < nops ? last + 1 + ctx : nops;
    size_t as = 0, bs = 0;
    for (size_t q = start; q < end; q++) {
      if (ops[q].c != '+')
        as++;
      if (ops[q].c != '-')
        bs++;
    }
    if (!header) {
      if (old)
        sb_printf (&out, "--- a%s\n", path);
      else
        sb_adds (&out, "--- /dev/null\n");
      sb_printf (&out, "+++ b%s\n", path);
      header = true;
    }
    sb_printf (&out, "@@ -%zu,%zu +%zu,%zu @@\n",
               as ? ops[start].ai + 1 : ops[start].ai, as,
               bs ? ops[start].bi + 1 : ops[start].bi, bs);
    for (size_t q = start; q < end; q++) {
      if (ops[q].c == '+')
        emit_line (&out, '+', b.s[ops[q].bi], b.len[ops[q].bi]);
      else
        emit_line (&out, ops[q].c, a.s[ops[q].ai], a.len[ops[q].ai]);
    }
    k = end;
  }
  free (ops);
  free (a.s); free (a.len); free (b.s); free (b.len);
  return sb_steal (&out);
}
