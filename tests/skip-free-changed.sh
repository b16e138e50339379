#!/usr/bin/env bash
# p2vsend --skip-free when a filesystem changes during the copy (issue
# 17): free blocks were read as zeros at the start, so a file written
# into them meanwhile would reach the copy as zeros.  A 48 MiB ext4
# partition holding 12 MiB of files, sent at 2 MB/s; during the copy it
# is mounted read-write (a loop device over the image, as another
# program on the machine would) and a file is written into free space:
#  - unmounted again before the end (its bitmaps show the new blocks):
#    p2vsend exits 2 naming the partition, sends no END, and the
#    receiver never calls the copy verified;
#  - still mounted at the end: the same, and it says it is mounted;
#  - run again, p2vrecv refuses to continue the old copy with the new
#    one (its free blocks differ) until its resume state is removed;
#    then the copy checks clean and holds the new file.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires_root
requires sfdisk mkfs.ext4 e2fsck debugfs losetup mount cmp
loop_lock shared
MiB=$((1 << 20))

mkdir -p "$tmp/t/srv" "$tmp/mnt"
head -c 12M /dev/urandom > "$tmp/t/srv/data.bin"
mkfs.ext4 -q -b 4096 -d "$tmp/t" "$tmp/p1.fs" 48M || fail "mkfs.ext4"
src=$tmp/disk.img
truncate -s 50M "$src"
printf 'label: dos\nstart=2048, size=98304, type=83\n' | sfdisk -q "$src" || fail "sfdisk"
dd if="$tmp/p1.fs" of="$src" bs=1M seek=1 conv=notrunc status=none
new_file=$tmp/new.bin
head -c 8M /dev/urandom > "$new_file"

# change NAME TARGET KEEP: send at 2 MB/s; once sending, mount the
# partition, write a file, and unmount it unless KEEP.  Sets send_rc.
change() {
    local name=$1 target=$2 keep=$3 i dev
    start_recv "$target"
    p2vsend --skip-free --limit-rate 2M "$src" "127.0.0.1:$port" 2> "$tmp/$name.send" &
    local send_pid=$!
    for ((i = 0; i < 100; i++)); do
        grep -q "^p2vsend: sending " "$tmp/$name.send" && break
        sleep 0.1
    done
    dev=$(losetup -f --show -o $MiB --sizelimit $((48 * MiB)) "$src") || fail "losetup"
    cleanup_fn "umount $tmp/mnt 2>/dev/null; losetup -d $dev 2>/dev/null"
    mount "$dev" "$tmp/mnt" || fail "mount"
    cp "$new_file" "$tmp/mnt/srv/new.bin"
    sync
    [ "$keep" = keep ] || { umount "$tmp/mnt"; losetup -d "$dev"; }
    kill -0 "$send_pid" 2> /dev/null || fail "$name: the copy ended before the filesystem changed"
    send_rc=0
    timeout 120 tail --pid="$send_pid" -f /dev/null
    wait "$send_pid" || send_rc=$?
    # The receiver waits for the sender to come back: stop it.
    sleep 1
    kill "$recv_pid" 2> /dev/null
    wait_recv
    cp "$tmp/recv.err" "$tmp/$name.recv"
    if [ "$keep" = keep ]; then umount "$tmp/mnt"; losetup -d "$dev"; fi
}

change unmounted "$tmp/copy.img" ""
cat "$tmp/unmounted.send"
[ "$send_rc" -eq 2 ] || fail "p2vsend exited $send_rc, not 2, for a filesystem changed during the copy"
expect_line "$tmp/unmounted.send" "p2vsend: error: --skip-free: $src changed during the copy \(partition 1 \(ext4\): blocks sent as zeros are in use now\)"
! grep -qi "verified\|identical" "$tmp/unmounted.send" "$tmp/unmounted.recv" \
    || fail "a copy with zeros where data now is was called verified"
[ -e "$tmp/copy.img.p2v-state" ] || fail "the receiver did not keep its resume state"

change mounted "$tmp/copy2.img" keep
[ "$send_rc" -eq 2 ] || fail "p2vsend exited $send_rc, not 2, for a filesystem mounted during the copy"
expect_line "$tmp/mounted.send" "changed during the copy \(partition 1 \(ext4\): [^)]*mounted[^)]*\)"
! grep -qi "verified\|identical" "$tmp/mounted.send" "$tmp/mounted.recv" \
    || fail "a copy of a filesystem mounted meanwhile was called verified"

# Again, as the message says.  The old copy's free blocks are not the
# new one's: p2vrecv will not continue it.
e2fsck -fy "$tmp/p1.fs" > /dev/null 2>&1
start_recv "$tmp/copy.img"
rc=0
timeout 120 p2vsend --skip-free "$src" "127.0.0.1:$port" 2> "$tmp/again.send" || rc=$?
[ "$rc" -ne 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
wait_recv
[ "$rc" -eq 6 ] || { cat "$tmp/again.send" "$tmp/recv.err" >&2; fail "p2vsend exited $rc, not 6 (refused)"; }
expect_line "$tmp/recv.err" "holds a partial copy of .*remove $tmp/copy.img.p2v-state to start over"
rm "$tmp/copy.img.p2v-state"
start_recv "$tmp/copy.img"
rc=0
timeout 120 p2vsend --skip-free "$src" "127.0.0.1:$port" 2> "$tmp/fresh.send" || rc=$?
[ "$rc" -ne 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
wait_recv
[ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/fresh.send" "$tmp/recv.err" >&2; fail "the fresh copy failed: $rc, $recv_rc"; }
dd if="$tmp/copy.img" of="$tmp/c1.fs" bs=1M skip=1 count=48 status=none
e2fsck -fn "$tmp/c1.fs" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck" >&2; fail "the fresh copy does not check clean"; }
debugfs -R "dump /srv/new.bin $tmp/new.copy" "$tmp/c1.fs" > /dev/null 2>&1
cmp -s "$new_file" "$tmp/new.copy" || fail "the file written during the first copy is not in the fresh one"
echo "PASS: a filesystem changed during a --skip-free copy fails it, and a fresh copy holds the change"
