#!/usr/bin/env bash
# Before p2vfixup, network half: the NetworkManager profile is bound to the old MAC, so the VM's virtio NIC comes up without the server's address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_net_test nm -
