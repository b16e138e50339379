/* --limit-rate: the wire bytes of a whole session, paced to a rate.
 *
 * A migration that runs while the old server still serves must not
 * take the whole link (pv -L, rsync --bwlimit).  One pacer is shared
 * by every disk of a session, so the limit holds for the sum: each
 * record reserves the time its bytes take at the rate, after the last
 * reservation, and may go once that time comes.  Idle time earns no
 * credit (a reservation starts no earlier than now), so a pause is not
 * followed by a burst above the rate.  Within a record the bytes go at
 * the link's speed: the average holds over records, not within one.
 */
#ifndef P2V_PACE_H
#define P2V_PACE_H

#include <pthread.h>
#include <stddef.h>

struct p2v_pacer {
  pthread_mutex_t lock;
  double rate;          /* bytes per second */
  double next;          /* p2v_now () time when the next record may start */
};

void p2v_pacer_init (struct p2v_pacer *p, double bytes_per_second);
void p2v_pacer_destroy (struct p2v_pacer *p);

/* Reserve the time for n bytes; returns the p2v_now () time at which
 * they may be sent (now or later).  The caller waits until then.
 */
double p2v_pacer_reserve (struct p2v_pacer *p, size_t n);

#endif
