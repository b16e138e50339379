#!/usr/bin/env bash
# Unreadable sectors for real.  nbdkit serves an image through its
# ddrescue filter, which fails every read touching a range the mapfile
# does not mark as rescued ('+') with EIO; nbdfuse shows that export as
# an ordinary file, so the kernel's FUSE layer hands EIO to read(2) just
# as a dying disk's driver would.  Then:
#   - a plain read (p2vsend without --ignore-read-errors) stops with EIO
#     at the page holding the first bad sector;
#   - the salvaging reader recovers every other byte, sends zeros for
#     exactly the injected ranges and writes exactly them in its map.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/functions.sh"
requires nbdkit nbdfuse fusermount3 cmp
[ -r /dev/fuse ] && [ -w /dev/fuse ] || { echo "SKIP: no usable /dev/fuse" >&2; exit 77; }
tool=$top_builddir/lib/disk/test-disks-tool
[ -x "$tool" ] || fail "$tool not built"

size=$((8 * 1024 * 1024))
img=$tmp/disk.img
head -c "$size" /dev/urandom > "$img"

# Injected bad ranges, "OFFSET LENGTH" in bytes, ascending: one sector
# inside a page, a 4 KiB run across the 1 MiB chunk boundary the reader
# uses below, three sectors at an odd place, two separate sectors in one
# page (the page cache alone could not tell them apart), and the very
# last sector of the disk.
bad=(
    $((1024 * 1024 + 3 * 512)) 512
    $((3 * 1024 * 1024 - 2048)) 4096
    $((5 * 1024 * 1024 + 7 * 512)) 1536
    $((6 * 1024 * 1024 + 512)) 512
    $((6 * 1024 * 1024 + 2048)) 512
    $((size - 512)) 512
)

# The ddrescue mapfile nbdkit reads: everything rescued but the ranges above.
map=$tmp/disk.ddrescue
{
    echo "# Mapfile for nbdkit's ddrescue filter"
    echo "0x0 ? 1"
    pos=0
    for ((i = 0; i < ${#bad[@]}; i += 2)); do
        off=${bad[i]} len=${bad[i + 1]}
        [ "$off" -gt "$pos" ] && printf '0x%x 0x%x +\n' "$pos" $((off - pos))
        printf '0x%x 0x%x -\n' "$off" "$len"
        pos=$((off + len))
    done
    [ "$pos" -lt "$size" ] && printf '0x%x 0x%x +\n' "$pos" $((size - pos))
} > "$map"

# What a perfect salvage sends: the image with the bad ranges zeroed.
expected=$tmp/expected.img
cp "$img" "$expected"
for ((i = 0; i < ${#bad[@]}; i += 2)); do
    dd if=/dev/zero of="$expected" bs=1 seek="${bad[i]}" count="${bad[i + 1]}" \
       conv=notrunc status=none
done

nbdkit_source "$img" --filter=ddrescue ddrescue-mapfile="$map"

# The fault is real: the kernel returns EIO for a bad sector and the
# data for a good one in the same page (with O_DIRECT, as the reader's
# retries do).
dd if="$src" of=/dev/null bs=512 skip=$((bad[0] / 512)) count=1 iflag=direct 2> "$tmp/dd.err" \
    && fail "reading the injected bad sector succeeded"
expect_line "$tmp/dd.err" "Input/output error"
dd if="$src" of="$tmp/good" bs=512 skip=$((bad[0] / 512 - 1)) count=1 iflag=direct status=none \
    || fail "the good sector before the bad one is unreadable"
cmp -s "$tmp/good" <(dd if="$img" bs=512 skip=$((bad[0] / 512 - 1)) count=1 status=none) \
    || fail "the good sector read back wrong"

# Without --ignore-read-errors: stop at the first bad sector, at the
# start of its page (buffered reads fail a whole page), with the errno.
rc=0
"$tool" plain "$src" 1M 2> "$tmp/plain.err" || rc=$?
cat "$tmp/plain.err" >&2
[ "$rc" -eq 2 ] || fail "plain read exited $rc, want 2"
expect_line "$tmp/plain.err" \
    "^test-disks-tool: error: read error on $src at offset $((bad[0] / 4096 * 4096)): Input/output error$"
[ "$(wc -l < "$tmp/plain.err")" -eq 1 ] || fail "plain read printed more than one line"

# With salvage, in 1 MiB chunks (a bad run across a chunk boundary) and
# in 4 MiB chunks (p2vsend's default): same bytes, same map.
want_map=$tmp/want.map
for ((i = 0; i < ${#bad[@]}; i += 2)); do echo "${bad[i]} ${bad[i + 1]}"; done > "$want_map"
total=0
for ((i = 1; i < ${#bad[@]}; i += 2)); do total=$((total + bad[i])); done
for chunk in 1M 4M; do
    start=$EPOCHREALTIME
    "$tool" salvage "$src" "$tmp/out.img" "$tmp/bad.map" "$chunk" > "$tmp/salvage.out" 2> "$tmp/salvage.err" \
        || { cat "$tmp/salvage.err" >&2; fail "salvage ($chunk) failed"; }
    echo "salvage in $chunk chunks: $(awk "BEGIN { print $EPOCHREALTIME - $start }") s" >&2
    cat "$tmp/salvage.out" "$tmp/salvage.err" >&2
    cmp "$tmp/out.img" "$expected" || fail "salvaged copy ($chunk) differs from the image with the bad ranges zeroed"
    grep -v '^#' "$tmp/bad.map" > "$tmp/got.map"
    diff -u "$want_map" "$tmp/got.map" >&2 || fail "map ($chunk) is not exactly the injected ranges"
    expect_line "$tmp/bad.map" "^# source: $src$"
    expect_line "$tmp/bad.map" "^# size: $size$"
    expect_line "$tmp/bad.map" "^# ranges: $((${#bad[@]} / 2)), bytes: $total$"
    expect_line "$tmp/salvage.out" "^$((${#bad[@]} / 2)) unreadable ranges, .* \\($total bytes\\) sent as zeros: ${bad[0]}\\+${bad[1]}, ${bad[2]}\\+${bad[3]},"
done

# A source without bad sectors: an empty map, an exact copy.
"$tool" salvage "$img" "$tmp/out.img" "$tmp/bad.map" > "$tmp/salvage.out" || fail "salvage of a healthy image failed"
cmp "$tmp/out.img" "$img" || fail "salvaged healthy copy differs"
[ -z "$(grep -v '^#' "$tmp/bad.map")" ] || fail "healthy image has bad ranges in its map"
expect_line "$tmp/salvage.out" "^no unreadable sectors$"
# End to end, as an admin runs it: p2vsend stops cleanly without the
# option, and with it sends everything readable to p2vrecv over TCP,
# both digests describing what was written, the map exact.
rc=0
p2vsend -q --retry 0 "$src" 127.0.0.1:1 2> "$tmp/send.err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$tmp/send.err" >&2; fail "p2vsend on a failing disk exited $rc, want 2"; }
expect_line "$tmp/send.err" "^p2vsend: error: read error on $src at offset [0-9]+: Input/output error$"
start_recv "$tmp/received.img"
p2vsend --progress=none --ignore-read-errors="$tmp/send.map" "$src" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend --ignore-read-errors failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$tmp/received.img" "$expected" || fail "received copy is not the image with the bad ranges zeroed"
want=$(digest_of blkhash-sha256 "$expected")
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
expect_line "$tmp/send.err" "^p2vsend: warning: $((${#bad[@]} / 2)) unreadable ranges, .* \\($total bytes\\) sent as zeros"
grep -v '^#' "$tmp/send.map" > "$tmp/got.map"
diff -u "$want_map" "$tmp/got.map" >&2 || fail "p2vsend's map is not exactly the injected ranges"
echo "PASS"
