#!/usr/bin/env bash
# A 16 GiB sparse source (made with truncate, a little data at both
# ends): the copy is identical, stays sparse, and p2vrecv's peak memory
# stays under 256 MiB however big the disk.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

# Under sanitizers every memcmp is checked, and RSS includes shadow
# memory: a smaller disk still tests the sparse copy, not the memory bound.
gib=16
[ -z "${P2V_SANITIZE:-}" ] || gib=2
src=$tmp/sparse.img out=$tmp/sparse.out
truncate -s ${gib}G "$src"
printf 'boot sector' | dd of="$src" conv=notrunc status=none
head -c 1M /dev/urandom | dd of="$src" bs=1M seek=$((gib * 1024 - 1)) conv=notrunc status=none

start_recv "$out"
peak=0
p2vsend -q "$src" "127.0.0.1:$port" &
send_pid=$!
# Sample p2vrecv's high-water mark until it exits (bounded: 10 minutes).
for ((i = 0; i < 6000; i++)); do
    hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$recv_pid/status 2>/dev/null) || hwm=
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    kill -0 "$recv_pid" 2>/dev/null || break
    sleep 0.1
done
wait "$send_pid" || fail "p2vsend failed"
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
echo "p2vrecv peak RSS: $((peak / 1024)) MiB"
if [ -z "${P2V_SANITIZE:-}" ]; then
    [ "$peak" -gt 0 ] && [ "$peak" -lt $((256 * 1024)) ] || fail "p2vrecv peak RSS ${peak} kB is not under 256 MiB"
fi

[ "$(stat -c %s "$out")" -eq $((gib << 30)) ] || fail "copy has the wrong size"
used=$(( $(stat -c %b "$out") * $(stat -c %B "$out") ))
[ "$used" -lt $((64 << 20)) ] || fail "copy is not sparse: $used bytes allocated"
cmp "$out" "$src" || fail "copy differs"
exit 0
