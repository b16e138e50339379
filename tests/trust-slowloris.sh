#!/usr/bin/env bash
# A peer that sends one byte every couple of seconds (issue 4: "a peer
# that sends one byte a minute ... ends in a clean error within bounded
# time").  An idle timeout per recv() is not enough: each byte resets it.
#  1. During the handshake: preamble, then one byte of a real HELLO every
#     2 s.  p2vrecv must drop it within bounded time (its greeting
#     deadline; we allow 45 s), and then serve a real sender.
#  1b. A genuine preamble and HELLO, then silence: dropped after
#     --handshake-timeout.
#  2. After the handshake: a real p2vsend through a proxy that, after
#     300 KB, forwards one byte a second.  p2vrecv --timeout 3 --retry 0
#     must give up within 30 s with exit 3 and say the target is
#     incomplete.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
proxy=$top_srcdir/tests/trust-proxy.py

src=$tmp/src.img
head -c 8M /dev/urandom > "$src"

# A capture of a real session's first bytes, for a genuine preamble and HELLO.
start_recv "$tmp/cap.img"
timeout 60 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport0" --record "$tmp/capture" &
wait_for_file "$tmp/pport0" 10 || fail "proxy did not start"
timeout 60 p2vsend -q "$src" "127.0.0.1:$(cat "$tmp/pport0")" || fail "capture session failed"
wait_recv

# 1. Trickle during the handshake.
tgt=$tmp/t1.img
start_recv --timeout 3 --retry 0 "$tgt"
timeout 70 python3 "$proxy" trickle --to "$port" --preamble-of "$tmp/capture" --every 2 --max 60 > "$tmp/trickle.out"
cat "$tmp/trickle.out"
n=$(sed -n 's/^trickle: peer closed after \([0-9]*\) s$/\1/p' "$tmp/trickle.out")
[ -n "$n" ] && [ "$n" -le 45 ] || fail "p2vrecv was held by a peer trickling its handshake: $(cat "$tmp/trickle.out")"
kill -0 "$recv_pid" 2>/dev/null || fail "p2vrecv stopped after a trickling peer"
[ ! -e "$tgt" ] || fail "a trickling peer created the target"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || fail "real sender after a trickling peer: exit $rc"
wait_recv

# 1b. A whole, genuine preamble and HELLO, then silence: past the
# greeting deadline, the rest of the handshake has --handshake-timeout.
tgt=$tmp/t1b.img
start_recv --greet-timeout 1 --handshake-timeout 3 "$tgt"
timeout 30 python3 - "$port" "$tmp/capture" > "$tmp/hello.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read()[:16 + 8 + 36])
t0 = time.monotonic()
s.settimeout(20)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print("hello: peer closed after %.0f s" % (time.monotonic() - t0))
PY
cat "$tmp/hello.out"
n=$(sed -n 's/^hello: peer closed after \([0-9]*\) s$/\1/p' "$tmp/hello.out")
[ -n "$n" ] && [ "$n" -ge 2 ] && [ "$n" -le 6 ] || fail "a peer silent after its HELLO was dropped after '$n' s, expected about 3 (--handshake-timeout 3)"
expect_line "$tmp/recv.err" "^p2vrecv: warning: dropping connection from 127\.0\.0\.1:[0-9]+: handshake not complete within 3 s \(p2vrecv --handshake-timeout\)$"
kill "$recv_pid"; wait_recv

# 2. Trickle after the handshake.
tgt=$tmp/t2.img
start_recv --timeout 3 --retry 0 "$tgt"
timeout 90 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport" --trickle-after 300000 --trickle-every 1 &
ppid=$!
cleanup_fn "kill $ppid 2>/dev/null"
wait_for_file "$tmp/pport" 10 || fail "proxy did not start"
timeout 60 p2vsend -q --retry 0 "$src" "127.0.0.1:$(cat "$tmp/pport")" 2> "$tmp/send.err" &
spid=$!
cleanup_fn "kill $spid 2>/dev/null"
SECONDS=0
if ! timeout 30 tail --pid="$recv_pid" -f /dev/null; then
    cat "$tmp/recv.err" >&2
    fail "p2vrecv --timeout 3 was still receiving one byte a second after 30 s"
fi
wait_recv
echo "trickling sender: p2vrecv gave up after $SECONDS s, exit $recv_rc"
[ "$recv_rc" -eq 3 ] || fail "trickling sender: receiver exit $recv_rc, expected 3"
expect_line "$tmp/recv.err" "^p2vrecv: error: .* is incomplete"
exit 0
