/* Exit statuses: one table for all four programs, documented in each
 * man page.  Scripts branch on these, so never renumber them; a new
 * kind of failure gets the next number.
 */
#ifndef P2V_COMMON_EXIT_H
#define P2V_COMMON_EXIT_H

enum {
  P2V_EXIT_OK = 0,
  P2V_EXIT_USAGE = 1,     /* bad option or argument */
  P2V_EXIT_IO = 2,        /* source, target or guest: open, read, write, size */
  P2V_EXIT_NET = 3,       /* connect, listen, lost connection, truncated stream */
  P2V_EXIT_PROTOCOL = 4,  /* malformed stream or a chunk failing its checksum */
  P2V_EXIT_MISMATCH = 5,  /* digests differ */
  P2V_EXIT_REFUSED = 6,   /* the receiver refused the source (size, in use) */
  P2V_EXIT_AUTH = 7,      /* wrong or missing key */
  P2V_EXIT_UNRECOGNISED = 8, /* p2vfixup: not a guest it can convert; nothing changed */
  P2V_EXIT_INITRD = 9,    /* p2vfixup: the initrd could not carry the drivers; all undone */
};

/* One exit status for a session of n disks, from each disk's: with one
 * disk, its own; when every disk failed for the same reason, that
 * status; else 0 when all were verified, or P2V_EXIT_DISKS + a mask of
 * the failed disks (bit 0: the first).
 */
#define P2V_EXIT_DISKS 64
int p2v_exit_for_disks (const int *status, unsigned n);

#endif
