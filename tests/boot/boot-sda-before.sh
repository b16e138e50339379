#!/usr/bin/env bash
# Before p2vfixup: the copied /dev/sda server does not boot on KVM/virtio.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_test sda /dev/sda2
