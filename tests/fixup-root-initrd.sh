#!/usr/bin/env bash
# The initrd step in --root mode: a MODULES=dep initramfs without virtio
# is found lacking (libarchive on an early cpio + zstd image), the guest's
# own update-initramfs is run in a chroot (with /proc, /sys, /dev bound
# and unbound afterwards) after the drivers were added to its config,
# and the result is inspected again.  When the tool fails, every change
# is undone.  The guest's tools are busybox and a stand-in
# update-initramfs that checks its configuration.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_root
requires p2vfixup busybox cpio gzip zstd ldd mountpoint cmp

make_guest() {
    local g=$1 m="usr/lib/modules/$KVER_DEB/kernel"
    make_debian_tree "$g"
    mkdir -p "$g/bin" "$g/usr/sbin" "$g/proc" "$g/sys" "$g/dev" "$g/tmp" "$g/root"
    add_busybox "$g"
    cat > "$g/usr/sbin/update-initramfs" <<X
#!/bin/sh
echo "\$@" > /tmp/update-initramfs.args
[ -e /proc/self/status ] || { echo "no /proc in the chroot" >&2; exit 1; }
grep -qx virtio_blk /etc/initramfs-tools/modules || { echo "virtio_blk not configured" >&2; exit 1; }
grep -qx ext4 /etc/initramfs-tools/modules || { echo "root fs module not carried over" >&2; exit 1; }
grep -qx MODULES=list /etc/initramfs-tools/initramfs.conf || { echo "still MODULES=dep" >&2; exit 1; }
[ -e /tmp/fail ] && { echo "simulated failure" >&2; exit 1; }
cp /root/initrd-new.img /boot/initrd.img-$KVER_DEB
X
    chmod +x "$g/usr/sbin/update-initramfs"
    # VMware Tools from the old platform, and a dpkg that records its use.
    mkdir -p "$g/usr/bin" "$g/var/lib/dpkg/info"
    : > "$g/usr/bin/vmtoolsd"
    : > "$g/var/lib/dpkg/info/open-vm-tools.list"
    printf '#!/bin/sh\necho "$@" > /tmp/dpkg.args\n' > "$g/usr/bin/dpkg"
    chmod +x "$g/usr/bin/dpkg"
    # The old initramfs, built MODULES=dep on the SATA server.
    mkinitrd_img "$g/boot/initrd.img-$KVER_DEB" "zstd -q" init \
        "$m/fs/ext4/ext4.ko" "$m/fs/jbd2/jbd2.ko" "$m/drivers/ata/ahci.ko" \
        "$m/drivers/net/ethernet/broadcom/tg3.ko" usr/lib/udev/rules.d/70-persistent-net.rules
    # What the stand-in tool "builds".
    mkinitrd_img "$g/root/initrd-new.img" gzip init \
        "$m/fs/ext4/ext4.ko" "$m/fs/jbd2/jbd2.ko" "$m/drivers/block/virtio_blk.ko" \
        "$m/drivers/virtio/virtio_pci.ko" "$m/drivers/net/virtio_net.ko"
}

g=$tmp/deb
make_guest "$g"
cp "$g/boot/initrd.img-$KVER_DEB" "$tmp/initrd.orig"

p2vfixup --target kvm --root "$g" --dry-run > "$tmp/dry" 2>&1 || fail "dry run: $(cat "$tmp/dry")"
grep -qx "would run: /usr/sbin/update-initramfs -u -k $KVER_DEB" "$tmp/dry" || fail "dry run lacks the command"
grep -q 'virtio_blk MISSING' "$tmp/dry" || fail "dry run did not find virtio_blk missing: $(grep initrd "$tmp/dry")"
grep -qx '+virtio_blk' "$tmp/dry" || fail "dry run lacks the modules diff"
[ ! -e "$g/tmp/update-initramfs.args" ] || fail "dry run ran the tool"

grep -qx "would run: /usr/bin/dpkg --purge open-vm-tools" "$tmp/dry" && fail "tools removal planned without --remove-tools"
grep -q '^warning: VMware Tools installed (/usr/bin/vmtoolsd)' "$tmp/dry" || fail "no VMware Tools warning"

p2vfixup --target kvm --root "$g" --remove-tools > "$tmp/out" 2> "$tmp/err" || fail "run: $(cat "$tmp/err")"
cat "$tmp/out"
[ "$(cat "$g/tmp/dpkg.args")" = "--purge open-vm-tools" ] || fail "VMware Tools not removed with dpkg"
grep -q '^VMware Tools removed: /usr/bin/dpkg --purge open-vm-tools$' "$tmp/out" || fail "removal not reported"
for p in proc sys dev; do mountpoint -q "$g/$p" && fail "/$p left mounted in the guest"; done
[ "$(cat "$g/tmp/update-initramfs.args")" = "-u -k $KVER_DEB" ] || fail "tool args: $(cat "$g/tmp/update-initramfs.args")"
cmp -s "$g/boot/initrd.img-$KVER_DEB" "$g/root/initrd-new.img" || fail "initrd not replaced"
cmp -s "$g/boot/initrd.img-$KVER_DEB.p2vbak" "$tmp/initrd.orig" || fail "old initrd not kept"
for m in virtio_pci virtio_blk virtio_net ext4 jbd2; do
    grep -qx "$m" "$g/etc/initramfs-tools/modules" || fail "$m not in initramfs-tools/modules"
done
grep -qx ahci "$g/etc/initramfs-tools/modules" && fail "old hardware driver carried over"
grep -q 'initrd after the rebuild.*virtio_blk in the initrd, virtio_pci in the initrd' "$tmp/out" \
    || fail "report lacks the second inspection"
grep -q '^/dev/vda2	/' "$g/etc/fstab" || fail "fstab not converted"

# Second run: the initrd now has the drivers; nothing is run or changed.
rm "$g/tmp/update-initramfs.args"
p2vfixup --target kvm --root "$g" > "$tmp/out2" 2>&1 || fail "second run: $(cat "$tmp/out2")"
grep -q '^No file needs to change.$' "$tmp/out2" || fail "second run: $(cat "$tmp/out2")"
grep -q 'initrd: nothing missing, not rebuilt' "$tmp/out2" || fail "second run rebuilt"
[ ! -e "$g/tmp/update-initramfs.args" ] || fail "second run ran the tool"

# The tool fails: exit 4 and the guest is as it was.
g=$tmp/fail
make_guest "$g"
touch "$g/tmp/fail"
cp -a "$g/etc" "$tmp/etc.orig"
rc=0
p2vfixup --target kvm --root "$g" --remove-tools > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 9 ] || fail "failed rebuild exited $rc, want 9"
grep -q 'simulated failure' "$tmp/err" || fail "tool output not shown: $(cat "$tmp/err")"
grep -q 'every change was undone' "$tmp/err" || fail "no undo message"
diff -r "$tmp/etc.orig" "$g/etc" || fail "files not restored"
cmp -s "$g/boot/initrd.img-$KVER_DEB" "$g/root/initrd-new.img" && fail "initrd replaced"
[ -z "$(find "$g" -name '*.p2vbak')" ] || fail "backups left after undo: $(find "$g" -name '*.p2vbak')"
for p in proc sys dev; do mountpoint -q "$g/$p" && fail "/$p left mounted"; done
[ ! -e "$g/tmp/dpkg.args" ] || fail "tools removed although the conversion failed"
exit 0
