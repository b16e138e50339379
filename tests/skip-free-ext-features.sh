#!/usr/bin/env bash
# p2vsend --skip-free on ext4 features servers have that the other tests
# do not make (issue 17), each a filesystem on a whole disk image:
#  - files with deep extent trees (a file in 600 pieces: its extent
#    tree has index blocks, which the bitmap check must see as used);
#  - inline data (small files and directories inside their inodes);
#  - bigalloc (clusters): not read, sent whole, and said so.
# Each copy checks clean with identical files; the deleted data in the
# free blocks never reaches the copies that skip it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires mkfs.ext4 debugfs e2fsck python3 cmp
MiB=$((1 << 20))

# copy NAME IMG: one --skip-free session into $tmp/NAME.copy.
copy() {
    local rc=0
    start_recv "$tmp/$1.copy"
    timeout 120 p2vsend --skip-free "$2" "127.0.0.1:$port" 2> "$tmp/$1.send" || rc=$?
    [ "$rc" -eq 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
    wait_recv
    [ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] \
        || { cat "$tmp/$1.send" "$tmp/recv.err" >&2; fail "$1: sender $rc, receiver $recv_rc"; }
}
# deleted IMG: a 6 MiB file of a marker string written, then deleted.
deleted() {
    for i in $(seq 150000); do echo "EXTFEAT-DELETED-$i"; done | head -c 6M > "$tmp/old.log"
    debugfs -w -R "write $tmp/old.log old.log" "$1" > /dev/null 2>&1
    debugfs -w -R "rm old.log" "$1" > /dev/null 2>&1
    grep -q EXTFEAT-DELETED "$1" || fail "the deleted marker is not in $1"
}

# A file of 600 4 KiB islands with holes between: 600 extents.
mkdir -p "$tmp/deep/var/lib"
python3 - "$tmp/deep/var/lib/db" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(600):
        f.seek(i * 12288)
        f.write(os.urandom(4096))
PY
head -c 1M /dev/urandom > "$tmp/deep/var/lib/plain"
mkfs.ext4 -q -b 4096 -d "$tmp/deep" "$tmp/deep.img" 40M || fail "mkfs deep"
deleted "$tmp/deep.img"
debugfs -R "ex /var/lib/db" "$tmp/deep.img" 2> /dev/null | awk 'NR > 1 && $1 ~ /\//' | grep -q "^ *0/ *[1-9]" \
    || fail "the file's extent tree has no index level"
copy deep "$tmp/deep.img"
expect_line "$tmp/deep.send" "\(ext4\): [0-9.]+ MiB of 40.0 MiB free, sent as zeros"
ext_same "$tmp/deep.img" "$tmp/deep.copy" "deep extents"
! grep -q EXTFEAT-DELETED "$tmp/deep.copy" || fail "deleted data reached the deep-extents copy"

mkdir -p "$tmp/inline/etc/conf.d"
for i in $(seq 200); do echo "setting$i=$i" > "$tmp/inline/etc/conf.d/s$i.conf"; done
head -c 2M /dev/urandom > "$tmp/inline/big"
mkfs.ext4 -q -O inline_data -I 256 -d "$tmp/inline" "$tmp/inline.img" 24M || fail "mkfs inline"
debugfs -R "stat /etc/conf.d/s1.conf" "$tmp/inline.img" 2> /dev/null | grep -qi "inline data\|Size of inline data" \
    || fail "s1.conf is not inline"
deleted "$tmp/inline.img"
copy inline "$tmp/inline.img"
expect_line "$tmp/inline.send" "\(ext4\): [0-9.]+ MiB of 24.0 MiB free, sent as zeros"
ext_same "$tmp/inline.img" "$tmp/inline.copy" "inline data"
! grep -q EXTFEAT-DELETED "$tmp/inline.copy" || fail "deleted data reached the inline-data copy"

mkdir -p "$tmp/big/srv"
head -c 2M /dev/urandom > "$tmp/big/srv/a"
mkfs.ext4 -q -O bigalloc -C 65536 -d "$tmp/big" "$tmp/bigalloc.img" 64M > /dev/null 2>&1 || fail "mkfs bigalloc"
deleted "$tmp/bigalloc.img"
copy bigalloc "$tmp/bigalloc.img"
expect_line "$tmp/bigalloc.send" "\(ext4\): sent whole: bigalloc clusters are not read"
cmp -s "$tmp/bigalloc.img" "$tmp/bigalloc.copy" || fail "the bigalloc filesystem, sent whole, differs"
echo "PASS: deep extent trees and inline data read; bigalloc sent whole"
