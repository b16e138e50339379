#!/usr/bin/env bash
# A peer that holds the key and lies in its frames (lib/stream/test-forge):
# offsets beyond the disk, overlapping, skipping, over-long chunks, a
# decompression bomb, a 4 GiB record length, an unknown record type, a
# frame cut in the middle, a lying checksum.  Each ends in one clear
# error and exit 4 (3 for the cut stream), quickly and in bounded
# memory, and nothing is written outside the 1 MiB the source declared.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
forge=$top_builddir/lib/stream/test-forge
[ -x "$forge" ] || fail "$forge not built"

check() {
    local case=$1 want_rc=$2 re=$3 rc=0 t=$tmp/$1.img
    "$forge" "$case" > "$tmp/$case.stream" || fail "$case: forging failed"
    /usr/bin/env time -f '%M' -o "$tmp/$case.rss" timeout 20 \
        p2vrecv -q --stdin "$t" < "$tmp/$case.stream" 2> "$tmp/$case.err" || rc=$?
    [ "$rc" -eq "$want_rc" ] || { cat "$tmp/$case.err" >&2; fail "$case: exit $rc, expected $want_rc"; }
    expect_line "$tmp/$case.err" "$re"
    [ "$(grep -c . "$tmp/$case.err")" -eq 1 ] || { cat "$tmp/$case.err" >&2; fail "$case: more than one line"; }
    # The target never grows past the declared 1 MiB.
    [ "$(stat -c %s "$t")" -le $((1 << 20)) ] || fail "$case: target grew to $(stat -c %s "$t") bytes"
    [ "$(tail -n1 "$tmp/$case.rss")" -lt $((200 * 1024)) ] || fail "$case: used $(tail -n1 "$tmp/$case.rss") kB"
    grep -q verified "$tmp/$case.err" && fail "$case: claimed a verified copy"
    return 0
}
requires /usr/bin/time
check beyond-end 4 "^p2vrecv: error: malformed stream at offset 65536: chunk out of order$"
check overlap 4 "^p2vrecv: error: malformed stream at offset 65536: chunk out of order$"
check skip 4 "^p2vrecv: error: malformed stream at offset 65536: chunk out of order$"
check long-chunk 4 "^p2vrecv: error: malformed stream at offset 65536: chunk length does not match"
check bomb 4 "^p2vrecv: error: corrupt zlib chunk at offset 65536: it does not decode to 65536 bytes; nothing of it was written$"
check huge-record 4 "^p2vrecv: error: chunk frame of impossible length"
check unknown-type 4 "^p2vrecv: error: unexpected record type 66 at 65536"
check mid-frame 3 "^p2vrecv: error: stream ended at 64\.0 KiB of 1\.0 MiB; .* is incomplete$"
check bad-crc 4 "^p2vrecv: error: chunk at offset 65536 \(65536 bytes\) fails its checksum"
exit 0
