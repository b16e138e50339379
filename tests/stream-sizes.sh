#!/usr/bin/env bash
# Edge sizes around the chunk boundary, with 64 KiB chunks so there are
# many: empty, 1 byte, chunk-1, chunk, chunk+1, and incompressible data.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

chunk=65536
for size in 0 1 $((chunk - 1)) $chunk $((chunk + 1)) $((3 * chunk + 17)); do
    src=$tmp/src.$size out=$tmp/out.$size
    head -c "$size" /dev/urandom > "$src"
    start_recv "$out"
    timeout 60 p2vsend -q -b 64K "$src" "127.0.0.1:$port" || fail "size $size: p2vsend exited $?"
    wait_recv
    [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "size $size: p2vrecv exited $recv_rc"; }
    cmp "$src" "$out" || fail "size $size: target differs"
    [ "$(stat -c %s "$out")" -eq "$size" ] || fail "size $size: target has the wrong size"
done

# Incompressible data is stored, so the wire carries barely more than the disk.
src=$tmp/noise out=$tmp/noise.out
head -c 8M /dev/urandom > "$src"
start_recv "$out"
p2vsend --progress=none "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || fail "noise: p2vsend failed"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "noise: p2vrecv exited $recv_rc"
cmp "$src" "$out" || fail "noise: target differs"
expect_line "$tmp/send.err" "on the wire \(100\.[0-9]% of what was sent\)"
exit 0
