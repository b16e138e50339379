#!/usr/bin/env bash
# --root on UEFI guests as their installers leave them: GRUB found on
# the ESP (CentOS 7) or through BLS entries and grubenv (RHEL 8), names
# converted there too; the removable-media loader a VM with empty NVRAM
# looks for is put in place where the guest lacks it (Debian: shim and
# fallback; GRUB alone), reported, left alone where RHEL's shim package
# already ships it; --dry-run writes nothing; a second run is a no-op.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires p2vfixup md5sum cmp

# --- CentOS 7 UEFI: grub.cfg only on the ESP --------------------------
g=$tmp/el7
make_rhel7_uefi_tree "$g"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out7" 2> "$tmp/err7" \
    || fail "CentOS 7 UEFI refused: $(cat "$tmp/err7")"
cat "$tmp/out7"
grep -q "^Guest: CentOS Linux 7 (Core), GRUB 2 /boot/efi/EFI/centos/grub.cfg, kernel $KVER_EL7" "$tmp/out7" \
    || fail "guest line: $(grep '^Guest' "$tmp/out7")"
grep -q "linuxefi /vmlinuz-$KVER_EL7 root=/dev/mapper/centos-root ro .* resume=/dev/vda3 rhgb quiet" \
    "$g/boot/efi/EFI/centos/grub.cfg" || fail "ESP grub.cfg not converted"
[ -L "$g/etc/grub2-efi.cfg" ] || fail "/etc/grub2-efi.cfg is no longer a link"
grep -qx '/dev/vda1               /boot/efi               vfat    umask=0077,shortname=winnt 0 0' "$g/etc/fstab" \
    || fail "fstab ESP line: $(grep efi "$g/etc/fstab")"
grep -q 'resume=/dev/vda3' "$g/etc/default/grub" || fail "/etc/default/grub"
grep -q HWADDR "$g/etc/sysconfig/network-scripts/ifcfg-eno1" && fail "HWADDR kept"
grep -q 'The guest boots UEFI (\\EFI\\centos\\shimx64.efi): give the VM UEFI firmware' "$tmp/out7" \
    || fail "report does not say the guest boots UEFI"
grep -q 'EFI/BOOT/BOOTX64.EFI: the fallback boot loader is in place, left alone' "$tmp/out7" \
    || fail "shim-x64's own fallback not recognised"
[ "$(find "$g/boot/efi/EFI/BOOT" -type f | wc -l)" -eq 2 ] || fail "\\EFI\\BOOT changed"
[ "$(stat -c %s "$g/boot/efi/EFI/centos/grubenv")" -eq 1024 ] || fail "grubenv size changed"

# --- RHEL 8 UEFI: BLS entries, kernelopts in grubenv --------------------
g=$tmp/el8
make_rhel8_bls_tree "$g"
sum0=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd --dry-run > "$tmp/dry8" 2> "$tmp/err8" \
    || fail "RHEL 8 dry run refused: $(cat "$tmp/err8")"
[ "$(tree_sum "$g")" = "$sum0" ] || fail "--dry-run changed the guest"
grep -q '^new file /boot/efi/EFI/BOOT/BOOTX64.EFI: a copy of /boot/efi/EFI/redhat/shimx64.efi ([0-9]* bytes)$' "$tmp/dry8" \
    || fail "dry run does not show the fallback loader: $(grep -i efi "$tmp/dry8")"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out8" 2> "$tmp/err8" \
    || fail "RHEL 8 run failed: $(cat "$tmp/err8")"
cat "$tmp/out8"
grep -q "^Guest: Red Hat Enterprise Linux 8.9 (Ootpa), GRUB 2 /boot/efi/EFI/redhat/grub.cfg + /boot/loader/entries/.*-$KVER_EL8.conf, kernel $KVER_EL8;" \
    "$tmp/out8" || fail "BLS entry not found: $(grep '^Guest' "$tmp/out8")"
env8=$g/boot/efi/EFI/redhat/grubenv
[ "$(stat -c %s "$env8")" -eq 1024 ] || fail "grubenv is $(stat -c %s "$env8") bytes, not 1024"
grep -q '^kernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto resume=/dev/vda3 rd.lvm.lv=rhel/root rhgb quiet $' "$env8" \
    || fail "kernelopts: $(grep -a kernelopts "$env8")"
grep -q '^saved_entry=' "$env8" || fail "saved_entry lost"
[ -L "$g/boot/grub2/grubenv" ] || fail "/boot/grub2/grubenv is no longer a link"
[ "$(grep -c '^/boot/efi/EFI/redhat/grubenv:$' "$tmp/out8")" -eq 1 ] || fail "grubenv reported twice or not at all"
grep -q 'resume=/dev/vda3' "$g"/boot/loader/entries/*-0-rescue.conf || fail "rescue BLS entry not converted"
grep -q 'mac-address' "$g/etc/NetworkManager/system-connections/eno1.nmconnection" && fail "NM keyfile MAC kept"
for f in BOOTX64.EFI fbx64.efi grubx64.efi mmx64.efi; do
    src=$f; [ $f = BOOTX64.EFI ] && src=shimx64.efi
    cmp -s "$g/boot/efi/EFI/redhat/$src" "$g/boot/efi/EFI/BOOT/$f" || fail "\\EFI\\BOOT\\$f is not a copy of $src"
done
grep -q '^/boot/efi/EFI/BOOT/BOOTX64.EFI (new file):$' "$tmp/out8" || fail "fallback loader not reported"
grep -q "directory /boot/efi/EFI/BOOT created" "$tmp/out8" || fail "new directory not reported"
sum1=$(tree_sum "$g")
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out8b" 2>&1 || fail "second run failed"
grep -q '^No file needs to change.$' "$tmp/out8b" || fail "second run: $(cat "$tmp/out8b")"
[ "$(tree_sum "$g")" = "$sum1" ] || fail "second run changed the guest"

# --- Debian UEFI, as its installer leaves it: \EFI\debian only ---------
g=$tmp/deb
make_debian_uefi_tree "$g"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/outd" 2> "$tmp/errd" \
    || fail "Debian UEFI run failed: $(cat "$tmp/errd")"
cat "$tmp/outd"
grep -q '^Guest: Debian GNU/Linux 12 (bookworm), GRUB 2 /boot/grub/grub.cfg,' "$tmp/outd" \
    || fail "the ESP's stub grub.cfg was taken for the real one: $(grep '^Guest' "$tmp/outd")"
cmp -s "$g/boot/efi/EFI/debian/shimx64.efi" "$g/boot/efi/EFI/BOOT/BOOTX64.EFI" || fail "shim not the fallback"
cmp -s "$g/boot/efi/EFI/debian/fbx64.efi" "$g/boot/efi/EFI/BOOT/fbx64.efi" || fail "no fbx64.efi"
grep -qx "$(printf '/dev/vda4\t/boot/efi\tvfat\tumask=0077\t0\t1')" "$g/etc/fstab" \
    || fail "ESP fstab line: $(grep efi "$g/etc/fstab")"

# GRUB without shim: grubx64.efi itself becomes BOOTX64.EFI.
g=$tmp/debns
make_debian_uefi_tree "$g" noshim
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/outn" 2>&1 || fail "noshim: $(cat "$tmp/outn")"
cmp -s "$g/boot/efi/EFI/debian/grubx64.efi" "$g/boot/efi/EFI/BOOT/BOOTX64.EFI" || fail "GRUB not the fallback"
[ -e "$g/boot/efi/EFI/BOOT/fbx64.efi" ] && fail "fbx64.efi without shim"
grep -q 'The guest boots UEFI (\\EFI\\debian\\grubx64.efi)' "$tmp/outn" || fail "noshim report"

# A BIOS guest gets nothing of this.
g=$tmp/bios
make_debian_tree "$g"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/outb" 2>&1 || fail "BIOS: $(cat "$tmp/outb")"
grep -q 'UEFI' "$tmp/outb" && fail "a BIOS guest reported as UEFI"
[ -e "$g/boot/efi" ] && fail "a BIOS guest got an ESP"

# A guest whose "loader" is a link out of the guest copies nothing of
# the host's.
g=$tmp/hostile
make_debian_uefi_tree "$g"
rm "$g/boot/efi/EFI/debian/shimx64.efi"
ln -s /etc/shadow "$g/boot/efi/EFI/debian/shimx64.efi"
p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/outh" 2>&1 || :
if [ -e "$g/boot/efi/EFI/BOOT/BOOTX64.EFI" ]; then
    cmp -s /etc/shadow "$g/boot/efi/EFI/BOOT/BOOTX64.EFI" && fail "the host's /etc/shadow was copied into the guest"
fi
echo ok
