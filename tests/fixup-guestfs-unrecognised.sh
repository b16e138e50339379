#!/usr/bin/env bash
# An image with no operating system on it (one appliance launch): one
# clear error line, exit status 8, and the image bit for bit unchanged.
. "$top_srcdir/tests/functions.sh"
requires_guestfs
requires p2vfixup sfdisk mkfs.ext4 md5sum

img=$tmp/data.img
mkdir -p "$tmp/data/projects"
echo "not an operating system" > "$tmp/data/projects/README"
truncate -s 64M "$img"
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$img"
mkfs.ext4 -q -F -d "$tmp/data" "$tmp/data.fs" 60M
dd if="$tmp/data.fs" of="$img" bs=512 seek=2048 conv=notrunc,sparse status=none
sum=$(md5sum < "$img")

rc=0
p2vfixup --target kvm "$img" > "$tmp/out" 2> "$tmp/err" || rc=$?
cat "$tmp/err"
[ $rc -eq 8 ] || fail "exit status $rc, want 8"
[ "$(cat "$tmp/err")" = "p2vfixup: error: no Linux root filesystem found in the image(s)" ] \
    || fail "error message: $(cat "$tmp/err")"
[ "$(md5sum < "$img")" = "$sum" ] || fail "the image was changed"
exit 0
