/* One exit status for several disks: scripts branch on it. */
#include <config.h>

#include "test.h"
#include "util.h"

int
main (void)
{
  int one[] = { P2V_EXIT_REFUSED };
  CHECK (p2v_exit_for_disks (one, 1) == P2V_EXIT_REFUSED);
  int ok[] = { 0, 0, 0 };
  CHECK (p2v_exit_for_disks (ok, 3) == 0);
  int second[] = { 0, P2V_EXIT_MISMATCH };
  CHECK (p2v_exit_for_disks (second, 2) == 64 + 2);
  int first_third[] = { P2V_EXIT_IO, 0, P2V_EXIT_NET };
  CHECK (p2v_exit_for_disks (first_third, 3) == 64 + 1 + 4);
  /* Every disk, one reason (the receiver is not there): that reason. */
  int all_net[] = { P2V_EXIT_NET, P2V_EXIT_NET };
  CHECK (p2v_exit_for_disks (all_net, 2) == P2V_EXIT_NET);
  int all_diff[] = { P2V_EXIT_NET, P2V_EXIT_IO };
  CHECK (p2v_exit_for_disks (all_diff, 2) == 64 + 3);
  return TEST_DONE ();
}
