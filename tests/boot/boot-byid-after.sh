#!/usr/bin/env bash
# After p2vsend from /dev/disk/by-id/…, p2vrecv, and p2vfixup --manifest: the by-id names, which only the manifest ties to the copy, become /dev/vda1 and vda2 and the server boots on virtio.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/functions.sh"
. "$top_srcdir/tests/boot/qemu-guest.sh"
COPY_FROM_BYID=1 after_test byid eth0
