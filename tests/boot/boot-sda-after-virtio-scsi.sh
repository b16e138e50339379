#!/usr/bin/env bash
# After p2vfixup --target virtio-scsi: the sda server boots from a virtio-scsi disk (virtio_scsi now in its initrd) with eth0 up at its old address on virtio-net.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
TARGET=virtio-scsi after_test sda eth0 /dev/sda2 /dev/sda1
