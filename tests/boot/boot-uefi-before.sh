#!/usr/bin/env bash
# A Debian 12 UEFI server (loader under \EFI\debian only) on a new VM's OVMF with empty NVRAM: nothing to boot.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_uefi_test uefi
