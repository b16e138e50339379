/* Unified diff of two texts, for --dry-run. */
#ifndef P2VFIXUP_DIFF_H
#define P2VFIXUP_DIFF_H

/* Returns a malloc'd unified diff (empty string if equal) with headers
 * "--- a/PATH" and "+++ b/PATH"; OLD NULL means a new file.
 */
char *unified_diff (const char *path, const char *old, const char *new_);

#endif
