#!/usr/bin/env bash
# p2vsend --skip-free on LVM (issue 17): a 128 MiB MBR disk full of old
# random data, then
#   1: /boot, ext4;
#   2: an LVM2 PV (pvcreate, vgcreate, lvcreate by LVM itself) with
#      home (ext4: 4 MiB live, 16 MiB of a deleted backup and a deleted
#      file of a marker string), swap, root (ext4, extended after the
#      others were made: two pieces on the PV), and 44 MiB of extents
#      no LV uses, holding the marker.
# Sent from a loop device over the whole disk, as from a LiveCD:
#  - the report names each LV and the free extents, the manifest
#    records what was skipped where;
#  - both ends' digests agree and are the copy's blkhash;
#  - the deleted data and the free extents never crossed the wire, the
#    marker is nowhere in the copy;
#  - home, root (read in its two pieces) and /boot check clean with
#    identical files; the swap header is kept; the PV's label and
#    metadata arrive byte for byte;
#  - a PV whose metadata checksum is wrong is sent whole, and says so.
# This host has no device-mapper: the LVs are never activated
# (lvcreate --driverloaded n); their filesystems are written where
# LVM says their extents lie.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires_root
requires sfdisk mkfs.ext4 mkswap debugfs e2fsck losetup pvcreate vgcreate lvcreate lvextend pvs cmp python3
loop_lock shared
export LVM_SUPPRESS_FD_WARNINGS=1
MiB=$((1 << 20))

src=$tmp/disk.img
head -c 128M /dev/urandom > "$src"
P1=2048 P1LEN=16384 P2=18432 P2LEN=$((262144 - 18432))
sfdisk -q "$src" <<EOT || fail "sfdisk"
label: dos
start=$P1, size=$P1LEN, type=83
start=$P2, size=$P2LEN, type=8e
EOT
pvdev=$(losetup -f --show -o $((P2 * 512)) --sizelimit $((P2LEN * 512)) "$src") || fail "losetup"
cleanup_fn "losetup -d $pvdev 2>/dev/null"
vg=p2vt$$
L="--devices $pvdev"
D="$L --driverloaded n -q -y -an -Zn -Wn"
pvcreate -q -y -ff $L "$pvdev" > /dev/null || fail "pvcreate"
vgcreate -q $L -s 4M "$vg" "$pvdev" > /dev/null || fail "vgcreate"
lvcreate $D -L 24M -n root "$vg" > /dev/null 2>&1 || fail "lvcreate root"
lvcreate $D -L 8M -n swap "$vg" > /dev/null 2>&1 || fail "lvcreate swap"
lvcreate $D -L 32M -n home "$vg" > /dev/null 2>&1 || fail "lvcreate home"
lvextend $L --driverloaded n -q -L +8M "$vg/root" > /dev/null 2>&1 || fail "lvextend root"
pe_start=$(pvs $L --noheadings --units b --nosuffix -o pe_start "$pvdev" | tr -d ' ')
pv_free=$(pvs $L --noheadings --units b --nosuffix -o pv_free "$pvdev" | tr -d ' ')
# name:first extent:extents, in the PV's order ("" for free space)
pvs $L --segments --noheadings --separator : -o lv_name,pvseg_start,pvseg_size "$pvdev" \
    | tr -d ' ' > "$tmp/segs"
losetup -d "$pvdev"
[ "$pv_free" -eq $((44 * MiB)) ] || { cat "$tmp/segs" >&2; fail "LVM left $pv_free bytes free, not 44 MiB"; }
grep -c '^root:' "$tmp/segs" | grep -qx 2 || { cat "$tmp/segs" >&2; fail "root is not in two pieces"; }
# at NAME [PIECE]: the LV's piece's byte offset in the disk and length
at() {
    awk -F: -v n="$1" -v k="${2:-1}" -v base=$((P2 * 512 + pe_start)) -v es=$((4 * MiB)) \
        '$1 == n && ++i == k { print base + $2 * es, $3 * es }' "$tmp/segs"
}
read free_off free_len < <(at "")

# The filesystems, made as files and placed where LVM put their LVs.
mkdir -p "$tmp/home/alice" "$tmp/boot/grub" "$tmp/root/etc"
head -c 4M /dev/urandom > "$tmp/home/alice/thesis.pdf"
head -c 16M /dev/urandom > "$tmp/home/backup.tar.gz"
for i in $(seq 3000); do echo "P2VLVM-SECRET-$i deleted"; done > "$tmp/home/old.log"
chmod 700 "$tmp/home/alice"
touch -d '2020-02-02 02:02' "$tmp/home/alice/thesis.pdf"
head -c 2M /dev/urandom > "$tmp/boot/vmlinuz"
echo "set root=(lvm/$vg-root)" > "$tmp/boot/grub/grub.cfg"
cp /etc/services "$tmp/root/etc/services"
head -c 3M /dev/urandom > "$tmp/root/etc/blob"
head -c 20M /dev/urandom > "$tmp/root/etc/late"
mkfs.ext4 -q -b 4096 -d "$tmp/home" "$tmp/home.fs" 32M || fail "mkfs home"
debugfs -w -R "rm /backup.tar.gz" "$tmp/home.fs" > /dev/null 2>&1
debugfs -w -R "rm /old.log" "$tmp/home.fs" > /dev/null 2>&1
mkfs.ext4 -q -d "$tmp/boot" "$tmp/boot.fs" 8M || fail "mkfs boot"
# 25 MiB of files in 32: they reach into root's second piece.
mkfs.ext4 -q -d "$tmp/root" "$tmp/root.fs" 32M || fail "mkfs root"
head -c 8M /dev/urandom > "$tmp/swap.fs"
mkswap "$tmp/swap.fs" > /dev/null || fail "mkswap"
put() { dd if="$1" of="$src" bs=4096 iflag=skip_bytes,count_bytes oflag=seek_bytes \
           skip="${4:-0}" seek="$2" count="$3" conv=notrunc status=none; }
read o n < <(at home); put "$tmp/home.fs" "$o" "$n"
read o n < <(at swap); put "$tmp/swap.fs" "$o" "$n"
read o1 n1 < <(at root 1); put "$tmp/root.fs" "$o1" "$n1"
read o2 n2 < <(at root 2); put "$tmp/root.fs" "$o2" "$n2" "$n1"
put "$tmp/boot.fs" $((P1 * 512)) $((P1LEN * 512))
for i in $(seq 20000); do echo "P2VLVM-SECRET-free-extent-$i"; done > "$tmp/marker"
put "$tmp/marker" "$free_off" "$(stat -c %s "$tmp/marker")"
[ "$(grep -c P2VLVM-SECRET "$src")" -gt 0 ] || fail "the markers are not in the source"

disk=$(losetup -f --show -r "$src") || fail "losetup disk"
cleanup_fn "losetup -d $disk 2>/dev/null"

# copy NAME SOURCE TARGET: one --skip-free session, both ends exit 0.
copy() {
    local rc=0
    start_recv --manifest "$tmp/$1.json" "$3"
    timeout 300 p2vsend --progress=json --skip-free "$2" "127.0.0.1:$port" 2> "$tmp/$1.send" || rc=$?
    [ "$rc" -eq 0 ] || { sleep 1; kill "$recv_pid" 2> /dev/null; }
    wait_recv
    cp "$tmp/recv.err" "$tmp/$1.recv"
    [ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] \
        || { cat "$tmp/$1.send" "$tmp/$1.recv" >&2; fail "$1: sender $rc, receiver $recv_rc"; }
}
copy lvm "$disk" "$tmp/copy.img"
grep -v '^{' "$tmp/lvm.send" || true

expect_line "$tmp/lvm.send" "--skip-free: $disk partition 2 \(LVM2 PV of $vg\): 44.0 MiB of [0-9.]+ MiB in no LV, sent as zeros"
expect_line "$tmp/lvm.send" "--skip-free: $disk partition 2 LV $vg/home \(ext4\): [0-9.]+ MiB of 32.0 MiB free, sent as zeros"
expect_line "$tmp/lvm.send" "--skip-free: $disk partition 2 LV $vg/swap \(swap\): 8.0 MiB of 8.0 MiB free, sent as zeros"
expect_line "$tmp/lvm.send" "--skip-free: $disk partition 2 LV $vg/root \(ext4\): [0-9.]+ MiB of 32.0 MiB free, sent as zeros"
expect_line "$tmp/lvm.send" "--skip-free: $disk partition 1 \(ext4\): "
python3 - "$tmp/lvm.json" "$vg" "$pv_free" <<'PY' || fail "the manifest does not record what was skipped"
import json, sys
m = json.load(open(sys.argv[1]))["source"]["skipped_free"]
vg, free = sys.argv[2], int(sys.argv[3])
parts = {" ".join(p.split()[:-1]): int(p.split()[-1]) for p in m.split(", ")}
assert parts["2 %s free-extents" % vg] == free, m
assert parts["2 %s/home ext4" % vg] > 16 << 20, m
assert parts["2 %s/swap swap" % vg] == (8 << 20) - 4096, m
assert parts["2 %s/root ext4" % vg] > 1 << 20, m
PY

# Both ends' digests, and one computed apart from p2vstream: the copy.
ds=$(sed -n 's/^p2vsend: blkhash-sha256 \([0-9a-f]*\)  .*/\1/p' "$tmp/lvm.send")
dr=$(sed -n 's/.*blkhash-sha256 \([0-9a-f]*\)  .*/\1/p' "$tmp/lvm.recv" | tail -1)
[ -n "$ds" ] && [ "$ds" = "$dr" ] || fail "the receiver's digest ($dr) is not the sender's ($ds)"
[ "$(digest_of blkhash-sha256 "$tmp/copy.img")" = "$ds" ] || fail "the copy's blkhash is not the digest sent ($ds)"

w=$(python3 -c 'import json,sys; print([json.loads(l)["summary"] for l in open(sys.argv[1])
        if l.startswith("{") and "summary" in l][-1]["wire_bytes"])' "$tmp/lvm.send")
echo "wire bytes with --skip-free: $w (the disk is 128 MiB of random data and files)"
# 35 MiB of random data is in use (files, gaps, LVM's metadata ring);
# the 68 MiB in free extents, home's free blocks and swap must not go.
[ "$w" -lt $((45 * MiB)) ] || fail "--skip-free sent $w bytes: free extents or blocks crossed the wire"
! grep -q P2VLVM-SECRET "$tmp/copy.img" || fail "deleted data or free extents reached the copy"

# take IMG OFF LEN OUT
take() { dd if="$1" of="$4" bs=4096 iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }
check_ext() {                  # check_ext NAME OFF LEN [SRC COPY]
    take "${4:-$src}" "$2" "$3" "$tmp/s-$1.fs"
    take "${5:-$tmp/copy.img}" "$2" "$3" "$tmp/c-$1.fs"
    ext_same "$tmp/s-$1.fs" "$tmp/c-$1.fs" "$1"
}
read o n < <(at home); check_ext home "$o" "$n"
check_ext boot $((P1 * 512)) $((P1LEN * 512))
# root: its two pieces joined, in both disks, then checked as above.
for d in src copy; do
    img=$src; [ $d = copy ] && img=$tmp/copy.img
    take "$img" "$o1" "$n1" "$tmp/$d-root.fs"
    take "$img" "$o2" "$n2" "$tmp/$d-root.2"
    cat "$tmp/$d-root.2" >> "$tmp/$d-root.fs"
done
cmp -s "$tmp/src-root.fs" "$tmp/root.fs" || fail "root was not placed where LVM put it"
check_ext root 0 $((n1 + n2)) "$tmp/src-root.fs" "$tmp/copy-root.fs"
cmp -s -i $((P2 * 512)):$((P2 * 512)) -n "$pe_start" "$src" "$tmp/copy.img" \
    || fail "the PV's label or metadata differ"
read o n < <(at swap)
cmp -s -i "$o:$o" -n 4096 "$src" "$tmp/copy.img" || fail "the swap header was not kept"
cmp -s -i "$((o + 4096)):0" -n $((n - 4096)) "$tmp/copy.img" /dev/zero || fail "stale swap pages reached the copy"
cmp -s -i "$free_off:0" -n "$free_len" "$tmp/copy.img" /dev/zero || fail "free extents are not zeros in the copy"

# One metadata byte changed (a lie, or rot): the checksum catches it.
# The area is a ring holding every version LVM wrote: each is changed.
cp --sparse=always "$src" "$tmp/bad.img"
mdas=$(grep -abo "$vg {" "$tmp/bad.img" | cut -d: -f1)
[ -n "$mdas" ] || fail "the metadata text was not found"
for m in $mdas; do
    printf 'X' | dd of="$tmp/bad.img" bs=1 seek=$((m + 1)) conv=notrunc status=none
done
copy bad "$tmp/bad.img" "$tmp/bad-copy.img"
expect_line "$tmp/bad.send" "partition 2 \(LVM2 PV\): sent whole: its metadata's checksum is wrong"
cmp -s -i $((P2 * 512)):$((P2 * 512)) "$tmp/bad.img" "$tmp/bad-copy.img" || fail "the PV with bad metadata was not sent whole"
echo "PASS: --skip-free read an LVM PV: free extents and its LVs' free blocks stayed home"
