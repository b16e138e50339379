#!/usr/bin/env bash
# After p2vfixup --target kvm: the cciss server boots on virtio, eth0 up at its old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test cciss eth0
