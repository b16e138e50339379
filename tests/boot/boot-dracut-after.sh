#!/usr/bin/env bash
# After p2vfixup --target kvm: the server whose initramfs is dracut's (host-only, no virtio) gets virtio in /etc/dracut.conf.d, its initrd rebuilt by its own dracut, and boots on virtio.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test dracut eth0
