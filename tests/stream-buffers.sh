#!/usr/bin/env bash
# The link keeps going while the receiver pauses: a target's flush holds
# back every write for a tenth of a second or more, and meanwhile the
# sender goes on sending into p2vrecv's 32 MiB receive buffer.  With
# p2vrecv stopped (SIGSTOP), at least 16 MiB queue up in its socket
# (8 MB before p2vrecv asked for more), and the copy then finishes
# identical.  The receive buffer grows only once the peer proved the
# key: a stranger's connection gets what the kernel gives anyone.
# Without the privilege to go past net.core.rmem_max the copy still
# works, on the kernel's own buffer sizes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires_root
requires ss cmp setpriv

MiB=$((1 << 20))
src=$tmp/src.img
head -c $((256 * MiB)) /dev/urandom > "$src"
chmod 644 "$src"

# queued SPORT|DPORT PORT: bytes in the receive queue (sport: p2vrecv's
# side) or the send queue (dport: p2vsend's side) of that connection.
queued() {
    local col=1
    [ "$1" = dport ] && col=2
    ss -tnH state established "( $1 = :$2 )" | awk -v c=$col '{ s += $c } END { print s + 0 }'
}

start_recv "$tmp/out.img"
timeout 120 p2vsend --progress=none --limit-rate=100M "$src" "127.0.0.1:$port" 2> "$tmp/send.err" &
spid=$!
for ((i = 0; i < 100; i++)); do
    grep -q "receiving" "$tmp/recv.err" && break
    sleep 0.05
done
grep -q "receiving" "$tmp/recv.err" || { cat "$tmp/recv.err" >&2; fail "p2vrecv did not start receiving"; }
kill -STOP "$recv_pid"
cleanup_fn "kill -CONT $recv_pid 2>/dev/null"
rq=0 sq=0
for ((i = 0; i < 50; i++)); do
    sleep 0.1
    rq=$(queued sport "$port") sq=$(queued dport "$port")
    [ "$rq" -ge $((24 * MiB)) ] && break
done
kill -CONT "$recv_pid"
echo "while p2vrecv was stopped: $rq bytes queued to it, $sq in p2vsend's socket"
[ "$rq" -ge $((16 * MiB)) ] || fail "only $rq bytes queued in p2vrecv's socket while it was stopped"
wait "$spid" || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "p2vsend failed after the pause"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc after the pause"; }
cmp "$src" "$tmp/out.img" || fail "the copy differs from the source after the pause"
rm -f "$tmp/out.img" "$tmp/out.img.p2v.json"

# A connection that has not proved the key keeps the kernel's receive
# buffer (far below 32 MiB).
start_recv "$tmp/out.img"
python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(2)' "$port" &
ppid=$!
rb=
for ((i = 0; i < 15; i++)); do
    sleep 0.1
    rb=$(ss -tmnH state established "( sport = :$port )" | sed -n 's/.*skmem:([^)]*,rb\([0-9]*\),.*/\1/p' | head -1)
    [ -n "$rb" ] && break
done
wait "$ppid" || true
kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null || true
echo "a stranger's connection: receive buffer $rb bytes"
[ -n "$rb" ] || fail "no connection from the stranger seen"
[ "$rb" -lt $((16 * MiB)) ] || fail "a connection that proved no key got a $rb-byte receive buffer"

# Unprivileged: no CAP_NET_ADMIN, the kernel's buffer sizes, the same copy.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
chmod 755 "$tmp"
if ! $nobody sh -c 'test -x "$1" && test -x "$2" && test -r "$3"' _ \
        "$(command -v p2vrecv)" "$(command -v p2vsend)" "$src"; then
    echo "user 65534 cannot run the build's programs from here: the unprivileged case is not run"
    exit 0
fi
udir=$tmp/nobody
mkdir "$udir"
chown 65534:65534 "$udir"
recv_as=$nobody
start_recv --state-dir="$udir" "$udir/out.img"
timeout 120 $nobody p2vsend --progress=none "$src" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "unprivileged p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "unprivileged p2vrecv exited $recv_rc"; }
cmp "$src" "$udir/out.img" || fail "the unprivileged copy differs from the source"
echo "unprivileged (user 65534): the copy is identical"
exit 0
