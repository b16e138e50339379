#!/usr/bin/env bash
# --root on a hostile tree: symlinks that point out of the guest (a
# temporary file, a backup, a directory component, ".." and absolute
# links) never reach the host's files, a FIFO or device node where a
# file is expected is refused without hanging, and a directory a rule
# writes into is created when the guest lacks it.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fixup-trees.sh"
requires p2vfixup md5sum timeout

host=$tmp/host
mkdir -p "$host/dir"
echo "host secret" > "$host/victim"
echo "host grub" > "$host/dir/grub"
hsum() { (cd "$host" && find . -printf '%p %y\n' | sort && find . -type f -exec md5sum {} + | sort); }
before=$(hsum)
check_host() { [ "$(hsum)" = "$before" ] || fail "$1: host files changed"; }

run() { # run NAME: p2vfixup on $g, exit status in $rc
    rc=0
    timeout 60 p2vfixup --target kvm --root "$g" --no-initrd > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ $rc -ne 124 ] || fail "$1: p2vfixup hung"
}

# Temporary file and backup as links to a host file.
g=$tmp/g1; make_debian_tree "$g"
ln -s "$host/victim" "$g/etc/fstab.p2vtmp"
ln -s "$host/victim" "$g/etc/default/grub.p2vbak.p2vtmp"
run tmp
[ $rc -eq 0 ] || fail "tmp link: exit $rc: $(cat "$tmp/err")"
grep -q '^/dev/vda2	/' "$g/etc/fstab" || fail "fstab not converted"
[ -L "$g/etc/fstab.p2vtmp" ] || fail "guest's link replaced"
check_host "temporary file link"

# A backup that is a link out: resolved inside the guest, where that
# directory does not exist, so refused and every change undone.
g=$tmp/g2; make_debian_tree "$g"
cp "$g/etc/fstab" "$tmp/fstab.orig"
ln -s "$host/victim" "$g/etc/fstab.p2vbak"
run backup
[ $rc -ne 0 ] || fail "backup link out accepted"
grep -q '^p2vfixup: error: backup /etc/fstab.p2vbak' "$tmp/err" || fail "backup error: $(cat "$tmp/err")"
cmp -s "$g/etc/fstab" "$tmp/fstab.orig" || fail "fstab changed although the run failed"
check_host "backup link"

# A directory component and a ".." link leading out.
g=$tmp/g3; make_debian_tree "$g"
cp "$g/etc/default/grub" "$host/dir/grub"; before=$(hsum)
rm -r "$g/etc/default"; ln -s "$host/dir" "$g/etc/default"
ln -s ../../../../../../../../../../"$host"/victim "$g/etc/x"
ln -sf /etc/x "$g/boot/grub/device.map"
run dir
check_host "directory link"

# Guest-internal links still work: absolute link to a guest file.
g=$tmp/g4; make_debian_tree "$g"
mv "$g/etc/fstab" "$g/etc/fstab.real"; ln -s /etc/fstab.real "$g/etc/fstab"
run inside
[ $rc -eq 0 ] || fail "inside link: exit $rc: $(cat "$tmp/err")"
grep -q '^/dev/vda2	/' "$g/etc/fstab.real" || fail "link inside the guest not followed"

# A FIFO and a character device where files are expected.
g=$tmp/g5; make_debian_tree "$g"
rm "$g/boot/grub/device.map"; mkfifo "$g/boot/grub/device.map"
run fifo
[ $rc -eq 0 ] || fail "fifo: exit $rc: $(cat "$tmp/err")"
[ -p "$g/boot/grub/device.map" ] || fail "FIFO replaced"
if [ "$(id -u)" = 0 ]; then
    g=$tmp/g6; make_debian_tree "$g"
    rm "$g/etc/fstab"; mknod "$g/etc/fstab" c 1 5
    run device
    [ $rc -ne 0 ] || fail "device node as fstab accepted"
    grep -q '^p2vfixup: error: ' "$tmp/err" || fail "no error line: $(cat "$tmp/err")"
    [ -c "$g/etc/fstab" ] || fail "device node replaced"
fi

# Missing directory for a new file: created and reported.
g=$tmp/g7; make_debian_tree "$g" predictable
rm -r "$g/etc/udev"
run mkdir
[ $rc -eq 0 ] || fail "missing dir: exit $rc: $(cat "$tmp/err")"
[ -f "$g/etc/udev/rules.d/70-p2v-net-names.rules" ] || fail "rule not written"
grep -q 'directory /etc/udev/rules.d created' "$tmp/out" || fail "creation not reported: $(cat "$tmp/out")"
check_host final
exit 0
