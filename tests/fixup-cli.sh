#!/usr/bin/env bash
# p2vfixup's command line: usage errors exit 1 with one error line, a
# directory that is not a Linux root exits 8 and is left untouched.
. "$top_srcdir/tests/functions.sh"
requires p2vfixup

expect() {
    local want=$1; shift
    local rc=0
    p2vfixup "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$tmp/err"; fail "p2vfixup $* exited $rc, want $want"; }
}

expect 0 --help
grep -q -- '--target' "$tmp/out" || fail "--help does not list --target"
expect 1 --root /
grep -q '^p2vfixup: error: --target is required$' "$tmp/err" || fail "missing --target: $(cat "$tmp/err")"
expect 1 --target kvm
expect 1 --target hyperv --root /
grep -q 'unknown --target' "$tmp/err" || fail "bad target message"
expect 1 --target kvm --root / disk.img
expect 1 --target kvm --mac eth0=52:54:00 --root /
expect 1 --target kvm --mac 'bad name=52:54:00:12:34:56' --root /
expect 1 --target kvm --map sda --root /

mkdir -p "$tmp/empty/etc"
before=$(cd "$tmp/empty" && find . | sort)
expect 8 --target kvm --root "$tmp/empty"
grep -q '^p2vfixup: error: not a Linux root' "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "error is not one line"
[ "$(cd "$tmp/empty" && find . | sort)" = "$before" ] || fail "unrecognised guest was changed"

# A guest whose bootloader p2vfixup cannot read is refused the same way.
mkdir -p "$tmp/noboot/etc"
echo "/dev/sda1 / ext4 defaults 0 1" > "$tmp/noboot/etc/fstab"
expect 8 --target kvm --root "$tmp/noboot"
grep -q 'unknown bootloader' "$tmp/err" || fail "no bootloader error: $(cat "$tmp/err")"
grep -q '/dev/sda1' "$tmp/noboot/etc/fstab" || fail "fstab changed"
[ ! -e "$tmp/noboot/etc/fstab.p2vbak" ] || fail "backup written for an unrecognised guest"
exit 0
