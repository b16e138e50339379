#include <config.h>

#include "common/json.h"

void
p2v_json_string (FILE *f, const char *s)
{
  if (!s) {
    fputs ("null", f);
    return;
  }
  putc ('"', f);
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
    case '"': fputs ("\\\"", f); break;
    case '\\': fputs ("\\\\", f); break;
    case '\n': fputs ("\\n", f); break;
    case '\t': fputs ("\\t", f); break;
    case '\r': fputs ("\\r", f); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        fprintf (f, "\\u%04x", *p);
      else
        putc (*p, f);
    }
  }
  putc ('"', f);
}
