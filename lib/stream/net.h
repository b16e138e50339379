/* TCP endpoints.  Errors are printed here, naming the address, so the
 * programs only decide the exit status.
 */
#ifndef P2V_NET_H
#define P2V_NET_H

#include <stddef.h>

/* Listen on host (NULL: every address, IPv6 and IPv4) and port ("0"
 * picks a free one).  Writes the bound address as "ADDR:PORT" or
 * "[ADDR]:PORT" to bound.  Returns the socket or -1.
 */
int p2v_listen (const char *host, const char *port, char *bound, size_t n);

/* Wait for a connection; peer gets "ADDR:PORT".  Returns fd or -1. */
int p2v_accept (int lfd, char *peer, size_t n);

/* Connect to host:port, trying every address it resolves to.  Returns
 * the socket or -1 ("connection to HOST:PORT refused").
 */
int p2v_connect (const char *host, const char *port);

/* No Nagle, keepalive probes, a 4 MiB send buffer (best effort: see
 * net.c).
 */
void p2v_tune_socket (int fd);

/* A 32 MiB receive buffer, so that the link goes on while the target
 * flushes; only once the peer is authenticated: an unauthenticated peer
 * must not fill 32 MiB of the receiver's memory.
 */
void p2v_widen_receive (int fd);

/* "ADDR:PORT" (IPv6 in brackets) of a socket address. */
void p2v_format_sockaddr (const void *sa, char *buf, size_t n);

#endif
