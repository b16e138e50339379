#!/usr/bin/env bash
# --root on a Debian 12 guest installed on /dev/sda: sda → vda while an
# existing vda moves to vdb (no collision), a by-id name resolved by the
# p2vrecv manifest, GRUB 2 files, the pinned MAC in interfaces and
# 70-persistent-net.rules; then the predictable-name variant (eno1) that
# needs a rule so the new NIC keeps the configured name, and a NIC that
# systemd-networkd names and configures by its MAC.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires p2vfixup md5sum

g=$tmp/deb
make_debian_tree "$g"
cat > "$tmp/disk0.json" <<'X'
{ "format": "p2vstream-manifest", "version": 1,
  "source": { "path": "/dev/sda", "kernel_name": "sda", "model": "", "by_id": [] },
  "host": { "hostname": "db01", "nics": [ { "name": "eth0", "mac": "00:1b:78:aa:bb:cc", "driver": "tg3" } ] },
  "unknown_field": { "is": ["tolerated"] } }
X
cat > "$tmp/disk1.json" <<'X'
{ "format": "p2vstream-manifest", "version": 1,
  "source": { "path": "/dev/vda", "kernel_name": "vda",
              "by_id": ["/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"] } }
X
p2vfixup --target kvm --root "$g" --no-initrd --manifest "$tmp/disk0.json" \
    --manifest "$tmp/disk1.json" > "$tmp/out" 2> "$tmp/err" || fail "run: $(cat "$tmp/err")"
cat "$tmp/out"

fstab_want="# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/sda2 during installation
/dev/vda2	/	ext4	errors=remount-ro	0	1
/dev/vda1       /boot           ext4    defaults        0       2
/dev/vdb1       /data           xfs     defaults        0       2
/dev/vdb1 /backup ext4 defaults,nofail 0 2
UUID=3c1f9e5a-5b2e-4a57-9f0e-3d2a1b4c5d6e none swap sw 0 0"
[ "$(cat "$g/etc/fstab")" = "$fstab_want" ] || { diff <(echo "$fstab_want") "$g/etc/fstab"; fail "fstab"; }
grep -q "	linux	/vmlinuz-$KVER_DEB root=/dev/vda2 ro resume=/dev/vda3 quiet" "$g/boot/grub/grub.cfg" \
    || fail "grub.cfg: $(grep linux "$g/boot/grub/grub.cfg")"
grep -q "set root='hd0,msdos1'" "$g/boot/grub/grub.cfg" || fail "grub root changed"
grep -qx 'GRUB_CMDLINE_LINUX="resume=/dev/vda3"' "$g/etc/default/grub" || fail "default/grub"
grep -qx "$(printf '(hd0)\t/dev/vda')" "$g/boot/grub/device.map" || fail "device.map"
grep -q hwaddress "$g/etc/network/interfaces" && fail "hwaddress kept"
grep -qx '	address 192.168.50.10/24' "$g/etc/network/interfaces" || fail "static address lost"
rule='SUBSYSTEM=="net", ACTION=="add", DRIVERS=="virtio_net", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"'
grep -qxF "$rule" "$g/etc/udev/rules.d/70-persistent-net.rules" \
    || fail "persistent-net: $(cat "$g/etc/udev/rules.d/70-persistent-net.rules")"
grep -q '^# PCI device 0x14e4:0x1639 (bnx2)$' "$g/etc/udev/rules.d/70-persistent-net.rules" || fail "comment lost"
grep -q 'Interface eth0: named by the guest' "$tmp/out" || fail "report lacks eth0"
grep -q 'disk 1: was /dev/sda (manifest' "$tmp/out" || fail "report lacks the manifest"
grep -q 'warning' "$tmp/out" && fail "unexpected warning: $(grep warning "$tmp/out")"

sum=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd --manifest "$tmp/disk0.json" \
    --manifest "$tmp/disk1.json" > "$tmp/out2" 2>&1 || fail "second run: $(cat "$tmp/out2")"
grep -q '^No file needs to change.$' "$tmp/out2" || fail "second run not a no-op: $(cat "$tmp/out2")"
[ "$(tree_sum "$g")" = "$sum" ] || fail "second run changed files"

# Without the manifest the by-id name is left alone and reported.
g=$tmp/deb2
make_debian_tree "$g"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out" 2>&1 || fail "run 2: $(cat "$tmp/out")"
grep -q '^/dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1 /backup' "$g/etc/fstab" || fail "by-id guessed"
grep -q '^warning: /etc/fstab: /dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1: no new name known' "$tmp/out" \
    || fail "no warning for the unresolved by-id name"

# --map wins over what the files say.
g=$tmp/deb3
make_debian_tree "$g"
p2vfixup --target kvm --root "$g" --no-initrd --map /dev/sda=/dev/vdc --map vda=vda \
    > "$tmp/out" 2>&1 || fail "run 3: $(cat "$tmp/out")"
grep -q '^/dev/vdc2	/	ext4' "$g/etc/fstab" || fail "--map: $(cat "$g/etc/fstab")"
grep -q '^/dev/vda1       /data' "$g/etc/fstab" || fail "--map identity"

# Predictable names: eno1 would not exist on the VM; with --mac the
# new NIC is matched by its MAC, hwaddress follows the new MAC.
g=$tmp/pred
make_debian_tree "$g" predictable
p2vfixup --target kvm --root "$g" --no-initrd --mac eno1=52:54:00:12:34:56 \
    > "$tmp/out" 2>&1 || fail "predictable: $(cat "$tmp/out")"
cat "$tmp/out"
grep -qxF 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:12:34:56", ATTR{type}=="1", NAME="eno1"' \
    "$g/etc/udev/rules.d/70-p2v-net-names.rules" || fail "name rule: $(cat "$g"/etc/udev/rules.d/*)"
grep -qx '	hwaddress ether 52:54:00:12:34:56' "$g/etc/network/interfaces" || fail "hwaddress not rewritten"
grep -q 'Interface eno1: kept for the NIC with MAC 52:54:00:12:34:56' "$tmp/out" || fail "report lacks eno1"
sum=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd --mac eno1=52:54:00:12:34:56 > "$tmp/out2" 2>&1 \
    || fail "predictable second run"
[ "$(tree_sum "$g")" = "$sum" ] || fail "predictable second run changed files: $(cat "$tmp/out2")"

# --mac given by the old MAC (as a p2vrecv manifest lists it) names the
# interface too: the rule matches the new MAC, not just the driver.
g=$tmp/pred3
make_debian_tree "$g" predictable
p2vfixup --target kvm --root "$g" --no-initrd --mac "$OLD_MAC=52:54:00:12:34:57" > "$tmp/out" 2>&1 \
    || fail "predictable 3"
grep -qxF 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:12:34:57", ATTR{type}=="1", NAME="eno1"' \
    "$g/etc/udev/rules.d/70-p2v-net-names.rules" || fail "name rule by old MAC: $(cat "$g"/etc/udev/rules.d/*)"
# A second run finds only the new MAC in the files, and still ties eno1
# to it (not to the driver): nothing changes.
sum=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd --mac "$OLD_MAC=52:54:00:12:34:57" > "$tmp/out2" 2>&1 \
    || fail "predictable 3, second run"
[ "$(tree_sum "$g")" = "$sum" ] || fail "predictable 3, second run changed files: $(cat "$tmp/out2")"

# Without --mac: matched by the virtio_net driver.
g=$tmp/pred2
make_debian_tree "$g" predictable
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out" 2>&1 || fail "predictable 2"
grep -qxF 'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="virtio_net", ATTR{type}=="1", NAME="eno1"' \
    "$g/etc/udev/rules.d/70-p2v-net-names.rules" || fail "driver rule"
grep -q hwaddress "$g/etc/network/interfaces" && fail "hwaddress kept"

# systemd-networkd: the .link that names the NIC and the .network that
# gives it its address both match the old MAC.  Without --mac the .link
# matches the new driver (an empty [Match] would take lo too) and the
# .network the name the .link gives; that name is the .link's, so no
# udev rule is written for it; leftovers are skipped.
g=$tmp/networkd
make_debian_tree "$g"
sed -i '/hwaddress/d; s/eth0/lan0/g' "$g/etc/network/interfaces"
rm -f "$g/etc/udev/rules.d/70-persistent-net.rules"
mkdir -p "$g/etc/systemd/network"
printf '[Match]\nMACAddress=%s\n\n[Link]\nName=lan0\n' "$OLD_MAC" > "$g/etc/systemd/network/10-lan0.link"
printf '[Match]\nMACAddress = %s\n\n[Network]\nAddress=10.1.1.5/24\n' "$OLD_MAC" > "$g/etc/systemd/network/20-lan0.network"
cp "$g/etc/systemd/network/20-lan0.network" "$g/etc/systemd/network/20-lan0.network.dpkg-old"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out" 2>&1 || fail "networkd: $(cat "$tmp/out")"
cat "$tmp/out"
[ "$(cat "$g/etc/systemd/network/10-lan0.link")" = "$(printf '[Match]\nDriver=virtio_net\n\n[Link]\nName=lan0')" ] \
    || fail "networkd .link: $(cat "$g/etc/systemd/network/10-lan0.link")"
[ "$(cat "$g/etc/systemd/network/20-lan0.network")" = "$(printf '[Match]\nName=lan0\n\n[Network]\nAddress=10.1.1.5/24')" ] \
    || fail "networkd .network: $(cat "$g/etc/systemd/network/20-lan0.network")"
grep -q "$OLD_MAC" "$g/etc/systemd/network/20-lan0.network.dpkg-old" || fail "a leftover was rewritten"
grep -q 'Interface lan0: was pinned to MAC' "$tmp/out" || fail "report lacks lan0's pin"
grep -q 'Interface lan0: named by the guest' "$tmp/out" || fail "report lacks lan0's name"
grep -q 'Interface ?\|bound to MAC .* alone' "$tmp/out" && fail "the .network's pin reported apart from lan0"
[ -e "$g/etc/udev/rules.d/70-p2v-net-names.rules" ] && fail "a name rule for lan0, which the .link names"
grep -q 'warning: .*network configurations matched' "$tmp/out" && fail "a warning about several NICs for one"
sum=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out2" 2>&1 || fail "networkd second run"
[ "$(tree_sum "$g")" = "$sum" ] || fail "networkd second run changed files: $(cat "$tmp/out2")"
# Two NICs each named by its MAC: without --mac both .link files can
# only match the driver, which cannot tell the NICs apart: say so.
g=$tmp/networkd2
make_debian_tree "$g"
mkdir -p "$g/etc/systemd/network"
printf '[Match]\nMACAddress=%s\n\n[Link]\nName=lan0\n' "$OLD_MAC" > "$g/etc/systemd/network/10-lan0.link"
printf '[Match]\nMACAddress=00:1b:78:aa:bb:cd\n\n[Link]\nName=lan1\n' > "$g/etc/systemd/network/11-lan1.link"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out3" 2>&1 || fail "networkd, two NICs"
grep -q '^warning: 2 network configurations matched their NIC by its old MAC and now match any virtio_net NIC' "$tmp/out3" \
    || fail "no warning for two NICs matched by driver: $(cat "$tmp/out3")"
exit 0
