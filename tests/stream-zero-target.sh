#!/usr/bin/env bash
# Zero chunks on a block device: written by default (stale data never
# survives where the source had zeros), skipped with --target-is-zero
# (counted with the device's own write statistics).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires_root
requires losetup

src=$tmp/src.img
truncate -s 64M "$src"
# Exactly one 4 MiB chunk of data (8-12 MiB); the rest never written.
head -c 4M /dev/urandom | dd of="$src" bs=1M seek=8 conv=notrunc status=none

# A device full of old data: the copy must wipe it where the source is zero.
head -c 64M /dev/urandom > "$tmp/old.backing"
loop=$(losetup -f --show "$tmp/old.backing") || { echo "SKIP: no loop devices"; exit 77; }
cleanup_fn "losetup -d $loop"
start_recv "$loop"
p2vsend -q "$src" "127.0.0.1:$port" || fail "copy onto old data failed"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "p2vrecv exited $recv_rc"
cmp "$src" "$loop" || fail "stale data survived where the source has zeros"

# A zeroed device with --target-is-zero: only the 4 MiB of data is written.
truncate -s 0 "$tmp/zero.backing"
truncate -s 64M "$tmp/zero.backing"
zloop=$(losetup -f --show "$tmp/zero.backing")
cleanup_fn "losetup -d $zloop"
written() { awk '{ print $7 * 512 }' "/sys/block/$(basename "$zloop")/stat"; }
before=$(written)
start_recv --target-is-zero "$zloop"
p2vsend -q "$src" "127.0.0.1:$port" || fail "copy onto a zero device failed"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "p2vrecv exited $recv_rc"
cmp "$src" "$zloop" || fail "copy onto a zero device differs"
w=$(( $(written) - before ))
echo "bytes written with --target-is-zero: $w"
[ "$w" -eq $((4 << 20)) ] || fail "wrote $w bytes, expected the 4 MiB of data only"
exit 0
