#!/usr/bin/env bash
# The initrd step on Red Hat guests in --root mode: RHEL 5's mkinitrd
# gets --with= for every new driver (and reads the rewritten
# modprobe.conf); where dracut exists it is preferred, with the drivers
# in /etc/dracut.conf.d so later kernels keep them.  The tools are
# stand-ins in a busybox chroot that record how they were called.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_root
requires p2vfixup busybox cpio gzip ldd cmp

make_guest() {
    local g=$1 m="lib/modules/$KVER_EL5/kernel"
    make_rhel5_tree "$g"
    add_busybox "$g"
    mkdir -p "$g/proc" "$g/sys" "$g/dev" "$g/tmp" "$g/root" "$g/usr/bin" "$g/etc/dracut.conf.d"
    mkinitrd_img "$g/boot/initrd-$KVER_EL5.img" gzip init \
        "$m/drivers/block/cciss.ko" "$m/fs/ext3/ext3.ko" "$m/drivers/md/dm-mod.ko"
    mkinitrd_img "$g/root/initrd-new.img" gzip init \
        "$m/drivers/virtio/virtio.ko" "$m/drivers/virtio/virtio_pci.ko" \
        "$m/drivers/block/virtio_blk.ko" "$m/fs/ext3/ext3.ko" "$m/drivers/md/dm-mod.ko"
    # Both tools record their arguments and what they were configured with.
    for tool in sbin/mkinitrd usr/bin/dracut; do
        cat > "$g/$tool" <<X
#!/bin/sh
echo "\$@" > /tmp/$(basename $tool).args
cat /etc/modprobe.conf /etc/dracut.conf.d/*.conf > /tmp/$(basename $tool).conf 2>/dev/null
cp /root/initrd-new.img /boot/initrd-$KVER_EL5.img
X
        chmod +x "$g/$tool"
    done
}

# RHEL 5: no dracut, so mkinitrd.
g=$tmp/el5
make_guest "$g"
rm "$g/usr/bin/dracut"
p2vfixup --target kvm --root "$g" > "$tmp/out" 2> "$tmp/err" || fail "el5: $(cat "$tmp/err")"
cat "$tmp/out"
[ "$(cat "$g/tmp/mkinitrd.args")" = "-f --with=virtio_blk --with=virtio_pci --with=virtio_net /boot/initrd-$KVER_EL5.img $KVER_EL5" ] \
    || fail "mkinitrd args: $(cat "$g/tmp/mkinitrd.args")"
grep -qx 'alias scsi_hostadapter virtio_blk' "$g/tmp/mkinitrd.conf" || fail "mkinitrd ran before modprobe.conf was rewritten"
grep -q "initrd /boot/initrd-$KVER_EL5.img (none+gzip, 3 modules): virtio_blk MISSING, virtio_pci MISSING" "$tmp/out" \
    || fail "first inspection: $(grep initrd "$tmp/out")"
grep -q 'initrd after the rebuild (5 modules): virtio_blk in the initrd, virtio_pci in the initrd' "$tmp/out" \
    || fail "second inspection"
cmp -s "$g/boot/initrd-$KVER_EL5.img" "$g/root/initrd-new.img" || fail "initrd not replaced"
cmp -s "$g/boot/initrd-$KVER_EL5.img.p2vbak" "$g/root/initrd-new.img" && fail "old initrd not kept"
grep -q 'initrd: the old one is kept as' "$tmp/out" || fail "backup of the initrd not reported"

# With dracut (RHEL 6 and later).
g=$tmp/el6
make_guest "$g"
p2vfixup --target kvm --root "$g" > "$tmp/out" 2> "$tmp/err" || fail "dracut: $(cat "$tmp/err")"
[ "$(cat "$g/tmp/dracut.args")" = "-f /boot/initrd-$KVER_EL5.img $KVER_EL5" ] \
    || fail "dracut args: $(cat "$g/tmp/dracut.args")"
grep -qx 'add_drivers+=" virtio_blk virtio_pci virtio_net "' "$g/etc/dracut.conf.d/90-p2vfixup.conf" \
    || fail "dracut.conf.d: $(cat "$g/etc/dracut.conf.d/90-p2vfixup.conf")"
grep -q 'add_drivers+=" virtio_blk' "$g/tmp/dracut.conf" || fail "dracut ran before its configuration was written"
[ ! -e "$g/tmp/mkinitrd.args" ] || fail "mkinitrd used although dracut exists"

# A tool that "succeeds" but leaves the drivers out: exit 4, all undone.
g=$tmp/bad
make_guest "$g"
cp "$g/boot/initrd-$KVER_EL5.img" "$g/root/initrd-new.img"
cp "$g/boot/initrd-$KVER_EL5.img" "$tmp/bad.orig"
rc=0
p2vfixup --target kvm --root "$g" > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 9 ] || fail "useless rebuild exited $rc, want 9"
grep -q 'the rebuilt initrd still lacks virtio_blk' "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"
grep -q cciss "$g/etc/fstab" || fail "fstab not restored"
[ ! -e "$g/etc/dracut.conf.d/90-p2vfixup.conf" ] || fail "new dracut.conf.d file not removed"
cmp -s "$g/boot/initrd-$KVER_EL5.img" "$tmp/bad.orig" || fail "initrd not restored"
[ -z "$(find "$g" -name '*.p2vbak')" ] || fail "backups left after undo"
exit 0
