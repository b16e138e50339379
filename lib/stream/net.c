#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream/net.h"
#include "common/util.h"

void
p2v_format_sockaddr (const void *sa, char *buf, size_t n)
{
  const struct sockaddr *s = sa;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  socklen_t len = s->sa_family == AF_INET6 ? sizeof (struct sockaddr_in6)
                                           : sizeof (struct sockaddr_in);
  if (getnameinfo (s, len, host, sizeof host, serv, sizeof serv,
                   NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    snprintf (buf, n, "?");
    return;
  }
  /* An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d. */
  const char *h = strncmp (host, "::ffff:", 7) == 0 && strchr (host, '.') ? host + 7 : host;
  if (strchr (h, ':'))
    snprintf (buf, n, "[%s]:%s", h, serv);
  else
    snprintf (buf, n, "%s:%s", h, serv);
}

/* Only CAP_NET_ADMIN may ask for socket buffers past
 * net.core.[rw]mem_max (208 KiB on a stock kernel); a plain SO_SNDBUF or
 * SO_RCVBUF is cut to that and also switches off the kernel's
 * autotuning, which does better: without the privilege the kernel
 * sizes the buffers itself.
 */
static void
force_buffer (int fd, int opt, int bytes)
{
  setsockopt (fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

/* A target's flush holds back every write for a tenth of a second and
 * more (half a second seen on a virtual disk): 32 MiB of receive buffer
 * keep the link going meanwhile, a quarter of a second at 1 Gbit/s.
 */
void
p2v_widen_receive (int fd)
{
  force_buffer (fd, SO_RCVBUFFORCE, 32 * 1024 * 1024);
}

void
p2v_tune_socket (int fd)
{
  /* Zero chunks are 32-byte records: with Nagle each would wait for the
   * peer's delayed ACK, turning a sparse disk into thousands of stalls.
   * Every write is a whole record already, so there is nothing to gain
   * from coalescing.
   */
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* A long fat link needs its bandwidth-delay product in flight.  Not
   * more: --compress=auto reads a full link from waiting to send, and a
   * deep queue would hide that for seconds on a slow link.  What a peer
   * sends is queued in our memory only once it proved the key
   * (p2v_widen_receive).
   */
  force_buffer (fd, SO_SNDBUFFORCE, 4 * 1024 * 1024);
  /* A peer that vanished without a FIN or RST (power cut, a firewall
   * dropping state) would otherwise leave a wait for its verdict hanging
   * for hours: probe an idle link after 30 s, give up after about a
   * minute without an answer.  Its kernel answers the probes even while
   * p2vrecv is busy (a long fsync), so only a dead peer trips this.  No
   * TCP_USER_TIMEOUT: a receiver rightly stalled longer than any bound
   * we would pick (zero window) must not lose its connection.
   */
  int idle = 30, intvl = 10, cnt = 3;
  setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static int
listen_on (struct addrinfo *ai)
{
  int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd == -1)
    return -1;
  int one = 1, zero = 0;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ai->ai_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  /* Room for the sender's disks and reconnections while strangers come
   * and go: the kernel caps it at net.core.somaxconn.
   */
  if (bind (fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen (fd, SOMAXCONN) == -1) {
    int e = errno;
    close (fd);
    errno = e;
    return -1;
  }
  return fd;
}

int
p2v_listen (const char *host, const char *port, char *bound, size_t n)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
  struct addrinfo *res;
  const char *shown = host ? host : "*";

  /* With no host, prefer "::" (IPv6 and, dual-stack, IPv4); fall back
   * to 0.0.0.0 on machines without IPv6.
   */
  hints.ai_family = host ? AF_UNSPEC : AF_INET6;
  int r = getaddrinfo (host, port, &hints, &res);
  if (r != 0 && !host) {
    hints.ai_family = AF_INET;
    r = getaddrinfo (NULL, port, &hints, &res);
  }
  if (r != 0) {
    p2v_error ("cannot listen on %s:%s: %s", shown, port, gai_strerror (r));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai && fd == -1; ai = ai->ai_next)
    if ((fd = listen_on (ai)) == -1)
      err = errno;
  freeaddrinfo (res);
  if (fd == -1 && !host && err == EAFNOSUPPORT) {
    hints.ai_family = AF_INET;
    if (getaddrinfo (NULL, port, &hints, &res) == 0) {
      fd = listen_on (res);
      err = errno;
      freeaddrinfo (res);
    }
  }
  if (fd == -1) {
    p2v_error ("cannot listen on %s:%s: %s", shown, port, strerror (err));
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  getsockname (fd, (struct sockaddr *) &ss, &len);
  p2v_format_sockaddr (&ss, bound, n);
  return fd;
}

int
p2v_accept (int lfd, char *peer, size_t n)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd;
  do
    fd = accept4 (lfd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
  while (fd == -1 && (errno == EINTR || errno == ECONNABORTED));
  if (fd == -1) {
    int e = errno;
    p2v_error ("accept: %s", strerror (e));
    /* Out of descriptors or memory, the connection stays in the backlog
     * and poll says readable at once: pause rather than spin and flood
     * the terminal while the sessions free what they hold.
     */
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
      poll (NULL, 0, 200);
    return -1;
  }
  p2v_format_sockaddr (&ss, peer, n);
  p2v_tune_socket (fd);
  return fd;
}

int
p2v_connect (const char *host, const char *port)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
  struct addrinfo *res;
  int r = getaddrinfo (host, port, &hints, &res);
  const char *lb = strchr (host, ':') ? "[" : "", *rb = *lb ? "]" : "";
  if (r != 0) {
    p2v_error ("cannot resolve %s%s%s:%s: %s", lb, host, rb, port, gai_strerror (r));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1) {
      err = errno;
      continue;
    }
    p2v_tune_socket (fd);
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    err = errno;
    close (fd);
    fd = -1;
  }
  freeaddrinfo (res);
  if (fd == -1) {
    if (err == ECONNREFUSED)
      p2v_error ("connection to %s%s%s:%s refused (is p2vrecv listening there?)",
                 lb, host, rb, port);
    else
      p2v_error ("cannot connect to %s%s%s:%s: %s", lb, host, rb, port, strerror (err));
  }
  return fd;
}
