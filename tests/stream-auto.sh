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
    timeout 120 ip netns exec "$nss" "$top_builddir/src/p2vsend" --progress=json -b 512K "$@" \
        "$src" 10.99.0.1:5000 2> "$tmp/$name.err" || rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "$name: p2vrecv did not end"
    wait_recv
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/$name.err" "$tmp/recv.err" >&2; fail "$name: exits $rc/$recv_rc"; }
    cmp "$src" "$tgt" || fail "$name: target differs"
    rm -f "$tgt" "$tgt.p2v.json"
}
# summary NAME KEY: KEY of the "summary" line p2vsend --progress=json
# wrote to $tmp/NAME.err: wire_pct (wire bytes per mille of what was
# read), top (the highest zstd level used), levels ("1:120 2:301").
summary() {
    python3 - "$tmp/$1.err" "$2" <<'PY' || { cat "$tmp/$1.err" >&2; fail "$1: no JSON summary"; }
import json, sys
s = [l["summary"] for l in map(json.loads, (l for l in open(sys.argv[1]) if l.startswith("{")))
     if "summary" in l]
assert len(s) == 1, s
s, key = s[0], sys.argv[2]
if key == "wire_pct":
    print(1000 * s["wire_bytes"] // s["read"])
elif key == "top":
    print(max(int(l) for l in s["zstd_levels"]))
elif key == "levels":
    print(" ".join("%s:%d" % kv for kv in sorted(s["zstd_levels"].items(), key=lambda kv: int(kv[0]))))
PY
}

# 1. Level 1.
copy level1 --compress=zstd:1
l1=$(summary level1 wire_pct)

# 2. Auto on an idle machine: climbs, and saves bytes.
copy auto --compress=auto
expect_line "$tmp/auto.err" "^p2vsend: zstd auto: level 1 to [0-9]+ \(chunks per level .*\) for $src$"
top=$(summary auto top)
au=$(summary auto wire_pct)
echo "auto's chunks per zstd level: $(summary auto levels)"
echo "level 1: $l1/1000 of the source on the wire; auto (levels 1-$top): $au/1000"
[ "$top" -ge 3 ] || fail "auto stayed at level $top or below on a full 40 Mbit/s link with idle CPUs"
[ "$au" -le $((l1 - 10)) ] || fail "auto sent $au/1000 of the source, level 1 $l1/1000: not 1 point fewer"

# 3. Auto with every CPU busy: stays at level 1.
for ((i = 0; i < $(nproc); i++)); do
    timeout 120 sha256sum /dev/zero > /dev/null 2>&1 &
    cleanup_fn "kill $! 2>/dev/null"
done
copy busy --compress=auto
[ "$(summary busy top)" -eq 1 ] || fail "auto left level 1 with every CPU busy: $(summary busy levels)"
exit 0
