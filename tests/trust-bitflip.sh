#!/usr/bin/env bash
# A corrupted record is a dropped link, not the end (issue 12, item 8).
# tests/trust-proxy.py flips one bit, once, in the payload of a chosen
# record: SOURCE, CHUNK (at random offsets), END from the sender, ACCEPT
# and (in a --delta run) the first HASHES from the receiver (it may be the
# only one: the receiver batches the hashes it has).  Each time both ends
# must say what happened, the sender must reconnect with a fresh
# handshake and finish by itself, both exit 0, and the target must be
# identical to the source.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
MiB=$((1 << 20))

# Random data: every chunk travels stored, 4 MiB of payload each.
src=$tmp/src.img
head -c $((32 * MiB)) /dev/urandom > "$src"
stale=$tmp/stale.img
{ head -c $((16 * MiB)) "$src"; head -c $((16 * MiB)) /dev/urandom; } > "$stale"

trial=0
# flip NAME SENDER-OPTS -- PROXY-OPTS...: one run through the proxy.
flip() {
    local name=$1 sopts=$2 rc=0
    shift 2
    trial=$((trial + 1))
    local tgt=$tmp/t$trial.img
    rm -f "$tgt"
    case $sopts in *--delta*) cp "$stale" "$tgt" ;; esac
    proxied_copy "$src" "$tgt" "$sopts" "$@"
    rc=$send_rc
    echo "--- $name: sender $rc, receiver $recv_rc"
    grep -h "proxy: flipped" "$tmp/proxy.err" || { cat "$tmp/proxy.err" >&2; fail "$name: the proxy flipped nothing"; }
    grep -E "failed authentication|reconnect" "$tmp/send.err" "$tmp/recv.err"
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "$name: exits $rc/$recv_rc, expected 0/0"; }
    expect_line "$tmp/send.err" "failed authentication \(corrupted or tampered in transit\)(; it was not written)?; reconnecting, 3 tries left$"
    expect_line "$tmp/send.err" "verified the copy of .*: identical"
    cmp "$src" "$tgt" || fail "$name: target differs"
}

flip SOURCE "" --flip-record 0x01 --flip-off 5
expect_line "$tmp/recv.err" "source's header record failed authentication"
waits() { expect_line "$tmp/recv.err" "waiting up to 20 s for the sender to reconnect and resume \(1 of 5\)"; }
flip END "" --flip-record 0x20 --flip-off 3
expect_line "$tmp/recv.err" "record at 32\.0 MiB of 32\.0 MiB failed authentication \(corrupted or tampered in transit\); it was not written; dropping the connection"
waits
flip ACCEPT "" --flip-record 0x02 --flip-dir r2s --flip-off 1
expect_line "$tmp/send.err" "a record from 127\.0\.0\.1:[0-9]+ before it accepted the stream failed authentication"
waits
flip HASHES --delta --flip-record 0x11 --flip-dir r2s --flip-nth 1 --flip-off 20
expect_line "$tmp/send.err" "of its hashes failed authentication"
waits
# CHUNK: random records, random bytes of the payload (its 24-byte
# chunk header included).
for i in 1 2 3 4 5 6; do
    nth=$((1 + RANDOM % 8)) off=$(( (RANDOM * 32768 + RANDOM) % (4 * MiB + 24) ))
    flip "CHUNK #$nth+$off" "" --flip-record 0x10 --flip-nth $nth --flip-off $off
    expect_line "$tmp/recv.err" "record at [0-9.]+ (B|KiB|MiB) of 32\.0 MiB failed authentication"
    waits
done

# A pipe has no way back: the same flip fails the stream cleanly, exit 4,
# and nothing of the bad record is written.
p2vsend --stdout --progress=none "$src" > "$tmp/stream" 2> "$tmp/send.err" || fail "--stdout failed"
python3 - "$tmp/stream" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(20 << 20)
b = f.read(1)
f.seek(20 << 20)
f.write(bytes([b[0] ^ 1]))
PY
rc=0; timeout 60 p2vrecv --stdin --progress=none "$tmp/pipe.img" < "$tmp/stream" 2> "$tmp/recv.err" || rc=$?
cat "$tmp/recv.err"
[ $rc -eq 4 ] || fail "pipe: p2vrecv exit $rc after a flipped bit, expected 4"
expect_line "$tmp/recv.err" "^p2vrecv: error: record at [0-9.]+ MiB of 32\.0 MiB is not authentic \(tampered with or corrupted in transit\); it was not written$"
grep -q "reconnect" "$tmp/recv.err" && fail "pipe: p2vrecv talks of a reconnection"
exit 0
