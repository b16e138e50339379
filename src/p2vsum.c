/* p2vsum: the digest of disks and image files, or a check of a digest
 * file.  Options here; the work in lib/stream/sum.c and lib/stream/sumcheck.c.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream/digest.h"
#include "common/parse.h"
#include "stream/progress.h"
#include "stream/stream.h"
#include "stream/sum.h"
#include "common/util.h"

static void
usage (FILE *f)
{
  fprintf (f,
"Usage: p2vsum [OPTIONS] DISK...\n"
"       p2vsum [OPTIONS] --check FILE...\n"
"Print the digest of each DISK (a block device or an image file) as\n"
"\"BLKHASH-SHA256 (DISK) = HEX\", hashing on every core and skipping\n"
"the holes of sparse files; or check the digest files p2vsend, p2vrecv,\n"
"p2vsum (and sha256sum, blksum) wrote.\n"
"\n"
"      --digest=ALG       blkhash-sha256 (default: what blksum prints),\n"
"                         blkhash-md5, blkhash-sha1, blkhash-sha512, or\n"
"                         md5, sha1, sha256, sha512 (one core)\n"
"  -c, --check            read digest lines from each FILE (- for stdin);\n"
"                         untagged \"HEX  PATH\" lines need --digest\n"
"  -j, --threads=N        hashing threads (default: CPUs)\n"
"      --progress=MODE    auto, tty, plain, json, none (on stderr)\n"
"  -q, --quiet            no progress\n"
"  -h, --help / -V, --version\n"
"Exit status: 0 all read (and matched), 1 usage, 2 a file unreadable,\n"
"5 a digest did not match.  See p2vsum(1).\n");
}

int
main (int argc, char **argv)
{
  enum { OPT_DIGEST = 256, OPT_PROGRESS };
  static const struct option long_opts[] = {
    { "digest", required_argument, NULL, OPT_DIGEST },
    { "check", no_argument, NULL, 'c' },
    { "threads", required_argument, NULL, 'j' },
    { "progress", required_argument, NULL, OPT_PROGRESS },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct p2v_sum_opts o = { .digest_id = P2V_DIGEST_DEFAULT, .threads = p2v_default_threads (),
                            .progress_mode = P2V_PROGRESS_AUTO };
  bool check = false;
  int c;
  p2v_set_progname (argv[0]);
  while ((c = getopt_long (argc, argv, "cj:qhV", long_opts, NULL)) != -1) {
    switch (c) {
    case OPT_DIGEST: {
      bool obsolete;
      o.digest_given = true;
      o.digest_id = p2v_digest_id_from_name (optarg, &obsolete);
      if (o.digest_id == -1 || obsolete) {
        p2v_error ("--digest: '%s' is not one of " P2V_DIGEST_NAMES, optarg);
        return P2V_EXIT_USAGE;
      }
      break;
    }
    case 'c': check = true; break;
    case 'j':
      if (p2v_opt_uint ("--threads", optarg, 1, P2V_THREADS_MAX, &o.threads) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_PROGRESS:
      if ((o.progress_mode = p2v_opt_progress (optarg)) == -1)
        return P2V_EXIT_USAGE;
      break;
    case 'q': p2v_quiet = 1; o.progress_mode = P2V_PROGRESS_NONE; break;
    case 'h': usage (stdout); return P2V_EXIT_OK;
    case 'V': printf ("p2vsum %s\n", PACKAGE_VERSION); return P2V_EXIT_OK;
    default: usage (stderr); return P2V_EXIT_USAGE;
    }
  }
  /* Progress is for a person watching: none in a script's log. */
  if (o.progress_mode == P2V_PROGRESS_AUTO && !isatty (STDERR_FILENO))
    o.progress_mode = P2V_PROGRESS_NONE;
  if (optind == argc) {
    p2v_error (check ? "--check needs a digest FILE (- for standard input)"
                     : "name at least one DISK to hash");
    usage (stderr);
    return P2V_EXIT_USAGE;
  }
  return check ? p2v_sum_check (&o, argv + optind, (unsigned) (argc - optind))
               : p2v_sum_paths (&o, argv + optind, (unsigned) (argc - optind));
}
