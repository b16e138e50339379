#!/usr/bin/env bash
# The receiving side on the boot medium: the new VM boots it with p2v.recv=/dev/vda from a P2VCONF stick, p2vsend on this host sends the server disk through a forwarded port, the VM verifies and powers off, and its disk holds the server disk.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
livecd_recv_test
