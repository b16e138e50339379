/* The line and string helpers every rule reads guest files with. */
#include <config.h>

#include <string.h>

#include "fixup/text.h"
#include "common/test.h"

int
main (void)
{
  /* Lines: the last may lack its newline; CRLF and comments. */
  const char *t = "a b\n# c\r\n  #d\nlast";
  size_t pos = 0, len;
  const char *line;
  CHECK (next_line (t, &pos, &line, &len) && len == 4 && memcmp (line, "a b\n", 4) == 0);
  CHECK (line_body_len (line, len) == 3 && !line_is_comment (line, len));
  CHECK (next_line (t, &pos, &line, &len) && line_body_len (line, len) == 3);
  CHECK (line_is_comment (line, len));
  CHECK (next_line (t, &pos, &line, &len) && line_is_comment (line, len));
  CHECK (next_line (t, &pos, &line, &len) && len == 4);
  CHECK (!next_line (t, &pos, &line, &len));

  /* Blanks at either end, and nothing but blanks. */
  const char *s = " \t key = v \t ";
  const char *end = s + strlen (s);
  CHECK (skip_blank (s, end) == s + 2);
  CHECK (trim_blank_end (s, end) == s + 10);
  CHECK (trim_blank_end (s, s + 2) == s);
  CHECK (skip_blank (s, s + 2) == s + 2);

  /* Words of a line: blanks between, the line's end and comments not. */
  const char *ln = "  linux\t/vmlinuz-6.1 root=/dev/sda1 ro\n";
  const char *rest = NULL;
  char *w = line_word (ln, strlen (ln), 0, &rest);
  CHECK_STR (w, "linux");
  CHECK (rest && strncmp (rest, "/vmlinuz", 8) == 0);
  free (w);
  w = line_word (ln, strlen (ln), 3, &rest);
  CHECK_STR (w, "ro");
  CHECK (*rest == '\n');
  free (w);
  CHECK (line_word (ln, strlen (ln), 4, NULL) == NULL);
  CHECK (line_word ("   \n", 4, 0, NULL) == NULL);

  /* Paths as the guest names them, never above its root. */
  char *p = path_normalize ("/etc/../boot//grub/./grub.cfg");
  CHECK_STR (p, "/boot/grub/grub.cfg");
  free (p);
  p = path_normalize ("/../../etc/passwd");
  CHECK_STR (p, "/etc/passwd");
  free (p);

  CHECK (str_starts ("/dev/sda1", "/dev/") && !str_starts ("/de", "/dev/"));
  CHECK (str_ends ("grub.cfg", ".cfg") && !str_ends ("cfg", "grub.cfg"));

  struct strlist l = { 0 };
  strlist_add_unique (&l, "sda");
  strlist_add_unique (&l, "sda");
  strlist_add (&l, "vda");
  CHECK (l.n == 2 && strlist_has (&l, "vda") && !strlist_has (&l, "vdb"));
  strlist_free (&l);
  TEST_DONE ();
}
