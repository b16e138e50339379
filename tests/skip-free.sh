#!/usr/bin/env bash
# p2vsend --skip-free (issue 17): an 82 MiB MBR server disk with
#   1: ext4 (4 KiB blocks) holding 3 MiB of live data and 16 MiB of a
#      deleted backup (random) plus a deleted file of a marker string,
#   2: swap full of stale (random) pages,
#   3: ext3 (1 KiB blocks, a journal) with 2 MiB live, 6 MiB deleted,
#   4: 8 MiB of random data and no filesystem.
# Sent to p2vrecv into an image file:
#  - verified on both ends, and p2vsum of the copy prints the digest
#    both ends printed: the digests cover exactly what was sent;
#  - the report names what was skipped per partition, partition 4 is
#    sent whole and says so, the manifest records the skipped bytes;
#  - the deleted data never crossed the wire: under half the bytes of a
#    copy without the option, and the marker is nowhere in the copy;
#  - both filesystems check clean (e2fsck -fn) and every file, mode,
#    size and time is identical (debugfs rdump of source and copy);
#    the swap header is kept, its stale pages are zeros; partition 4 is
#    identical; the image keeps the free blocks as holes;
#  - a second pass with --delta finds nothing to send;
#  - a bitmap that calls a file's block free (debugfs freeb), with and
#    without its group's free count agreeing, and a filesystem mounted
#    read-write: that partition is sent whole, and arrives intact;
#  - two disks in one session, the second a filesystem without a
#    partition table.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires sfdisk mkfs.ext4 mkfs.ext3 mkswap debugfs dumpe2fs e2fsck cmp python3
MiB=$((1 << 20))

# The partitions' filesystems are built as files, then placed.
mkdir -p "$tmp/t1/data" "$tmp/t1/etc/ssl" "$tmp/t3/srv"
head -c 3M /dev/urandom > "$tmp/t1/data/live.bin"
head -c 16M /dev/urandom > "$tmp/t1/backup.tar.gz"
for i in $(seq 4000); do echo "SKIPFREE-SECRET-$i deleted long ago"; done > "$tmp/t1/secret.log"
cp /etc/services "$tmp/t1/etc/services"
echo "key" > "$tmp/t1/etc/ssl/private.pem"
chmod 600 "$tmp/t1/etc/ssl/private.pem"
chmod 750 "$tmp/t1/etc/ssl"
touch -d '2019-03-01 12:00' "$tmp/t1/etc/services"
ln -s ../etc/services "$tmp/t1/data/link"
head -c 2M /dev/urandom > "$tmp/t3/srv/app.bin"
head -c 6M /dev/urandom > "$tmp/t3/old.bin"
mkfs.ext4 -q -b 4096 -d "$tmp/t1" "$tmp/p1.fs" 48M || fail "mkfs.ext4"
mkfs.ext3 -q -b 1024 -d "$tmp/t3" "$tmp/p3.fs" 16M || fail "mkfs.ext3"
debugfs -w -R "rm /backup.tar.gz" "$tmp/p1.fs" > /dev/null 2>&1
debugfs -w -R "rm /secret.log" "$tmp/p1.fs" > /dev/null 2>&1
debugfs -w -R "rm /old.bin" "$tmp/p3.fs" > /dev/null 2>&1
e2fsck -fn "$tmp/p1.fs" > /dev/null 2>&1 && e2fsck -fn "$tmp/p3.fs" > /dev/null 2>&1 \
    || fail "the source filesystems do not check clean"
head -c 8M /dev/urandom > "$tmp/p2.swap"
# A swap area smaller than its partition: what lies past it is not swap.
mkswap -L oldswap "$tmp/p2.swap" 6144 > /dev/null || fail "mkswap"

# start (sectors) of each partition
P1=2048 P2=100352 P3=116736 P4=149504
src=$tmp/disk.img
truncate -s 82M "$src"
sfdisk -q "$src" <<EOF || fail "sfdisk"
label: dos
start=$P1, size=98304, type=83
start=$P2, size=16384, type=82
start=$P3, size=32768, type=83
start=$P4, size=16384, type=83
EOF
place() { dd if="$1" of="$3" bs=512 seek="$2" conv=notrunc status=none; }
assemble() {
    place "$tmp/p1.fs" $P1 "$1"; place "$tmp/p2.swap" $P2 "$1"; place "$tmp/p3.fs" $P3 "$1"
    head -c 8M /dev/urandom > "$tmp/p4.raw"; place "$tmp/p4.raw" $P4 "$1"
}
assemble "$src"
grep -q SKIPFREE-SECRET "$src" || fail "the marker is not in the source"
# part IMG START SECTORS OUT: one partition of an image as a file
part() { dd if="$1" of="$4" bs=512 skip="$2" count="$3" status=none; }

# copy NAME TARGET [p2vsend options]: one session, both ends exit 0.
copy() {
    local name=$1 target=$2 rc=0; shift 2
    start_recv --manifest "$tmp/$name.json" "$target"
    timeout 300 p2vsend --progress=json "$@" "127.0.0.1:$port" 2> "$tmp/$name.send" || rc=$?
    # A sender that died before connecting leaves p2vrecv listening.
    [ "$rc" -eq 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
    wait_recv
    cp "$tmp/recv.err" "$tmp/$name.recv"
    [ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] \
        || { cat "$tmp/$name.send" "$tmp/$name.recv" >&2; fail "$name: sender $rc, receiver $recv_rc"; }
}
summary() {
    python3 - "$tmp/$1.send" "$2" <<'PY' || fail "$1: no JSON summary"
import json, sys
s = [l["summary"] for l in map(json.loads, (l for l in open(sys.argv[1]) if l.startswith("{")))
     if "summary" in l]
print(s[-1][sys.argv[2]])
PY
}
digest_of() { sed -n 's/.*"algorithm": "blkhash-sha256", "value": "\([0-9a-f]*\)".*/\1/p' "$1" | tail -1; }

copy whole "$tmp/whole.img" "$src"
copy skip "$tmp/copy.img" --skip-free "$src"
cat "$tmp/skip.send" | grep -v '^{' || true

# The report, per partition.
expect_line "$tmp/skip.send" "--skip-free: $src partition 1 \(ext4\): [0-9.]+ MiB of 48.0 MiB free, sent as zeros"
expect_line "$tmp/skip.send" "--skip-free: $src partition 2 \(swap\): 6.0 MiB of 8.0 MiB free, sent as zeros"
expect_line "$tmp/skip.send" "--skip-free: $src partition 3 \(ext3\): [0-9.]+ MiB of 16.0 MiB free, sent as zeros"
expect_line "$tmp/skip.send" "--skip-free: $src partition 4: sent whole: no filesystem that --skip-free reads"
python3 - "$tmp/skip.json" <<'PY' || fail "the manifest does not record what was skipped"
import json, re, sys
m = json.load(open(sys.argv[1]))["source"]["skipped_free"]
parts = {p.split()[0]: (p.split()[1], int(p.split()[2])) for p in m.split(", ")}
assert parts["1"][0] == "ext4" and parts["1"][1] > 16 << 20, m
assert parts["2"] == ("swap", (6 << 20) - 4096), m
assert parts["3"][0] == "ext3" and parts["3"][1] > 6 << 20, m
assert "4" not in parts, m
PY

# Digests: both ends agree, and say what the copy holds.
ds=$(digest_of "$tmp/skip.send") dr=$(digest_of "$tmp/skip.recv")
[ -n "$ds" ] && [ "$ds" = "$(sed -n 's/.*blkhash-sha256 \([0-9a-f]*\)  .*/\1/p' "$tmp/skip.recv" | tail -1)" ] \
    || fail "the receiver's digest is not the sender's ($ds)"
p2vsum "$tmp/copy.img" | grep -q "= $ds\$" || fail "p2vsum of the copy is not the digest sent ($ds)"

# The wire.
w_whole=$(summary whole wire_bytes) w_skip=$(summary skip wire_bytes)
echo "wire bytes: whole $w_whole, --skip-free $w_skip; skipped $(summary skip skipped_free)"
[ "$w_whole" -gt $((35 * MiB)) ] || fail "a plain copy sent only $w_whole bytes: the corpus is wrong"
[ "$w_skip" -lt $((17 * MiB)) ] || fail "--skip-free still sent $w_skip bytes"
! grep -q SKIPFREE-SECRET "$tmp/copy.img" || fail "a deleted file's data reached the copy"
cmp -s "$src" "$tmp/whole.img" || fail "the plain copy differs from the source"

# The filesystems and their files.
check_fs() {                   # check_fs N START SECTORS
    part "$src" "$2" "$3" "$tmp/s$1.fs"
    part "$tmp/copy.img" "$2" "$3" "$tmp/c$1.fs"
    ext_same "$tmp/s$1.fs" "$tmp/c$1.fs" "partition $1"
}
check_fs 1 $P1 98304
check_fs 3 $P3 32768
part "$tmp/copy.img" $P2 16384 "$tmp/c2.swap"
cmp -s -n 4096 "$tmp/p2.swap" "$tmp/c2.swap" || fail "the swap header was not kept"
cmp -s -i 4096:0 -n $((6 * MiB - 4096)) "$tmp/c2.swap" /dev/zero || fail "stale swap pages reached the copy"
cmp -s -i $((6 * MiB)) "$tmp/p2.swap" "$tmp/c2.swap" || fail "what lies past the swap area was not sent"
part "$tmp/copy.img" $P4 16384 "$tmp/c4.raw"
cmp -s "$tmp/p4.raw" "$tmp/c4.raw" || fail "partition 4 (no filesystem) was not sent whole"
alloc=$(( $(stat -c %b "$tmp/copy.img") * 512 ))
echo "copy: $alloc bytes allocated of $(stat -c %s "$tmp/copy.img")"
[ "$alloc" -lt $((30 * MiB)) ] || fail "the copy's free blocks are not holes: $alloc bytes allocated"

# A second pass with --delta: the copy already is what would be sent.
copy delta "$tmp/copy.img" --delta --skip-free "$src"
[ "$(delta_json "$tmp/delta.send" changed_chunks)" -eq 0 ] \
    || fail "--delta --skip-free sent $(delta_json "$tmp/delta.send" changed_chunks) chunks again"

# sent_whole NAME FS START SECTORS N REGEX: the disk with filesystem FS
# in place of partition N; --skip-free must send that partition whole,
# saying why (REGEX), and it arrives as it was.
sent_whole() {
    local name=$1 fs=$2 start=$3 count=$4 n=$5 re=$6
    cp "$src" "$tmp/$name.img"
    place "$fs" "$start" "$tmp/$name.img"
    copy "$name" "$tmp/$name-copy.img" --skip-free "$tmp/$name.img"
    expect_line "$tmp/$name.send" "partition $n $re"
    part "$tmp/$name-copy.img" "$start" "$count" "$tmp/$name-part"
    cmp -s "$fs" "$tmp/$name-part" || fail "$name: partition $n was not sent whole"
}

# A bitmap that lies: a live file's first block marked free.
cp "$tmp/p1.fs" "$tmp/lie.fs"
blk=$(debugfs -R "bmap /data/live.bin 0" "$tmp/lie.fs" 2> /dev/null)
[ -n "$blk" ] && [ "$blk" -gt 0 ] || fail "debugfs bmap"
debugfs -w -R "freeb $blk" "$tmp/lie.fs" > /dev/null 2>&1
sent_whole lie "$tmp/lie.fs" $P1 98304 1 "\(ext4\): sent whole: .*(bitmap|free count)"

# A subtler lie: a block of a file on ext3 (1 KiB blocks, indirect
# maps) marked free and its group's free count made to agree, as a
# torn write could leave them: only the walk over every inode sees it.
cp "$tmp/p3.fs" "$tmp/lie3.fs"
blk=$(debugfs -R "bmap /srv/app.bin 100" "$tmp/lie3.fs" 2> /dev/null)
debugfs -w -R "freeb $blk" "$tmp/lie3.fs" > /dev/null 2>&1
g=$(( (blk - 1) / 8192 ))
n=$(dumpe2fs "$tmp/lie3.fs" 2> /dev/null | sed -n 's/^  \([0-9]*\) free blocks,.*/\1/p' | sed -n "$((g + 1))p")
debugfs -w -R "set_bg $g free_blocks_count $((n + 1))" "$tmp/lie3.fs" > /dev/null 2>&1
sent_whole lie3 "$tmp/lie3.fs" $P3 32768 3 "\(ext3\): sent whole: its bitmap calls block $blk of inode [0-9]+ free"

# Mounted read-write: the bitmaps change under us, so sent whole.
if [ "$(id -u)" -eq 0 ] && command -v losetup > /dev/null && mkdir -p "$tmp/mnt"; then
    loop_lock shared
    cp "$src" "$tmp/rw.img"
    if dev=$(losetup -f --show -o $((P3 * 512)) --sizelimit $((32768 * 512)) "$tmp/rw.img") 2> /dev/null; then
        cleanup_fn "losetup -d $dev 2>/dev/null"
        if mount -t ext3 "$dev" "$tmp/mnt" 2> /dev/null; then
            cleanup_fn "umount $tmp/mnt 2>/dev/null"
            copy rw "$tmp/rw-copy.img" --skip-free "$tmp/rw.img"
            umount "$tmp/mnt"
            expect_line "$tmp/rw.send" "partition 3 \(ext3\): sent whole: .*(mounted|journal)"
            expect_line "$tmp/rw.send" "partition 1 \(ext4\): .* sent as zeros"
        else
            echo "no ext3 mount here: the mounted read-write case is not run"
        fi
    fi
fi

# A PV that once was swap, its old signature left behind (LVM before
# 2.02.112 did not wipe it): an LVM PV, sent whole, not "swap".
if command -v pvcreate > /dev/null && [ "$(id -u)" -eq 0 ]; then
    loop_lock shared
    head -c 16M /dev/urandom > "$tmp/pv.img"
    mkswap "$tmp/pv.img" > /dev/null 2>&1 || fail "mkswap"
    lo=$(losetup -f --show "$tmp/pv.img") || fail "losetup"
    pvcreate -ff -y --zero n "$lo" > /dev/null 2>&1 || { losetup -d "$lo"; fail "pvcreate"; }
    losetup -d "$lo"
    printf SWAPSPACE2 | dd of="$tmp/pv.img" bs=1 seek=4086 conv=notrunc status=none
    copy pv "$tmp/pv-copy.img" --skip-free "$tmp/pv.img"
    expect_line "$tmp/pv.send" "--skip-free: $tmp/pv.img \(LVM2 PV\): sent whole"
    cmp -s "$tmp/pv.img" "$tmp/pv-copy.img" || fail "the PV that once was swap was not sent whole"
else
    echo "no pvcreate or not root: the former-swap PV case is not run"
fi

# Two disks, the second a filesystem without a partition table.
mkdir -p "$tmp/t5"
head -c 1M /dev/urandom > "$tmp/t5/keep.bin"
head -c 8M /dev/urandom > "$tmp/t5/gone.bin"
mkfs.ext4 -q -d "$tmp/t5" "$tmp/bare.img" 24M || fail "mkfs.ext4"
debugfs -w -R "rm /gone.bin" "$tmp/bare.img" > /dev/null 2>&1
start_recv "$tmp/m0.img" "$tmp/m1.img"
rc=0
timeout 300 p2vsend --progress=plain --skip-free "$src" "$tmp/bare.img" "127.0.0.1:$port" \
    2> "$tmp/multi.send" || rc=$?
[ "$rc" -eq 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
wait_recv
[ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/multi.send" "$tmp/recv.err" >&2; fail "two disks: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/multi.send" "--skip-free: $tmp/bare.img \(ext4\): [0-9.]+ MiB of 24.0 MiB free, sent as zeros"
ext_same "$tmp/bare.img" "$tmp/m1.img" "the bare filesystem"
cmp -s "$tmp/copy.img" "$tmp/m0.img" || fail "the first disk of two differs from its single copy"
exit 0
