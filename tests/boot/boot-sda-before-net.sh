#!/usr/bin/env bash
# Before p2vfixup, network half: on the VM's virtio NIC (new MAC) the /dev/sda server boots from IDE but eth0, pinned to the old MAC, does not come up.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_net_test sda eth0
