#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "common/jsonread.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define MAX_DEPTH 64

struct parser {
  const char *s, *end;
  const char *err;
  const char *errpos;
};

static struct json *parse_value (struct parser *p, int depth);

static bool
fail (struct parser *p, const char *msg)
{
  if (!p->err) {
    p->err = msg;
    p->errpos = p->s;
  }
  return false;
}

static void
skip_ws (struct parser *p)
{
  while (p->s < p->end && strchr (" \t\r\n", *p->s) && *p->s) p->s++;
}

static struct json *
new_node (enum json_type t)
{
  struct json *j = xcalloc (1, sizeof *j);
  j->type = t;
  return j;
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool
read_hex4 (struct parser *p, unsigned *v)
{
  if (p->end - p->s < 4) return fail (p, "truncated \\u escape");
  *v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval (p->s[i]);
    if (h < 0) return fail (p, "bad \\u escape");
    *v = *v * 16 + (unsigned) h;
  }
  p->s += 4;
  return true;
}

static void
put_utf8 (struct sbuf *b, unsigned cp)
{
  char u[4];
  if (cp < 0x80) { u[0] = (char) cp; sb_add (b, u, 1); }
  else if (cp < 0x800) {
    u[0] = (char) (0xc0 | (cp >> 6)); u[1] = (char) (0x80 | (cp & 0x3f));
    sb_add (b, u, 2);
  }
  else if (cp < 0x10000) {
    u[0] = (char) (0xe0 | (cp >> 12)); u[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char) (0x80 | (cp & 0x3f));
    sb_add (b, u, 3);
  }
  else {
    u[0] = (char) (0xf0 | (cp >> 18)); u[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char) (0x80 | ((cp >> 6) & 0x3f)); u[3] = (char) (0x80 | (cp & 0x3f));
    sb_add (b, u, 4);
  }
}

static char *
parse_string (struct parser *p)
{
  struct sbuf b = { 0 };
  p->s++;                       /* opening quote */
  for (;;) {
    if (p->s >= p->end) { fail (p, "unterminated string"); goto bad; }
    unsigned char c = (unsigned char) *p->s;
    if (c == '"') { p->s++; break; }
    if (c < 0x20) { fail (p, "control character in string"); goto bad; }
    if (c != '\\') { sb_addc (&b, (char) c); p->s++; continue; }
    p->s++;
    if (p->s >= p->end) { fail (p, "unterminated string"); goto bad; }
    char e = *p->s++;
    unsigned cp;
    switch (e) {
    case '"': sb_addc (&b, '"'); break;
    case '\\': sb_addc (&b, '\\'); break;
    case '/': sb_addc (&b, '/'); break;
    case 'b': sb_addc (&b, '\b'); break;
    case 'f': sb_addc (&b, '\f'); break;
    case 'n': sb_addc (&b, '\n'); break;
    case 'r': sb_addc (&b, '\r'); break;
    case 't': sb_addc (&b, '\t'); break;
    case 'u':
      if (!read_hex4 (p, &cp)) goto bad;
      if (cp >= 0xd800 && cp < 0xdc00) {
        unsigned lo;
        if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u') {
          fail (p, "lone surrogate"); goto bad;
        }
        p->s += 2;
        if (!read_hex4 (p, &lo)) goto bad;
        if (lo < 0xdc00 || lo > 0xdfff) { fail (p, "bad surrogate pair"); goto bad; }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      else if (cp >= 0xdc00 && cp <= 0xdfff) { fail (p, "lone surrogate"); goto bad; }
      if (cp == 0) { fail (p, "NUL in string"); goto bad; }
      put_utf8 (&b, cp);
      break;
    default:
      fail (p, "bad escape"); goto bad;
    }
  }
  return sb_steal (&b);
 bad:
  sb_free (&b);
  return NULL;
}

static bool
digits (struct parser *p)
{
  const char *s = p->s;
  while (p->s < p->end && *p->s >= '0' && *p->s <= '9') p->s++;
  return p->s > s;
}

static struct json *
parse_number (struct parser *p)
{
  const char *s = p->s;
  if (*p->s == '-') p->s++;
  if (p->s < p->end && *p->s == '0') p->s++;
  else if (!digits (p)) { fail (p, "bad number"); return NULL; }
  if (p->s < p->end && *p->s == '.') {
    p->s++;
    if (!digits (p)) { fail (p, "bad number"); return NULL; }
  }
  if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
    p->s++;
    if (p->s < p->end && (*p->s == '+' || *p->s == '-')) p->s++;
    if (!digits (p)) { fail (p, "bad number"); return NULL; }
  }
  struct json *j = new_node (JSON_NUMBER);
  j->str = xstrndup (s, (size_t) (p->s - s));
  return j;
}

static bool
take_word (struct parser *p, const char *w)
{
  size_t n = strlen (w);
  if ((size_t) (p->end - p->s) < n || memcmp (p->s, w, n) != 0)
    return fail (p, "unexpected character");
  p->s += n;
  return true;
}

static struct json *
parse_container (struct parser *p, int depth, bool object)
{
  struct json *j = new_node (object ? JSON_OBJECT : JSON_ARRAY);
  char close = object ? '}' : ']';
  p->s++;
  skip_ws (p);
  if (p->s < p->end && *p->s == close) { p->s++; return j; }
  for (;;) {
    char *key = NULL;
    skip_ws (p);
    if (object) {
      if (p->s >= p->end || *p->s != '"') { fail (p, "expected a key"); goto bad; }
      if (!(key = parse_string (p))) goto bad;
      skip_ws (p);
      if (p->s >= p->end || *p->s != ':') { free (key); fail (p, "expected ':'"); goto bad; }
      p->s++;
    }
    struct json *v = parse_value (p, depth + 1);
    if (!v) { free (key); goto bad; }
    j->items = xrealloc (j->items, (j->n + 1) * sizeof *j->items);
    if (object) j->keys = xrealloc (j->keys, (j->n + 1) * sizeof *j->keys);
    j->items[j->n] = v;
    if (object) j->keys[j->n] = key;
    j->n++;
    skip_ws (p);
    if (p->s < p->end && *p->s == ',') { p->s++; continue; }
    if (p->s < p->end && *p->s == close) { p->s++; return j; }
    fail (p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    goto bad;
  }
 bad:
  json_free (j);
  return NULL;
}

static struct json *
parse_value (struct parser *p, int depth)
{
  if (depth > MAX_DEPTH) { fail (p, "nested too deeply"); return NULL; }
  skip_ws (p);
  if (p->s >= p->end) { fail (p, "unexpected end of input"); return NULL; }
  struct json *j;
  switch (*p->s) {
  case '{': return parse_container (p, depth, true);
  case '[': return parse_container (p, depth, false);
  case '"': {
    char *s = parse_string (p);
    if (!s) return NULL;
    j = new_node (JSON_STRING);
    j->str = s;
    return j;
  }
  case 't':
    if (!take_word (p, "true")) return NULL;
    j = new_node (JSON_BOOL); j->boolean = true; return j;
  case 'f':
    if (!take_word (p, "false")) return NULL;
    return new_node (JSON_BOOL);
  case 'n':
    if (!take_word (p, "null")) return NULL;
    return new_node (JSON_NULL);
  default:
    if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9')) return parse_number (p);
    fail (p, "unexpected character");
    return NULL;
  }
}

struct json *
json_parse (const char *text, size_t len, char **err)
{
  struct parser p = { .s = text, .end = text + len };
  struct json *j = parse_value (&p, 0);
  if (j) {
    skip_ws (&p);
    if (p.s != p.end) {
      fail (&p, "trailing data after the document");
      json_free (j);
      j = NULL;
    }
  }
  if (!j && err) {
    unsigned line = 1;
    for (const char *c = text; c < p.errpos; c++) line += *c == '\n';
    *err = xasprintf ("line %u: %s", line, p.err ? p.err : "invalid JSON");
  }
  return j;
}

void
json_free (struct json *j)
{
  if (!j) return;
  for (size_t i = 0; i < j->n; i++) {
    json_free (j->items[i]);
    if (j->keys) free (j->keys[i]);
  }
  free (j->items);
  free (j->keys);
  free (j->str);
  free (j);
}

const struct json *
json_get (const struct json *j, const char *key)
{
  if (!j || j->type != JSON_OBJECT) return NULL;
  for (size_t i = 0; i < j->n; i++)
    if (strcmp (j->keys[i], key) == 0) return j->items[i];
  return NULL;
}

const char *
json_str (const struct json *j)
{
  return j && j->type == JSON_STRING ? j->str : NULL;
}

bool
json_uint (const struct json *j, unsigned long long *v)
{
  if (!j || j->type != JSON_NUMBER) return false;
  unsigned long long r = 0;
  for (const char *c = j->str; *c; c++) {
    if (*c < '0' || *c > '9') return false;
    if (r > (UINT64_MAX - 9) / 10) return false;
    r = r * 10 + (unsigned) (*c - '0');
  }
  *v = r;
  return true;
}
