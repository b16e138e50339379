#!/usr/bin/env bash
# IPv6: p2vrecv --listen [::1]:0 and p2vsend to [::1]:PORT.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null \
    || { echo "SKIP: no IPv6 loopback"; exit 77; }

src=$tmp/src.img
head -c 2M /dev/urandom > "$src"
p2vrecv -q --listen '[::1]:0' "$tmp/out.img" 2> "$tmp/recv.err" &
pid=$!
cleanup_fn "kill $pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\)$/\1/p' "$tmp/recv.err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv did not listen on [::1]"; }
p2vsend -q "$src" "[::1]:$port" || fail "p2vsend over IPv6 failed"
wait $pid || fail "p2vrecv failed"
cmp "$src" "$tmp/out.img" || fail "copy differs"
exit 0
