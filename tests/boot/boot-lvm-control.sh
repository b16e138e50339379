#!/usr/bin/env bash
# Control: the server with / on LVM boots on its own hardware (IDE), its volume group activated by its initramfs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
control_test lvm /dev/mapper/vg00-root /dev/sda1 eth0
