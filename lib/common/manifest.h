/* The manifest p2vrecv leaves beside each copied disk (DISK.p2v.json):
 * which source disk it was, under which hardware-bound names, the
 * source host's NICs, and the verified digest.  It is the one contract
 * between the two halves of the product: p2vrecv writes it, p2vfixup
 * reads it (its device names become the map of old disks to new), and
 * the admin keeps it.  One struct, one writer, one reader.
 *
 * Versioned: "format" must be "p2vstream-manifest" and "version"
 * P2V_MANIFEST_VERSION.  Fields may be added within a version (readers
 * ignore what they do not know); a field that changes meaning or goes
 * takes a new version, which older readers refuse.
 */
#ifndef P2V_COMMON_MANIFEST_H
#define P2V_COMMON_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define P2V_MANIFEST_FORMAT "p2vstream-manifest"
#define P2V_MANIFEST_VERSION 1
/* A manifest is a few KiB; a larger file is not one of ours. */
#define P2V_MANIFEST_MAX (1024 * 1024)

struct p2v_nic {
  char *name, *mac, *driver;    /* read back: mac canonical (lower case), or NULL */
};

/* Every pointer may be NULL (unknown) and every count 0. */
struct p2v_manifest {
  char *path;                   /* "/dev/cciss/c0d0", as given to p2vsend */
  char *kernel_name;            /* "cciss/c0d0"; read back from path when absent */
  char *model, *serial;
  uint64_t size;
  char **by_id;   size_t n_by_id;       /* /dev/disk/by-id/... */
  char **by_path; size_t n_by_path;     /* /dev/disk/by-path/... */
  char *hostname;
  /* p2vsend --skip-free: the free bytes sent as zeros, per partition
   * ("1 ext4 851443712, 2 swap 535822336"); NULL: a bit-identical copy.
   */
  char *skipped_free;
  struct p2v_nic *nics; size_t n_nics;
  char *target;                 /* where p2vrecv wrote the copy */
  char *digest_algorithm, *digest_value;
};

/* TARGET.p2v.json for a file target; NULL for a block device (its
 * directory is /dev, which does not survive a reboot).
 */
char *p2v_manifest_default_path (const char *target, int target_is_blockdev);

/* Atomically (common/fileio.h), so a reader never sees half a manifest.
 * 0, or -1 with the error printed.
 */
int p2v_manifest_write (const char *path, const struct p2v_manifest *m);

/* Strict: the whole text must be JSON, of our format and version, each
 * known field of its type, MACs real MACs.  0, or -1 with *err set
 * (malloc'd, one line); m is then empty.
 */
int p2v_manifest_parse (const char *text, size_t len, struct p2v_manifest *m, char **err);
/* The same from a file of at most P2V_MANIFEST_MAX bytes. */
int p2v_manifest_read (const char *path, struct p2v_manifest *m, char **err);
/* Frees what parse or read allocated (not for a caller-built one). */
void p2v_manifest_free (struct p2v_manifest *m);

#endif
