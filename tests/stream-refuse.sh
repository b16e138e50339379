#!/usr/bin/env bash
# The receiver refuses before writing: a block device smaller than the
# source, a mounted block device, a directory.  Both ends say why, the
# exit status is 6, and the target is untouched (same checksum).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires_root
requires losetup mkfs.ext4 mount

src=$tmp/src.img
head -c 24M /dev/urandom > "$src"

truncate -s 16M "$tmp/small.backing"
head -c 16M /dev/urandom > "$tmp/small.backing"
loop=$(losetup -f --show "$tmp/small.backing") || { echo "SKIP: no loop devices"; exit 77; }
cleanup_fn "losetup -d $loop"
before=$(digest_of sha256 "$loop")

start_recv "$loop"
rc=0; p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 6 ] || { cat "$tmp/send.err" >&2; fail "small target: sender exit $rc, expected 6"; }
[ "$recv_rc" -eq 6 ] || fail "small target: receiver exit $recv_rc, expected 6"
expect_line "$tmp/recv.err" "^p2vrecv: error: target $loop is 16\.0 MiB, source is 24\.0 MiB; nothing written$"
expect_line "$tmp/send.err" "^p2vsend: error: receiver 127\.0\.0\.1:$port refused: target $loop is 16\.0 MiB, source is 24\.0 MiB; nothing written$"
[ "$(digest_of sha256 "$loop")" = "$before" ] || fail "refused target was modified"

# Mounted (read-only, so the mount itself writes nothing): the kernel
# says EBUSY to an exclusive open.
mkfs.ext4 -q -F "$loop"
before=$(digest_of sha256 "$loop")
mkdir "$tmp/mnt"
mount -o ro "$loop" "$tmp/mnt" || { echo "SKIP: cannot mount here"; exit 77; }
cleanup_fn "umount $tmp/mnt 2>/dev/null"
head -c 1M /dev/urandom > "$tmp/one.img"
start_recv "$loop"
rc=0; p2vsend -q "$tmp/one.img" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 6 ] && [ "$recv_rc" -eq 6 ] || fail "mounted target: exits $rc/$recv_rc, expected 6/6"
expect_line "$tmp/recv.err" "^p2vrecv: error: target $loop is in use \(mounted or held by another program\); nothing written \(--force overrides\)$"
umount "$tmp/mnt"
[ "$(digest_of sha256 "$loop")" = "$before" ] || fail "mounted target was modified"

# A directory.
start_recv "$tmp/mnt"
rc=0; p2vsend -q "$tmp/one.img" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 6 ] || fail "directory target: sender exit $rc, expected 6"
expect_line "$tmp/send.err" "is not a block device or a regular file; nothing written"
exit 0
