#!/usr/bin/env bash
# After p2vfixup --target vmware: the sda server boots from qemu's pvscsi (VMware's paravirtual SCSI) with eth0 up at its old address on vmxnet3.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
TARGET=vmware after_test sda eth0 /dev/sda2 /dev/sda1
