/* The strict JSON reader and the p2vrecv manifest. */
#include <config.h>

#include "fixup/json.h"
#include "fixup/manifest.h"
#include "test.h"

static const char manifest[] =
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
    failures++;
    json_free (j);
  }
  CHECK (j || err);
  free (err);
}

int
main (void)
{
  char *err = NULL;
  struct json *j = json_parse (manifest, strlen (manifest), &err);
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

  struct manifest m;
  CHECK (manifest_parse (manifest, strlen (manifest), &m, &err) == 0);
  CHECK_STR (m.kernel_name, "cciss/c0d0");
  CHECK (m.by_id.n == 1 && m.by_path.n == 1);
  CHECK (m.nnics == 1);
  if (m.nnics == 1) {
    CHECK_STR (m.nics[0].mac, "00:1b:78:aa:bb:cc");
    CHECK_STR (m.nics[0].driver, "bnx2");
  }
  manifest_free (&m);

  /* Missing fields are fine; kernel_name falls back to the path. */
  const char *minimal = "{\"format\":\"p2vstream-manifest\",\"version\":1,"
    "\"source\":{\"path\":\"/dev/sda\",\"by_id\":[]}}";
  CHECK (manifest_parse (minimal, strlen (minimal), &m, &err) == 0);
  CHECK_STR (m.kernel_name, "sda");
  CHECK (m.by_id.n == 0 && m.nnics == 0);
  manifest_free (&m);

  const char *wrong = "{\"format\":\"other\",\"version\":1}";
  CHECK (manifest_parse (wrong, strlen (wrong), &m, &err) == -1);
  free (err);
  const char *v2 = "{\"format\":\"p2vstream-manifest\",\"version\":2}";
  CHECK (manifest_parse (v2, strlen (v2), &m, &err) == -1);
  free (err);
  const char *badmac = "{\"format\":\"p2vstream-manifest\",\"version\":1,"
    "\"host\":{\"nics\":[{\"mac\":\"00:1b:78\"}]}}";
  CHECK (manifest_parse (badmac, strlen (badmac), &m, &err) == -1);
  free (err);

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
  TEST_DONE ();
}
