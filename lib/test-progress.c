#include <config.h>

#include "progress.h"
#include "test.h"

int
main (void)
{
  char line[256];
  p2v_progress_format (line, sizeof line, 1288490189ull, 4294967296ull, 3.2,
                       432013312.0, 417426227.0);
  CHECK_STR (line, "1.2 GiB / 4.0 GiB   30%  412.0 MiB/s  avg 398.1 MiB/s  0:03  ETA 0:07");
  p2v_progress_format (line, sizeof line, 0, 0, 0, 0, 0);
  CHECK (strstr (line, "100%") != NULL);                /* empty source: done */
  p2v_progress_format (line, sizeof line, 10, 100, 1, 0, 0);
  CHECK (strstr (line, "ETA --:--") != NULL);           /* no rate yet */
  CHECK (p2v_progress_mode_from_name ("json") == P2V_PROGRESS_JSON);
  CHECK (p2v_progress_mode_from_name ("fancy") == -1);
  return TEST_DONE ();
}
