#!/usr/bin/env bash
# Before p2vfixup, network half: systemd-networkd's .link and .network match the old MAC, so on the VM's virtio NIC there is no lan0 and no address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_net_test networkd lan0
