/* Digests of sources read from a disk or file, on every core: p2vsum's
 * engine, and the re-hash of a resumed copy's prefix on either end.
 *
 *   workers (N) ── claim segment i, read it (holes: not at all), hash
 *        │         its 64 KiB blocks ──► results[i % K]
 *        ▼
 *   caller's thread ── folds results in order into the digest
 *
 * K = 2N + 2 result slots bound how far ahead the workers may run, so
 * memory is N read buffers of 4 MiB plus K small arrays of block
 * digests, whatever the size.  A plain digest cannot be split: it reads
 * on the caller's thread alone.
 */
#ifndef P2V_SUM_H
#define P2V_SUM_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/dev.h"
#include "stream/digest.h"

/* Bytes a worker reads and hashes at a time: a multiple of the block. */
#define P2V_SUM_SEGMENT (4u << 20)

struct p2v_sum_cb {
  bool (*stop) (void *arg);                   /* give up early (NULL: never) */
  void (*progress) (void *arg, uint64_t done); /* bytes folded so far (NULL) */
  void *arg;
  bool drop_cache;              /* read once: keep it out of the page cache */
};

/* Feed [off, off + len) of dev into d, off on a block boundary.  0, or
 * -1 after an error (printed) or a stop.  dev's hole cache is written:
 * a thread sharing the device passes a copy of the struct.
 */
int p2v_sum_range (struct p2v_digest *d, struct p2v_dev *dev, uint64_t off, uint64_t len,
                   unsigned threads, const struct p2v_sum_cb *cb);

/* p2vsum's two jobs; progress is a p2v_progress mode. */
struct p2v_sum_opts {
  int digest_id;                /* to compute; and for untagged lines in --check */
  bool digest_given;            /* --digest was given: untagged lines may be checked */
  unsigned threads;
  int progress_mode;
};

/* Print "TAG (PATH) = HEX" for each path, in order, on stdout.  The
 * exit status: 0, or P2V_EXIT_IO when one could not be read.
 */
int p2v_sum_paths (const struct p2v_sum_opts *o, char *const *paths, unsigned n);

/* Check the digest files at paths ("-": standard input): each line as
 * p2vsend, p2vrecv and p2vsum write it, "TAG (PATH) = HEX", or as
 * sha256sum and blksum print, "HEX  PATH" (the algorithm: o->digest_id,
 * which must have been given: sha256sum's and blksum's lines look the
 * same, and a good copy must not be called a mismatch).  Prints
 * "PATH: OK" or "PATH: FAILED" per line.  0 when every line matched;
 * P2V_EXIT_MISMATCH when one did not; else P2V_EXIT_IO when a file could
 * not be read, or a list held no line that could be checked.
 */
int p2v_sum_check (const struct p2v_sum_opts *o, char *const *lists, unsigned n);

/* One line of a digest file: 1 (tagged) or 2 (untagged, *id is
 * untagged_id) with *id, hex (lower-cased) and *name (pointing into
 * line, which is modified); 0 for a blank or comment line; -1 when it
 * is not a digest line.
 */
int p2v_sum_parse_line (char *line, int untagged_id, int *id, char hex[P2V_DIGEST_HEX_MAX],
                        char **name);

/* "TAG (TARGET) = HEX\n", as `sha256sum --tag` writes (SHA256,
 * BLKHASH-SHA256, ...), replacing PATH atomically.  `sha256sum -c`
 * checks the plain ones; p2vsum --check checks all of them.  0, or -1
 * with the error printed.
 */
int p2v_digest_file_write (const char *path, int digest_id,
                           const char *digest_hex, const char *target);

#endif
