/* p2vsend: stream a disk to p2vrecv.  Options here; the work in lib/stream/send.c. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/adapt.h"
#include "disk/dev.h"
#include "stream/codec.h"
#include "stream/crypto.h"
#include "stream/digest.h"
#include "stream/format.h"
#include "common/parse.h"
#include "disk/partinfo.h"
#include "stream/progress.h"
#include "stream/stream.h"
#include "common/util.h"

static void
usage (FILE *f)
{
  fprintf (f,
"Usage: p2vsend [OPTIONS] SOURCE... HOST[:PORT]\n"
"       p2vsend [OPTIONS] --stdout SOURCE > STREAM\n"
"Stream the disk SOURCE (a block device or an image file) to p2vrecv;\n"
"several disks (up to 6) go concurrently to p2vrecv's targets, in order.\n"
"\n"
"  -c, --compress=CODEC[:LEVEL]  zstd (default, level 1), lz4, zlib or none;\n"
"                                auto: zstd, its level following the bottleneck\n"
"  -j, --threads=N               compression threads (default: CPUs)\n"
"  -b, --chunk-size=SIZE         64K..16M, a power of two (default 4M)\n"
"      --digest=ALG              blkhash-sha256 (default: what blksum prints,\n"
"                                on every core), blkhash-md5, blkhash-sha1,\n"
"                                blkhash-sha512, or what md5sum, sha1sum,\n"
"                                sha256sum, sha512sum print: md5 ... sha512\n"
"      --digest-file=FILE        write \"ALG (SOURCE) = DIGEST\" for p2vsum -c\n"
"                                (sha256sum -c too, with a plain digest)\n"
"                                (several disks: once per disk, in order)\n"
"      --stdout                  write the stream to standard output\n"
"  -k, --key=KEY                 the key p2vrecv printed (or P2V_KEY)\n"
"      --key-file=FILE           read the key from FILE\n"
"      --no-encrypt              authenticate but do not encrypt\n"
"      --limit-rate=RATE         at most RATE bytes a second on the wire, for\n"
"                                all disks together (K, M, G: x1024)\n"
"      --retry=N                 reconnect and resume N times (default 5)\n"
"      --timeout=SECS            give up on a silent receiver (default 300)\n"
"      --resume                  fail unless the receiver can resume\n"
"      --delta                   the target holds an earlier copy: compare\n"
"                                chunk hashes, send only what changed\n"
"      --skip-free               send the blocks the filesystems do not use\n"
"                                (ext2/3/4, swap) as zeros\n"
"      --ignore-read-errors[=MAP] send unreadable sectors as zeros, list them\n"
"                                in MAP (default: SOURCE-NAME.badmap here)\n"
"      --force                   send a disk holding the running root\n"
"      --list                    show this machine's disks and exit\n"
"      --progress=MODE           auto, tty, plain, json, none\n"
"  -q, --quiet                   no progress, only errors\n"
"  -h, --help / -V, --version\n"
"The port defaults to 5000.  See p2vsend(1) for exit statuses.\n");
}

int
main (int argc, char **argv)
{
  enum { OPT_DIGEST = 256, OPT_DIGEST_FILE, OPT_STDOUT, OPT_PROGRESS, OPT_KEY_FILE,
         OPT_NO_ENCRYPT, OPT_RETRY, OPT_RESUME, OPT_IGNORE_READ_ERRORS, OPT_FORCE,
         OPT_LIST, OPT_DELTA, OPT_LIMIT_RATE, OPT_TIMEOUT, OPT_SKIP_FREE };
  static const struct option long_opts[] = {
    { "compress", required_argument, NULL, 'c' },
    { "threads", required_argument, NULL, 'j' },
    { "chunk-size", required_argument, NULL, 'b' },
    { "digest", required_argument, NULL, OPT_DIGEST },
    { "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
    { "stdout", no_argument, NULL, OPT_STDOUT },
    { "progress", required_argument, NULL, OPT_PROGRESS },
    { "key", required_argument, NULL, 'k' },
    { "key-file", required_argument, NULL, OPT_KEY_FILE },
    { "no-encrypt", no_argument, NULL, OPT_NO_ENCRYPT },
    { "retry", required_argument, NULL, OPT_RETRY },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "limit-rate", required_argument, NULL, OPT_LIMIT_RATE },
    { "resume", no_argument, NULL, OPT_RESUME },
    { "delta", no_argument, NULL, OPT_DELTA },
    { "skip-free", no_argument, NULL, OPT_SKIP_FREE },
    { "ignore-read-errors", optional_argument, NULL, OPT_IGNORE_READ_ERRORS },
    { "force", no_argument, NULL, OPT_FORCE },
    { "list", no_argument, NULL, OPT_LIST },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct p2v_send_opts o = {
    .threads = p2v_default_threads (), .codec = P2V_CODEC_DEFAULT, .level = -1,
    .chunk_size = P2V_CHUNK_DEFAULT, .digest_id = P2V_DIGEST_DEFAULT,
    .progress_mode = P2V_PROGRESS_AUTO, .encrypt = true, .retry = 5, .timeout = 300,
  };
  char *host = NULL, *port = NULL;
  const char *key_arg = NULL, *key_file = NULL;
  bool ignore_read_errors = false;
  char *badmap[P2V_DISKS_MAX] = { NULL };
  const char *digest_files[P2V_DISKS_MAX];
  unsigned ndigest_files = 0;
  char key[P2V_KEY_TEXT_LEN];
  uint64_t limit_rate = 0;
  struct p2v_pacer pacer;
  int c;

  p2v_set_progname (argv[0]);
  while ((c = getopt_long (argc, argv, "c:j:b:k:qhV", long_opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (p2v_opt_compress (optarg, &o) == -1)
        return P2V_EXIT_USAGE;
      break;
    case 'j':
      if (p2v_opt_uint ("--threads", optarg, 1, P2V_THREADS_MAX, &o.threads) == -1)
        return P2V_EXIT_USAGE;
      break;
    case 'b':
      if (p2v_opt_chunk_size (optarg, &o.chunk_size) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_DIGEST:
      if (p2v_opt_send_digest (optarg, &o.digest_id) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_DIGEST_FILE:
      if (p2v_opt_repeat ("--digest-file", optarg, digest_files, &ndigest_files,
                          P2V_DISKS_MAX) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_STDOUT: o.to_stdout = true; break;
    case OPT_PROGRESS:
      if ((o.progress_mode = p2v_opt_progress (optarg)) == -1)
        return P2V_EXIT_USAGE;
      break;
    case 'k': key_arg = optarg; break;
    case OPT_KEY_FILE: key_file = optarg; break;
    case OPT_NO_ENCRYPT: o.encrypt = false; break;
    case OPT_RESUME: o.resume = true; break;
    case OPT_DELTA: o.delta = true; break;
    case OPT_SKIP_FREE: o.skip_free = true; break;
    case OPT_IGNORE_READ_ERRORS:
      ignore_read_errors = true;
      if (optarg)
        o.badmap = optarg;
      break;
    case OPT_FORCE: o.force = true; break;
    case OPT_LIST:
      return p2v_list_disks (stdout) >= 0 ? P2V_EXIT_OK : P2V_EXIT_IO;
    case OPT_RETRY:
      if (p2v_opt_uint ("--retry", optarg, 0, 1000, &o.retry) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_TIMEOUT:
      if (p2v_opt_uint ("--timeout", optarg, 1, 86400, &o.timeout) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_LIMIT_RATE:
      if (p2v_parse_size (optarg, &limit_rate) == -1 || limit_rate < 1024) {
        p2v_error ("--limit-rate: '%s' is not a rate of at least 1K bytes a second (e.g. 50M)",
                   optarg);
        return P2V_EXIT_USAGE;
      }
      break;
    case 'q': p2v_quiet = 1; o.progress_mode = P2V_PROGRESS_NONE; break;
    case 'h': usage (stdout); return P2V_EXIT_OK;
    case 'V': printf ("p2vsend %s\n", PACKAGE_VERSION); return P2V_EXIT_OK;
    default: usage (stderr); return P2V_EXIT_USAGE;
    }
  }
  if (p2v_send_opts_check (&o) == -1)
    return P2V_EXIT_USAGE;
  int nargs = argc - optind;
  unsigned n = o.to_stdout ? (unsigned) nargs : (unsigned) (nargs - 1);
  if (nargs < 1 || (o.to_stdout && nargs != 1) || (!o.to_stdout && nargs < 2)) {
    p2v_error (o.to_stdout ? "expected one SOURCE with --stdout (see --help)"
                           : "expected SOURCE... and HOST[:PORT] (see --help)");
    return P2V_EXIT_USAGE;
  }
  if (n > P2V_DISKS_MAX) {
    p2v_error ("%u disks: at most %d per session; start another session for the rest",
               n, P2V_DISKS_MAX);
    return P2V_EXIT_USAGE;
  }
  if (p2v_opt_per_disk ("--digest-file", ndigest_files, n) == -1)
    return P2V_EXIT_USAGE;
  if (o.badmap && n > 1) {
    p2v_error ("--ignore-read-errors=MAP names one map; with several disks give it "
               "without a file: each disk gets SOURCE-NAME.badmap");
    return P2V_EXIT_USAGE;
  }
  if (p2v_check_distinct (&argv[optind], n) == -1)
    return P2V_EXIT_USAGE;
  switch (p2v_key_resolve (key_arg, key_file, key)) {
  case -1: return P2V_EXIT_USAGE;
  case 1: o.key = key; break;
  }
  if (!o.to_stdout) {
    if (p2v_parse_hostport (argv[argc - 1], 0, "5000", &host, &port) == -1) {
      p2v_error ("'%s' is not HOST[:PORT] (IPv6: [ADDR]:PORT)", argv[argc - 1]);
      return P2V_EXIT_USAGE;
    }
    o.host = host;
    o.port = port;
  }
  if (limit_rate) {
    p2v_pacer_init (&pacer, (double) limit_rate);
    o.pacer = &pacer;
  }
  struct p2v_send_opts disks[P2V_DISKS_MAX];
  if (p2v_send_opts_per_disk (&o, &argv[optind], n, ndigest_files ? digest_files : NULL,
                              ignore_read_errors, disks, badmap) == -1)
    return P2V_EXIT_USAGE;
  /* What is about to be copied, as the admin will want to check it. */
  if (!p2v_quiet)
    for (unsigned i = 0; i < n; i++)
      p2v_print_partition_table (disks[i].source, stderr);
  struct p2v_progress_group *group = NULL;
  if (n > 1) {
    group = p2v_progress_group_new (o.progress_mode, n, stderr);
    for (unsigned i = 0; i < n; i++)
      disks[i].progress_group = group;
  }
  int st[P2V_DISKS_MAX];
  int status = p2v_send (disks, n, st);
  p2v_progress_group_free (group);
  if (o.pacer)
    p2v_pacer_destroy (&pacer);
  for (unsigned i = 0; i < n; i++)
    free (badmap[i]);
  free (host);
  free (port);
  return status;
}
