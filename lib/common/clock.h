/* Time: monotonic seconds, sleeping, thread CPU, and condition
 * variables that wait on the monotonic clock.
 */
#ifndef P2V_COMMON_CLOCK_H
#define P2V_COMMON_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Monotonic seconds. */
double p2v_now (void);
/* Sleep this many seconds (fractions too; nothing for <= 0). */
void p2v_sleep (double seconds);
/* CPU seconds the calling thread has used. */
double p2v_thread_cpu (void);

/* Condition variables whose timed waits count monotonic time, and the
 * absolute time SECONDS from now on that clock: a wall clock stepped by
 * NTP while a LiveCD copies must not fire or postpone a keep-alive.
 */
void p2v_cond_init_monotonic (pthread_cond_t *c);
struct timespec p2v_monotonic_in (double seconds);

#endif
