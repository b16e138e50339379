/* The receiver's resume state: which source a partial target belongs
 * to, how much of it is durable, and the session key, so rerunning the
 * same p2vrecv command after a crash accepts the same p2vsend command
 * and continues where stable storage says.  A small "key value" text
 * file beside the target (or in a state directory for block devices),
 * replaced atomically at every checkpoint, removed after success.
 */
#ifndef P2V_RESUME_H
#define P2V_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/crypto.h"

struct p2v_resume_state {
  char key[P2V_KEY_TEXT_LEN];
  uint64_t size;
  uint32_t chunk_size;
  int digest_id;
  char *fingerprint;
  char *source;                 /* "hostname:path", for messages */
  uint64_t durable;             /* [0, durable) is on stable storage */
};

/* TARGET.p2v-state for a file; STATE_DIR/NAME.p2v-state for a device
 * (NAME is the device path with '/' turned into '_').
 */
char *p2v_state_path (const char *target, bool target_is_file, const char *state_dir);

/* 1 loaded, 0 no state file, -1 unreadable or malformed (printed). */
int p2v_state_load (const char *path, struct p2v_resume_state *s);
/* Atomic (temporary file, fsync, rename).  0 or -1 (printed). */
int p2v_state_save (const char *path, const struct p2v_resume_state *s);
void p2v_state_free (struct p2v_resume_state *s);

#endif
