/* Small helpers shared by the p2vfixup library: a growable string and
 * line iteration.  Allocation failure is fatal (the tool cannot do
 * anything useful without memory and must not half-edit a guest).
 */
#ifndef P2VFIXUP_UTIL_H
#define P2VFIXUP_UTIL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

struct sbuf {
  char *s;
  size_t len, cap;
};

void *xmalloc (size_t n);
void *xcalloc (size_t n, size_t m);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

void sb_add (struct sbuf *b, const char *s, size_t n);
void sb_adds (struct sbuf *b, const char *s);
void sb_addc (struct sbuf *b, char c);
void sb_printf (struct sbuf *b, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Always returns a NUL-terminated string (empty if nothing was added). */
char *sb_steal (struct sbuf *b);
void sb_free (struct sbuf *b);

/* Iterate over lines of TEXT: *POS is advanced past the line, which is
 * returned in *LINE and *LEN including its '\n' if present.  Returns false at
 * the end.
 */
bool next_line (const char *text, size_t *pos, const char **line, size_t *len);

/* Length of LINE without its trailing newline. */
size_t line_body_len (const char *line, size_t len);
/* True if the line is blank or its first non-blank character is '#'. */
bool line_is_comment (const char *line, size_t len);
/* Skip spaces and tabs. */
const char *skip_blank (const char *p, const char *end);

bool str_starts (const char *s, const char *prefix);
bool str_ends (const char *s, const char *suffix);

/* A NULL-terminated list of strings. */
struct strlist {
  char **v;
  size_t n;
};
void strlist_add (struct strlist *l, const char *s);
void strlist_add_unique (struct strlist *l, const char *s);
bool strlist_has (const struct strlist *l, const char *s);
void strlist_free (struct strlist *l);

/* MAC addresses: canonical form is lower case with colons.  Returns
 * false if S (length N) is not six hex pairs separated by ':' or '-'.
 */
bool mac_parse (const char *s, size_t n, char out[18]);

/* Strict unsigned decimal parse of the whole of [S, S+N). */
bool parse_uint (const char *s, size_t n, unsigned long *out);

#endif
