#!/usr/bin/env bash
# p2vsend --skip-free on XFS (issue 17): a GPT disk with a 320 MiB XFS
# partition holding 4 MiB of live files and 48 MiB of a deleted backup
# (random), filled through a loop mount as a server would.
#  - the report names the free space, the deleted data never crosses
#    the wire, the copy checks clean (xfs_repair -n) and every file is
#    identical (both mounted read-only, diff -r, modes and times);
#  - the source is never written (its bytes are unchanged);
#  - a filesystem whose log needs recovery (shut down while mounted),
#    and one mounted on this machine: sent whole, and said why.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires_root
requires sgdisk mkfs.xfs xfs_repair xfs_io losetup mount python3 cmp
loop_lock shared
MiB=$((1 << 20))
grep -qw xfs /proc/filesystems || modprobe xfs 2> /dev/null || true
grep -qw xfs /proc/filesystems || { echo "SKIP: this kernel has no XFS"; exit 77; }

src=$tmp/disk.img
truncate -s 400M "$src"
sgdisk -n 1:2048:+320M -t 1:8300 "$src" > /dev/null || fail "sgdisk"
START=$((2048 * 512)) LEN=$((320 * MiB))
dev=$(losetup -f --show -o $START --sizelimit $LEN "$src") || fail "losetup"
cleanup_fn "losetup -d $dev 2>/dev/null"
mkfs.xfs -q -f "$dev" || fail "mkfs.xfs"
mkdir -p "$tmp/mnt" "$tmp/ms" "$tmp/mc"
cleanup_fn "umount $tmp/mnt $tmp/ms $tmp/mc 2>/dev/null"
mount "$dev" "$tmp/mnt" || { echo "SKIP: cannot mount XFS here"; exit 77; }
mkdir -p "$tmp/mnt/srv/data" "$tmp/mnt/etc"
head -c 4M /dev/urandom > "$tmp/mnt/srv/data/live.bin"
cp /etc/services "$tmp/mnt/etc/services"
chmod 640 "$tmp/mnt/etc/services"
touch -d '2018-05-05 05:05' "$tmp/mnt/etc/services"
ln -s ../etc/services "$tmp/mnt/srv/link"
head -c 48M /dev/urandom > "$tmp/mnt/backup.tar"
sync
rm "$tmp/mnt/backup.tar"
umount "$tmp/mnt"
losetup -d "$dev"
sha_before=$(sha256sum < "$src")

# copy NAME SOURCE TARGET: one --skip-free session, both ends exit 0.
copy() {
    local rc=0
    start_recv "$3"
    timeout 300 p2vsend --progress=json --skip-free "$2" "127.0.0.1:$port" 2> "$tmp/$1.send" || rc=$?
    [ "$rc" -eq 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
    wait_recv
    [ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] \
        || { cat "$tmp/$1.send" "$tmp/recv.err" >&2; fail "$1: sender $rc, receiver $recv_rc"; }
}
wire() {
    python3 -c 'import json,sys; print([json.loads(l)["summary"] for l in open(sys.argv[1])
        if l.startswith("{") and "summary" in l][-1]["wire_bytes"])' "$tmp/$1.send"
}

copy clean "$src" "$tmp/copy.img"
expect_line "$tmp/clean.send" "partition 1 \(xfs\): [0-9.]+ MiB of 320.0 MiB free, sent as zeros"
[ "$(sha256sum < "$src")" = "$sha_before" ] || fail "the source was written to"
w=$(wire clean)
echo "wire bytes with --skip-free: $w"
[ "$w" -lt $((20 * MiB)) ] || fail "--skip-free sent $w bytes: the deleted backup went too"
ls=$(losetup -r -f --show -o $START --sizelimit $LEN "$src") || fail "losetup"
cleanup_fn "losetup -d $ls 2>/dev/null"
lc=$(losetup -f --show -o $START --sizelimit $LEN "$tmp/copy.img") || fail "losetup"
cleanup_fn "losetup -d $lc 2>/dev/null"
xfs_repair -n "$lc" > "$tmp/repair" 2>&1 || { cat "$tmp/repair" >&2; fail "the copy does not check clean"; }
mount -o ro "$ls" "$tmp/ms" || fail "mount the source"
mount -o ro,nouuid "$lc" "$tmp/mc" || fail "mount the copy"
diff -r --no-dereference "$tmp/ms" "$tmp/mc" || fail "the files differ"
list() { (cd "$1" && find . -printf '%P %m %s %T@ %l\n' | sort); }
[ "$(list "$tmp/ms")" = "$(list "$tmp/mc")" ] || fail "modes, sizes or times differ"
[ "$(list "$tmp/ms" | wc -l)" -ge 5 ] || fail "no files seen"

# Mounted on this machine: the kernel refuses a second mount.
copy mounted "$src" "$tmp/copy2.img"
expect_line "$tmp/mounted.send" "partition 1 \(xfs\): sent whole: the kernel refused to mount it \\(mounted on this machine"
umount "$tmp/ms" "$tmp/mc"
losetup -d "$ls"; losetup -d "$lc"

# A log that needs recovery: shut down while mounted, as a crash leaves it.
dev=$(losetup -f --show -o $START --sizelimit $LEN "$src") || fail "losetup"
mount "$dev" "$tmp/mnt" || fail "mount"
# Committed to the log (fsync), not yet written back, then cut off.
for i in $(seq 50); do echo "$i" > "$tmp/mnt/srv/after-$i"; done
xfs_io -c fsync "$tmp/mnt/srv/after-50" || fail "xfs_io fsync"
xfs_io -x -c shutdown "$tmp/mnt" > /dev/null 2>&1 || fail "xfs_io shutdown"
umount "$tmp/mnt"
losetup -d "$dev"
copy dirty "$src" "$tmp/copy3.img"
expect_line "$tmp/dirty.send" "partition 1 \(xfs\): sent whole: its log needs recovery"
cmp -s "$src" "$tmp/copy3.img" || fail "the dirty XFS was not sent whole"
exit 0
