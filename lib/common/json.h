/* Just enough JSON output for the manifest and --progress=json. */
#ifndef P2V_JSON_H
#define P2V_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included; NULL as null. */
void p2v_json_string (FILE *f, const char *s);

#endif
