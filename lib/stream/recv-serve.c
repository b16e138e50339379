/* p2vrecv's front door: one listening socket for every disk of a
 * session, or a stream on standard input.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream/format.h"
#include "stream/handshake.h"
#include "stream/net.h"
#include "stream/progress.h"
#include "stream/recv-disk.h"
#include "common/util.h"

/* Several disks, one listening socket.  Each disk arrives on its own
 * connection; the main thread accepts, runs the handshake and reads
 * SOURCE, whose disk index picks the target, then hands the connection
 * to that target's session on a thread of its own.  The main thread
 * keeps listening: for the other disks, for a disk whose connection
 * dropped (its sender reconnects to resume), and for strangers, who are
 * dropped.  A disk's failure is its own; p2vrecv ends when every disk
 * is verified or has failed for good.
 */
enum disk_state { DISK_WAITING, DISK_ACTIVE, DISK_DONE };

struct disk {
  struct receiver *r;
  enum disk_state state;
  int status;                   /* DISK_DONE: final exit status */
  unsigned drops;               /* connections lost so far */
  double deadline;              /* WAITING: give up then (0: no deadline yet) */
  pthread_t thread;
  struct receiver *pending;     /* a reconnection waiting for the old session to end */
  /* Which source this disk's session copies, from its first session:
   * a reconnection must be the same disk before it may end the running
   * session or resume it.
   */
  bool has_id;
  uint64_t size;
  uint32_t chunk_size;
  uint8_t digest_id;
  char fingerprint[2 * 32 + 1];
  char source[300];
};

/* Greetings (handshake and SOURCE) run on threads of their own, so a
 * peer that connects and stalls delays nobody: the sender and a
 * resuming sender get in beside any number of them.  Threads rather
 * than one poll loop because the handshake and SOURCE are blocking
 * reads against a deadline (wire.c, handshake.c) that the sessions use
 * too; a bounded set of them keeps the memory bounded.  A stranger
 * costs at most one slot for --greet-timeout s (no complete HELLO) or
 * --handshake-timeout s more (HELLO but no proof of the key), and one
 * address holds at most GREET_PER_PEER slots, so a peer must spread
 * over GREET_MAX / GREET_PER_PEER addresses to fill them.
 */
enum { GREET_MAX = 64, GREET_PER_PEER = 8 };

struct server;

struct greeting {
  struct server *srv;
  bool used;                    /* main thread: a thread runs or awaits its join */
  pthread_t thread;
  int fd;                       /* under srv->glock: -1 once the thread closed it */
  char peer[300];
  char addr[300];               /* peer without the port: what the cap counts */
  struct receiver *c;           /* the thread's result: authenticated with SOURCE, or NULL */
  int fatal;                    /* the thread's local failure, or 0 */
};

struct server {
  const struct p2v_recv_opts *o;        /* o[0]: the shared options */
  unsigned n;
  struct disk d[P2V_DISKS_MAX];
  int wake[2];                          /* a session thread ended: its index */
  bool mismatch;                        /* ended: the sender has another disk count */
  double first_contact;                 /* when a disk of this session first connected */
  const struct p2v_keys *keys;
  pthread_mutex_t glock;                /* greeting fds against shutdown by the main thread */
  unsigned ngreet;                      /* main thread: slots in use */
  struct greeting g[GREET_MAX];
  double refusal_logged;                /* the last refusal of a greeting slot, logged */
  unsigned refusals_unlogged;           /* refused since then */
};

/* Wake pipe bytes: a disk index (its session ended), or this bit and a
 * greeting slot (its greeting ended).
 */
enum { WAKE_GREETING = 0x80 };

struct session_job {
  struct server *srv;
  unsigned i;
};

static void *
session_thread (void *arg)
{
  struct session_job *j = arg;
  struct receiver *r = j->srv->d[j->i].r;
  /* The descriptor stays open until the main thread joined us: closed
   * here, its number could be reused by an accept() while route() still
   * takes it for this session's and shuts it down.
   */
  r->session_status = p2v_recv_session (r);
  uint8_t b = (uint8_t) j->i;
  ssize_t w = write (j->srv->wake[1], &b, 1);
  (void) w;
  free (j);
  return NULL;
}

static void
drop_conn (struct receiver *c)
{
  if (c->ch.fd >= 0)
    close (c->ch.fd);
  c->ch.fd = -1;
  p2v_aead_free (c->ch.tx);
  p2v_aead_free (c->ch.rx);
  c->ch.tx = c->ch.rx = NULL;
  p2v_desc_free (&c->desc);
}

/* Say no to a connection that proved the key, and forget it. */
static void
refuse_conn (struct receiver *c, int status, const char *why)
{
  p2v_recv_refuse (c, status, why);
  drop_conn (c);
  free (c);
}

static const char *
done_why (const struct disk *d)
{
  return d->status ? "this disk's copy already failed; see the receiver's messages"
                   : "this disk is already copied and verified";
}

static void
finish_disk (struct server *srv, unsigned i, int status)
{
  struct disk *d = &srv->d[i];
  d->state = DISK_DONE;
  d->status = status;
  if (status && srv->o[i].progress_group)
    p2v_progress_group_fail (srv->o[i].progress_group, i);
}

/* Move an accepted, authenticated connection (with its SOURCE) into the
 * target's receiver and start its session.
 */
static void
start_session (struct server *srv, unsigned i, struct receiver *c)
{
  struct disk *d = &srv->d[i];
  struct receiver *r = d->r;
  if (!d->has_id) {
    d->has_id = true;
    d->size = c->sh.size;
    d->chunk_size = c->sh.chunk_size;
    d->digest_id = c->sh.digest_id;
    snprintf (d->fingerprint, sizeof d->fingerprint, "%s",
              c->desc.fingerprint ? c->desc.fingerprint : "-");
    snprintf (d->source, sizeof d->source, "%s:%s", c->desc.hostname ? c->desc.hostname : "?",
              c->desc.path ? c->desc.path : "?");
  }
  if (srv->first_contact == 0)
    srv->first_contact = p2v_now ();
  r->ch = c->ch;
  r->sh = c->sh;
  r->desc = c->desc;
  memcpy (r->peer, c->peer, sizeof r->peer);
  r->is_socket = true;
  p2v_widen_receive (r->ch.fd);
  memset (&c->desc, 0, sizeof c->desc);
  c->ch.fd = -1;
  c->ch.tx = c->ch.rx = NULL;
  p2v_info ("connection from %s%s%s", r->peer, srv->n > 1 ? " for " : "",
            srv->n > 1 ? r->o->target : "");
  /* From here every record, up to one chunk, has --timeout s. */
  r->ch.record_timeout = r->o->timeout;
  r->taken_over = false;
  d->state = DISK_ACTIVE;
  struct session_job *j = xmalloc (sizeof *j);
  *j = (struct session_job) { .srv = srv, .i = i };
  int e = pthread_create (&d->thread, NULL, session_thread, j);
  if (e) {
    p2v_error ("cannot start the session for %s: %s", r->o->target, strerror (e));
    free (j);
    drop_conn (r);
    finish_disk (srv, i, P2V_EXIT_IO);
  }
}

/* Join a session's thread, then close its socket (only now: see
 * session_thread).
 */
static void
reap_session (struct disk *d)
{
  pthread_join (d->thread, NULL);
  if (d->r->ch.fd >= 0)
    close (d->r->ch.fd);
  d->r->ch.fd = -1;
}

/* A session thread ended: decide what its disk waits for now. */
static void
session_ended (struct server *srv, unsigned i)
{
  struct disk *d = &srv->d[i];
  reap_session (d);
  int status = d->r->session_status;
  if (status != P2V_EXIT_NET) {
    finish_disk (srv, i, status);
    if (d->pending)
      refuse_conn (d->pending, P2V_EXIT_REFUSED, done_why (d));
    d->pending = NULL;
    return;
  }
  if (d->drops >= srv->o[i].retry) {
    if (d->pending)
      refuse_conn (d->pending, P2V_EXIT_NET, "this disk's connection dropped more often than "
                   "p2vrecv --retry allows; rerun both commands to resume");
    d->pending = NULL;
    finish_disk (srv, i, d->r->corrupt ? P2V_EXIT_PROTOCOL : status);
    return;
  }
  d->drops++;
  if (d->pending) {
    struct receiver *c = d->pending;
    d->pending = NULL;
    start_session (srv, i, c);
    free (c);
    return;
  }
  d->state = DISK_WAITING;
  d->deadline = p2v_now () + srv->o[i].timeout;
  p2v_info ("waiting up to %u s for the sender%s%s to reconnect and resume (%u of %u)",
            srv->o[i].timeout, srv->n > 1 ? " of " : "", srv->n > 1 ? srv->o[i].target : "",
            d->drops, srv->o[i].retry);
}

/* Is c the source disk d's session copies?  A key holder may rerun
 * p2vsend with its disks in another order, or another disk: that must
 * not end or resume a healthy session.
 */
static bool
same_source (const struct disk *d, const struct receiver *c)
{
  const char *fp = c->desc.fingerprint ? c->desc.fingerprint : "-";
  return !d->has_id || (d->size == c->sh.size && d->chunk_size == c->sh.chunk_size
                        && d->digest_id == c->sh.digest_id && strcmp (d->fingerprint, fp) == 0);
}

/* An authenticated connection that sent SOURCE: to its target's
 * session, or refused.  Takes c.
 */
static void
route (struct server *srv, struct receiver *c)
{
  char why[512];
  bool plain = !p2v_aead_encrypts (c->ch.rx) && !srv->o[0].allow_no_encrypt;
  if (plain || c->sh.ndisks != srv->n) {
    if (plain)
      snprintf (why, sizeof why, "%s sends unencrypted (p2vsend --no-encrypt), and this "
                "p2vrecv accepts that only with --allow-no-encrypt; nothing written", c->peer);
    else
      snprintf (why, sizeof why, "the sender has %u disk%s, this p2vrecv %u target%s; "
                "give p2vrecv one target per disk, in the sender's order; nothing written",
                c->sh.ndisks, c->sh.ndisks == 1 ? "" : "s", srv->n, srv->n == 1 ? "" : "s");
    refuse_conn (c, P2V_EXIT_REFUSED, why);
    /* Before any disk started, the admin ran mismatched commands: stop
     * rather than wait forever.  Later it is a stray sender.
     */
    bool started = false;
    for (unsigned i = 0; i < srv->n; i++)
      started = started || srv->d[i].state != DISK_WAITING || srv->d[i].drops;
    if (!started) {
      for (unsigned i = 0; i < srv->n; i++)
        finish_disk (srv, i, P2V_EXIT_REFUSED);
      srv->mismatch = true;
    }
    return;
  }
  unsigned i = c->sh.disk;
  struct disk *d = &srv->d[i];
  if (d->state != DISK_DONE && !same_source (d, c)) {
    snprintf (why, sizeof why, "this stream is %s:%s, but %s is receiving %s in this session; "
              "nothing written (rerun p2vsend with the same disks, in the same order, "
              "with the same --chunk-size and --digest)",
              c->desc.hostname ? c->desc.hostname : "?", c->desc.path ? c->desc.path : "?",
              srv->o[i].target, d->source);
    refuse_conn (c, P2V_EXIT_REFUSED, why);
    return;
  }
  switch (d->state) {
  case DISK_WAITING:
    start_session (srv, i, c);
    free (c);
    return;
  case DISK_ACTIVE:
    /* The sender lost the old connection before we noticed (no FIN
     * reached us): it proved the key again, so end the stale session
     * (it checkpoints) and give this one the disk.
     */
    if (d->pending)
      refuse_conn (d->pending, P2V_EXIT_NET, "a newer connection for this disk took its place");
    p2v_warning ("%s reconnected for %s: ending the previous connection from %s",
                 c->peer, srv->o[i].target, d->r->peer);
    d->pending = c;
    /* The session's reader may be blocked on a full ring while its
     * digest thread re-hashes a resumed prefix: that loop watches this
     * flag, since the shutdown reaches the reader only afterwards.
     */
    __atomic_store_n (&d->r->taken_over, true, __ATOMIC_RELEASE);
    shutdown (d->r->ch.fd, SHUT_RDWR);
    return;
  case DISK_DONE:
    refuse_conn (c, P2V_EXIT_REFUSED, done_why (d));
    return;
  }
}

/* Wait until the peer sent a whole preamble and HELLO (peeked, for
 * the handshake to read), or the deadline: 0, or -1 with errno.  1 for a
 * peer that sent something else (no p2vstream magic) or hung up after
 * part of it: the handshake reads what is there and names it.
 */
static int
wait_hello (int fd, double deadline)
{
  enum { NEED = P2V_PREAMBLE_LEN + P2V_RECORD_HDR_LEN + P2V_HELLO_LEN };
  uint8_t buf[NEED];
  /* Readable only with all of it there, so a trickle of single bytes
   * wakes us once, not once a byte.
   */
  int lowat = NEED, one = 1;
  setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
  int rc = -1;
  for (;;) {
    ssize_t got = recv (fd, buf, NEED, MSG_PEEK | MSG_DONTWAIT);
    size_t m = strlen (P2V_MAGIC);
    if (got >= NEED) {
      rc = 0;
      break;
    }
    if (got > 0 && memcmp (buf, P2V_MAGIC, (size_t) got < m ? (size_t) got : m) != 0) {
      rc = 1;
      break;
    }
    if (got == 0) {
      errno = 0;
      break;
    }
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      break;
    double left = deadline - p2v_now ();
    if (left <= 0) {
      errno = ETIMEDOUT;
      break;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
    int pr = poll (&p, 1, (int) (left * 1000) + 1);
    if (pr == -1 && errno != EINTR)
      break;
    /* Hung up: what it sent is all there will be. */
    if (pr == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
      got = recv (fd, buf, NEED, MSG_PEEK | MSG_DONTWAIT);
      rc = got > 0 ? 1 : -1;
      errno = 0;
      break;
    }
  }
  setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
  return rc;
}

/* Close a connection that did not make it through its greeting; with
 * g, first hide its descriptor from the main thread's shutdown.
 */
static void
drop_greeting (struct server *srv, struct greeting *g, struct receiver *c)
{
  if (g) {
    pthread_mutex_lock (&srv->glock);
    g->fd = -1;
    pthread_mutex_unlock (&srv->glock);
  }
  drop_conn (c);
  free (c);
}

/* Handshake and SOURCE of a new connection: nothing is opened for it
 * before it proved the key.  NULL when dropped; a local failure lands in
 * *fatal.  g: the greeting slot this runs in (NULL: the main thread).
 */
static struct receiver *
greet (struct server *srv, struct greeting *g, int fd, const char *peer, int *fatal)
{
  const struct p2v_recv_opts *o = &srv->o[0];
  struct receiver *c = xcalloc (1, sizeof *c);
  c->o = o;
  c->is_socket = true;
  snprintf (c->peer, sizeof c->peer, "%s", peer);
  c->ch.fd = fd;
  c->ch.record_timeout = 0;
  /* A peer that connects and says nothing, or trickles, must not hold
   * its slot: HELLO gets --greet-timeout s, the rest of the handshake
   * and SOURCE --handshake-timeout s more.
   */
  double greet_deadline = p2v_now () + o->greet_timeout;
  int hello = wait_hello (fd, greet_deadline);
  if (hello == -1) {
    if (errno == ETIMEDOUT)
      p2v_warning ("dropping connection from %s: no p2vsend greeting within %u s "
                   "(p2vrecv --greet-timeout)", c->peer, o->greet_timeout);
    else
      p2v_warning ("ignoring connection from %s: it closed before greeting", c->peer);
    drop_greeting (srv, g, c);
    return NULL;
  }
  /* Not a HELLO: it is not a sender, and gets no more time. */
  c->ch.deadline = hello == 0 ? p2v_now () + o->handshake_timeout : greet_deadline;
  int rc = p2v_handshake_receiver (&c->ch, true, srv->keys, c->peer);
  if (rc == -1 && errno == ETIMEDOUT && hello == 1)
    p2v_warning ("dropping connection from %s: no p2vsend greeting within %u s "
                 "(p2vrecv --greet-timeout)", c->peer, o->greet_timeout);
  else if (rc == -1 && errno == ETIMEDOUT)
    p2v_warning ("dropping connection from %s: handshake not complete within %u s "
                 "(p2vrecv --handshake-timeout)", c->peer, o->handshake_timeout);
  else if (rc == -1)
    p2v_warning ("ignoring connection from %s: not a p2vsend stream", c->peer);
  /* Whatever a peer does before it proved the key (another version,
   * no key, a wrong one, garbage) ends its connection, not our wait
   * for the real sender.  Only a local failure is ours to report.
   */
  if (rc == 0)
    rc = p2v_recv_read_source (c);
  if (rc != 0) {
    if (rc == P2V_EXIT_IO)
      *fatal = rc;
    drop_greeting (srv, g, c);
    return NULL;
  }
  return c;
}

static void *
greeting_thread (void *arg)
{
  struct greeting *g = arg;
  g->c = greet (g->srv, g, g->fd, g->peer, &g->fatal);
  uint8_t b = (uint8_t) (WAKE_GREETING | (g - g->srv->g));
  ssize_t w = write (g->srv->wake[1], &b, 1);
  (void) w;
  return NULL;
}

/* "ADDR:PORT" or "[ADDR]:PORT" without the port. */
static void
peer_address (const char *peer, char *out, size_t n)
{
  const char *colon = strrchr (peer, ':');
  snprintf (out, n, "%.*s", colon ? (int) (colon - peer) : (int) strlen (peer), peer);
}

/* A refused connection is logged, but a peer reconnecting as fast as it
 * is refused must not flood the log: at most one line a second, with
 * the count of those not logged.
 */
static void
log_refusal (struct server *srv, const char *peer, const char *why)
{
  double now = p2v_now ();
  if (now - srv->refusal_logged < 1) {
    srv->refusals_unlogged++;
    return;
  }
  if (srv->refusals_unlogged)
    p2v_warning ("refusing connection from %s: %s (and %u more refused in the last %.0f s)",
                 peer, why, srv->refusals_unlogged, now - srv->refusal_logged);
  else
    p2v_warning ("refusing connection from %s: %s", peer, why);
  srv->refusal_logged = now;
  srv->refusals_unlogged = 0;
}

/* A new connection: into a greeting slot of its own, if its address
 * and the total leave room.
 */
static void
accept_conn (struct server *srv, int lfd)
{
  char peer[300], addr[300], why[400];
  int fd = p2v_accept (lfd, peer, sizeof peer);
  if (fd == -1)
    return;
  peer_address (peer, addr, sizeof addr);
  unsigned same = 0, free_slot = GREET_MAX;
  for (unsigned k = 0; k < GREET_MAX; k++) {
    if (!srv->g[k].used)
      free_slot = free_slot == GREET_MAX ? k : free_slot;
    else if (strcmp (srv->g[k].addr, addr) == 0)
      same++;
  }
  if (same >= GREET_PER_PEER || free_slot == GREET_MAX) {
    if (same >= GREET_PER_PEER)
      snprintf (why, sizeof why, "%u connections from %s are already in their handshake",
                same, addr);
    else
      snprintf (why, sizeof why, "%u connections are already in their handshake", (unsigned) GREET_MAX);
    log_refusal (srv, peer, why);
    close (fd);
    return;
  }
  struct greeting *g = &srv->g[free_slot];
  *g = (struct greeting) { .srv = srv, .used = true, .fd = fd };
  snprintf (g->peer, sizeof g->peer, "%s", peer);
  snprintf (g->addr, sizeof g->addr, "%s", addr);
  int e = pthread_create (&g->thread, NULL, greeting_thread, g);
  if (e) {
    p2v_warning ("refusing connection from %s: cannot start its greeting: %s", peer,
                 strerror (e));
    close (fd);
    g->used = false;
    return;
  }
  srv->ngreet++;
}

/* A greeting thread ended: join it, and route what it greeted. */
static void
greeting_ended (struct server *srv, unsigned k, int *fatal)
{
  struct greeting *g = &srv->g[k];
  if (!g->used)
    return;
  pthread_join (g->thread, NULL);
  g->used = false;
  srv->ngreet--;
  if (g->fatal)
    *fatal = g->fatal;
  if (g->c && !*fatal)
    route (srv, g->c);
  else if (g->c) {
    drop_conn (g->c);
    free (g->c);
  }
  g->c = NULL;
}

/* The end of serving: cut the greetings still running short, join
 * them, and drop what they greeted.
 */
static void
stop_greetings (struct server *srv)
{
  pthread_mutex_lock (&srv->glock);
  for (unsigned k = 0; k < GREET_MAX; k++)
    if (srv->g[k].used && srv->g[k].fd >= 0)
      shutdown (srv->g[k].fd, SHUT_RDWR);
  pthread_mutex_unlock (&srv->glock);
  for (unsigned k = 0; k < GREET_MAX; k++)
    if (srv->g[k].used) {
      pthread_join (srv->g[k].thread, NULL);
      srv->g[k].used = false;
      if (srv->g[k].c) {
        drop_conn (srv->g[k].c);
        free (srv->g[k].c);
        srv->g[k].c = NULL;
      }
    }
  srv->ngreet = 0;
}

/* An address the sender can use: the bound one, or for a wildcard bind
 * this machine's first non-loopback address.
 */
static void
reachable_address (const char *bound, char *out, size_t n)
{
  const char *colon = strrchr (bound, ':');
  const char *port = colon ? colon + 1 : "5000";
  if (strncmp (bound, "[::]:", 5) != 0 && strncmp (bound, "0.0.0.0:", 8) != 0) {
    snprintf (out, n, "%s", bound);
    return;
  }
  struct ifaddrs *ifa, *i;
  snprintf (out, n, "THIS-HOST:%.16s", port);
  if (getifaddrs (&ifa) == -1)
    return;
  for (i = ifa; i; i = i->ifa_next) {
    char host[NI_MAXHOST];
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET
        || strcmp (i->ifa_name, "lo") == 0
        || getnameinfo (i->ifa_addr, sizeof (struct sockaddr_in), host, sizeof host,
                        NULL, 0, NI_NUMERICHOST) != 0)
      continue;
    snprintf (out, n, "%.64s:%.16s", host, port);
    break;
  }
  freeifaddrs (ifa);
}

/* A byte on the wake pipe: a session or a greeting ended. */
static void
woken (struct server *srv, int *fatal)
{
  uint8_t b;
  if (read (srv->wake[0], &b, 1) != 1)
    return;
  if (b & WAKE_GREETING) {
    if ((b & ~WAKE_GREETING) < GREET_MAX)
      greeting_ended (srv, b & ~WAKE_GREETING, fatal);
  }
  else if (b < srv->n)
    session_ended (srv, b);
}

static int
serve (struct server *srv, const char *key, bool key_shown)
{
  const struct p2v_recv_opts *o = &srv->o[0];
  char bound[300], addr[300];
  int lfd = p2v_listen (o->host, o->port, bound, sizeof bound);
  if (lfd == -1)
    return P2V_EXIT_NET;
  if (pipe2 (srv->wake, O_CLOEXEC) == -1) {
    p2v_error ("pipe: %s", strerror (errno));
    close (lfd);
    return P2V_EXIT_IO;
  }
  /* Always printed, even with -q: with port 0 it is the only way to
   * learn the port, and the key is needed on the other side.
   */
  fprintf (stderr, "%s: listening on %s\n", p2v_progname, bound);
  reachable_address (bound, addr, sizeof addr);
  if (key_shown)
    fprintf (stderr, "%s: on the source, run:  p2vsend %s %s --key %s\n", p2v_progname,
             srv->n == 1 ? "DISK" : srv->n == 2 ? "DISK1 DISK2" : "DISK1 DISK2 ...",
             addr, key);
  int fatal = 0;
  for (;;) {
    double now = p2v_now ();
    bool busy = false;
    int wait_ms = -1;
    /* A connection waiting in the backlog or in its greeting may be
     * the very sender a deadline waits for: let it finish before giving
     * up on anyone (within a bounded grace, so a stream of strangers
     * cannot postpone the verdict for ever).
     */
    struct pollfd lp = { .fd = lfd, .events = POLLIN };
    bool queued = !fatal && (srv->ngreet > 0 || poll (&lp, 1, 0) == 1);
    for (unsigned i = 0; i < srv->n; i++) {
      struct disk *d = &srv->d[i];
      if (d->state == DISK_ACTIVE)
        busy = true;
      if (d->state != DISK_WAITING)
        continue;
      /* The sender connects every disk at once: a disk still unseen
       * --timeout s after another one arrived lost its sender (it
       * failed on its side before connecting).
       */
      if (d->deadline == 0 && srv->first_contact != 0)
        d->deadline = srv->first_contact + srv->o[i].timeout;
      if (d->deadline == 0)
        continue;
      if (now >= d->deadline && (!queued || now >= d->deadline + srv->o[0].greet_timeout
                                                  + srv->o[0].handshake_timeout)) {
        if (d->drops)
          p2v_error ("the sender did not come back within %u s; %s is incomplete: rerun "
                     "both commands to resume", srv->o[i].timeout, srv->o[i].target);
        else
          p2v_error ("no sender connected for %s within %u s of the session's other disks; "
                     "nothing written to it: rerun both commands", srv->o[i].target,
                     srv->o[i].timeout);
        finish_disk (srv, i, P2V_EXIT_NET);
        continue;
      }
      int ms = now >= d->deadline ? 1000 : (int) ((d->deadline - now) * 1000) + 1;
      if (wait_ms == -1 || ms < wait_ms)
        wait_ms = ms;
    }
    bool open_disks = false;
    for (unsigned i = 0; i < srv->n; i++)
      open_disks = open_disks || srv->d[i].state != DISK_DONE;
    if (!open_disks || (fatal && !busy))
      break;

    /* After a local failure, only the running sessions' ends. */
    struct pollfd p[2] = { { .fd = srv->wake[0], .events = POLLIN }, { .fd = lfd, .events = POLLIN } };
    int pr = poll (p, fatal ? 1 : 2, wait_ms);
    if (pr == -1 && errno != EINTR) {
      p2v_error ("poll: %s", strerror (errno));
      fatal = P2V_EXIT_IO;
      break;
    }
    if (pr <= 0)
      continue;
    if (p[0].revents & POLLIN) {
      woken (srv, &fatal);
      continue;
    }
    if (fatal || !(p[1].revents & POLLIN))
      continue;
    accept_conn (srv, lfd);
  }
  /* The sender's other disks are connecting too: tell them why rather
   * than reset their connections (a second or two, bounded).
   */
  double until = p2v_now () + 2;
  while (srv->mismatch && !fatal && p2v_now () < until) {
    struct pollfd p[2] = { { .fd = srv->wake[0], .events = POLLIN }, { .fd = lfd, .events = POLLIN } };
    if (poll (p, 2, 500) < 1)
      continue;
    if (p[0].revents & POLLIN)
      woken (srv, &fatal);
    else if (p[1].revents & POLLIN)
      accept_conn (srv, lfd);
  }
  stop_greetings (srv);
  /* Only on a local failure can sessions still run: wait for them. */
  for (unsigned i = 0; i < srv->n; i++)
    if (srv->d[i].state == DISK_ACTIVE) {
      reap_session (&srv->d[i]);
      finish_disk (srv, i, srv->d[i].r->session_status);
      if (srv->d[i].pending)
        refuse_conn (srv->d[i].pending, fatal ? fatal : P2V_EXIT_IO, "the receiver failed; see its messages");
      srv->d[i].pending = NULL;
    }
    else if (srv->d[i].state == DISK_WAITING)
      finish_disk (srv, i, fatal ? fatal : P2V_EXIT_NET);
  close (srv->wake[0]);
  close (srv->wake[1]);
  close (lfd);
  return fatal;
}

int
p2v_recv (const struct p2v_recv_opts *o, unsigned n, int *status)
{
  struct receiver *rs = xcalloc (n, sizeof *rs);
  signal (SIGPIPE, SIG_IGN);
  int fail_all = P2V_EXIT_OK;
  bool key_shown = false;
  char key[P2V_KEY_TEXT_LEN] = "";
  struct p2v_keys keys;

  for (unsigned i = 0; i < n; i++) {
    p2v_receiver_init (&rs[i], &o[i]);
    status[i] = P2V_EXIT_OK;
  }
  /* Resume state lives beside a file target, in the state directory
   * for anything else.  A stream on a pipe cannot negotiate a resume.
   */
  for (unsigned i = 0; i < n && !o[0].from_stdin; i++) {
    struct stat st;
    bool is_file = stat (o[i].target, &st) == -1 || S_ISREG (st.st_mode);
    rs[i].state_path = p2v_state_path (o[i].target, is_file, o[i].state_dir);
    if (!is_file && mkdir (o[i].state_dir, 0700) == -1 && errno != EEXIST) {
      p2v_error ("cannot create the state directory %s: %s", o[i].state_dir, strerror (errno));
      fail_all = P2V_EXIT_IO;
      goto setup_failed;
    }
  }

  /* The key: given; else the one an interrupted session used, so the
   * same two commands resume; else a new one, shown to the admin.
   */
  if (o[0].key)
    snprintf (key, sizeof key, "%s", o[0].key);
  else {
    for (unsigned i = 0; i < n && !key[0]; i++) {
      struct p2v_resume_state st;
      if (rs[i].state_path && p2v_state_load (rs[i].state_path, &st) == 1) {
        memcpy (key, st.key, sizeof key);
        p2v_state_free (&st);
      }
    }
    if (!key[0] && o[0].from_stdin) {
      p2v_error ("--stdin needs the key the stream was written with (--key-file or P2V_KEY)");
      fail_all = P2V_EXIT_USAGE;
      goto setup_failed;
    }
    if (!key[0] && p2v_key_generate (key) == -1) {
      fail_all = P2V_EXIT_IO;
      goto setup_failed;
    }
    key_shown = true;
  }
  if (p2v_keys_derive (key, &keys) == -1) {
    fail_all = P2V_EXIT_IO;
    goto setup_failed;
  }
  for (unsigned i = 0; i < n; i++) {
    memcpy (rs[i].key, key, sizeof key);
    rs[i].keys = keys;
  }

  if (o[0].from_stdin) {
    struct receiver *r = &rs[0];
    r->ch.fd = STDIN_FILENO;
    snprintf (r->peer, sizeof r->peer, "standard input");
    int st = p2v_handshake_receiver (&r->ch, false, &r->keys, r->peer);
    if (st == -1) {
      p2v_error ("standard input is not a p2vsend stream");
      st = P2V_EXIT_PROTOCOL;
    }
    if (st == 0)
      st = p2v_recv_read_source (r);
    if (st == 0 && r->sh.ndisks != 1) {
      p2v_error ("the stream holds disk %u of %u; --stdin takes one-disk streams only",
                 r->sh.disk + 1, r->sh.ndisks);
      st = P2V_EXIT_REFUSED;
    }
    if (st == 0)
      st = p2v_recv_session (r);
    else {
      p2v_aead_free (r->ch.tx);
      p2v_aead_free (r->ch.rx);
      p2v_desc_free (&r->desc);
    }
    status[0] = st;
  }
  else {
    struct server *srv = xcalloc (1, sizeof *srv);
    srv->o = o;
    srv->n = n;
    srv->keys = &keys;
    pthread_mutex_init (&srv->glock, NULL);
    for (unsigned i = 0; i < n; i++)
      srv->d[i] = (struct disk) { .r = &rs[i], .state = DISK_WAITING };
    int fatal = serve (srv, key, key_shown);
    /* serve() ends every disk, unless it could not listen at all. */
    for (unsigned i = 0; i < n; i++)
      status[i] = srv->d[i].state == DISK_DONE ? srv->d[i].status : fatal;
    pthread_mutex_destroy (&srv->glock);
    free (srv);
  }
  goto out;

 setup_failed:
  for (unsigned i = 0; i < n; i++)
    status[i] = fail_all;
 out:
  for (unsigned i = 0; i < n; i++)
    p2v_receiver_free (&rs[i]);
  free (rs);
  if (n > 1)
    for (unsigned i = 0; i < n; i++) {
      if (status[i])
        p2v_error ("disk %u, %s: failed (exit status %d)", i + 1, o[i].target, status[i]);
      else
        p2v_info ("disk %u, %s: verified", i + 1, o[i].target);
    }
  return p2v_exit_for_disks (status, n);
}
