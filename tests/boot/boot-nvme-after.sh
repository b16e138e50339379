#!/usr/bin/env bash
# After p2vfixup --target kvm: the server that named its NVMe disk /dev/nvme0n1 boots from /dev/vda with eth0 at its old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test nvme eth0
