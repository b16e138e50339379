/* The strict JSON reader. */
#include <config.h>

#include "common/jsonread.h"
#include "common/test.h"

static const char doc[] =
  "{\n"
  "  \"format\": \"p2vstream-manifest\", \"version\": 1,\n"
  "  \"source\": { \"path\": \"/dev/cciss/c0d0\", \"kernel_name\": \"cciss/c0d0\",\n"
  "              \"size\": 73407865856, \"model\": \"LOGICAL VOLUME\", \"serial\": \"\",\n"
  "              \"by_id\": [\"/dev/disk/by-id/cciss-3600508b1001030364231334637300700\"],\n"
  "              \"by_path\": [\"/dev/disk/by-path/pci-0000:06:00.0-cciss-disk0\"] },\n"
  "  \"host\": { \"hostname\": \"web01\",\n"
  "            \"nics\": [ { \"name\": \"eth0\", \"mac\": \"00:1B:78:AA:BB:CC\", \"driver\": \"bnx2\" } ] },\n"
  "  \"target\": \"/var/lib/images/web01-disk0.img\",\n"
  "  \"digest\": { \"algorithm\": \"sha256\", \"value\": \"ab12\" },\n"
  "  \"future\": [1.5e3, -0.25, true, false, null, {\"x\": \"\\u00e9\\ud83d\\ude00\\n\"}]\n"
  "}\n";

static void
bad (const char *text, const char *why)
{
  char *err = NULL;
  struct json *j = json_parse (text, strlen (text), &err);
  if (j) {
    fprintf (stderr, "FAIL: accepted %s (%s)\n", text, why);
    test_failures++;
    json_free (j);
  }
  CHECK (j || err);
  free (err);
}

int
main (void)
{
  char *err = NULL;
  struct json *j = json_parse (doc, strlen (doc), &err);
  CHECK (j != NULL);
  unsigned long long size;
  CHECK (json_uint (json_get (json_get (j, "source"), "size"), &size));
  CHECK (size == 73407865856ULL);
  const struct json *fut = json_get (j, "future");
  CHECK (fut && fut->type == JSON_ARRAY && fut->n == 6);
  if (fut && fut->n == 6) {
    CHECK_STR (json_str (json_get (fut->items[5], "x")), "\xc3\xa9\xf0\x9f\x98\x80\n");
    CHECK (fut->items[2]->type == JSON_BOOL && fut->items[2]->boolean);
    CHECK (!json_uint (fut->items[1], &size));
  }
  json_free (j);

  bad ("", "empty");
  bad ("{", "unterminated");
  bad ("{\"a\":1,}", "trailing comma");
  bad ("[1 2]", "missing comma");
  bad ("{\"a\" 1}", "missing colon");
  bad ("{\"a\":01}", "leading zero");
  bad ("{\"a\":1.}", "bare decimal point");
  bad ("\"\\x\"", "bad escape");
  bad ("\"\\ud800\"", "lone surrogate");
  bad ("\"\\u0000\"", "NUL");
  bad ("\"a\tb\"", "raw control character");
  bad ("{} {}", "two documents");
  bad ("tru", "truncated literal");
  char deep[201];
  memset (deep, '[', 100);
  memset (deep + 100, ']', 100);
  deep[200] = 0;
  bad (deep, "nested too deeply");
  /* Error messages say where. */
  j = json_parse ("{\n\"a\":\n?}", 9, &err);
  CHECK (!j && err && strncmp (err, "line 3:", 7) == 0);
  free (err);
  return TEST_DONE ();
}
