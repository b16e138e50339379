#!/usr/bin/env bash
# The contract between the two halves: p2vrecv writes a manifest of the
# source disk it received, and p2vfixup reads exactly that file to learn
# the old disk's names.  The source is a block device (a loop device over
# a real disk image) with a /dev/disk/by-id link, as udev makes on a
# server; the guest's fstab names its partitions by that link only, so
# only the manifest can tell p2vfixup that they are now on /dev/vda.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
. "$top_srcdir/tests/fixup-trees.sh"
requires_root
requires p2vsend p2vrecv p2vfixup p2vsum losetup python3

make_disk_image "$tmp/server.img" 48M
loop=$(losetup -f --show "$tmp/server.img") || { echo "SKIP: no loop device" >&2; exit 77; }
cleanup_fn "losetup -d $loop"
# udev's name for a SCSI disk; ours is unique to this run.
id=scsi-3600508b1p2vtest$$
[ -d /dev/disk/by-id ] || { mkdir -p /dev/disk/by-id && cleanup_fn "rmdir /dev/disk/by-id /dev/disk 2>/dev/null"; }
ln -s "../../${loop#/dev/}" "/dev/disk/by-id/$id"
cleanup_fn "rm -f /dev/disk/by-id/$id"

out=$tmp/copy.img
start_recv "$out"
timeout 120 p2vsend --progress=plain "$loop" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend exited $?"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$tmp/server.img" "$out" || fail "the copy differs from the source"

# What p2vrecv wrote: the block device, its kernel name, its by-id link,
# the digest p2vsum prints for the copy.
m=$out.p2v.json
[ -s "$m" ] || fail "no manifest beside the copy"
python3 - "$m" "$loop" "/dev/disk/by-id/$id" "$out" "$(p2vsum "$out" | awk '{print $NF}')" <<'X' || fail "manifest: $(cat "$m")"
import json, sys
m = json.load(open(sys.argv[1]))
path, link, target, digest = sys.argv[2:]
assert m["format"] == "p2vstream-manifest" and m["version"] == 1, m
assert m["source"]["path"] == path, m["source"]
assert m["source"]["kernel_name"] == path[len("/dev/"):], m["source"]
assert link in m["source"]["by_id"], m["source"]
assert m["target"] == target, m["target"]
assert m["digest"] == {"algorithm": "blkhash-sha256", "value": digest}, m["digest"]
X

# The guest, as it was installed on that disk.
g=$tmp/guest
make_debian_tree "$g"
sed -i -e "s|^/dev/sda2\t|/dev/disk/by-id/$id-part2\t|" \
    -e "s|^/dev/sda1 |/dev/disk/by-id/$id-part1 |" "$g/etc/fstab"
grep -q "^/dev/disk/by-id/$id-part2" "$g/etc/fstab" || fail "test setup: fstab not rewritten"

p2vfixup --target kvm --root "$g" --no-initrd --manifest "$m" > "$tmp/out" 2> "$tmp/err" \
    || fail "p2vfixup exited $?: $(cat "$tmp/err")"
expect_line "$tmp/out" "disk 1: was $loop \(manifest .*copy\.img\.p2v\.json\), now /dev/vda"
expect_line "$g/etc/fstab" "^/dev/vda2	/	ext4	errors=remount-ro	0	1$"
expect_line "$g/etc/fstab" "^/dev/vda1 +/boot +ext4"
! grep -q "by-id/$id" "$g/etc/fstab" || fail "fstab still names the old disk: $(cat "$g/etc/fstab")"

# A manifest p2vfixup cannot trust is refused before anything changes.
make_debian_tree "$tmp/g2"
before=$(tree_sum "$tmp/g2")
sed 's/"version": 1/"version": 7/' "$m" > "$tmp/v7.json"
rc=0
p2vfixup --target kvm --root "$tmp/g2" --no-initrd --manifest "$tmp/v7.json" \
    > "$tmp/out2" 2> "$tmp/err2" || rc=$?
[ $rc -eq 8 ] || fail "manifest of version 7: exit $rc, want 8: $(cat "$tmp/err2")"
expect_line "$tmp/err2" "^p2vfixup: error: manifest .*v7\.json: unsupported \"version\""
[ "$(tree_sum "$tmp/g2")" = "$before" ] || fail "guest changed despite the refused manifest"
exit 0
