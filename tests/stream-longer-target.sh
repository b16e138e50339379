#!/usr/bin/env bash
# Issue 12, item 9: a full copy into an existing image file longer than
# the source used to cut it silently.  Now it is refused before anything
# is written (both ends exit 6, the file untouched) unless --force; a
# file of the source's size is still overwritten without asking.  (A
# delta into a longer file, which resyncs an earlier copy, is still cut:
# delta-basic.sh.  A resume: trust-resume.sh.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout cmp

src=$tmp/src.img
head -c 8M /dev/urandom > "$src"
tgt=$tmp/t.img
head -c 10M /dev/urandom > "$tgt"
before=$(digest_of sha256 "$tgt")

start_recv "$tgt"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 6 ] || { cat "$tmp/send.err" >&2; fail "longer target: sender exit $rc, expected 6"; }
[ "$recv_rc" -eq 6 ] || { cat "$tmp/recv.err" >&2; fail "longer target: receiver exit $recv_rc, expected 6"; }
expect_line "$tmp/recv.err" "^p2vrecv: error: target $tgt is 10\.0 MiB, longer than the source \(8\.0 MiB\); nothing written \(--force to truncate it\)$"
expect_line "$tmp/send.err" "^p2vsend: error: receiver 127\.0\.0\.1:$port refused: target $tgt is 10\.0 MiB, longer than the source \(8\.0 MiB\); nothing written \(--force to truncate it\)$"
[ "$(digest_of sha256 "$tgt")" = "$before" ] || fail "the refused longer target was modified"
[ "$(stat -c %s "$tgt")" -eq $((10 << 20)) ] || fail "the refused longer target was truncated"
[ ! -e "$tgt.p2v-state" ] || fail "a refused copy left a resume state"

start_recv --force "$tgt"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "--force: exits $rc/$recv_rc"; }
cmp "$src" "$tgt" || fail "--force: the target is not the source, cut to its size"

# Same size, other contents: overwritten without --force.
head -c 8M /dev/urandom > "$tgt"
start_recv "$tgt"
rc=0; timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "equal size: exits $rc/$recv_rc"; }
cmp "$src" "$tgt" || fail "equal size: copy differs"
exit 0
