/* The p2vstream wire format, version 1.1 (documented for people in
 * p2vstream(5); keep the two in step).  Pure packing and unpacking of
 * fixed-size headers: no I/O here, so every field is unit-testable.
 *
 * All integers are big-endian.  A stream is a 16-byte preamble, then
 * records, each an 8-byte header (type, flags, payload length) and a
 * payload.  Record types with bit 0x80 set are optional: a reader that
 * does not know one skips it, so later versions can add records without
 * breaking older receivers.  Unknown mandatory types are an error.
 */
#ifndef P2V_FORMAT_H
#define P2V_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define P2V_MAGIC "P2VSTRM\n"
#define P2V_VERSION_MAJOR 1
/* 1.1 added delta transfers (SOURCE flag, HASHES, SAME).  A sender
 * uses them only with a receiver whose preamble says 1.1 or later: SAME
 * is mandatory, and a 1.0 receiver would rightly refuse it.
 */
#define P2V_VERSION_MINOR 1
#define P2V_VERSION_MINOR_DELTA 1
#define P2V_PREAMBLE_LEN 16
#define P2V_RECORD_HDR_LEN 8

#define P2V_CHUNK_MIN (64u * 1024)
#define P2V_CHUNK_MAX (16u * 1024 * 1024)
#define P2V_CHUNK_DEFAULT (4u * 1024 * 1024)
/* Largest payload of any record; bounds what a peer can make us buffer. */
#define P2V_RECORD_MAX (P2V_CHUNK_MAX + 4096)
/* Longest text carried in a record (source description, messages). */
#define P2V_TEXT_MAX (256u * 1024)

enum p2v_record_type {
  P2V_REC_SOURCE = 0x01,   /* sender → receiver: the disk being sent */
  P2V_REC_ACCEPT = 0x02,   /* receiver → sender: go ahead */
  P2V_REC_REFUSE = 0x03,   /* receiver → sender: will not write, and why */
  P2V_REC_HELLO = 0x04,    /* sender → receiver: flags and sender nonce */
  P2V_REC_CHALLENGE = 0x05, /* receiver → sender: receiver nonce */
  P2V_REC_AUTH = 0x06,     /* sender → receiver: proof of the key */
  P2V_REC_CHUNK = 0x10,    /* sender → receiver: data */
  P2V_REC_HASHES = 0x11,   /* receiver → sender (delta): hashes of its target's chunks */
  P2V_REC_SAME = 0x12,     /* sender → receiver (delta): this chunk is unchanged */
  P2V_REC_END = 0x20,      /* sender → receiver: trailer with the digest */
  P2V_REC_RESULT = 0x21,   /* receiver → sender: verified or not */
  /* sender → receiver, optional, empty: "still here" while the sender
   * is busy without data to send (re-hashing its prefix on a resume).
   */
  P2V_REC_KEEPALIVE = 0xB0,
};
#define P2V_REC_OPTIONAL 0x80
/* Record header flags. */
#define P2V_RECF_SEALED 0x01      /* payload followed by a 16-byte AEAD tag */

/* HELLO: u32 flags, then the sender's 32-byte nonce. */
#define P2V_HELLO_LEN 36
#define P2V_HELLO_ENCRYPT 0x1     /* payloads encrypted, not only authenticated */
#define P2V_HELLO_NOKEY 0x2       /* the sender was given no key: refuse, and say so */

struct p2v_preamble {
  uint16_t major, minor;
  uint32_t flags;
};

struct p2v_record_hdr {
  uint8_t type;
  uint8_t flags;
  uint32_t length;
};

#define P2V_SOURCE_FIXED_LEN 20
/* The exit status names failed disks by bit (util.h): at most 6. */
#define P2V_DISKS_MAX 6
struct p2v_source_hdr {
  uint32_t disk;            /* index of the disk in this session */
  uint64_t size;            /* bytes */
  uint32_t chunk_size;      /* every chunk but the last is this long */
  uint8_t digest_id;        /* enum p2v_digest_id of the trailer digest */
  uint8_t flags;            /* P2V_SOURCE_DELTA, or 0 */
  uint16_t ndisks;          /* disks in this session (1 .. P2V_DISKS_MAX) */
  /* followed by the description text (key\tvalue\n lines) */
};

/* SOURCE flags (byte 17, reserved as 0 in 1.0). */
#define P2V_SOURCE_DELTA 0x01     /* resync an existing target: HASHES, then SAME or CHUNK */
#define P2V_SOURCE_FLAGS_KNOWN P2V_SOURCE_DELTA

#define P2V_ACCEPT_LEN 12
struct p2v_accept {
  uint32_t disk;
  uint64_t start_offset;    /* resume here: the receiver has [0, this) durably */
};

#define P2V_CHUNK_HDR_LEN 24
struct p2v_chunk_hdr {
  uint32_t disk;
  uint8_t codec;            /* enum p2v_codec_id */
  uint64_t offset;
  uint32_t raw_len;
  uint32_t crc;             /* CRC-32 (zlib) of the raw bytes */
  /* followed by the encoded payload: record length - 24 bytes */
};

/* Per-chunk hashes of a delta transfer: SHA-256 of the raw bytes. */
#define P2V_CHUNK_HASH_LEN 32
/* HASHES: u32 disk, u64 first chunk index, u32 count, then count
 * hashes of consecutive chunks.  At most this many per record.
 */
#define P2V_HASHES_FIXED_LEN 16
#define P2V_HASHES_MAX 1024
struct p2v_hashes_hdr {
  uint32_t disk;
  uint64_t first;           /* chunk index of the first hash */
  uint32_t count;
};

/* SAME: the chunk at offset, raw_len long, has the hash the receiver
 * announced for it, so the receiver keeps what it holds.
 */
#define P2V_SAME_LEN (16 + P2V_CHUNK_HASH_LEN)
struct p2v_same {
  uint32_t disk;
  uint64_t offset;
  uint32_t raw_len;
  uint8_t hash[P2V_CHUNK_HASH_LEN];
};

#define P2V_END_FIXED_LEN 13
struct p2v_end {
  uint32_t disk;
  uint64_t total;           /* bytes covered by the digest */
  uint8_t digest_len;
  uint8_t digest[64];
};

#define P2V_RESULT_FIXED_LEN 9
#define P2V_REFUSE_FIXED_LEN 4
struct p2v_result {
  uint32_t disk;
  uint32_t status;          /* exit status of the receiver for this disk */
  uint8_t digest_len;
  uint8_t digest[64];
  /* followed by a one-line message */
};

void p2v_pack_preamble (uint8_t out[P2V_PREAMBLE_LEN]);
/* 0, or -1 not a p2vstream, -2 a major version we cannot read. */
int p2v_unpack_preamble (const uint8_t in[P2V_PREAMBLE_LEN],
                         struct p2v_preamble *p);

void p2v_pack_record_hdr (uint8_t out[P2V_RECORD_HDR_LEN],
                          uint8_t type, uint8_t flags, uint32_t length);
void p2v_unpack_record_hdr (const uint8_t in[P2V_RECORD_HDR_LEN],
                            struct p2v_record_hdr *h);

void p2v_pack_source (uint8_t out[P2V_SOURCE_FIXED_LEN],
                      const struct p2v_source_hdr *s);
void p2v_unpack_source (const uint8_t in[P2V_SOURCE_FIXED_LEN],
                        struct p2v_source_hdr *s);
/* Checks the header's own consistency: chunk size a power of two in
 * range, a digest id we know.  Returns 0 or -1 with *why set.
 */
int p2v_check_source (const struct p2v_source_hdr *s, const char **why);

/* Is a CHUNK frame with this header and payload length exactly what
 * must come next, at offset expect of the source sh describes?  The
 * zero CRCs are those of a full and of the last chunk's worth of zeros.
 * NULL when acceptable, else the reason.  Whatever a peer sends, an
 * accepted chunk lies inside the source and needs at most one chunk of
 * memory.
 */
const char *p2v_check_chunk (const struct p2v_source_hdr *sh, const struct p2v_chunk_hdr *h,
                             uint32_t payload, uint64_t expect,
                             uint32_t zero_crc_full, uint32_t zero_crc_last);

/* Unpacks a HASHES payload of len bytes; *hashes points inside in.
 * NULL when its framing is sound for a source of nchunks chunks
 * (count in 1 .. P2V_HASHES_MAX, length exact, inside the source, the
 * disk of sh), else the reason.  Order and window are the caller's.
 */
void p2v_pack_hashes_hdr (uint8_t out[P2V_HASHES_FIXED_LEN], const struct p2v_hashes_hdr *h);
const char *p2v_unpack_hashes (const uint8_t *in, size_t len, const struct p2v_source_hdr *sh,
                               struct p2v_hashes_hdr *h, const uint8_t **hashes);

void p2v_pack_same (uint8_t out[P2V_SAME_LEN], const struct p2v_same *s);
void p2v_unpack_same (const uint8_t in[P2V_SAME_LEN], struct p2v_same *s);
/* Is this SAME exactly the chunk expected next (offset expect)?  NULL
 * or the reason.  Whether its hash was announced is delta.h's business.
 */
const char *p2v_check_same (const struct p2v_source_hdr *sh, const struct p2v_same *s,
                            uint64_t expect);

void p2v_pack_accept (uint8_t out[P2V_ACCEPT_LEN], const struct p2v_accept *a);
void p2v_unpack_accept (const uint8_t in[P2V_ACCEPT_LEN], struct p2v_accept *a);

void p2v_pack_chunk_hdr (uint8_t out[P2V_CHUNK_HDR_LEN],
                         const struct p2v_chunk_hdr *c);
void p2v_unpack_chunk_hdr (const uint8_t in[P2V_CHUNK_HDR_LEN],
                           struct p2v_chunk_hdr *c);

/* Packs into out (P2V_END_FIXED_LEN + digest_len bytes); returns length. */
size_t p2v_pack_end (uint8_t *out, const struct p2v_end *e);
/* Returns 0 or -1 when len does not match the digest length inside. */
int p2v_unpack_end (const uint8_t *in, size_t len, struct p2v_end *e);

/* REFUSE: the receiver's exit status, then its reason as text.  The
 * text follows the fixed part on the wire (the caller sends it as the
 * record's second part); on unpacking *msg points inside in.
 */
void p2v_pack_refuse (uint8_t out[P2V_REFUSE_FIXED_LEN], uint32_t status);
int p2v_unpack_refuse (const uint8_t *in, size_t len, uint32_t *status,
                       const char **msg, size_t *msg_len);

size_t p2v_pack_result (uint8_t *out, const struct p2v_result *r);
/* On success *msg points inside in, *msg_len bytes long. */
int p2v_unpack_result (const uint8_t *in, size_t len, struct p2v_result *r,
                       const char **msg, size_t *msg_len);

uint16_t p2v_get16 (const uint8_t *p);
uint32_t p2v_get32 (const uint8_t *p);
uint64_t p2v_get64 (const uint8_t *p);
void p2v_put16 (uint8_t *p, uint16_t v);
void p2v_put32 (uint8_t *p, uint32_t v);
void p2v_put64 (uint8_t *p, uint64_t v);

#endif
