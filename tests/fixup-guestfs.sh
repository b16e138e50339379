#!/usr/bin/env bash
# Image mode through libguestfs, one appliance launch: a Debian 12 disk
# image (MBR, /boot on sda1, / on sda2, made here with mkfs.ext4 -d) is
# inspected, its filesystems mounted as its fstab says, converted for
# kvm; its initrd (early microcode cpio + zstd, already carrying virtio)
# is inspected and left alone.  The result is read back without
# libguestfs (debugfs on the partitions).
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_guestfs
requires p2vfixup sfdisk mkfs.ext4 debugfs cpio zstd

img=$tmp/web01-disk0.img
build_image "$img"
write_manifest "$img"

start=$(date +%s)
p2vfixup --target kvm "$img" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err"; fail "p2vfixup failed"; }
echo "p2vfixup took $(( $(date +%s) - start )) s"
cat "$tmp/out"

grep -q 'disk 1: was /dev/sda (manifest' "$tmp/out" || fail "manifest beside the image not used"
cat_in "$img" 2 /etc/fstab > "$tmp/fstab"
grep -qx "$(printf '/dev/vda2\t/\text4\terrors=remount-ro\t0\t1')" "$tmp/fstab" || fail "fstab: $(cat "$tmp/fstab")"
grep -qx "$(printf '/dev/vda1\t/boot\text4\tdefaults\t0\t2')" "$tmp/fstab" || fail "fstab /boot"
cat_in "$img" 2 /etc/fstab.p2vbak | grep -q '^/dev/sda2' || fail "no fstab backup in the image"
cat_in "$img" 1 /grub/grub.cfg | grep -q "linux	/vmlinuz-$KVER_DEB root=/dev/vda2 ro resume=/dev/vda3 quiet" \
    || fail "grub.cfg on the /boot partition not converted"
cat_in "$img" 2 /etc/network/interfaces > "$tmp/interfaces"
grep -q hwaddress "$tmp/interfaces" && fail "hwaddress kept"
grep -qx '	address 192.168.50.10/24' "$tmp/interfaces" || fail "address lost"
cat_in "$img" 2 /etc/udev/rules.d/70-persistent-net.rules | grep -q 'DRIVERS=="virtio_net".*NAME="eth0"' \
    || fail "persistent-net rule"
grep -q "initrd /boot/initrd.img-$KVER_DEB (none+zstd, 3 modules): virtio_blk in the initrd, virtio_pci in the initrd" "$tmp/out" \
    || fail "initrd inspection through libguestfs: $(grep initrd "$tmp/out")"
grep -q 'initrd: nothing missing, not rebuilt' "$tmp/out" || fail "initrd rebuilt needlessly"
exit 0
