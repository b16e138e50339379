#!/usr/bin/env bash
# p2vrecv writes whole aligned blocks around the page cache (O_DIRECT):
# the copy arrives identical, on a file, on a block device and on a
# filesystem that refuses O_DIRECT (tmpfs), a tail that is not a whole
# block included, and a new image is not left in the page cache
# (through it, writing took the CPUs the copy needs).  The O_DIRECT
# descriptor is seen in /proc/PID/fdinfo while the copy runs (not with
# strace: the sanitizer build's leak checker cannot run under ptrace).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires fincore cmp python3

MiB=$((1 << 20))
src=$tmp/src.img
head -c $((12 * MiB)) /dev/urandom > "$src"
truncate -s +$((8 * MiB)) "$src"
head -c $((12 * MiB + 4097)) /dev/urandom >> "$src"   # a tail of a block and one byte
size=$(stat -c %s "$src")
o_direct=$(python3 -c 'import os; print(os.O_DIRECT)')

# copy TARGET: send $src into TARGET at 16 MB/s (two seconds), both
# ends verify; direct is "yes" when p2vrecv held TARGET open O_DIRECT.
# same TARGET: it holds the source's bytes (read after fincore looked).
copy() {
    local out=$1 fd flags i
    direct=no
    start_recv "$out"
    timeout 120 p2vsend --progress=none --limit-rate=16M "$src" "127.0.0.1:$port" \
        2> "$tmp/send.err" &
    local spid=$!
    for ((i = 0; i < 400; i++)); do
        for fd in /proc/"$recv_pid"/fd/*; do
            [ "$(readlink "$fd" 2>/dev/null)" = "$(readlink -f "$out")" ] || continue
            flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$recv_pid/fdinfo/${fd##*/}" 2>/dev/null)
            [ -n "$flags" ] && (( 8#$flags & o_direct )) && direct=yes
        done
        [ "$direct" = no ] && kill -0 "$spid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$spid" || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "p2vsend into $out failed"; }
    wait_recv
    [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv into $out exited $recv_rc"; }
}
same() { cmp -n "$size" "$src" "$1" || fail "$1 differs from the source"; }

# A new image on this filesystem, when it takes O_DIRECT at all.
if dd if=/dev/zero of="$tmp/probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
    out=$tmp/out.img
    copy "$out"
    [ "$direct" = yes ] || fail "p2vrecv did not open the new image O_DIRECT"
    cached=$(fincore -b -n -o RES "$out" | tr -d ' ')
    echo "new image: $size bytes, $cached of them in the page cache after the copy"
    [ "$cached" -le $((1 * MiB)) ] || fail "$cached bytes of the new image left in the page cache"
    same "$out"
    rm -f "$out" "$out.p2v.json"
else
    echo "$tmp takes no O_DIRECT: the new-image case is not run here"
fi

# A block device (a loop device a little longer than the source).
if [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null; then
    loop_lock shared
    truncate -s $((40 * MiB)) "$tmp/back.img"
    dev=$(losetup -f --show "$tmp/back.img") || fail "cannot attach a loop device"
    cleanup_fn "losetup -d $dev"
    copy "$dev"
    [ "$direct" = yes ] || fail "p2vrecv did not open $dev O_DIRECT"
    same "$dev"
else
    echo "not root: the block-device case is not run here"
fi

# tmpfs refuses O_DIRECT on this kernel: everything goes through the
# page cache, and still arrives.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/p2vtest.XXXXXX)
    cleanup_fn "rm -rf $shm"
    copy "$shm/out.img"
    same "$shm/out.img"
fi
exit 0
