#include <config.h>

#include "stream/pace.h"
#include "common/util.h"

void
p2v_pacer_init (struct p2v_pacer *p, double bytes_per_second)
{
  pthread_mutex_init (&p->lock, NULL);
  p->rate = bytes_per_second;
  p->next = 0;
}

void
p2v_pacer_destroy (struct p2v_pacer *p)
{
  pthread_mutex_destroy (&p->lock);
}

double
p2v_pacer_reserve (struct p2v_pacer *p, size_t n)
{
  double now = p2v_now ();
  pthread_mutex_lock (&p->lock);
  double start = p->next > now ? p->next : now;
  p->next = start + (double) n / p->rate;
  pthread_mutex_unlock (&p->lock);
  return start;
}
