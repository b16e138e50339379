#!/usr/bin/env bash
# After p2vfixup --target kvm: a server whose NIC had a predictable name (eno1) boots on virtio with eno1 up at its old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test eno1 eno1
