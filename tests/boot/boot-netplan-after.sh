#!/usr/bin/env bash
# After p2vfixup --target kvm --mac OLD=NEW: netplan's match: macaddress names the virtio NIC lan0 and brings up the old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test netplan lan0
