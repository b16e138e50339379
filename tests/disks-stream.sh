#!/usr/bin/env bash
# Partition tables through a real transfer: p2vsend prints the source's
# table before sending and warns about a filesystem mounted read-write;
# p2vrecv, after a verified copy of a GPT disk onto a larger block
# device, moves the backup GPT to the end (sgdisk -v clean) and makes
# the kernel see the partitions (/dev/loopNpM appear) without partprobe.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires_root
requires losetup sgdisk mkfs.ext4 mount

src=$tmp/gpt.img
truncate -s 64M "$src"
sgdisk -n 1:2048:+16M -t 1:8300 -c 1:boot -n 2:0:0 -t 2:8300 -c 2:root "$src" > /dev/null
head -c 8M /dev/urandom | dd of="$src" bs=1M seek=2 conv=notrunc status=none

truncate -s 96M "$tmp/target.backing"
loop=$(losetup -f --show "$tmp/target.backing") || { echo "SKIP: no loop devices"; exit 77; }
cleanup_fn "partx -d $loop 2>/dev/null; losetup -d $loop"

start_recv "$loop"
p2vsend --progress=none "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || { cat "$tmp/send.err" >&2; fail "p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
expect_line "$tmp/send.err" "gpt partition table"
expect_line "$tmp/send.err" "^ +1 +2048 +16\.0 MiB .*boot"
expect_line "$tmp/recv.err" "^p2vrecv: verified: $loop is identical"
expect_line "$tmp/recv.err" "moved the backup GPT"
sgdisk -v "$loop" > "$tmp/sgdisk" 2>&1 || { cat "$tmp/sgdisk" >&2; fail "sgdisk -v failed"; }
expect_line "$tmp/sgdisk" "No problems found"
[ -b "${loop}p1" ] && [ -b "${loop}p2" ] || fail "the kernel does not show ${loop}p1 and p2"
cmp -n $((16 << 20)) "${loop}p1" <(dd if="$src" bs=512 skip=2048 count=32768 status=none) \
    || fail "${loop}p1 does not hold the source's first partition"

# A source with a filesystem mounted read-write: warned, still sent.
truncate -s 32M "$tmp/fs.backing"
mkfs.ext4 -q -F "$tmp/fs.backing"
fsloop=$(losetup -f --show "$tmp/fs.backing")
cleanup_fn "losetup -d $fsloop"
mkdir "$tmp/mnt"
mount "$fsloop" "$tmp/mnt" || { echo "SKIP: cannot mount here"; exit 77; }
cleanup_fn "umount $tmp/mnt 2>/dev/null"
p2vsend -q --stdout "$fsloop" 2> "$tmp/send.err" > /dev/null || fail "p2vsend of a mounted disk failed"
expect_line "$tmp/send.err" "^p2vsend: warning: $fsloop has a filesystem mounted read-write on $tmp/mnt: the copy will be inconsistent"
exit 0
