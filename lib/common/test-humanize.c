#include <config.h>

#include "common/humanize.h"
#include "common/test.h"

int
main (void)
{
  char b[P2V_HUMAN_LEN];
  CHECK_STR (p2v_human_size (0, b), "0 B");
  CHECK_STR (p2v_human_size (1023, b), "1023 B");
  CHECK_STR (p2v_human_size (1024, b), "1.0 KiB");
  CHECK_STR (p2v_human_size (10737418240ull, b), "10.0 GiB");
  CHECK_STR (p2v_human_size (73336201216ull, b), "68.3 GiB");
  CHECK_STR (p2v_human_size (1048575, b), "1.0 MiB");          /* no "1024.0 KiB" */
  CHECK_STR (p2v_human_size (UINT64_MAX, b), "16.0 EiB");
  CHECK_STR (p2v_human_duration (0, b), "0:00");
  CHECK_STR (p2v_human_duration (7.4, b), "0:07");
  CHECK_STR (p2v_human_duration (754, b), "12:34");
  CHECK_STR (p2v_human_duration (3723, b), "1:02:03");
  CHECK_STR (p2v_human_duration (-1, b), "--:--");
  return TEST_DONE ();
}
