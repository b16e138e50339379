#!/usr/bin/env bash
# Issue 12, item 9: p2vrecv insists on encryption over the network.  A
# p2vsend --no-encrypt is refused in the greeting, before anything is
# opened: one line on each end, both exit 6, no target created.  With
# p2vrecv --allow-no-encrypt the same sender copies and verifies.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout cmp

src=$tmp/src.img
head -c 4M /dev/urandom > "$src"

tgt=$tmp/t1.img
start_recv "$tgt"
rc=0; timeout 60 p2vsend -q --no-encrypt "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv kept waiting after refusing an unencrypted sender"
wait_recv
cat "$tmp/send.err" "$tmp/recv.err"
[ $rc -eq 6 ] || fail "unencrypted sender: sender exit $rc, expected 6"
[ "$recv_rc" -eq 6 ] || fail "unencrypted sender: receiver exit $recv_rc, expected 6"
expect_line "$tmp/recv.err" "^p2vrecv: error: 127\.0\.0\.1:[0-9]+ sends unencrypted \(p2vsend --no-encrypt\), and this p2vrecv accepts that only with --allow-no-encrypt; nothing written$"
expect_line "$tmp/send.err" "^p2vsend: error: receiver 127\.0\.0\.1:$port refused: .* sends unencrypted \(p2vsend --no-encrypt\), .*--allow-no-encrypt; nothing written$"
[ "$(grep -c . "$tmp/send.err")" -eq 1 ] || fail "the sender said more than one line about the refusal"
[ ! -e "$tgt" ] || fail "the refused unencrypted stream created the target"

tgt=$tmp/t2.img
start_recv --allow-no-encrypt "$tgt"
rc=0; timeout 60 p2vsend -q --no-encrypt "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "--allow-no-encrypt: exits $rc/$recv_rc"; }
cmp "$src" "$tgt" || fail "--allow-no-encrypt: copy differs"
expect_line "$tmp/recv.err" "^p2vrecv: verified: "
exit 0
