#!/usr/bin/env bash
# Before p2vfixup: the server with / on LVM, on virtio, stops in its initramfs: no disk driver, so no physical volume and no vg00.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_test lvm /dev/mapper/vg00-root
