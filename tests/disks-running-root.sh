#!/usr/bin/env bash
# p2vsend refuses to copy the running system's root filesystem, mounted
# read-write, unless --force (issue 6): the copy would be inconsistent.
# p2vsend --list still lists that disk, and says it is the running root.
# This machine's own root cannot be opened here, so the test makes a
# "running system" whose root really is a block device: in a private
# mount namespace, an ext4 loop device is mounted and p2vsend runs
# chrooted into it (/usr, /dev, /proc, /sys and the build tree bound in),
# so /proc/self/mountinfo shows the loop device mounted rw on "/".
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
loop_lock shared
requires_root
requires unshare chroot losetup mkfs.ext4 mount
bin=$(dirname "$(command -v p2vsend)")

truncate -s 64M "$tmp/root.backing"
mkfs.ext4 -q -F "$tmp/root.backing"
loop=$(losetup -f --show "$tmp/root.backing") || { echo "SKIP: no loop devices"; exit 77; }
cleanup_fn "losetup -d $loop"
mkdir "$tmp/root"

# in_root CMD...: run CMD chrooted into the mounted loop device.
in_root() {
    unshare -m --propagation private bash -ec '
        r=$1 loop=$2 bin=$3; shift 3
        mount "$loop" "$r"
        for d in usr dev proc sys; do mkdir -p "$r/$d"; done
        for l in bin lib lib64 sbin; do [ -L "$r/$l" ] || ln -s "usr/$l" "$r/$l"; done
        mount --bind /usr "$r/usr"; mount --bind /dev "$r/dev"
        mount -t proc proc "$r/proc"; mount --bind /sys "$r/sys"
        mkdir -p "$r$bin" "$r/tmp"; mount --bind "$bin" "$r$bin"
        exec chroot "$r" "$@"' in_root "$tmp/root" "$loop" "$bin" "$@"
}

# The setting is right: inside, "/" is the loop device, read-write.
in_root /bin/sh -c 'grep " / / " /proc/self/mountinfo' > "$tmp/mi" || fail "cannot build the chroot"
cat "$tmp/mi"
read -r majmin < <(awk '{print $3}' "$tmp/mi")
[ "$majmin" = "$(stat -c '%t:%T' "$loop" | { IFS=: read -r a b; echo $((16#$a)):$((16#$b)); })" ] \
    || fail "the chroot's / is not $loop ($majmin)"

rc=0
in_root "$bin/p2vsend" -q --stdout "$loop" > "$tmp/out" 2> "$tmp/err" || rc=$?
cat "$tmp/err"
[ $rc -eq 6 ] || fail "sending the running root: exit $rc, expected 6"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "the refusal is not one line"
expect_line "$tmp/err" "^p2vsend: error: $loop holds the running system's root filesystem, mounted read-write: a copy would be inconsistent; boot a LiveCD \(or use --force\)$"
[ ! -s "$tmp/out" ] || fail "something was sent before the refusal"

# --list shows that disk, with its state, rather than hiding it (issue
# 12: "no disks found" on a machine whose only disk holds the root); a
# second loop device mounted elsewhere is "mounted on", an idle one "not
# in use".
truncate -s 16M "$tmp/data.backing"
mkfs.ext4 -q -F "$tmp/data.backing"
loop2=$(losetup -f --show "$tmp/data.backing") || { echo "SKIP: no second loop device"; exit 77; }
cleanup_fn "losetup -d $loop2"
truncate -s 8M "$tmp/idle.backing"
loop3=$(losetup -f --show "$tmp/idle.backing") || { echo "SKIP: no third loop device"; exit 77; }
cleanup_fn "losetup -d $loop3"
rc=0
in_root /bin/sh -c "mkdir -p /mnt/data && mount -o ro $loop2 /mnt/data && exec $bin/p2vsend --list" \
    > "$tmp/list" 2> "$tmp/list.err" || rc=$?
cat "$tmp/list" "$tmp/list.err"
[ $rc -eq 0 ] || fail "--list: exit $rc"
grep -q "no disks found" "$tmp/list" && fail "--list says no disks found"
# Each disk's state line follows its description (and table).
state_of() { awk -v d="$1:" '$1 == d { on = 1 } on && /^  state: / { sub(/^  state: /, ""); print; exit }' "$tmp/list"; }
expect_line "$tmp/list" "^$loop: 64\.0 MiB \(67108864 bytes\), "
[ "$(state_of "$loop")" = "running root (holds / mounted read-write: copy it from a LiveCD, or --force); mounted on /" ] \
    || fail "--list: state of the running root $loop is '$(state_of "$loop")'"
[ "$(state_of "$loop2")" = "mounted on /mnt/data (read-only)" ] \
    || fail "--list: state of the mounted $loop2 is '$(state_of "$loop2")'"
[ "$(state_of "$loop3")" = "not in use" ] || fail "--list: state of the idle $loop3 is '$(state_of "$loop3")'"

rc=0
P2V_KEY=TEST-KEY0-0000-0000-0001 in_root "$bin/p2vsend" -q --force --stdout "$loop" > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/err" >&2; fail "--force: exit $rc"; }
[ -s "$tmp/out" ] || fail "--force sent nothing"
exit 0
