#!/usr/bin/env bash
# The boot medium (scripts/make-livecd) boots under BIOS (SeaBIOS, from CD) to its root shell and banner: the SATA disk listed, the DHCP address shown, the command to type.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
livecd_banner_test
