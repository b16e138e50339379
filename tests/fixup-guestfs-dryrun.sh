#!/usr/bin/env bash
# --dry-run on an image (one appliance launch): the drives are opened
# read-only, the unified diff of every change is printed, and the image
# is bit for bit what it was.  The image is the Smart Array variant:
# its fstab names /dev/cciss/c0d0pN, which libguestfs inspection cannot
# resolve, so p2vfixup pairs the old disk with the one holding the root.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_guestfs
requires p2vfixup sfdisk mkfs.ext4 cpio zstd md5sum

img=$tmp/web01-disk0.img
build_image "$img" cciss_names
sum=$(md5sum < "$img")
p2vfixup --target kvm --dry-run "$img" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err"; fail "dry run failed"; }
cat "$tmp/out"
[ "$(md5sum < "$img")" = "$sum" ] || fail "--dry-run changed the image"
grep -q '^--- a/etc/fstab$' "$tmp/out" || fail "no fstab diff"
grep -qxe "$(printf -- '-/dev/cciss/c0d0p2\t/\text4\terrors=remount-ro\t0\t1')" "$tmp/out" || fail "diff lacks the old line"
grep -qxe "$(printf -- '+/dev/vda2\t/\text4\terrors=remount-ro\t0\t1')" "$tmp/out" || fail "diff lacks the new line"
grep -qe "^+	linux	/vmlinuz-$KVER_DEB root=/dev/vda2 ro resume=/dev/vda3 quiet" "$tmp/out" \
    || fail "grub.cfg on the unresolved /boot not read"
grep -q '^/dev/cciss/c0d0 → /dev/vda (BIOS disk order in /boot/grub/device.map)$' "$tmp/out" || fail "device.map hint"
grep -q warning "$tmp/out" && fail "unexpected warning: $(grep warning "$tmp/out")"
grep -qe '^-	hwaddress ether 00:1b:78:aa:bb:cc$' "$tmp/out" || fail "diff lacks the hwaddress removal"
grep -q '^/etc/fstab (would change):$' "$tmp/out" || fail "report does not say would change"
exit 0
