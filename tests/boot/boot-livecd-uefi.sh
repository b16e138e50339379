#!/usr/bin/env bash
# The boot medium boots under UEFI (OVMF, a fresh NVRAM) from CD to its root shell and banner.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
BOOT_FIRMWARE=uefi livecd_banner_test
