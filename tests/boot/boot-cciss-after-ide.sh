#!/usr/bin/env bash
# After p2vfixup --target ide: the ProLiant server, whose initrd holds only hpsa, boots from an IDE disk as /dev/sda with eth0 up on e1000.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
TARGET=ide after_test cciss eth0 /dev/sda2 /dev/sda1
