#!/usr/bin/env bash
# Several disks: a disk whose sender never arrives, and a rerun with the
# disks in another order (issue 6).
#
# 1. p2vsend d0 /missing: disk 2 fails on the sender before it connects.
#    p2vrecv t0 t1 --timeout 5 must not wait for it for ever: disk 1 is
#    verified, disk 2 fails (3) within --timeout of the first disk's
#    arrival, and t1 is untouched; the exit status names disk 2.
# 2. While a session copies d0 -> t0 and d1 -> t1, the key holder runs
#    p2vsend d1 d0 (swapped): refused (6) before anything is written,
#    the running session continues and both targets end identical.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout cmp sha256sum
MiB=$((1 << 20))

d0=$tmp/d0.img d1=$tmp/d1.img
for d in "$d0" "$d1"; do
    for ((i = 0; i < 8; i++)); do head -c 12M /dev/urandom; head -c 4M /dev/zero; done > "$d"
done

# 1. A disk that never connects.
t0=$tmp/a0.img t1=$tmp/a1.img
start_recv --timeout 5 "$t0" "$t1"
rc=0
timeout 60 p2vsend -q "$d0" "$tmp/missing.img" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq $((64 + 2)) ] || { cat "$tmp/send.err" >&2; fail "sender: exit $rc, expected 66 (disk 2 failed)"; }
expect_line "$tmp/send.err" "^p2vsend: error: cannot open $tmp/missing\.img"
t_start=$(date +%s)
timeout 60 tail --pid="$recv_pid" -f /dev/null \
    || { cat "$tmp/recv.err" >&2; fail "p2vrecv still waits for a disk whose sender gave up"; }
wait_recv
[ $(( $(date +%s) - t_start )) -le 15 ] || fail "p2vrecv took more than --timeout to give up on disk 2"
[ "$recv_rc" -eq $((64 + 2)) ] || { cat "$tmp/recv.err" >&2; fail "receiver: exit $recv_rc, expected 66"; }
expect_line "$tmp/recv.err" "^p2vrecv: error: no sender connected for ${t1//./\\.} within 5 s"
expect_line "$tmp/recv.err" "^p2vrecv: error: disk 2, ${t1//./\\.}: failed \(exit status 3\)"
expect_line "$tmp/recv.err" "^p2vrecv: disk 1, ${t0//./\\.}: verified"
cmp "$d0" "$t0" || fail "disk 1 differs"
[ ! -e "$t1" ] || fail "$t1 was created although no sender came for it"

# 2. A rerun with the disks swapped while the session runs.
t0=$tmp/b0.img t1=$tmp/b1.img
start_recv --timeout 60 "$t0" "$t1"
p2vsend -q -j 1 --compress=zlib:9 --limit-rate 32M "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send1.err" &
spid=$!
cleanup_fn "kill -9 $spid 2>/dev/null"
for ((i = 0; i < 200; i++)); do
    [ "$(grep -c '^p2vrecv: connection from' "$tmp/recv.err")" -eq 2 ] && break
    sleep 0.05
done
[ "$(grep -c '^p2vrecv: connection from' "$tmp/recv.err")" -eq 2 ] || fail "the first sender did not connect both disks"
rc=0
timeout 60 p2vsend -q "$d1" "$d0" "127.0.0.1:$port" 2> "$tmp/swapped.err" || rc=$?
[ $rc -eq 6 ] || { cat "$tmp/swapped.err" >&2; fail "swapped disks: exit $rc, expected 6"; }
expect_line "$tmp/swapped.err" "is receiving .*d0\.img in this session; nothing written"
kill -0 $spid 2>/dev/null || { cat "$tmp/send1.err" >&2; fail "the first sender ended when the swapped one was refused"; }
grep -q "reconnected for" "$tmp/recv.err" && fail "p2vrecv ended a running session for a stream of another disk"
rc=0
timeout 300 tail --pid=$spid -f /dev/null || fail "the first sender did not finish"
wait $spid || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send1.err" "$tmp/recv.err" >&2; fail "sender $rc, receiver $recv_rc"; }
cmp "$d0" "$t0" || fail "disk 1 differs"
cmp "$d1" "$t1" || fail "disk 2 differs"
exit 0
