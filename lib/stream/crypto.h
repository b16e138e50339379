/* Session keys, authentication and sealed records.
 *
 * The admin types a short key ("7Q2F-K8MX-…", 100 bits of Crockford
 * base32) on both ends.  From it HKDF-SHA256 derives an authentication
 * key; each side contributes a 32-byte random nonce, the sender proves
 * it holds the key with an HMAC over both nonces before the receiver
 * opens anything, and HKDF over the key and both nonces gives one
 * AES-256-GCM key per direction.  Every record after the handshake is
 * sealed with the next value of a per-direction 64-bit counter as its
 * nonce and the record header as associated data: a record replayed
 * from an earlier session fails (other nonces, other keys), and a
 * record dropped, repeated or moved within a session fails (the counter
 * no longer matches).  With --no-encrypt the payload travels in clear
 * but is still authenticated (GCM with the payload as associated data).
 */
#ifndef P2V_CRYPTO_H
#define P2V_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P2V_KEY_GROUPS 5
#define P2V_KEY_TEXT_LEN (P2V_KEY_GROUPS * 5)   /* "XXXX-" x5, last '-' is NUL */
#define P2V_NONCE_LEN 32
#define P2V_TAG_LEN 16
#define P2V_PROOF_LEN 32

/* A fresh random key as text, "XXXX-XXXX-XXXX-XXXX-XXXX". */
int p2v_key_generate (char out[P2V_KEY_TEXT_LEN]);
/* Canonical form of a typed key: case, dashes and spaces ignored, O→0,
 * I/L→1.  Returns 0, or -1 if it is not a 20-symbol key.
 */
int p2v_key_normalize (const char *in, char out[P2V_KEY_TEXT_LEN]);

/* The key from --key TEXT, else --key-file FILE (its first line), else
 * the environment variable P2V_KEY, normalized.  1 found, 0 none given,
 * -1 given but unusable (printed).  A key file readable or writable by
 * others is warned about; one writable by everyone or owned by another
 * user (not root) is unusable.
 */
int p2v_key_resolve (const char *text, const char *file, char out[P2V_KEY_TEXT_LEN]);

struct p2v_keys {
  uint8_t prk[32];      /* HKDF-Extract of the key */
  uint8_t auth[32];     /* for the handshake proofs */
};
int p2v_keys_derive (const char *key_text, struct p2v_keys *k);

/* HMAC-SHA256(auth, role || ns || nr || flags): "sender" or "receiver". */
void p2v_auth_proof (const struct p2v_keys *k, const char *role,
                     const uint8_t ns[P2V_NONCE_LEN], const uint8_t nr[P2V_NONCE_LEN],
                     uint32_t flags, uint8_t out[P2V_PROOF_LEN]);
/* Constant-time comparison. */
bool p2v_proof_equal (const uint8_t a[P2V_PROOF_LEN], const uint8_t b[P2V_PROOF_LEN]);

int p2v_random (void *buf, size_t n);

/* One direction of a session. */
struct p2v_aead;
/* dir is "s2r" (sender to receiver) or "r2s"; seal for the end that
 * sends in that direction, !seal for the end that receives.
 */
struct p2v_aead *p2v_aead_new (const struct p2v_keys *k, const uint8_t ns[P2V_NONCE_LEN],
                               const uint8_t nr[P2V_NONCE_LEN], const char *dir,
                               bool encrypt, bool seal);
void p2v_aead_free (struct p2v_aead *a);
bool p2v_aead_encrypts (const struct p2v_aead *a);

/* Sealing and opening are incremental so a record's parts can be
 * processed where they lie: begin with the 8-byte record header, feed
 * the payload in pieces (out may equal in; with encryption off, out is
 * untouched and in is only authenticated), then the tag.  open_final
 * returns -1 when the record is not authentic: nothing it decrypted may
 * be used.
 */
int p2v_aead_begin (struct p2v_aead *a, const uint8_t *hdr, size_t hdr_len);
int p2v_aead_update (struct p2v_aead *a, const void *in, void *out, size_t n);
int p2v_aead_seal_final (struct p2v_aead *a, uint8_t tag[P2V_TAG_LEN]);
int p2v_aead_open_final (struct p2v_aead *a, const uint8_t tag[P2V_TAG_LEN]);

#endif
