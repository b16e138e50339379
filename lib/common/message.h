/* Messages to the admin: every line is "prog: error: …", "prog:
 * warning: …" or "prog: …", written whole so threads never interleave.
 */
#ifndef P2V_COMMON_MESSAGE_H
#define P2V_COMMON_MESSAGE_H

#include <stddef.h>

extern const char *p2v_progname;
void p2v_set_progname (const char *argv0);

/* "prog: error: MESSAGE" on stderr. */
void p2v_error (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* "prog: warning: MESSAGE" on stderr. */
void p2v_warning (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* "prog: MESSAGE" on stderr, unless quiet. */
void p2v_info (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
extern int p2v_quiet;
/* When set, writes each message line (newline included) instead of a
 * plain write: a multi-line progress display on a TTY clears itself and
 * writes the line under its own lock, so no redraw wipes it.
 */
extern void (*volatile p2v_message_hook) (const char *line, size_t len);

/* Text from the network or a guest, fit for a terminal: control bytes,
 * non-ASCII and backslash as \xHH, cut (with "...") to outsz.  Returns
 * out.  P2V_ESCAPED_LEN(n) holds any n bytes in full.
 */
#define P2V_ESCAPED_LEN(n) (4 * (n) + 8)
const char *p2v_escape (const void *text, size_t n, char *out, size_t outsz);

#endif
