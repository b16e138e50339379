/* Runs the fuzz harness (fuzz-stream.c) once over each file named on
 * the command line, without libFuzzer: `make check` replays the seed
 * streams through every parser a peer's bytes reach, under ASan and
 * UBSan in check-sanitize, and builds the harness from the very source
 * list `make fuzz` compiles, so a harness that no longer links or a
 * seed that crashes shows up in the tests rather than in a fuzz run.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen (argv[i], "rb");
    if (!f) {
      perror (argv[i]);
      return 1;
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc (cap);
    while (buf && (got = fread (buf + n, 1, cap - n, f)) > 0)
      if ((n += got) == cap)
        buf = realloc (buf, cap *= 2);
    if (!buf || ferror (f)) {
      fprintf (stderr, "%s: cannot read\n", argv[i]);
      return 1;
    }
    fclose (f);
    LLVMFuzzerTestOneInput (buf, n);
    free (buf);
    printf ("%s: %zu bytes replayed\n", argv[i], n);
  }
  return 0;
}
