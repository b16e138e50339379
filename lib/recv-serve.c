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

#include "handshake.h"
#include "net.h"
#include "progress.h"
#include "recv-disk.h"
#include "util.h"

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

struct server {
  const struct p2v_recv_opts *o;        /* o[0]: the shared options */
  unsigned n;
  struct disk d[P2V_DISKS_MAX];
  int wake[2];                          /* a session thread ended: its index */
  bool mismatch;                        /* ended: the sender has another disk count */
  double first_contact;                 /* when a disk of this session first connected */
};

/* What a new connection gets for the handshake and SOURCE. */
enum { GREET_SECONDS = 30 };

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
  if (c->sh.ndisks != srv->n) {
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

/* Handshake and SOURCE of a new connection, in the main thread: nothing
 * is opened for it before it proved the key.  NULL when dropped.
 */
static struct receiver *
greet (struct server *srv, int fd, const char *peer, const struct p2v_keys *keys, int *fatal)
{
  struct receiver *c = xcalloc (1, sizeof *c);
  c->o = &srv->o[0];
  c->is_socket = true;
  snprintf (c->peer, sizeof c->peer, "%s", peer);
  c->ch.fd = fd;
  /* A peer that connects and says nothing, or trickles, must not hold
   * the port: the handshake and SOURCE get 30 s.
   */
  c->ch.deadline = p2v_now () + GREET_SECONDS;
  c->ch.record_timeout = 0;
  int rc = p2v_handshake_receiver (&c->ch, true, keys, c->peer);
  if (rc == -1)
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
    drop_conn (c);
    free (c);
    return NULL;
  }
  return c;
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

static int
serve (struct server *srv, const struct p2v_keys *keys, const char *key, bool key_shown)
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
    /* A connection waiting in the backlog may be the very sender a
     * deadline waits for, queued while the main thread greeted another
     * peer: take it before giving up on anyone (within a bounded grace,
     * so a stream of strangers cannot postpone the verdict for ever).
     */
    struct pollfd lp = { .fd = lfd, .events = POLLIN };
    bool queued = !fatal && poll (&lp, 1, 0) == 1;
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
      if (now >= d->deadline && (!queued || now >= d->deadline + GREET_SECONDS)) {
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
      uint8_t b;
      if (read (srv->wake[0], &b, 1) == 1 && b < srv->n)
        session_ended (srv, b);
      continue;
    }
    if (fatal || !(p[1].revents & POLLIN))
      continue;
    char peer[300];
    int fd = p2v_accept (lfd, peer, sizeof peer);
    if (fd == -1)
      continue;
    struct receiver *c = greet (srv, fd, peer, keys, &fatal);
    if (c)
      route (srv, c);
  }
  /* The sender's other disks are connecting too: tell them why rather
   * than reset their connections (a second or two, bounded).
   */
  double until = p2v_now () + 2;
  while (srv->mismatch && !fatal && p2v_now () < until) {
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    if (poll (&p, 1, 500) != 1)
      continue;
    char peer[300];
    int fd = p2v_accept (lfd, peer, sizeof peer);
    struct receiver *c = fd == -1 ? NULL : greet (srv, fd, peer, keys, &fatal);
    if (c)
      route (srv, c);
  }
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
    struct server srv = { .o = o, .n = n };
    for (unsigned i = 0; i < n; i++)
      srv.d[i] = (struct disk) { .r = &rs[i], .state = DISK_WAITING };
    int fatal = serve (&srv, &keys, key, key_shown);
    /* serve() ends every disk, unless it could not listen at all. */
    for (unsigned i = 0; i < n; i++)
      status[i] = srv.d[i].state == DISK_DONE ? srv.d[i].status : fatal;
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
