#!/usr/bin/env bash
# --root on trees laid out as other distributions' installers leave
# them: Ubuntu 22.04 (subiquity on LVM, / mounted by a dm-uuid by-id
# name; cloud-init's netplan with match: macaddress and set-name), RHEL
# 9.3 on UEFI (the ESP's grub.cfg a stub, BLS entries, grubenv without
# kernelopts, /etc/kernel/cmdline, a NetworkManager keyfile), SLES 12 SP5
# (every name by-id, resolved through device.map or p2vrecv's manifest).
# Each: what must change does, what must not does not, a second run is a
# no-op.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires p2vfixup
NEW_MAC=52:54:00:12:34:56

# run_fixup NAME TREE ARGS...: p2vfixup --target kvm --root TREE, its
# report in $tmp/NAME.out and .err; fails on a non-zero exit.
run_fixup() {
    local name=$1 g=$2; shift 2
    p2vfixup --target kvm --root "$g" --no-initrd "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" \
        || fail "$name: p2vfixup exited $?: $(cat "$tmp/$name.err")"
    sed "s/^/$name: /" "$tmp/$name.out" "$tmp/$name.err"
}
# second_run NAME TREE ARGS...: nothing left to change.
second_run() {
    local name=$1 g=$2 sum; shift 2
    sum=$(tree_sum "$g")
    p2vfixup --target kvm --root "$g" --no-initrd "$@" > "$tmp/$name.2" 2>&1 || fail "$name: second run failed"
    grep -q '^No file needs to change.$' "$tmp/$name.2" || fail "$name: second run: $(cat "$tmp/$name.2")"
    [ "$(tree_sum "$g")" = "$sum" ] || fail "$name: second run changed the guest"
}

# --- Ubuntu 22.04, subiquity on LVM --------------------------------------
g=$tmp/ubuntu
make_ubuntu_tree "$g"
cp "$g/etc/netplan/00-installer-config.yaml" "$tmp/netplan.orig"
run_fixup ubuntu "$g"
expect_line "$tmp/ubuntu.out" "^Guest: Ubuntu 22.04.3 LTS, GRUB 2 /boot/grub/grub.cfg, kernel $KVER_UBU;"
# The volume's by-id name is the copy's too: neither changed nor warned of.
expect_line "$g/etc/fstab" "^/dev/disk/by-id/$UBU_ROOT_ID / ext4 defaults 0 1$"
! grep -q 'dm-uuid' "$tmp/ubuntu.out" "$tmp/ubuntu.err" || fail "the LVM volume's by-id name was taken for a disk's"
expect_line "$g/etc/fstab" "^/dev/disk/by-uuid/6d2b1c4e-8f3a-4b7e-9c1d-2e5f8a0b3c4d /boot ext4"
grep -q 'root=/dev/mapper/ubuntu--vg-ubuntu--lv ro' "$g/boot/grub/grub.cfg" || fail "grub.cfg root= changed"
# netplan names the on-board NIC without a MAC: the new NIC must get
# that name, or the address never comes up.
cmp -s "$tmp/netplan.orig" "$g/etc/netplan/00-installer-config.yaml" || fail "subiquity's netplan file changed"
expect_line "$g/etc/udev/rules.d/70-p2v-net-names.rules" 'NAME="eno1"'
second_run ubuntu "$g"

# --- Ubuntu with cloud-init's netplan: match: macaddress, set-name ------
g=$tmp/ubuntu-ci
make_ubuntu_tree "$g" cloud-init
run_fixup ubuntu-ci "$g" --mac "$OLD_MAC=$NEW_MAC"
y=$g/etc/netplan/50-cloud-init.yaml
expect_line "$y" "^                macaddress: $NEW_MAC$"
expect_line "$y" "^            set-name: eth0$"
! grep -q "$OLD_MAC" "$y" || fail "the old MAC is left in netplan"
grep -q '^# network: {config: disabled}$' "$y" || fail "cloud-init's comments were lost"
[ "$(stat -c %a "$y")" = 600 ] || fail "netplan file mode changed to $(stat -c %a "$y")"
second_run ubuntu-ci "$g" --mac "$OLD_MAC=$NEW_MAC"

# --- RHEL 9.3 on UEFI ----------------------------------------------------
g=$tmp/el9
make_rhel9_uefi_tree "$g"
# An admin who moved swap to a partition: the next kernel's BLS entry
# is made from /etc/kernel/cmdline, so it must be converted too.
sed -i 's#resume=/dev/mapper/rhel-swap#resume=/dev/sda3#' "$g/etc/kernel/cmdline" \
    "$g"/boot/loader/entries/*.conf "$g/etc/default/grub"
stub=$(md5sum < "$g/boot/efi/EFI/redhat/grub.cfg")
env_before=$(md5sum < "$g/boot/grub2/grubenv")
run_fixup el9 "$g" --mac "$OLD_MAC=$NEW_MAC"
expect_line "$tmp/el9.out" "^Guest: Red Hat Enterprise Linux 9.3 \(Plow\), GRUB 2 /boot/grub2/grub.cfg \+ /boot/loader/entries/.*-$KVER_EL9.conf, kernel $KVER_EL9;"
[ "$(md5sum < "$g/boot/efi/EFI/redhat/grub.cfg")" = "$stub" ] || fail "the ESP's stub grub.cfg changed"
[ "$(md5sum < "$g/boot/grub2/grubenv")" = "$env_before" ] || fail "grubenv changed (it holds no kernel arguments on RHEL 9)"
for f in "$g/etc/kernel/cmdline" "$g"/boot/loader/entries/*.conf "$g/etc/default/grub"; do
    grep -q 'resume=/dev/vda3' "$f" || fail "${f#$g}: resume= not converted: $(grep resume "$f")"
    grep -q 'rd.lvm.lv=rhel/root' "$f" || fail "${f#$g}: LVM arguments lost"
done
expect_line "$tmp/el9.out" 'The guest boots UEFI \(\\EFI\\redhat\\shimx64.efi\)'
expect_line "$tmp/el9.out" 'EFI/BOOT/BOOTX64.EFI: the fallback boot loader is in place, left alone'
k=$g/etc/NetworkManager/system-connections/ens1f0.nmconnection
grep -qi "^mac-address=$NEW_MAC$" "$k" || fail "keyfile MAC: $(grep mac "$k")"
expect_line "$g/etc/fstab" '^/dev/mapper/rhel-root   /                       xfs'
expect_line "$g/etc/fstab" '^UUID=5e0c9f6a-0b1d-4a52-8e7c-3f9b2d6a1c84 /boot'
second_run el9 "$g" --mac "$OLD_MAC=$NEW_MAC"

# --- SLES 12 SP5, every name by-id ---------------------------------------
g=$tmp/sles
make_sles12_tree "$g"
# Without a manifest, device.map says which disk was BIOS disk 0.
p2vfixup --target kvm --root "$g" --no-initrd --dry-run > "$tmp/sles-dry.out" 2>&1 \
    || fail "SLES dry run: $(cat "$tmp/sles-dry.out")"
expect_line "$tmp/sles-dry.out" "^/dev/disk/by-id/$SLES_ID → /dev/vda \(BIOS disk order in /boot/grub2/device.map\)"
# With p2vrecv's manifest, which records the source's by-id names.
cat > "$tmp/sles.json" <<X
{ "format": "p2vstream-manifest", "version": 1,
  "source": { "path": "/dev/sda", "kernel_name": "sda", "size": 146778685440,
              "by_id": ["/dev/disk/by-id/$SLES_ID", "/dev/disk/by-id/wwn-0x600508b1001c7a3e"] },
  "host": { "hostname": "sles01", "nics": [] }, "target": "sles01-disk0.img" }
X
run_fixup sles "$g" --mac "$OLD_MAC=$NEW_MAC" --manifest "$tmp/sles.json"
expect_line "$tmp/sles.out" "^Guest: SUSE Linux Enterprise Server 12 SP5, GRUB 2 /boot/grub2/grub.cfg, kernel $KVER_SLES;"
expect_line "$tmp/sles.out" "^disk 1: was /dev/sda \(manifest .*sles.json\), now /dev/vda$"
! grep -q 'by-id' "$g/etc/fstab" "$g/etc/default/grub" "$g/boot/grub2/device.map" \
    || fail "a by-id name is left: $(grep -h by-id "$g/etc/fstab" "$g/etc/default/grub" "$g/boot/grub2/device.map")"
expect_line "$g/etc/fstab" '^/dev/vda2 /                    ext4       acl,user_xattr        1 1$'
grep -q "linux	/boot/vmlinuz-$KVER_SLES root=/dev/vda2  resume=/dev/vda1 splash=silent" "$g/boot/grub2/grub.cfg" \
    || fail "grub.cfg: $(grep 'linux	' "$g/boot/grub2/grub.cfg")"
# The menu entry's id is a label, not a device: left as YaST wrote it.
grep -q "gnulinux-simple-$SLES_ID-part2" "$g/boot/grub2/grub.cfg" || fail "menu entry id rewritten"
expect_line "$g/etc/udev/rules.d/70-persistent-net.rules" "ATTR\{address\}==\"$NEW_MAC\".*NAME=\"eth0\""
grep -q "IPADDR='10.1.2.12/24'" "$g/etc/sysconfig/network/ifcfg-eth0" || fail "ifcfg-eth0 lost its address"
second_run sles "$g" --mac "$OLD_MAC=$NEW_MAC" --manifest "$tmp/sles.json"
exit 0
