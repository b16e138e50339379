#!/usr/bin/env bash
# P2V, the classic case: an HP ProLiant running RHEL 5 (Smart Array,
# /dev/cciss/c0d0 and c0d1, root on LVM, bnx2 NICs pinned by HWADDR)
# moves to a KVM host.  Run the steps by hand; each says where it runs.
#
# Usage on the KVM host:  p2v-proliant-to-kvm.sh SOURCE-HOST
set -euo pipefail
src=${1:?usage: $0 SOURCE-HOST}
images=/var/lib/libvirt/images
name=web01

# 1. On the KVM host: receive both disks.  p2vrecv writes each image and
#    beside it IMAGE.p2v.json, the manifest: the source's kernel name
#    (cciss/c0d0), its by-id/by-path aliases and the host's NICs.
#      p2vrecv --listen=5000 $images/$name-disk0.img &
#      p2vrecv --listen=5001 $images/$name-disk1.img &
# 2. On the ProLiant, booted from the p2vstream medium (make livecd;
#    burn p2vstream-livecd.iso or dd it to a USB stick).  Its banner
#    lists the disks and addresses.  Its kernel drives the Smart Array
#    with hpsa, so c0d0 and c0d1 are /dev/sda and /dev/sdb there (check
#    the sizes and models in the banner); type:
#      p2vsend /dev/sda kvmhost:5000
#      p2vsend /dev/sdb kvmhost:5001
#    (on the old system's own kernel, or another LiveCD with cciss, the
#    names are /dev/cciss/c0d0 and c0d1).  Or unattended, with no
#    keyboard at the server: a second stick (mkfs.vfat -n P2VCONF)
#    holding p2v.conf, one setting per line, for one p2vrecv started
#    with both targets (p2vrecv disk0.img disk1.img):
#      p2v.server=kvmhost:5000
#      p2v.key=KEY-THAT-P2VRECV-PRINTED
#      p2v.disks=sda,sdb
#      p2v.poweroff
#    (see p2vsend(1) and p2vrecv(1) for compression and digests.)
#    An old server's disks hold years of deleted files: from the LiveCD,
#    p2vsend --skip-free /dev/sda kvmhost:5000 sends the blocks its
#    ext2/3/4 and XFS filesystems and swap do not use as zeros, unread
#    (p2v.args=--skip-free unattended); the copy then holds zeros there.
#    Less downtime (a warm migration): do 1 and 2 while the ProLiant
#    still serves (p2vsend --force: its root is mounted; the copy is
#    inconsistent but almost all right), then boot it from the LiveCD,
#    start the same two p2vrecv again, and send only what changed since:
#      p2vsend --delta /dev/cciss/c0d0 kvmhost:5000
#      p2vsend --delta /dev/cciss/c0d1 kvmhost:5001
echo "receive the disks of $src first (see the comments in $0)"

# 3. Look before changing anything: the unified diff of every file and
#    the initrd command p2vfixup would run inside the guest.  The disk
#    order is the order of the images: disk0 becomes /dev/vda.
p2vfixup --target kvm --dry-run "$images/$name-disk0.img" "$images/$name-disk1.img"

# 4. The MAC libvirt will give the VM's NIC, so ifcfg-eth0 keeps a
#    HWADDR that matches (without --mac it is removed instead).
new_mac=52:54:00:$(od -An -N3 -tx1 /dev/urandom | tr -s ' ' ':' | cut -c2-9)

# 5. Convert: fstab, grub.conf (and #boot=), device.map, modprobe.conf
#    (scsi_hostadapter → virtio_blk, ethN → virtio_net), ifcfg HWADDR;
#    the initrd is rebuilt with mkinitrd --with=virtio_pci... only if it
#    lacks virtio.  hpasm is reported; add --remove-tools to remove it.
#    Every file keeps NAME.p2vbak; exit status 9 means the initrd could
#    not be rebuilt and everything was put back.
p2vfixup --target kvm --mac "eth0=$new_mac" \
    "$images/$name-disk0.img" "$images/$name-disk1.img"

# 6. Define and start the VM with the same disk order, virtio disks and
#    the MAC given above.
virt-install --name "$name" --memory 4096 --vcpus 2 --import \
    --disk "$images/$name-disk0.img,bus=virtio,format=raw" \
    --disk "$images/$name-disk1.img,bus=virtio,format=raw" \
    --network "bridge=br0,model=virtio,mac=$new_mac" \
    --os-variant rhel5.11 --graphics none --noautoconsole

# 7. A second p2vfixup run changes nothing; the backups (*.p2vbak) can go
#    once the VM is known good.
