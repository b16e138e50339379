#!/usr/bin/env bash
# Before p2vfixup: the copied HP Smart Array (/dev/cciss/c0d0pN) server does not boot on KVM/virtio.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
before_test cciss /dev/cciss/c0d0p2
