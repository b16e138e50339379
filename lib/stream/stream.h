/* The two ends of a transfer, as the programs call them. */
#ifndef P2V_STREAM_H
#define P2V_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/pace.h"

struct p2v_progress_group;

struct p2v_send_opts {
  const char *source;
  const char *host, *port;      /* NULL host with to_stdout */
  bool to_stdout;
  const char *key;              /* normalized key text, or NULL */
  bool encrypt;                 /* false: --no-encrypt (still authenticated) */
  unsigned retry;               /* reconnections after a dropped link */
  unsigned timeout;             /* seconds a silent receiver is waited for; 0: none */
  bool resume;                  /* --resume: insist on continuing */
  bool delta;                   /* --delta: send only chunks the target lacks */
  bool skip_free;               /* --skip-free: blocks no filesystem uses as zeros */
  const char *badmap;           /* --ignore-read-errors: map file, else NULL */
  bool force;                   /* send a disk whose filesystems are in use */
  unsigned threads;             /* compression workers */
  int codec, level;
  bool adapt;                   /* --compress=auto: level follows the bottleneck */
  struct p2v_pacer *pacer;      /* --limit-rate, shared by all disks; NULL: none */
  uint32_t chunk_size;
  int digest_id;
  const char *digest_file;
  int progress_mode;
  unsigned disk, ndisks;        /* this disk's index in the session, and how many */
  struct p2v_progress_group *progress_group;  /* several disks: the shared display */
};

struct p2v_recv_opts {
  const char *target;
  const char *host, *port;      /* listen address; NULL host: all */
  bool from_stdin;
  const char *key;              /* normalized key text, or NULL: state's or random */
  unsigned retry;               /* reconnections to wait for after a drop */
  unsigned timeout;             /* seconds of silence before giving up */
  unsigned greet_timeout;       /* seconds a new connection has to send HELLO */
  unsigned handshake_timeout;   /* seconds more for the rest of the handshake and SOURCE */
  bool allow_no_encrypt;        /* accept a p2vsend --no-encrypt over the network */
  const char *state_dir;        /* resume state of block device targets */
  bool force;                   /* write a target that is in use */
  bool target_is_zero;          /* the admin vouches: skip writing zeros */
  unsigned threads;             /* decompression workers */
  const char *digest_file;
  const char *manifest;         /* NULL: TARGET.p2v.json for files */
  int progress_mode;
  unsigned disk;                /* this target's index: it takes that disk */
  struct p2v_progress_group *progress_group;  /* several disks: the shared display */
};

/* A session of n disks (1 .. P2V_DISKS_MAX): o[i] describes disk i,
 * and the fields that are not per disk (address, key, ...) are read from
 * o[0].  Disk i of the sender goes to target i of the receiver.  Each
 * disk's exit status (enum in util.h) lands in status[i]; the return is
 * p2v_exit_for_disks of them.
 */
int p2v_send (const struct p2v_send_opts *o, unsigned n, int *status);
int p2v_recv (const struct p2v_recv_opts *o, unsigned n, int *status);

/* p2vsend's options that need more than a number (send-opts.c); each
 * prints its error and returns -1.  --compress=CODEC[:LEVEL] or auto
 * sets codec, level (-1: the codec's default) and adapt.
 */
int p2v_opt_compress (const char *arg, struct p2v_send_opts *o);
int p2v_opt_chunk_size (const char *arg, uint32_t *out);
int p2v_opt_send_digest (const char *arg, int *id);
/* After parsing: the codec's default level, options that exclude each
 * other.
 */
int p2v_send_opts_check (struct p2v_send_opts *o);
/* One set of options per source: disk i, its digest file (digest_files
 * NULL: none), its bad-sector map (badmap_each without --ignore-read-
 * errors=MAP: SOURCE-NAME.badmap, allocated into badmaps[i], which the
 * caller frees; two disks may not share one).
 */
int p2v_send_opts_per_disk (const struct p2v_send_opts *o, char *const *sources, unsigned n,
                            const char *const *digest_files, bool badmap_each,
                            struct p2v_send_opts *disks, char **badmaps);

/* Worker threads: at most this many (-j), by default one per CPU. */
#define P2V_THREADS_MAX 64
unsigned p2v_default_threads (void);
/* Ring slots for a pipeline with this many workers: enough to keep
 * every worker busy while the in-order ends wait on the slowest chunk.
 */
unsigned p2v_ring_slots (unsigned threads);

#endif
