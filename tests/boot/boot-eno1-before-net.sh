#!/usr/bin/env bash
# Before p2vfixup, network half: on the VM's virtio NIC the eno1 server boots from IDE but the new NIC is not named eno1, so its address stays down.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_net_test eno1 eno1
