#!/usr/bin/env bash
# --compress=auto (issue 5): the zstd level follows the bottleneck.
# Over a slow link (two network namespaces, a veth shaped to 40 Mbit/s,
# as an old server's NIC), a source of real binaries and libraries:
#  1. with zstd level 1, the baseline bytes on the wire;
#  2. with auto, the level climbs (the summary names the levels used)
#     and fewer bytes cross the wire than with level 1;
#  3. with auto while every CPU is busy (a production server at work),
#     the level never leaves 1: p2vsend does not take CPU the server
#     needs.
# Every copy is verified by p2vrecv and compared with cmp.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
cpu_alone
requires_root
requires ip tc timeout cmp nproc
MiB=$((1 << 20))

netns_link 40mbit

# The source: this machine's libraries and binaries, in a fixed order,
# as the compressible part of a server's disk.
src=$tmp/src.img
{ find /usr/lib /usr/bin -xdev -type f -size +16k -size -4M -readable -print0 2>/dev/null \
      | LC_ALL=C sort -z | xargs -0 cat 2>/dev/null || true; } | head -c $((64 * MiB)) > "$src"
[ "$(stat -c %s "$src")" -ge $((32 * MiB)) ] || { echo "SKIP: under 32 MiB of files in /usr/lib" >&2; exit 77; }

# copy NAME ARGS...: send $src with ARGS; both ends must succeed and the
# target equal the source.  Leaves p2vsend's messages in $tmp/NAME.err.
copy() {
    local name=$1 tgt=$tmp/$1.img rc=0; shift
    recv_ns "$tgt"
    # Small chunks: enough of them for auto's windows in a short test.
    timeout 120 ip netns exec "$nss" "$top_builddir/src/p2vsend" --progress=none -b 512K "$@" \
        "$src" 10.99.0.1:5000 2> "$tmp/$name.err" || rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "$name: p2vrecv did not end"
    wait_recv
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/$name.err" "$tmp/recv.err" >&2; fail "$name: exits $rc/$recv_rc"; }
    cmp "$src" "$tgt" || fail "$name: target differs"
    rm -f "$tgt" "$tgt.p2v.json"
}
# wire_pct NAME: the "(N% of what was sent)" of p2vsend's summary, x10.
wire_pct() {
    local p
    p=$(sed -n 's/.* on the wire (\([0-9]*\)\.\([0-9]\)% of what was sent)$/\1\2/p' "$tmp/$1.err")
    [ -n "$p" ] || { cat "$tmp/$1.err" >&2; fail "$1: no wire summary"; }
    echo "$((10#$p))"
}

# 1. Level 1.
copy level1 --compress=zstd:1
l1=$(wire_pct level1)

# 2. Auto on an idle machine: climbs, and saves bytes.
copy auto --compress=auto
expect_line "$tmp/auto.err" "zstd auto, "
expect_line "$tmp/auto.err" "^p2vsend: zstd auto: level 1 to [0-9]+ \(chunks per level .*\) for $src$"
top=$(sed -n 's/^p2vsend: zstd auto: level 1 to \([0-9]*\) .*/\1/p' "$tmp/auto.err")
au=$(wire_pct auto)
echo "level 1: $l1/1000 of the source on the wire; auto (levels 1-$top): $au/1000"
[ "$top" -ge 3 ] || fail "auto stayed at level $top or below on a full 40 Mbit/s link with idle CPUs"
[ "$au" -le $((l1 - 10)) ] || fail "auto sent $au/1000 of the source, level 1 $l1/1000: not 1 point fewer"

# 3. Auto with every CPU busy: stays at level 1.
for ((i = 0; i < $(nproc); i++)); do
    timeout 120 sha256sum /dev/zero > /dev/null 2>&1 &
    cleanup_fn "kill $! 2>/dev/null"
done
copy busy --compress=auto
expect_line "$tmp/busy.err" "^p2vsend: zstd auto: level 1 to 1 \(chunks per level 1:[0-9]+\) for $src$"
exit 0
