#!/usr/bin/env bash
# The whole P2V: the physical server boots the medium with a P2VCONF stick, sends its SATA disk to p2vrecv on this host unattended and powers off; p2vfixup converts the copy; it boots on virtio with its old address up.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
livecd_p2v_test
