/* p2vrecv: receive a disk from p2vsend.  Options here; the work in lib/stream/recv.c. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/dev.h"
#include "stream/crypto.h"
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
"Usage: p2vrecv [OPTIONS] TARGET...\n"
"       p2vrecv [OPTIONS] --stdin TARGET < STREAM\n"
"Receive a disk from p2vsend and write it to TARGET (a block device, or\n"
"an image file, created sparse if absent), then verify it.  Several\n"
"targets (up to 6) take p2vsend's disks in order, concurrently.\n"
"\n"
"  -l, --listen=[ADDR:]PORT     where to listen (default: all addresses, 5000;\n"
"                               port 0 picks a free port)\n"
"      --stdin                  read the stream from standard input\n"
"  -j, --threads=N              decompression threads (default: CPUs)\n"
"      --digest-file=FILE       write \"ALG (TARGET) = DIGEST\" for p2vsum -c\n"
"      --manifest=FILE          where to write the source's description\n"
"                               (default: TARGET.p2v.json for a file)\n"
"                               (both: several targets, once per target)\n"
"      --progress=MODE          auto, tty, plain, json, none\n"
"      --key-file=FILE          the session key (default: P2V_KEY, the key of\n"
"                               an interrupted copy, or a new one, printed)\n"
"      --retry=N                after a dropped link, wait for the sender to\n"
"                               come back N times (default 5)\n"
"      --timeout=SECS           give up on a silent sender (default 300)\n"
"      --greet-timeout=SECS     drop a new connection that has not sent its\n"
"                               greeting (p2vsend's HELLO) by then (default 5)\n"
"      --handshake-timeout=SECS then drop it if it has not proved the key and\n"
"                               described its disk SECS later (default 30)\n"
"      --allow-no-encrypt       accept a p2vsend --no-encrypt over the network\n"
"      --state-dir=DIR          resume state for block devices\n"
"                               (default /var/lib/p2vstream)\n"
"      --force                  write a target that is mounted or in use, or\n"
"                               cut an image file longer than the source\n"
"      --target-is-zero         the target reads back zeros: do not write\n"
"                               the source's zero chunks\n"
"  -q, --quiet                  no progress, only errors\n"
"  -h, --help / -V, --version\n"
"See p2vrecv(1) for exit statuses.\n");
}

int
main (int argc, char **argv)
{
  enum { OPT_STDIN = 256, OPT_DIGEST_FILE, OPT_MANIFEST, OPT_PROGRESS, OPT_KEY_FILE,
         OPT_RETRY, OPT_TIMEOUT, OPT_STATE_DIR, OPT_FORCE, OPT_TARGET_IS_ZERO,
         OPT_GREET_TIMEOUT, OPT_HANDSHAKE_TIMEOUT, OPT_ALLOW_NO_ENCRYPT };
  static const struct option long_opts[] = {
    { "listen", required_argument, NULL, 'l' },
    { "stdin", no_argument, NULL, OPT_STDIN },
    { "threads", required_argument, NULL, 'j' },
    { "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
    { "manifest", required_argument, NULL, OPT_MANIFEST },
    { "progress", required_argument, NULL, OPT_PROGRESS },
    { "key-file", required_argument, NULL, OPT_KEY_FILE },
    { "retry", required_argument, NULL, OPT_RETRY },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "greet-timeout", required_argument, NULL, OPT_GREET_TIMEOUT },
    { "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
    { "allow-no-encrypt", no_argument, NULL, OPT_ALLOW_NO_ENCRYPT },
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { "force", no_argument, NULL, OPT_FORCE },
    { "target-is-zero", no_argument, NULL, OPT_TARGET_IS_ZERO },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct p2v_recv_opts o = {
    .threads = p2v_default_threads (), .progress_mode = P2V_PROGRESS_AUTO,
    .retry = 5, .timeout = 300, .greet_timeout = 5, .handshake_timeout = 30, .state_dir = "/var/lib/p2vstream",
  };
  char *host = NULL, *port = NULL;
  const char *digest_files[P2V_DISKS_MAX], *manifests[P2V_DISKS_MAX];
  unsigned ndigest_files = 0, nmanifests = 0;
  const char *key_file = NULL;
  char key[P2V_KEY_TEXT_LEN];
  int c;

  p2v_set_progname (argv[0]);
  while ((c = getopt_long (argc, argv, "l:j:qhV", long_opts, NULL)) != -1) {
    switch (c) {
    case 'l':
      free (host);
      free (port);
      if (p2v_parse_hostport (optarg, 1, "5000", &host, &port) == -1) {
        p2v_error ("--listen: '%s' is not [ADDR:]PORT (IPv6: [ADDR]:PORT)", optarg);
        return P2V_EXIT_USAGE;
      }
      break;
    case OPT_STDIN: o.from_stdin = true; break;
    case 'j':
      if (p2v_opt_uint ("--threads", optarg, 1, P2V_THREADS_MAX, &o.threads) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_DIGEST_FILE:
      if (p2v_opt_repeat ("--digest-file", optarg, digest_files, &ndigest_files,
                          P2V_DISKS_MAX) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_MANIFEST:
      if (p2v_opt_repeat ("--manifest", optarg, manifests, &nmanifests, P2V_DISKS_MAX) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_PROGRESS:
      if ((o.progress_mode = p2v_opt_progress (optarg)) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_KEY_FILE: key_file = optarg; break;
    case OPT_STATE_DIR: o.state_dir = optarg; break;
    case OPT_FORCE: o.force = true; break;
    case OPT_TARGET_IS_ZERO: o.target_is_zero = true; break;
    case OPT_RETRY:
      if (p2v_opt_uint ("--retry", optarg, 0, 1000, &o.retry) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_TIMEOUT:
      if (p2v_opt_uint ("--timeout", optarg, 1, 86400, &o.timeout) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_GREET_TIMEOUT:
      if (p2v_opt_uint ("--greet-timeout", optarg, 1, 3600, &o.greet_timeout) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_HANDSHAKE_TIMEOUT:
      if (p2v_opt_uint ("--handshake-timeout", optarg, 1, 3600, &o.handshake_timeout) == -1)
        return P2V_EXIT_USAGE;
      break;
    case OPT_ALLOW_NO_ENCRYPT: o.allow_no_encrypt = true; break;
    case 'q': p2v_quiet = 1; o.progress_mode = P2V_PROGRESS_NONE; break;
    case 'h': usage (stdout); return P2V_EXIT_OK;
    case 'V': printf ("p2vrecv %s\n", PACKAGE_VERSION); return P2V_EXIT_OK;
    default: usage (stderr); return P2V_EXIT_USAGE;
    }
  }
  unsigned n = argc > optind ? (unsigned) (argc - optind) : 0;
  if (n == 0 || (o.from_stdin && n != 1)) {
    p2v_error (o.from_stdin ? "expected one TARGET with --stdin (see --help)"
                            : "expected TARGET... (see --help)");
    return P2V_EXIT_USAGE;
  }
  if (n > P2V_DISKS_MAX) {
    p2v_error ("%u targets: at most %d per session; start another session for the rest",
               n, P2V_DISKS_MAX);
    return P2V_EXIT_USAGE;
  }
  if (p2v_opt_per_disk ("--digest-file", ndigest_files, n) == -1
      || p2v_opt_per_disk ("--manifest", nmanifests, n) == -1)
    return P2V_EXIT_USAGE;
  if (p2v_check_distinct (&argv[optind], n) == -1)
    return P2V_EXIT_USAGE;
  switch (p2v_key_resolve (NULL, key_file, key)) {
  case -1:
    /* Freed so the sanitizer build's leak check, which fails the test
     * of a refused key file, sees this exit as clean.
     */
    free (host);
    free (port);
    return P2V_EXIT_USAGE;
  case 1: o.key = key; break;
  }
  o.host = host;
  o.port = port ? port : "5000";
  struct p2v_recv_opts targets[P2V_DISKS_MAX];
  struct p2v_progress_group *group = n > 1
    ? p2v_progress_group_new (o.progress_mode, n, stderr) : NULL;
  for (unsigned i = 0; i < n; i++) {
    targets[i] = o;
    targets[i].disk = i;
    targets[i].target = argv[optind + i];
    targets[i].digest_file = ndigest_files ? digest_files[i] : NULL;
    targets[i].manifest = nmanifests ? manifests[i] : NULL;
    targets[i].progress_group = group;
  }
  int st[P2V_DISKS_MAX];
  p2v_recv (targets, n, st);
  p2v_progress_group_free (group);
  /* A verified copy on a disk: make its partition table right for the
   * new disk (a GPT's backup header belongs at the end of a larger
   * disk) and show the partitions to the kernel, as partprobe would.
   */
  for (unsigned i = 0; i < n; i++)
    if (st[i] == P2V_EXIT_OK)
      st[i] = p2v_finish_partitions (targets[i].target);
  int status = p2v_exit_for_disks (st, n);
  free (host);
  free (port);
  return status;
}
