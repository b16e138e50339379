#include <config.h>

#include <stdio.h>

#include "common/humanize.h"

const char *
p2v_human_size (uint64_t bytes, char buf[P2V_HUMAN_LEN])
{
  static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  if (bytes < 1024) {
    snprintf (buf, P2V_HUMAN_LEN, "%u B", (unsigned) bytes);
    return buf;
  }
  double v = bytes / 1024.0;
  int u = 0;
  /* Switch unit before printf would round up to "1024.0". */
  while (v >= 1023.95 && u < 5) {
    v /= 1024.0;
    u++;
  }
  snprintf (buf, P2V_HUMAN_LEN, "%.1f %s", v, unit[u]);
  return buf;
}

const char *
p2v_human_duration (double secs, char buf[P2V_HUMAN_LEN])
{
  if (secs < 0 || secs > 1e9) {
    snprintf (buf, P2V_HUMAN_LEN, "--:--");
    return buf;
  }
  unsigned long t = (unsigned long) (secs + 0.5);
  unsigned long h = t / 3600, m = (t / 60) % 60, s = t % 60;
  if (h)
    snprintf (buf, P2V_HUMAN_LEN, "%lu:%02lu:%02lu", h, m, s);
  else
    snprintf (buf, P2V_HUMAN_LEN, "%lu:%02lu", m, s);
  return buf;
}
