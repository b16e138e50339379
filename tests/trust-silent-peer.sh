#!/usr/bin/env bash
# A live but silent peer must not hang p2vsend (issue 12, item 7).
#  1. A listener that accepts and never speaks: the handshake gives up
#     after --timeout s, exit 3.
#  2. A relay that passes the whole stream but swallows the receiver's
#     verdict (RESULT) and holds the connection open: the RESULT wait
#     gives up too, exit 3, without claiming the copy verified.
#  3. --timeout takes whole seconds only.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3
proxy=$top_srcdir/tests/trust-proxy.py
src=$tmp/src.img
head -c 8M /dev/urandom > "$src"

# 1.
timeout 60 python3 - "$tmp/lport" <<'PY' &
import os, socket, sys, time
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(4)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
ls.settimeout(30)
c, _ = ls.accept()
time.sleep(30)
PY
lpid=$!
cleanup_fn "kill $lpid 2>/dev/null"
wait_for_file "$tmp/lport" 10 || fail "listener did not start"
SECONDS=0
rc=0; timeout 30 p2vsend --progress=none --timeout 3 --retry 0 "$src" "127.0.0.1:$(cat "$tmp/lport")" 2> "$tmp/send.err" || rc=$?
took=$SECONDS
cat "$tmp/send.err"
[ $rc -eq 3 ] || fail "silent listener: p2vsend exit $rc after $took s, expected 3 within --timeout"
[ $took -le 10 ] || fail "silent listener: p2vsend took $took s with --timeout 3"
expect_line "$tmp/send.err" "^p2vsend: error: 127\.0\.0\.1:[0-9]+ did not answer the handshake in time \(p2vsend --timeout\)$"
kill $lpid 2>/dev/null

# 2. Records from the receiver: CHALLENGE, ACCEPT, RESULT (the 3rd).
start_recv "$tmp/tgt.img"
timeout 60 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport" --mute-r2s-before 3 --mute-secs 40 2> "$tmp/proxy.err" &
ppid=$!
cleanup_fn "kill $ppid 2>/dev/null"
wait_for_file "$tmp/pport" 10 || fail "proxy did not start"
SECONDS=0
rc=0; timeout 40 p2vsend --progress=none --timeout 3 --retry 0 "$src" "127.0.0.1:$(cat "$tmp/pport")" 2> "$tmp/send.err" || rc=$?
took=$SECONDS
cat "$tmp/send.err" "$tmp/proxy.err"
grep -q "muted the receiver" "$tmp/proxy.err" || fail "the proxy muted nothing"
[ $rc -eq 3 ] || fail "muted verdict: p2vsend exit $rc after $took s, expected 3"
[ $took -le 15 ] || fail "muted verdict: p2vsend took $took s with --timeout 3"
expect_line "$tmp/send.err" "sent no verdict within 3 s of the end of the stream \(p2vsend --timeout\); the target may be incomplete$"
grep -q "verified the copy" "$tmp/send.err" && fail "muted verdict: p2vsend claimed a verified copy"
timeout 30 tail --pid="$recv_pid" -f /dev/null || kill "$recv_pid"
wait_recv

# 3.
for bad in 0 1.5 3s -1 ""; do
    rc=0; p2vsend --timeout="$bad" "$src" 127.0.0.1:1 2> "$tmp/opt.err" || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/opt.err"; fail "--timeout=$bad: exit $rc, expected 1"; }
done
exit 0
