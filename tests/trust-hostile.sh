#!/usr/bin/env bash
# Hostile or broken peers (issue 4) end cleanly and never write:
#  - a peer that connects and says nothing is dropped after about
#    --greet-timeout s (2 here);
#  - a peer that sends garbage instead of a p2vstream preamble is dropped;
#  - so is a peer that speaks another major version of the stream;
#  and p2vrecv keeps listening through both: a real sender then succeeds.
#  - a sender that goes silent mid-stream (a proxy stops forwarding after
#    2 MiB, in the middle of a record) ends the session with --timeout 3
#    --retry 0: exit 3, "sent nothing for 3 s" or "is too slow: no
#    complete record within 3 s", "at X of Y; TARGET is incomplete",
#    within 10 s, and what was written is the source's.
# (Smaller and mounted targets: stream-refuse.sh.  A peer that trickles
# bytes: trust-slowloris.sh.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
proxy=$top_srcdir/tests/trust-proxy.py

src=$tmp/src.img
{ head -c 8M /dev/urandom; head -c 4M /dev/zero; head -c 8M /dev/urandom; } > "$src"

# 1. Silent peer, then garbage, then the real sender.
tgt=$tmp/t1.img
start_recv --greet-timeout 2 "$tgt"
SECONDS=0
timeout 60 python3 "$proxy" silent --to "$port" --max 50 > "$tmp/silent.out"
cat "$tmp/silent.out"
n=$(sed -n 's/^silent: peer closed after \([0-9]*\) s$/\1/p' "$tmp/silent.out")
[ -n "$n" ] || fail "a silent peer was not dropped within 50 s"
[ "$n" -ge 2 ] && [ "$n" -le 6 ] || fail "a silent peer was dropped after $n s, expected about 2 (--greet-timeout 2)"
kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv stopped after a silent peer"; }
expect_line "$tmp/recv.err" "^p2vrecv: warning: dropping connection from 127\.0\.0\.1:[0-9]+: no p2vsend greeting within 2 s \(p2vrecv --greet-timeout\)$"

head -c 64K /dev/urandom > "$tmp/garbage"
timeout 30 python3 "$proxy" replay --to "$port" --file "$tmp/garbage" --timeout 10 > "$tmp/replay.out"
expect_line "$tmp/replay.out" "closed-by-peer=yes"
kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv stopped after garbage"; }
[ "$(grep -c 'not a p2vsend stream' "$tmp/recv.err")" -eq 1 ] || { cat "$tmp/recv.err" >&2; fail "garbage not reported as such"; }
# A sender of another stream version (here major 2, keyless HELLO after it).
{ printf 'P2VSTRM\n\000\002\000\000\000\000\000\000'; head -c 64 /dev/urandom; } > "$tmp/v2"
timeout 30 python3 "$proxy" replay --to "$port" --file "$tmp/v2" --timeout 10 > "$tmp/replay2.out"
expect_line "$tmp/replay2.out" "closed-by-peer=yes"
kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv stopped after a version-2 peer"; }
expect_line "$tmp/recv.err" "^p2vrecv: warning: ignoring connection from 127\.0\.0\.1:[0-9]+: it speaks p2vstream version 2, this p2vrecv reads version 1$"
[ ! -e "$tgt" ] || fail "a hostile peer created the target"

rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "real sender after hostile peers: exit $rc"; }
wait_recv
[ "$recv_rc" -eq 0 ] && cmp "$src" "$tgt" || fail "real sender after hostile peers: receiver $recv_rc or target differs"

# 2. A sender that goes silent after 2 MiB: the proxy holds back the rest.
tgt=$tmp/t2.img
start_recv --timeout 3 --retry 0 "$tgt"
timeout 60 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport" --trickle-after $((2 << 20)) --trickle-every 1000 &
ppid=$!
cleanup_fn "kill $ppid 2>/dev/null"
wait_for_file "$tmp/pport" 10 || fail "proxy did not start"
timeout 60 p2vsend -q --retry 0 "$src" "127.0.0.1:$(cat "$tmp/pport")" 2> "$tmp/send.err" &
spid=$!
cleanup_fn "kill $spid 2>/dev/null"
SECONDS=0
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv --timeout 3 did not give up on a silent sender within 30 s"
took=$SECONDS
wait_recv
echo "silent sender: p2vrecv gave up after $took s, exit $recv_rc"
[ "$recv_rc" -eq 3 ] || { cat "$tmp/recv.err" >&2; fail "silent sender: receiver exit $recv_rc, expected 3"; }
expect_line "$tmp/recv.err" "^p2vrecv: error: 127\.0\.0\.1:[0-9]+ is too slow: no complete record within 3 s at [0-9.]+ ([KMG]i)?B of 20\.0 MiB; .*t2\.img is incomplete$"
[ "$took" -le 10 ] || fail "p2vrecv took $took s to give up with --timeout 3"
# What it wrote is the source's (a prefix; the rest never arrived).
d=$(sed -n 's/^durable //p' "$tgt.p2v-state" 2>/dev/null)
cmp -n "${d:-0}" "$src" "$tgt" || fail "silent sender: the durable prefix differs"
kill $ppid 2>/dev/null
timeout 30 tail --pid=$spid -f /dev/null || fail "p2vsend did not end after the receiver gave up"
exit 0
