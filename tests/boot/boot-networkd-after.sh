#!/usr/bin/env bash
# After p2vfixup --target kvm --mac OLD=NEW: networkd's .link names the virtio NIC lan0 and the .network brings it up at the old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test networkd lan0
