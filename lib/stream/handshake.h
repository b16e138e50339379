/* Who may write: the handshake that opens every session.
 *
 *   sender                               receiver
 *   PREAMBLE, HELLO(flags, Ns)   ──►
 *                                ◄──     PREAMBLE, CHALLENGE(Nr)
 *   AUTH(HMAC(key; Ns, Nr, flags)) ──►   checks it before anything else
 *   sealed records ...           ◄─►     sealed records ...
 *
 * A receiver that finds the proof wrong (or the sender keyless) answers
 * with a plain REFUSE and hangs up; it has opened nothing.  On a pipe
 * (--stdout/--stdin) there is no way back: Nr is all zeros and the first
 * sealed record (SOURCE) fails to open under a wrong key.
 */
#ifndef P2V_HANDSHAKE_H
#define P2V_HANDSHAKE_H

#include <stdbool.h>

#include "stream/crypto.h"
#include "stream/wire.h"

/* keys NULL: the sender has no key (the receiver will say so).
 * Returns 0 with ch->tx/rx installed, or an exit status (printed).
 */
int p2v_handshake_sender (struct p2v_chan *ch, bool two_way, const struct p2v_keys *keys,
                          bool encrypt, const char *peer);

/* Returns 0 with ch->tx/rx installed; -1 when the peer is not a
 * p2vstream sender at all (nothing printed); P2V_EXIT_AUTH when it does
 * not hold the key (printed as a warning, REFUSE sent); another exit
 * status otherwise (printed).
 */
int p2v_handshake_receiver (struct p2v_chan *ch, bool two_way, const struct p2v_keys *keys,
                            const char *peer);

#endif
