#include <config.h>

#include <stdbool.h>

#include "common/util.h"

int
p2v_exit_for_disks (const int *status, unsigned n)
{
  if (n == 0)
    return P2V_EXIT_OK;
  bool same = true;
  int mask = 0;
  for (unsigned i = 0; i < n; i++) {
    if (status[i] != status[0])
      same = false;
    if (status[i] != P2V_EXIT_OK && i < 6)
      mask |= 1 << i;
  }
  if (same)
    return status[0];
  return P2V_EXIT_DISKS + mask;
}
