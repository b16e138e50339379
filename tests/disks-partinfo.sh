#!/usr/bin/env bash
# Partition tables on real block devices (loop devices), as p2vrecv
# will meet them after writing a target:
#   - a GPT disk copied onto a larger device: the backup moved to the
#     end (sgdisk -v clean, it complained before), partition contents
#     untouched, then the kernel shown its partitions (/dev/loopNpM
#     appear, with the right sizes and data);
#   - an MBR disk with a logical partition: nothing to move, and the
#     kernel's partitions 1, 2 (extended, 1 KiB as the kernel's own
#     parser makes it) and 5; a later, different table replaces them;
#   - a 4096-byte-sector device: the GPT found and moved in 4 KiB LBAs;
#   - --list shows attached loop devices with their tables, and not
#     unused ones.
# The kernel here has no MBR/GPT parsers and loop devices are attached
# without partition scanning, so BLKRRPART finds nothing and BLKPG does
# the work, as partx -a would.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/functions.sh"
loop_lock exclusive
requires_root
requires losetup sgdisk sfdisk mkfs.ext4 blockdev partx blkid
tool=$top_builddir/lib/disk/test-disks-tool
[ -x "$tool" ] || fail "$tool not built"

# attach FILE [ARGS]: sets $dev to a loop device on FILE, detached
# (its partitions first) at exit.  Not in $(...): the cleanup must be
# registered in this shell.
attach() {
    local f=$1
    shift
    dev=$(losetup -f --show "$@" "$f") || fail "losetup failed"
    cleanup_fn "losetup -d $dev"
    cleanup_fn "partx -d $dev 2>/dev/null"
}

# part_bytes DEV N: the size of /dev/DEVpN as the kernel has it.
part_bytes() { blockdev --getsize64 "${1}p$2"; }

# --- GPT onto a larger device ------------------------------------------
src=$tmp/gpt.img
truncate -s 16M "$src"
sgdisk -n1:2048:+4M -c1:'EFI System' -t1:ef00 -n2:0:+6M -c2:root -n3:0:0 -c3:data "$src" > /dev/null \
    || fail "sgdisk failed"
mkfs.ext4 -q -F -E offset=$((10240 * 512)) "$src" 6M
head -c 1M /dev/urandom | dd of="$src" bs=512 seek=22528 conv=notrunc status=none

truncate -s 40M "$tmp/target1"
attach "$tmp/target1"; t1=$dev
dd if="$src" of="$t1" bs=1M conv=fsync status=none
sgdisk -v "$t1" > "$tmp/v.before" 2>&1
expect_line "$tmp/v.before" "^Problem: The secondary header's self-pointer"

"$tool" relocate "$t1" > "$tmp/relocate.out" || fail "relocate on $t1 failed"
cat "$tmp/relocate.out" >&2
expect_line "$tmp/relocate.out" "moved the backup GPT from sector 32767 to sector 81919"
sgdisk -v "$t1" > "$tmp/v.after" 2>&1
expect_line "$tmp/v.after" "No problems found"
# Everything the partitions hold is the source's, byte for byte.
cmp <(dd if="$src" bs=512 skip=34 count=$((32767 - 34)) status=none) \
    <(dd if="$t1" bs=512 skip=34 count=$((32767 - 34)) status=none) \
    || fail "relocation changed bytes between the tables"
rc=0; "$tool" relocate "$t1" > /dev/null || rc=$?
[ "$rc" -eq 3 ] || fail "second relocate exited $rc, want 3 (nothing to do)"

"$tool" reread "$t1" > "$tmp/reread.out" || fail "reread $t1 failed"
cat "$tmp/reread.out" >&2
[ "$(head -n1 "$tmp/reread.out")" = 3 ] || fail "kernel should know 3 partitions of $t1"
expect_line "$tmp/reread.out" "3 added, 0 removed"
for n in 1 2 3; do [ -b "${t1}p$n" ] || fail "${t1}p$n did not appear"; done
[ "$(part_bytes "$t1" 1)" -eq $((4 << 20)) ] || fail "${t1}p1 has the wrong size"
[ "$(part_bytes "$t1" 2)" -eq $((6 << 20)) ] || fail "${t1}p2 has the wrong size"
[ "$(part_bytes "$t1" 3)" -eq $(((32734 - 22528 + 1) * 512)) ] || fail "${t1}p3 has the wrong size"
cmp <(head -c 1M "${t1}p3") <(dd if="$src" bs=512 skip=22528 count=2048 status=none) \
    || fail "${t1}p3 does not hold partition 3's data"
[ "$(blkid -o value -s TYPE "${t1}p2")" = ext4 ] || fail "${t1}p2 is not ext4"
# Again: the kernel already has exactly these, nothing is redone.
"$tool" reread "$t1" > "$tmp/reread.out" || fail "second reread failed"
expect_line "$tmp/reread.out" "0 added, 0 removed"

# --- MBR with an extended and a logical partition ----------------------
mbr=$tmp/mbr.img
truncate -s 16M "$mbr"
printf 'label: dos\nstart=2048, size=8192, type=83\nstart=10240, type=5\nstart=12288, size=4096, type=83\n' \
    | sfdisk -q "$mbr"
truncate -s 24M "$tmp/target2"
attach "$tmp/target2"; t2=$dev
dd if="$mbr" of="$t2" bs=1M conv=fsync status=none
before=$(md5sum < "$t2")
rc=0; "$tool" relocate "$t2" > "$tmp/relocate.out" || rc=$?
[ "$rc" -eq 3 ] || fail "relocate on an MBR disk exited $rc, want 3"
expect_line "$tmp/relocate.out" "has no GPT"
[ "$(md5sum < "$t2")" = "$before" ] || fail "relocate changed an MBR disk"

"$tool" reread "$t2" > "$tmp/reread.out" || fail "reread $t2 failed"
[ "$(head -n1 "$tmp/reread.out")" = 3 ] || fail "kernel should know partitions 1, 2, 5 of $t2"
[ "$(part_bytes "$t2" 1)" -eq $((8192 * 512)) ] || fail "${t2}p1 has the wrong size"
[ "$(part_bytes "$t2" 2)" -eq 1024 ] || fail "the extended ${t2}p2 should be 1 KiB"
[ "$(part_bytes "$t2" 5)" -eq $((4096 * 512)) ] || fail "${t2}p5 has the wrong size"

# A second copy with another layout: stale partitions go, p1 changes.
printf 'label: dos\nstart=4096, size=16384, type=83\n' | sfdisk -q "$t2" 2> /dev/null
"$tool" reread "$t2" > "$tmp/reread.out" || fail "reread after a new table failed"
cat "$tmp/reread.out" >&2
[ "$(head -n1 "$tmp/reread.out")" = 1 ] || fail "kernel should know only partition 1 of $t2 now"
expect_line "$tmp/reread.out" "1 added, 3 removed"
[ -e "${t2}p5" ] && fail "${t2}p5 is stale but still there"
[ "$(part_bytes "$t2" 1)" -eq $((16384 * 512)) ] || fail "${t2}p1 was not updated"

# --- 4096-byte sectors -------------------------------------------------
truncate -s 32M "$tmp/4k.img"
attach "$tmp/4k.img" -b 4096; t3=$dev
sgdisk -n1:0:+8M -c1:one -n2:0:+8M -c2:two "$t3" > /dev/null 2>&1 || fail "sgdisk on a 4Kn device failed"
# The device grows under the table, as a larger target would be.
truncate -s 48M "$tmp/4k.img"
losetup -c "$t3" || fail "losetup -c failed"
[ "$(blockdev --getsize64 "$t3")" -eq $((48 << 20)) ] || fail "$t3 did not grow"
"$tool" relocate "$t3" > "$tmp/relocate.out" || fail "relocate on a 4Kn device failed"
cat "$tmp/relocate.out" >&2
expect_line "$tmp/relocate.out" "from sector 8191 to sector 12287"
sgdisk -v "$t3" > "$tmp/v.after" 2>&1
expect_line "$tmp/v.after" "No problems found"
"$tool" print "$t3" > "$tmp/print.out" || fail "print on a 4Kn device failed"
expect_line "$tmp/print.out" "4096-byte sectors, gpt partition table$"
"$tool" reread "$t3" > "$tmp/reread.out" || fail "reread on a 4Kn device failed"
[ "$(part_bytes "$t3" 2)" -eq $((8 << 20)) ] || fail "${t3}p2 has the wrong size"

# --- --list --------------------------------------------------------------
"$tool" list > "$tmp/list.out" 2> "$tmp/list.err" || fail "list failed"
cat "$tmp/list.out" >&2
expect_line "$tmp/list.out" "^$t1: 40.0 MiB \\(41943040 bytes\\), .*gpt partition table$"
expect_line "$tmp/list.out" "^  1 +2048 +4.0 MiB .*EFI System +boot, esp$"
expect_line "$tmp/list.out" "^  2 +10240 +6.0 MiB +ext4 +root"
expect_line "$tmp/list.out" "^$t2: 24.0 MiB .*msdos partition table$"
expect_line "$tmp/list.out" "^$t3: 48.0 MiB .*4096-byte sectors, gpt partition table$"
unused=$(losetup -f)
grep -q "^$unused:" "$tmp/list.out" && fail "unused $unused is listed"
echo PASS
