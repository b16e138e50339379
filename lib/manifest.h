/* The manifest p2vrecv leaves beside each copied disk: the source's
 * description and the verified digest, in JSON, for p2vfixup and for
 * the admin's records.
 */
#ifndef P2V_MANIFEST_H
#define P2V_MANIFEST_H

#include <stdint.h>

#include "source-desc.h"

/* Default location: TARGET.p2v.json for a file target; NULL for a
 * block device (its directory is /dev, which does not survive a reboot).
 */
char *p2v_manifest_default_path (const char *target, int target_is_blockdev);

/* Written to a temporary file and renamed, so a reader never sees half
 * a manifest.  Returns 0 or -1 (error printed).
 */
int p2v_manifest_write (const char *path, const struct p2v_source_desc *d,
                        const char *target, const char *digest_name,
                        const char *digest_hex);

/* "TAG (TARGET) = HEX\n", as `sha256sum --tag` writes (SHA256,
 * BLKHASH-SHA256, ...); same atomicity.  `sha256sum -c` checks the
 * plain ones; p2vsum --check checks all of them.
 */
int p2v_digest_file_write (const char *path, int digest_id,
                           const char *digest_hex, const char *target);

#endif
