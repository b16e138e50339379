/* A small strict JSON reader (RFC 8259) for the p2vrecv manifest: the
 * whole document must be valid, nesting is bounded, strings are
 * decoded to UTF-8 and must not contain NUL.
 */
#ifndef P2V_COMMON_JSONREAD_H
#define P2V_COMMON_JSONREAD_H

#include <stddef.h>
#include <stdbool.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING,
                 JSON_ARRAY, JSON_OBJECT };

struct json {
  enum json_type type;
  bool boolean;
  char *str;                    /* JSON_STRING value, JSON_NUMBER text */
  size_t n;                     /* array / object length */
  struct json **items;
  char **keys;                  /* JSON_OBJECT only */
};

/* Returns NULL and sets *ERR (malloc'd, "line L: message") on error. */
struct json *json_parse (const char *text, size_t len, char **err);
void json_free (struct json *j);

/* Member KEY of object J, or NULL (also if J is NULL or not an object). */
const struct json *json_get (const struct json *j, const char *key);
/* String value or NULL if J is absent or not a string. */
const char *json_str (const struct json *j);
/* Non-negative integer value; false if not such a number. */
bool json_uint (const struct json *j, unsigned long long *v);

#endif
