/* Numbers for people: sizes, rates and durations in messages and
 * progress lines.
 */
#ifndef P2V_HUMANIZE_H
#define P2V_HUMANIZE_H

#include <stdint.h>

#define P2V_HUMAN_LEN 32

/* "0 B", "512 B", "1.0 KiB", "68.3 GiB". */
const char *p2v_human_size (uint64_t bytes, char buf[P2V_HUMAN_LEN]);
/* "0:07", "12:34", "1:02:03"; "--:--" when unknown (negative). */
const char *p2v_human_duration (double secs, char buf[P2V_HUMAN_LEN]);

#endif
