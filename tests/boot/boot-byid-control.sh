#!/usr/bin/env bash
# Control: the server naming its disk by-id (SUSE's way) boots on its own hardware, where udev gives its disk that name.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
control_test byid "/dev/disk/by-id/$BYID_DISK-part2" /dev/sda1 eth0
