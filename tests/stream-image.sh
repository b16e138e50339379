#!/usr/bin/env bash
# A 4 GiB partitioned disk image with real ext4 filesystems crosses
# 127.0.0.1 identical: both programs print the SHA-256 sha256sum prints,
# the copy's partition table is the source's, and its filesystems check
# clean. 
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires sfdisk mkfs.ext4 e2fsck

src=$tmp/disk.img out=$tmp/copy.img
make_disk_image "$src" 4G
want=$(digest_of blkhash-sha256 "$src")

start_recv "$out"
p2vsend --progress=plain "$src" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }

cmp "$src" "$out" || fail "copy differs from source"
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
[ "$(sfdisk -d "$out" | grep -v '^label-id')" = "$(sfdisk -d "$src" | grep -v '^label-id' | sed "s|$src|$out|g")" ] \
    || fail "partition tables differ"
# fsck each partition of the copy (no loop devices needed: extract it).
sfdisk -J "$out" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(p["start"], p["size"])' > "$tmp/parts"
while read -r start size; do
    dd if="$out" of="$tmp/part" bs=512 skip="$start" count="$size" conv=sparse status=none
    e2fsck -fn "$tmp/part" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck" >&2; fail "partition at $start does not check clean"; }
    rm -f "$tmp/part"
done < "$tmp/parts"
[ "$(wc -l < "$tmp/parts")" -eq 2 ] || fail "expected two partitions"
exit 0
