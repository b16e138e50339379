/* A growable string.  Allocation failure exits (common/alloc.h). */
#ifndef P2V_COMMON_STRBUF_H
#define P2V_COMMON_STRBUF_H

#include <stddef.h>

struct sbuf {
  char *s;
  size_t len, cap;
};

void sb_add (struct sbuf *b, const char *s, size_t n);
void sb_adds (struct sbuf *b, const char *s);
void sb_addc (struct sbuf *b, char c);
void sb_printf (struct sbuf *b, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Always returns a NUL-terminated string (empty if nothing was added). */
char *sb_steal (struct sbuf *b);
void sb_free (struct sbuf *b);

#endif
