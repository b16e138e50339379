#!/usr/bin/env bash
# After p2vfixup --target kvm: the initramfs rebuilt with virtio beside device-mapper and lvm finds vg00 on /dev/vda2 and mounts / from it; /boot is /dev/vda1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test lvm eth0 /dev/mapper/vg00-root /dev/vda1
