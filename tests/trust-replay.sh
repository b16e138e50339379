#!/usr/bin/env bash
# A replayed capture of an earlier session (issue 4): a proxy records
# every byte a real, successful p2vsend sent; replaying them verbatim to
# a new p2vrecv holding the same key is refused (its challenge differs,
# so the recorded proof is wrong), nothing is written (a nonexistent
# target is not created, an existing one keeps its checksum, no resume
# state), and p2vrecv keeps listening: a real sender then succeeds.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
proxy=$top_srcdir/tests/trust-proxy.py

src=$tmp/src.img
{ head -c 6M /dev/urandom; head -c 4M /dev/zero; head -c 6M /dev/urandom; } > "$src"

# 1. A real session through the recording proxy.
start_recv "$tmp/first.img"
timeout 60 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport" --record "$tmp/capture" &
ppid=$!
cleanup_fn "kill $ppid 2>/dev/null"
wait_for_file "$tmp/pport" 10 || fail "proxy did not start"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$(cat "$tmp/pport")" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "recorded session: sender exit $rc"; }
wait_recv
[ "$recv_rc" -eq 0 ] || fail "recorded session: receiver exit $recv_rc"
cmp "$src" "$tmp/first.img" || fail "recorded session: target differs"
timeout 10 tail --pid=$ppid -f /dev/null
size=$(stat -c %s "$tmp/capture")
# The capture holds the whole session, so a replay would be a full copy
# if the receiver trusted it.
[ "$size" -gt $((6 << 20)) ] || fail "capture is only $size bytes"

# replay_to TARGET: replay the capture to a fresh p2vrecv for TARGET;
# the receiver refuses it as a wrong key and is still listening.
replay_to() {
    start_recv "$1"
    timeout 60 python3 "$proxy" replay --to "$port" --file "$tmp/capture" > "$tmp/replay.out" 2>&1 \
        || { cat "$tmp/replay.out" >&2; fail "replay helper failed"; }
    sleep 0.5
    kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv stopped after a replay"; }
    expect_line "$tmp/recv.err" "^p2vrecv: warning: 127\.0\.0\.1:[0-9]+ does not have the key \(wrong --key\); connection refused, still listening$"
    if grep -q "receiving\|connection from\|resuming" "$tmp/recv.err"; then
        cat "$tmp/recv.err" >&2; fail "p2vrecv accepted a replayed session"
    fi
    expect_line "$tmp/replay.out" "closed-by-peer=yes"
    expect_line "$tmp/replay.out" "wrong key"
}

# 2. Replay to a new receiver, target absent.
replay_to "$tmp/second.img"
[ ! -e "$tmp/second.img" ] || fail "a replay created the target"
[ ! -e "$tmp/second.img.p2v-state" ] || fail "a replay left a resume state"
kill "$recv_pid"; wait_recv

# 3. Replay to a new receiver, target full of other data; then the real
# sender is accepted by the same receiver.
head -c 16M /dev/urandom > "$tmp/third.img"
before=$(digest_of sha256 "$tmp/third.img")
replay_to "$tmp/third.img"
# Twice: a second replay fares no better.
timeout 60 python3 "$proxy" replay --to "$port" --file "$tmp/capture" > "$tmp/replay.out" 2>&1
[ "$(grep -c 'does not have the key' "$tmp/recv.err")" -eq 2 ] || { cat "$tmp/recv.err" >&2; fail "second replay not refused"; }
[ "$(digest_of sha256 "$tmp/third.img")" = "$before" ] || fail "a replay modified the target"
[ ! -e "$tmp/third.img.p2v-state" ] || fail "a replay left a resume state"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "real sender after replays: exit $rc"; }
wait_recv
[ "$recv_rc" -eq 0 ] || fail "receiver exit $recv_rc after the real sender"
cmp "$src" "$tmp/third.img" || fail "target differs after the real sender"
exit 0
