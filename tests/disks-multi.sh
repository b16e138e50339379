#!/usr/bin/env bash
# Several disks in one session (issue 6): `p2vsend d0 d1 HOST:PORT` ↔
# `p2vrecv t0 t1`.  Disk 1 is an MBR server disk with two ext4
# filesystems, disk 2 a GPT disk; the targets are loop devices, the
# second larger.  Both arrive concurrently, each verified with its own
# digest and digest file; the second target's GPT is moved to its end
# (sgdisk -v clean) and the kernel sees both targets' partitions; one
# progress display has a line per disk and a total.
# Then: a second session where disk 2's target is too small: disk 2 is
# refused and untouched, disk 1 still verified, and both programs exit
# 64 + 2 (bit 1: the second disk failed).  A sender with two disks
# against a receiver with one target: refused, nothing written, exit 6.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires_root
requires losetup sgdisk sfdisk e2fsck cmp sha256sum
MiB=$((1 << 20))

d0=$tmp/c0d0.img d1=$tmp/c0d1.img
make_disk_image "$d0" 96M
truncate -s 64M "$d1"
sgdisk -n 1:2048:+16M -t 1:8300 -c 1:data -n 2:0:0 -t 2:8300 -c 2:more "$d1" > /dev/null
head -c 24M /dev/urandom | dd of="$d1" bs=1M seek=2 conv=notrunc status=none

truncate -s 96M "$tmp/t0.backing"
truncate -s 128M "$tmp/t1.backing"
t0=$(losetup -f --show "$tmp/t0.backing") || { echo "SKIP: no loop devices"; exit 77; }
cleanup_fn "partx -d $t0 2>/dev/null; losetup -d $t0"
t1=$(losetup -f --show "$tmp/t1.backing") || fail "no second loop device"
cleanup_fn "partx -d $t1 2>/dev/null; losetup -d $t1"

start_recv --digest-file "$tmp/r0.sha256" --digest-file "$tmp/r1.sha256" \
    --manifest "$tmp/m0.json" --manifest "$tmp/m1.json" "$t0" "$t1"
rc=0
timeout 300 p2vsend --progress=plain --digest-file "$tmp/s0.sha256" --digest-file "$tmp/s1.sha256" \
    "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
cat "$tmp/send.err"
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "two disks: sender $rc, receiver $recv_rc"; }

# Each disk is identical, with its own digest on both ends.
cmp -n $((96 * MiB)) "$d0" "$t0" || fail "disk 1 differs on $t0"
# (Its GPT headers changed afterwards, when the backup moved: compare
# what lies between them.)
cmp -n $((62 * MiB)) <(dd if="$d1" bs=1M skip=1 status=none) <(dd if="$t1" bs=1M skip=1 status=none) \
    || fail "disk 2 differs on $t1"
want0=$(digest_of blkhash-sha256 "$d0") want1=$(digest_of blkhash-sha256 "$d1")
[ "$(cat "$tmp/s0.sha256")" = "BLKHASH-SHA256 ($d0) = $want0" ] || fail "sender digest file 1: $(cat "$tmp/s0.sha256")"
[ "$(cat "$tmp/s1.sha256")" = "BLKHASH-SHA256 ($d1) = $want1" ] || fail "sender digest file 2: $(cat "$tmp/s1.sha256")"
[ "$(cat "$tmp/r0.sha256")" = "BLKHASH-SHA256 ($t0) = $want0" ] || fail "receiver digest file 1: $(cat "$tmp/r0.sha256")"
[ "$(cat "$tmp/r1.sha256")" = "BLKHASH-SHA256 ($t1) = $want1" ] || fail "receiver digest file 2: $(cat "$tmp/r1.sha256")"
grep -q '"path": "'"$d1"'"' "$tmp/m1.json" || fail "manifest 2 does not describe $d1"
expect_line "$tmp/recv.err" "^p2vrecv: verified: $t0 is identical"
expect_line "$tmp/recv.err" "^p2vrecv: verified: $t1 is identical"
expect_line "$tmp/send.err" "^p2vsend: disk 1, $d0: verified$"
expect_line "$tmp/send.err" "^p2vsend: disk 2, $d1: verified$"

# Concurrently: both connections were taken before either disk finished.
first_done=$(grep -n "verified: " "$tmp/recv.err" | head -1 | cut -d: -f1)
conns=$(head -n "$first_done" "$tmp/recv.err" | grep -c "^p2vrecv: connection from .* for ")
[ "$conns" -eq 2 ] || { cat "$tmp/recv.err" >&2; fail "the disks were not received concurrently"; }

# One display: a line per disk and a total, ending at 100%.
expect_line "$tmp/send.err" "^$d0: "
expect_line "$tmp/send.err" "^$d1: "
expect_line "$tmp/send.err" "^total: 160\.0 MiB / 160\.0 MiB  100%"
expect_line "$tmp/recv.err" "^total: 160\.0 MiB / 160\.0 MiB  100%"

# Partition tables: the larger GPT target is valid, the kernel sees both.
expect_line "$tmp/recv.err" "moved the backup GPT"
sgdisk -v "$t1" > "$tmp/sgdisk" 2>&1 || { cat "$tmp/sgdisk" >&2; fail "sgdisk -v $t1 failed"; }
expect_line "$tmp/sgdisk" "No problems found"
[ -b "${t0}p1" ] && [ -b "${t0}p2" ] && [ -b "${t1}p1" ] && [ -b "${t1}p2" ] \
    || fail "the kernel does not show the targets' partitions"
e2fsck -fn "${t0}p2" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck" >&2; fail "root filesystem on ${t0}p2 is not clean"; }

# A disk that fails does not stop or spoil the other.
partx -d "$t0" 2>/dev/null; partx -d "$t1" 2>/dev/null
dd if=/dev/zero of="$t0" bs=1M count=96 status=none
head -c 32M /dev/urandom > "$tmp/small.backing"
small=$(losetup -f --show "$tmp/small.backing") || fail "no third loop device"
cleanup_fn "losetup -d $small"
before=$(sha256sum < "$small")
start_recv "$t0" "$small"
rc=0
timeout 300 p2vsend --progress=none "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send2.err" || rc=$?
wait_recv
cat "$tmp/send2.err"
[ "$recv_rc" -eq 66 ] || { cat "$tmp/recv.err" >&2; fail "receiver exit $recv_rc, expected 66 (64 + disk 2)"; }
[ "$rc" -eq 66 ] || fail "sender exit $rc, expected 66 (64 + disk 2)"
expect_line "$tmp/recv.err" "^p2vrecv: error: target $small is 32\.0 MiB, source is 64\.0 MiB"
expect_line "$tmp/recv.err" "^p2vrecv: error: disk 2, $small: failed \(exit status 6\)$"
expect_line "$tmp/send2.err" "^p2vsend: error: disk 2, $d1: failed \(exit status 6\)$"
[ "$(sha256sum < "$small")" = "$before" ] || fail "the refused target was changed"
cmp -n $((96 * MiB)) "$d0" "$t0" || fail "disk 1 differs after disk 2 failed"

# Two disks sent, one target given: refused before anything is written.
start_recv "$small"
rc=0
timeout 120 p2vsend --progress=none "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send3.err" || rc=$?
wait_recv
[ "$recv_rc" -eq 6 ] && [ "$rc" -eq 6 ] || { cat "$tmp/recv.err" "$tmp/send3.err" >&2; fail "count mismatch: sender $rc, receiver $recv_rc, expected 6"; }
expect_line "$tmp/recv.err" "the sender has 2 disks, this p2vrecv 1 target"
[ "$(sha256sum < "$small")" = "$before" ] || fail "a mismatched session wrote the target"
exit 0
