#!/usr/bin/env bash
# V2V: a Debian or Ubuntu VM from VMware ESXi (pvscsi disk /dev/sda,
# vmxnet3 NIC with a predictable name such as ens192, netplan or
# /etc/network/interfaces, open-vm-tools) moves to KVM.
#
# Usage:  v2v-vmware-to-kvm.sh GUEST-flat.vmdk
set -euo pipefail
vmdk=${1:?usage: $0 GUEST-flat.vmdk}
img=${vmdk%-flat.vmdk}.img

# 1. The -flat.vmdk of a thick disk is already a raw image; copy it so
#    the original stays untouched on the datastore.
cp --sparse=always "$vmdk" "$img"

# 2. Look first.  Expect: /dev/sda → /dev/vda in fstab and grub.cfg, a
#    rule keeping the name ens192 for the virtio NIC (it would otherwise
#    come up as enp1s0 and the static address would be lost), and the
#    initrd check (Debian's default MODULES=most initramfs already carries
#    virtio, so it is not rebuilt; a MODULES=dep one is, as MODULES=list).
p2vfixup --target kvm --dry-run "$img"

# 3. Convert, removing VMware Tools, which is useless on KVM.
p2vfixup --target kvm --remove-tools "$img"

# 4. Boot it on virtio.
virt-install --name "$(basename "${img%.img}")" --memory 2048 --import \
    --disk "$img,bus=virtio,format=raw" --network network=default,model=virtio \
    --os-variant debian12 --graphics none --noautoconsole
