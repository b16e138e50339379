#!/usr/bin/env bash
# A delta session with two disks: `p2vsend --delta d0 d1 HOST:PORT` ↔
# `p2vrecv t0 t1`.  t0 holds an unchanged copy of d0 (nothing of it is
# sent), t1 a copy of d1 in which 3 chunks changed since (exactly those
# are sent); both end identical, each with its own digest.  Then t1 is
# shorter than d1: disk 2 is refused and untouched while disk 1 is
# still verified, and both programs exit 64 + 2 (bit 1: second disk).
# Last, as root with loop devices: a block device target (a larger
# disk holding an older copy, one chunk since turned to zeros on the
# source, which must be written as zeros there), then a block device
# smaller than the source: refused, untouched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires cmp sha256sum
CS=$((256 << 10))

d0=$tmp/d0.img d1=$tmp/d1.img t0=$tmp/t0.img t1=$tmp/t1.img
head -c $((64 << 20)) /dev/urandom > "$d0"
head -c $((40 << 20)) /dev/urandom > "$d1"
truncate -s $((48 << 20)) "$d1"
cp "$d0" "$t0"
cp "$d1" "$t1"
for k in 3 77 190; do head -c $CS /dev/urandom | dd of="$d1" bs=$CS seek=$k conv=notrunc status=none; done

start_recv "$t0" "$t1"
rc=0
timeout 120 p2vsend --delta -b 256K --progress=plain "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "two disks: sender $rc, receiver $recv_rc"; }
cmp "$d0" "$t0" || fail "disk 1 differs"
cmp "$d1" "$t1" || fail "disk 2 differs"
for i in 0 1; do
    d=$tmp/d$i.img t=$tmp/t$i.img want=$(digest_of blkhash-sha256 "$tmp/d$i.img")
    expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  $d$"
    expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  $t$"
done
expect_line "$tmp/send.err" "^p2vsend: delta: hashed 64\.0 MiB in .*; 0 of 256 chunks changed \(0 B sent\), 256 unchanged;"
expect_line "$tmp/send.err" "^p2vsend: delta: hashed 48\.0 MiB in .*; 3 of 192 chunks changed \(768\.0 KiB sent\), 189 unchanged;"
expect_line "$tmp/recv.err" "^p2vrecv: delta: hashed 48\.0 MiB of .*t1\.img in .*; 3 of 192 chunks changed, 189 unchanged$"
expect_line "$tmp/send.err" "^p2vsend: disk 1, $d0: verified$"
expect_line "$tmp/send.err" "^p2vsend: disk 2, $d1: verified$"

# Disk 2's target too short: refused on its own, disk 1 goes through.
head -c $CS /dev/urandom | dd of="$d0" bs=$CS seek=9 conv=notrunc status=none
truncate -s $((32 << 20)) "$t1"
before=$(digest_of sha256 "$t1")
start_recv "$t0" "$t1"
rc=0
timeout 120 p2vsend --delta -b 256K --progress=plain "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 66 ] && [ "$recv_rc" -eq 66 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "short second target: sender $rc, receiver $recv_rc (want 66)"; }
cmp "$d0" "$t0" || fail "disk 1 differs after the second session"
expect_line "$tmp/send.err" "^p2vsend: delta: hashed 64\.0 MiB in .*; 1 of 256 chunks changed"
expect_line "$tmp/recv.err" "^p2vrecv: error: --delta: target .*t1\.img is 32\.0 MiB \(33554432 bytes\), shorter than the source's 48\.0 MiB \(50331648 bytes\)"
[ "$(digest_of sha256 "$t1")" = "$before" ] && [ "$(stat -c %s "$t1")" -eq $((32 << 20)) ] || fail "the refused target was changed"

[ "$(id -u)" -eq 0 ] && command -v losetup > /dev/null || { echo "no root or losetup: block device part skipped"; exit 0; }
truncate -s $((80 << 20)) "$tmp/big.backing"
dd if="$d0" of="$tmp/big.backing" conv=notrunc status=none
dd if=/dev/zero of="$d0" bs=$CS seek=20 count=1 conv=notrunc status=none
head -c $CS /dev/urandom | dd of="$d0" bs=$CS seek=255 conv=notrunc status=none
lb=$(losetup -f --show "$tmp/big.backing") || { echo "no loop devices: block device part skipped"; exit 0; }
cleanup_fn "losetup -d $lb"
start_recv "$lb"
rc=0
timeout 120 p2vsend --delta -b 256K --progress=plain "$d0" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "block device: sender $rc, receiver $recv_rc"; }
cmp -n $((64 << 20)) "$d0" "$lb" || fail "block device target differs"
expect_line "$tmp/recv.err" "^p2vrecv: delta: hashed 64\.0 MiB of $lb in .*; 2 of 256 chunks changed, 254 unchanged$"

truncate -s $((32 << 20)) "$tmp/small.backing"
ls=$(losetup -f --show "$tmp/small.backing") || fail "no second loop device"
cleanup_fn "losetup -d $ls"
start_recv "$ls"
rc=0
timeout 60 p2vsend --delta -q "$d0" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 6 ] && [ "$recv_rc" -eq 6 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "small block device: sender $rc, receiver $recv_rc (want 6)"; }
expect_line "$tmp/recv.err" "^p2vrecv: error: target $ls is 32\.0 MiB, source is 64\.0 MiB; nothing written$"
[ "$(stat -c %b "$tmp/small.backing")" -eq 0 ] || fail "the refused block device was written"
exit 0
