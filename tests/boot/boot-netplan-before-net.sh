#!/usr/bin/env bash
# Before p2vfixup, network half: netplan matches the old MAC and names it lan0, so on the VM's virtio NIC there is no lan0 and no old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_net_test netplan lan0
