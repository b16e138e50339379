#!/usr/bin/env bash
# V2V to XenServer / XCP-ng: a RHEL 7 guest (from KVM or VMware) gets
# /dev/xvdX names and an initrd with xen-blkfront and xen-netfront.
#
# Usage:  v2v-to-xenserver.sh GUEST.img
set -euo pipefail
img=${1:?usage: $0 GUEST.img}

# 1. Look first.  The kernel must have xen-blkfront (RHEL 6 and later
#    do); if it has not, p2vfixup refuses with exit status 8 and changes
#    nothing.  Expect /dev/vda → /dev/xvda (or /dev/sda → /dev/xvda),
#    ifcfg HWADDR removed, and dracut run with
#    /etc/dracut.conf.d/90-p2vfixup.conf adding xen_blkfront.
p2vfixup --target xen --dry-run "$img"

# 2. Convert; VMware Tools, if the guest came from ESXi, is removed.
p2vfixup --target xen --remove-tools "$img"

# 3. Import into XenServer (on the pool master), as a raw VDI:
#      uuid=$(xe vm-install template="Other install media" new-name-label=rhel7)
#      vdi=$(xe vdi-create sr-uuid=<SR> name-label=rhel7-disk0 type=user \
#            virtual-size=$(stat -c %s "$img"))
#      xe vdi-import uuid=$vdi filename="$img" format=raw
#      xe vbd-create vm-uuid=$uuid vdi-uuid=$vdi device=0 bootable=true
#      xe vm-param-set uuid=$uuid HVM-boot-policy="" PV-bootloader=pygrub
#      xe vm-start uuid=$uuid
echo "now import $img into XenServer (see the comments in $0)"
