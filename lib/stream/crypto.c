#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "stream/crypto.h"
#include "common/util.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";   /* Crockford */

int
p2v_random (void *buf, size_t n)
{
  if (RAND_bytes (buf, (int) n) != 1) {
    p2v_error ("the system random number generator failed");
    return -1;
  }
  return 0;
}

static void
format_key (const char sym[20], char out[P2V_KEY_TEXT_LEN])
{
  char *p = out;
  for (int i = 0; i < 20; i++) {
    if (i && i % 4 == 0)
      *p++ = '-';
    *p++ = sym[i];
  }
  *p = '\0';
}

int
p2v_key_generate (char out[P2V_KEY_TEXT_LEN])
{
  uint8_t r[20];
  char sym[20];
  if (p2v_random (r, sizeof r) == -1)
    return -1;
  for (int i = 0; i < 20; i++)
    sym[i] = b32[r[i] & 31];
  format_key (sym, out);
  return 0;
}

int
p2v_key_normalize (const char *in, char out[P2V_KEY_TEXT_LEN])
{
  char sym[20];
  int n = 0;
  for (const char *c = in; *c; c++) {
    char ch = *c;
    if (ch == '-' || ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
      continue;
    if (ch >= 'a' && ch <= 'z')
      ch = (char) (ch - 'a' + 'A');
    /* Letters people confuse when copying from one console to another. */
    if (ch == 'O')
      ch = '0';
    else if (ch == 'I' || ch == 'L')
      ch = '1';
    if (!strchr (b32, ch) || ch == '\0' || n == 20)
      return -1;
    sym[n++] = ch;
  }
  if (n != 20)
    return -1;
  format_key (sym, out);
  return 0;
}

/* Who else could read or replace the key, as ssh checks a private
 * key.  Whoever can read it can write the target (or read the disk);
 * whoever can replace it chooses the key both ends trust, so a file
 * writable by everyone, or owned by another user (root excepted: it
 * could replace it anyway), is refused.  Pipes (--key-file <(...)) have
 * no such owner.  0, or -1 (printed).
 */
static int
key_file_check (FILE *f, const char *file)
{
  struct stat st;
  if (fstat (fileno (f), &st) == -1) {
    p2v_error ("cannot stat the key file %s: %s", file, strerror (errno));
    return -1;
  }
  if (!S_ISREG (st.st_mode))
    return 0;
  unsigned mode = (unsigned) st.st_mode & 07777;
  if (st.st_mode & S_IWOTH) {
    p2v_error ("key file %s is writable by everyone (mode %04o): anyone could replace "
               "the key; chmod 600 it", file, mode);
    return -1;
  }
  if (st.st_uid != geteuid () && st.st_uid != 0) {
    p2v_error ("key file %s belongs to another user (uid %u), who could replace the key; "
               "use a key file of your own", file, (unsigned) st.st_uid);
    return -1;
  }
  if (st.st_mode & (S_IRGRP | S_IROTH))
    p2v_warning ("key file %s is readable by others (mode %04o); chmod 600 it", file, mode);
  else if (st.st_mode & S_IWGRP)
    p2v_warning ("key file %s is writable by its group (mode %04o); chmod 600 it", file, mode);
  return 0;
}

int
p2v_key_resolve (const char *text, const char *file, char out[P2V_KEY_TEXT_LEN])
{
  const char *what = "--key";
  char line[128];
  if (!text && file) {
    FILE *f = fopen (file, "re");
    if (!f) {
      p2v_error ("cannot read the key file %s: %s", file, strerror (errno));
      return -1;
    }
    if (key_file_check (f, file) == -1) {
      fclose (f);
      return -1;
    }
    if (!fgets (line, sizeof line, f))
      line[0] = '\0';
    fclose (f);
    text = line;
    what = file;
  }
  if (!text && (text = getenv ("P2V_KEY")) != NULL)
    what = "P2V_KEY";
  if (!text)
    return 0;
  if (p2v_key_normalize (text, out) == -1) {
    p2v_error ("%s: not a key of the form XXXX-XXXX-XXXX-XXXX-XXXX (as p2vrecv prints)", what);
    return -1;
  }
  return 1;
}

static int
hkdf (int mode, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
      const char *info, uint8_t *out, size_t out_len)
{
  EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id (EVP_PKEY_HKDF, NULL);
  int ok = c
    && EVP_PKEY_derive_init (c) > 0
    && EVP_PKEY_CTX_hkdf_mode (c, mode) > 0
    && EVP_PKEY_CTX_set_hkdf_md (c, EVP_sha256 ()) > 0
    && (salt_len == 0 || EVP_PKEY_CTX_set1_hkdf_salt (c, salt, (int) salt_len) > 0)
    && EVP_PKEY_CTX_set1_hkdf_key (c, ikm, (int) ikm_len) > 0
    && (!info || EVP_PKEY_CTX_add1_hkdf_info (c, (const unsigned char *) info,
                                              (int) strlen (info)) > 0)
    && EVP_PKEY_derive (c, out, &out_len) > 0;
  EVP_PKEY_CTX_free (c);
  if (!ok)
    p2v_error ("HKDF key derivation failed");
  return ok ? 0 : -1;
}

int
p2v_keys_derive (const char *key_text, struct p2v_keys *k)
{
  static const uint8_t salt[] = "p2vstream key v1";
  if (hkdf (EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, salt, sizeof salt - 1,
            (const uint8_t *) key_text, strlen (key_text), NULL, k->prk, 32) == -1)
    return -1;
  return hkdf (EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, k->prk, 32,
               "p2vstream auth", k->auth, 32);
}

void
p2v_auth_proof (const struct p2v_keys *k, const char *role,
                const uint8_t ns[P2V_NONCE_LEN], const uint8_t nr[P2V_NONCE_LEN],
                uint32_t flags, uint8_t out[P2V_PROOF_LEN])
{
  uint8_t msg[16 + 2 * P2V_NONCE_LEN + 4];
  size_t rl = strlen (role);
  memset (msg, 0, 16);
  memcpy (msg, role, rl < 16 ? rl : 16);
  memcpy (msg + 16, ns, P2V_NONCE_LEN);
  memcpy (msg + 16 + P2V_NONCE_LEN, nr, P2V_NONCE_LEN);
  msg[80] = flags >> 24; msg[81] = flags >> 16; msg[82] = flags >> 8; msg[83] = flags;
  unsigned len = P2V_PROOF_LEN;
  HMAC (EVP_sha256 (), k->auth, 32, msg, sizeof msg, out, &len);
}

bool
p2v_proof_equal (const uint8_t a[P2V_PROOF_LEN], const uint8_t b[P2V_PROOF_LEN])
{
  return CRYPTO_memcmp (a, b, P2V_PROOF_LEN) == 0;
}

struct p2v_aead {
  EVP_CIPHER_CTX *ctx;
  uint8_t key[32];
  uint64_t counter;
  bool encrypt;       /* confidentiality as well as integrity */
  bool sealing;       /* this end seals (sends) or opens (receives) */
};

struct p2v_aead *
p2v_aead_new (const struct p2v_keys *k, const uint8_t ns[P2V_NONCE_LEN],
              const uint8_t nr[P2V_NONCE_LEN], const char *dir, bool encrypt,
              bool seal)
{
  uint8_t salt[2 * P2V_NONCE_LEN];
  memcpy (salt, ns, P2V_NONCE_LEN);
  memcpy (salt + P2V_NONCE_LEN, nr, P2V_NONCE_LEN);
  struct p2v_aead *a = xcalloc (1, sizeof *a);
  char info[64];
  snprintf (info, sizeof info, "p2vstream %s %s", dir, encrypt ? "aead" : "auth-only");
  /* The session key mixes both nonces, so no two sessions share one. */
  if (hkdf (EVP_PKEY_HKDEF_MODE_EXTRACT_AND_EXPAND, salt, sizeof salt, k->prk, 32,
            info, a->key, sizeof a->key) == -1
      || !(a->ctx = EVP_CIPHER_CTX_new ())) {
    p2v_aead_free (a);
    return NULL;
  }
  a->encrypt = encrypt;
  a->sealing = seal;
  return a;
}

void
p2v_aead_free (struct p2v_aead *a)
{
  if (a) {
    EVP_CIPHER_CTX_free (a->ctx);
    OPENSSL_cleanse (a->key, sizeof a->key);
    free (a);
  }
}

bool
p2v_aead_encrypts (const struct p2v_aead *a)
{
  return a->encrypt;
}

int
p2v_aead_begin (struct p2v_aead *a, const uint8_t *hdr, size_t hdr_len)
{
  uint8_t iv[12] = { 0 };
  uint64_t c = a->counter++;
  for (int i = 0; i < 8; i++)
    iv[4 + i] = (uint8_t) (c >> (56 - 8 * i));
  int outl;
  if (EVP_CipherInit_ex (a->ctx, EVP_aes_256_gcm (), NULL, a->key, iv, a->sealing ? 1 : 0) != 1
      || EVP_CipherUpdate (a->ctx, NULL, &outl, hdr, (int) hdr_len) != 1)
    return -1;
  return 0;
}

int
p2v_aead_update (struct p2v_aead *a, const void *in, void *out, size_t n)
{
  const uint8_t *p = in;
  uint8_t *q = out;
  while (n > 0) {
    int k = n > (1u << 30) ? 1 << 30 : (int) n, outl;
    int ok = a->encrypt
      ? EVP_CipherUpdate (a->ctx, q, &outl, p, k)
      : EVP_CipherUpdate (a->ctx, NULL, &outl, p, k);
    if (ok != 1)
      return -1;
    p += k;
    if (q)
      q += k;
    n -= k;
  }
  return 0;
}

int
p2v_aead_seal_final (struct p2v_aead *a, uint8_t tag[P2V_TAG_LEN])
{
  uint8_t dummy[16];
  int outl;
  if (EVP_CipherFinal_ex (a->ctx, dummy, &outl) != 1
      || EVP_CIPHER_CTX_ctrl (a->ctx, EVP_CTRL_GCM_GET_TAG, P2V_TAG_LEN, tag) != 1)
    return -1;
  return 0;
}

int
p2v_aead_open_final (struct p2v_aead *a, const uint8_t tag[P2V_TAG_LEN])
{
  uint8_t dummy[16];
  int outl;
  if (EVP_CIPHER_CTX_ctrl (a->ctx, EVP_CTRL_GCM_SET_TAG, P2V_TAG_LEN, (void *) tag) != 1
      || EVP_CipherFinal_ex (a->ctx, dummy, &outl) != 1)
    return -1;
  return 0;
}
