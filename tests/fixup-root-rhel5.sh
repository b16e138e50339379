#!/usr/bin/env bash
# --root on an HP ProLiant RHEL 5 guest: cciss names become virtio names
# with the right partition suffix in fstab, grub.conf (through its
# symlinks), device.map; modprobe.conf points at virtio; the pinned MAC
# goes; --dry-run changes nothing; backups; a second run is a no-op.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires p2vfixup md5sum

g=$tmp/rhel5
make_rhel5_tree "$g"
sum0=$(tree_sum "$g")

p2vfixup --target kvm --root "$g" --no-initrd --dry-run > "$tmp/dry" 2> "$tmp/err" \
    || fail "dry run failed: $(cat "$tmp/err")"
[ "$(tree_sum "$g")" = "$sum0" ] || fail "--dry-run changed the guest"
grep -qx -- '-/dev/cciss/c0d0p3       swap                    swap    defaults        0 0' "$tmp/dry" \
    || fail "dry run diff lacks the old fstab line"
grep -qx -- '+/dev/vda3       swap                    swap    defaults        0 0' "$tmp/dry" \
    || fail "dry run diff lacks the new fstab line"
grep -q '^--- a/etc/sysconfig/network-scripts/ifcfg-eth0$' "$tmp/dry" || fail "no ifcfg diff"

p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out" 2> "$tmp/err" \
    || fail "run failed: $(cat "$tmp/err")"
cat "$tmp/out"

# virt-v2v would write c0d01 here; the suffix rule must hold.
grep -q 'c0d0' "$g/etc/fstab" && fail "cciss name left in fstab"
grep -qx '/dev/vda3       swap                    swap    defaults        0 0' "$g/etc/fstab" || fail "swap not vda3"
grep -qx "$(printf '/dev/vdb1\t/u01\text3\tdefaults\t1 2')" "$g/etc/fstab" || fail "second disk not vdb1 (tabs kept)"
grep -qx '/dev/vg00/lvol00        /                       ext3    defaults        1 1' "$g/etc/fstab" \
    || fail "LVM root line changed"
grep -q 'LABEL=/boot' "$g/etc/fstab" || fail "LABEL= line changed"

# grub.conf: edited in place, the symlinks still symlinks.
[ -L "$g/etc/grub.conf" ] && [ -L "$g/boot/grub/menu.lst" ] || fail "grub.conf symlinks replaced by files"
grep -q 'kernel /vmlinuz-2.6.18-398.el5 ro root=/dev/vg00/lvol00 resume=/dev/vda3 rhgb quiet' "$g/boot/grub/grub.conf" \
    || fail "kernel line: $(grep kernel "$g/boot/grub/grub.conf")"
grep -qx '#boot=/dev/vda' "$g/boot/grub/grub.conf" || fail "#boot= not rewritten"
grep -qx '	root (hd0,0)' "$g/boot/grub/grub.conf" || fail "root (hd0,0) changed"
grep -qx '(hd0)     /dev/vda' "$g/boot/grub/device.map" || fail "device.map"

grep -qx 'alias scsi_hostadapter virtio_blk' "$g/etc/modprobe.conf" || fail "scsi_hostadapter"
grep -q 'scsi_hostadapter1' "$g/etc/modprobe.conf" && fail "second scsi_hostadapter kept"
grep -qx 'alias eth0 virtio_net' "$g/etc/modprobe.conf" || fail "eth0 alias"
grep -q HWADDR "$g/etc/sysconfig/network-scripts/ifcfg-eth0" && fail "HWADDR kept"
grep -qx 'IPADDR=10.1.2.3' "$g/etc/sysconfig/network-scripts/ifcfg-eth0" || fail "IPADDR lost"

# Backups hold the originals.
grep -q 'c0d0p3' "$g/etc/fstab.p2vbak" || fail "no fstab backup"
grep -q 'HWADDR=00:1B:78:AA:BB:CC' "$g/etc/sysconfig/network-scripts/ifcfg-eth0.p2vbak" || fail "no ifcfg backup"
grep -q 'cciss' "$g/boot/grub/grub.conf.p2vbak" || fail "no grub.conf backup"

# The report says what changed and warns about the HP agents.
grep -q '^/etc/fstab:$' "$tmp/out" || fail "report lacks /etc/fstab"
grep -q 'removed HWADDR=00:1b:78:aa:bb:cc' "$tmp/out" || fail "report lacks the MAC"
grep -q '^warning: HP Proliant Support Pack' "$tmp/out" || fail "no hpasm warning"
[ -e "$g/sbin/hpasmcli" ] || fail "agent removed without --remove-tools"

# Second run: nothing changes at all.
sum1=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out2" 2>&1 || fail "second run failed"
grep -q '^No file needs to change.$' "$tmp/out2" || fail "second run: $(cat "$tmp/out2")"
[ "$(tree_sum "$g")" = "$sum1" ] || fail "second run changed the guest"

# A target whose disk driver the kernel lacks is refused, untouched.
g2=$tmp/rhel5b
make_rhel5_tree "$g2"
sum2=$(tree_sum "$g2")
rc=0
p2vfixup --target xen --root "$g2" --no-initrd > "$tmp/out3" 2> "$tmp/err3" || rc=$?
[ $rc -eq 8 ] || fail "xen on a kernel without xen-blkfront exited $rc, want 8"
grep -q 'has no xen_blkfront driver' "$tmp/err3" || fail "xen: $(cat "$tmp/err3")"
[ "$(tree_sum "$g2")" = "$sum2" ] || fail "refused guest was changed"

# --target ide on a 2.6.18 kernel: hdX names and the old piix driver;
# --mac rewrites instead of removing; --no-backup keeps no copies.
p2vfixup --target ide --root "$g2" --no-initrd --no-backup --mac eth0=52:54:00:12:34:56 \
    > "$tmp/out4" 2>&1 || fail "ide run: $(cat "$tmp/out4")"
grep -qx 'HWADDR=52:54:00:12:34:56' "$g2/etc/sysconfig/network-scripts/ifcfg-eth0" || fail "--mac not applied"
grep -q '^/dev/hda3 ' "$g2/etc/fstab" || fail "ide naming: $(cat "$g2/etc/fstab")"
grep -qx 'alias scsi_hostadapter piix' "$g2/etc/modprobe.conf" || fail "ide driver: $(cat "$g2/etc/modprobe.conf")"
grep -qx 'alias eth0 e1000' "$g2/etc/modprobe.conf" || fail "ide NIC driver"
[ -z "$(find "$g2" -name '*.p2vbak')" ] || fail "--no-backup left backups"
exit 0
