/* Whole reads and writes, durability, and atomic file replacement.
 * Each returns -1 with errno set and prints nothing: the caller knows
 * which file it was and says so.
 */
#ifndef P2V_COMMON_FILEIO_H
#define P2V_COMMON_FILEIO_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Read exactly N bytes.  Returns N, 0 on end of file before the first
 * byte, or -1 with errno set (EIO-like short read sets errno = 0 and
 * returns the short count as -2).
 */
ssize_t p2v_read_full (int fd, void *buf, size_t n);
/* The same, failing with ETIMEDOUT once the monotonic clock passes
 * deadline (seconds, as p2v_now; 0: no deadline): a peer trickling one
 * byte at a time cannot stretch it.
 */
ssize_t p2v_read_full_by (int fd, void *buf, size_t n, double deadline);
/* Write all N bytes.  Returns 0 or -1 with errno set. */
int p2v_write_full (int fd, const void *buf, size_t n);

/* All N bytes at OFF: 0, or -1 with errno (0: end of file before
 * them) and, when AT is not NULL, the offset where it failed.
 */
int p2v_pread_full (int fd, void *buf, size_t n, uint64_t off, uint64_t *at);
/* All N bytes at OFF: 0, or -1 (a write of nothing is ENOSPC), AT as
 * above.
 */
int p2v_pwrite_full (int fd, const void *buf, size_t n, uint64_t off, uint64_t *at);
/* fsync, where EINVAL and EROFS (a pipe, a terminal, a read-only
 * device) are success and nothing is retried: 0 or -1.
 */
int p2v_fsync (int fd);

/* Replace PATH atomically with what FILL(f, arg) writes (0, or -1):
 * into a temporary file beside it whose name nobody can predict,
 * created O_EXCL|O_NOFOLLOW with MODE (so nothing planted there, a
 * symlink least of all, is followed or reused), fsynced, renamed over
 * PATH, then the directory fsynced so that the rename survives a crash
 * too.  0, or -1 with errno set (nothing printed; the temporary file
 * is gone).
 */
int p2v_replace_file (const char *path, mode_t mode,
                      int (*fill) (FILE *f, const void *arg), const void *arg);

#endif
