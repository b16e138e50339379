#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

const char *p2v_progname = "p2vstream";
int p2v_quiet;
void (*volatile p2v_message_hook) (const char *line, size_t len);

void
p2v_set_progname (const char *argv0)
{
  const char *slash = strrchr (argv0, '/');
  p2v_progname = slash ? slash + 1 : argv0;
}

static void
vmessage (const char *kind, const char *fmt, va_list ap)
{
  /* One buffer and one write, so lines from several threads never
   * interleave mid-line.
   */
  char line[1024];
  int n = snprintf (line, sizeof line, "%s: %s", p2v_progname, kind);
  if (n < 0 || (size_t) n >= sizeof line)
    n = 0;
  int m = vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  if (m < 0)
    m = 0;
  size_t len = n + (size_t) m;
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  void (*hook) (const char *, size_t) = p2v_message_hook;
  if (hook)
    hook (line, len);
  else {
    ssize_t r = write (STDERR_FILENO, line, len);
    (void) r;
  }
}

void
p2v_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vmessage ("error: ", fmt, ap);
  va_end (ap);
}

void
p2v_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vmessage ("warning: ", fmt, ap);
  va_end (ap);
}

void
p2v_info (const char *fmt, ...)
{
  if (p2v_quiet)
    return;
  va_list ap;
  va_start (ap, fmt);
  vmessage ("", fmt, ap);
  va_end (ap);
}

/* Peer text may hold escape sequences that would drive the admin's
 * terminal (clear it, retitle it, fake a line): bytes outside printable
 * ASCII, and the backslash itself, go out as \xHH.
 */
const char *
p2v_escape (const void *text, size_t n, char *out, size_t outsz)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = text;
  size_t o = 0;
  if (outsz == 0)
    return out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    bool plain = c >= 0x20 && c < 0x7f && c != '\\';
    size_t need = plain ? 1 : 4;
    if (o + need + 4 > outsz) {
      /* Truncated: say so, in room we kept for it. */
      if (o + 3 < outsz) {
        memcpy (out + o, "...", 3);
        o += 3;
      }
      break;
    }
    if (plain)
      out[o++] = (char) c;
    else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = '\0';
  return out;
}
