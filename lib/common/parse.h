/* Strict parsing of what users type: numbers, sizes, HOST:PORT.
 * Every function rejects empty strings, signs, trailing garbage and
 * overflow, and returns 0 on success or -1 (nothing printed: the caller
 * knows which option it was and says so).
 */
#ifndef P2V_PARSE_H
#define P2V_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int p2v_parse_u64 (const char *s, uint64_t *out);
int p2v_parse_uint (const char *s, unsigned min, unsigned max, unsigned *out);

/* "4096", "4K", "4k", "4KiB", "1M", "1.5G" is rejected (no fractions);
 * suffixes are binary (K = 1024).
 */
int p2v_parse_size (const char *s, uint64_t *out);

/* Split "HOST:PORT", "[V6ADDR]:PORT" or (when port_only_ok) "PORT".
 * A missing ":PORT" part takes default_port when it is non-NULL.
 * *host is set to NULL when no host was given ("5000" or ":5000").
 * The port must be a number 0-65535.  Caller frees *host and *port.
 */
int p2v_parse_hostport (const char *s, int port_only_ok,
                        const char *default_port, char **host, char **port);

/* For option tables: parse OPT's argument as a number in [min, max],
 * or print "prog: error: OPT: 'ARG' is not a number from MIN to MAX"
 * and return -1.
 */
int p2v_opt_uint (const char *opt, const char *arg, unsigned min, unsigned max,
                  unsigned *out);

/* A per-disk option (--digest-file, --manifest): each use appends arg
 * to list (at most max); then it must be given once per disk or not at
 * all.  0, or -1 with the error printed.
 */
int p2v_opt_repeat (const char *opt, const char *arg, const char **list, unsigned *n,
                    unsigned max);
int p2v_opt_per_disk (const char *opt, unsigned given, unsigned disks);

/* A MAC address as S (length N): six hex pairs separated by ':' or
 * '-'.  OUT gets the canonical form, lower case with colons.
 */
bool p2v_parse_mac (const char *s, size_t n, char out[18]);

/* A number in a guest's file: the whole of [S, S+N) is 1 to 9 decimal
 * digits (nothing that could overflow, no sign, no space).
 */
bool p2v_parse_digits (const char *s, size_t n, unsigned long *out);

#endif
