#!/usr/bin/env bash
# Control: the server on an NVMe disk boots from it on its own hardware, named /dev/nvme0n1p1 and p2.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
CONTROL_DISK=nvme control_test nvme /dev/nvme0n1p2 /dev/nvme0n1p1 eth0
