#!/usr/bin/env bash
# The guest's initrd tool runs in a private mount namespace: a guest
# "dev -> host dir" or "proc -> host dir" gets nothing mounted over the
# host's directory, and killing p2vfixup with -9 while the tool runs
# leaves nothing under the tree in the host's mount table.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires_root
requires p2vfixup busybox cpio zstd ldd timeout md5sum

make_guest() {
    local g=$1 m="usr/lib/modules/$KVER_DEB/kernel"
    make_debian_tree "$g"
    mkdir -p "$g/usr/sbin" "$g/proc" "$g/sys" "$g/dev" "$g/tmp"
    add_busybox "$g"
    printf '#!/bin/sh\n: > /tmp/started\nsleep %s\nexit 1\n' "$2" > "$g/usr/sbin/update-initramfs"
    chmod +x "$g/usr/sbin/update-initramfs"
    mkinitrd_img "$g/boot/initrd.img-$KVER_DEB" "zstd -q" init "$m/fs/ext4/ext4.ko"
}
mounts_under() { grep -c " $1[/ ]" /proc/self/mountinfo || true; }

host=$tmp/hostdir
mkdir -p "$host"; echo keep > "$host/file"
sum=$(cd "$host" && find . | sort && md5sum file)

for p in dev proc; do
    g=$tmp/g-$p
    make_guest "$g" 0
    rmdir "$g/$p"; ln -s "$host" "$g/$p"
    rc=0
    timeout 120 p2vfixup --target kvm --root "$g" > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ $rc -ne 0 ] || fail "$p symlink: accepted"
    grep -Eq "^p2vfixup: error: cannot run .*/$p in the guest is (a symlink|not a directory)" "$tmp/err" \
        || fail "$p symlink: $(cat "$tmp/err")"
    [ "$(cd "$host" && find . | sort && md5sum file)" = "$sum" ] || fail "$p: host dir changed"
    [ "$(mounts_under "$host")" = 0 ] || fail "$p: something mounted on the host dir"
done

# kill -9 mid-run.
g=$tmp/g-kill
make_guest "$g" 30
p2vfixup --target kvm --root "$g" > "$tmp/out" 2>&1 &
pid=$!
for i in $(seq 100); do [ -e "$g/tmp/started" ] && break; sleep 0.2; done
[ -e "$g/tmp/started" ] || { kill -9 $pid; fail "the guest tool never started: $(cat "$tmp/out")"; }
kill -9 $pid
wait $pid 2>/dev/null || true
sleep 0.5
[ "$(mounts_under "$g")" = 0 ] || fail "left mounted: $(grep " $g[/ ]" /proc/self/mountinfo)"
exit 0
