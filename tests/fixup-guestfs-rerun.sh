#!/usr/bin/env bash
# A second run changes nothing, through libguestfs too (one launch): the
# guest tree is first converted with --root, then made into an image;
# p2vfixup on that image must find nothing to do, with the manifest's
# source name "sda" still there.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_guestfs
requires p2vfixup sfdisk mkfs.ext4 debugfs cpio zstd

img=$tmp/web01-disk0.img
write_manifest "$img"
convert() {
    p2vfixup --target kvm --root "$1" --manifest "$img.p2v.json" > "$tmp/first" 2>&1 \
        || fail "first run (--root): $(cat "$tmp/first")"
}
build_image "$img" convert
grep -q '^/etc/fstab:$' "$tmp/first" || fail "first run did not convert: $(cat "$tmp/first")"
p2vfixup --target kvm "$img" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err"; fail "second run failed"; }
cat "$tmp/out"
grep -q '^No file needs to change.$' "$tmp/out" || fail "second run would change files"
grep -q 'initrd: nothing missing, not rebuilt' "$tmp/out" || fail "second run: initrd"
cat_in "$img" 2 /etc/fstab | grep -q "^/dev/vda2" || fail "fstab lost its conversion"
exit 0
