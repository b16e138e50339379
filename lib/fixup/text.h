/* Text helpers of the p2vfixup library: lines of guest configuration
 * files, prefixes, lists of strings.
 */
#ifndef P2VFIXUP_TEXT_H
#define P2VFIXUP_TEXT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

#include "common/alloc.h"
#include "common/parse.h"
#include "common/strbuf.h"


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
/* The end of [P, END) without its trailing blanks (spaces, tabs). */
const char *trim_blank_end (const char *p, const char *end);
/* Word I (0-based; words are separated by blanks) of LINE, in a new
 * string, or NULL when the line has fewer; *REST (when not NULL) then
 * points past it and the blanks that follow.
 */
char *line_word (const char *line, size_t len, int i, const char **rest);

bool str_starts (const char *s, const char *prefix);
/* An absolute PATH without "//", "." and ".." (which stops at "/"). */
char *path_normalize (const char *path);
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


#endif
