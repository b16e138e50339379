/* The disks library from the shell, for tests/disks-*.sh: each
 * subcommand is one library call on a real device or file, so the
 * scripts can check what the kernel and other tools see afterwards.
 *
 *   list                      p2v_list_disks
 *   print PATH                p2v_print_partition_table
 *   relocate PATH             p2v_gpt_relocate_backup (exit 0 moved, 3 nothing to do)
 *   reread PATH               p2v_reread_partitions (prints the count)
 *   salvage SRC OUT MAP [CHUNK]   copy with p2v_read_salvage, write MAP
 *   plain SRC [CHUNK]         read as p2vsend does without --ignore-read-errors
 */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/dev.h"
#include "common/parse.h"
#include "disk/partinfo.h"
#include "disk/salvage.h"
#include "common/util.h"

static int
usage (void)
{
  fprintf (stderr, "usage: %s list | print PATH | relocate PATH | reread PATH |\n"
           "       salvage SRC OUT MAP [CHUNK] | plain SRC [CHUNK]\n", p2v_progname);
  return 1;
}

static int
chunk_arg (int argc, char **argv, int i, uint64_t *chunk)
{
  *chunk = 4 << 20;
  if (argc > i && (p2v_parse_size (argv[i], chunk) == -1 || *chunk == 0 || *chunk > (64 << 20))) {
    p2v_error ("bad chunk size: %s", argv[i]);
    return -1;
  }
  return 0;
}

static int
salvage_copy (const char *src, const char *dst, const char *map_path, uint64_t chunk)
{
  struct p2v_dev d;
  struct p2v_badmap map;
  struct p2v_salvage s;
  char sum[4096];
  int ret = 2;

  if (p2v_source_open (src, &d) == -1)
    return 2;
  p2v_badmap_init (&map);
  int out = open (dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out == -1) {
    p2v_error ("cannot create %s: %m", dst);
    goto close;
  }
  if (p2v_salvage_init (&s, d.fd, d.path, &map) == -1)
    goto close;
  char *buf = xaligned_alloc (chunk);
  for (uint64_t off = 0; off < d.size; off += chunk) {
    size_t n = d.size - off < chunk ? d.size - off : chunk;
    int64_t bad = p2v_read_salvage (&s, buf, n, off);
    if (bad == -1)
      goto free;
    if (bad > 0)
      p2v_warning ("%" PRId64 " unreadable bytes in [%" PRIu64 ", %" PRIu64 "), sent as zeros",
                   bad, off, off + n);
    if (p2v_write_full (out, buf, n) == -1) {
      p2v_error ("cannot write %s: %m", dst);
      goto free;
    }
  }
  if (p2v_badmap_write (&map, map_path, src, d.size) == -1)
    goto free;
  printf ("%s\n", p2v_badmap_summary (&map, 10, sum, sizeof sum));
  ret = 0;
 free:
  free (buf);
  p2v_salvage_close (&s);
 close:
  if (out >= 0 && close (out) == -1 && ret == 0) {
    p2v_error ("cannot write %s: %m", dst);
    ret = 2;
  }
  p2v_badmap_free (&map);
  p2v_dev_close (&d);
  return ret;
}

static int
plain_read (const char *src, uint64_t chunk)
{
  struct p2v_dev d;
  if (p2v_source_open (src, &d) == -1)
    return 2;
  char *buf = xaligned_alloc (chunk);
  int ret = 0;
  for (uint64_t off = 0; off < d.size && ret == 0; off += chunk) {
    size_t n = d.size - off < chunk ? d.size - off : chunk;
    if (p2v_dev_pread (&d, buf, n, off) == -1)
      ret = 2;
  }
  free (buf);
  p2v_dev_close (&d);
  return ret;
}

int
main (int argc, char **argv)
{
  char what[1024];
  uint64_t chunk;
  int r;

  p2v_set_progname (argv[0]);
  if (argc < 2)
    return usage ();
  const char *cmd = argv[1];
  if (strcmp (cmd, "list") == 0 && argc == 2)
    return p2v_list_disks (stdout) >= 0 ? 0 : 2;
  if (strcmp (cmd, "print") == 0 && argc == 3)
    return p2v_print_partition_table (argv[2], stdout) == 0 ? 0 : 2;
  if (strcmp (cmd, "relocate") == 0 && argc == 3) {
    r = p2v_gpt_relocate_backup (argv[2], what, sizeof what);
    if (r >= 0)
      printf ("%s\n", what);
    return r == 1 ? 0 : r == 0 ? 3 : 2;
  }
  if (strcmp (cmd, "reread") == 0 && argc == 3) {
    r = p2v_reread_partitions (argv[2], what, sizeof what);
    if (r >= 0)
      printf ("%d\n%s\n", r, what);
    return r >= 0 ? 0 : 2;
  }
  if (strcmp (cmd, "salvage") == 0 && (argc == 5 || argc == 6))
    return chunk_arg (argc, argv, 5, &chunk) == -1 ? 1
      : salvage_copy (argv[2], argv[3], argv[4], chunk);
  if (strcmp (cmd, "plain") == 0 && (argc == 3 || argc == 4))
    return chunk_arg (argc, argv, 3, &chunk) == -1 ? 1 : plain_read (argv[2], chunk);
  return usage ();
}
