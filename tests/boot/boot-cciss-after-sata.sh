#!/usr/bin/env bash
# After p2vfixup --target sata: the Smart Array server, whose initramfs knew only hpsa, boots from an AHCI (SATA) disk, as VirtualBox or Proxmox present it, with eth0 up on e1000.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
TARGET=sata after_test cciss eth0 /dev/sda2 /dev/sda1
