#!/usr/bin/env bash
# After p2vfixup --target kvm: the UEFI server boots on OVMF with empty NVRAM, on virtio, eth0 up at its old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
BOOT_FIRMWARE=uefi after_test uefi eth0 /dev/vda3 /dev/vda2
