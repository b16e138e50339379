#!/usr/bin/env bash
# After p2vfixup --target kvm --mac OLD=NEW: the NetworkManager profile takes the virtio NIC, whatever udev names it, and brings up the old address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
after_test nm 'en[a-z0-9]+'
