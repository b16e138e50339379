#!/usr/bin/env bash
# Control: the /dev/sda server boots on its own hardware (IDE disk, e1000 with its old MAC).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
control_test sda /dev/sda2 /dev/sda1 eth0
