#!/usr/bin/env bash
# A plain REFUSE is not the receiver's word once keys exist (issue 12,
# item 5).  Anyone on the path can write one: tests/trust-proxy.py
# injects a well-framed, unsealed REFUSE whose text holds terminal
# escape sequences.
#  1. After the handshake, into a --delta run's stream of hashes: the
#     sender treats it as a corrupted record, reconnects, and the copy
#     completes verified.
#  2. On a reconnection (the first connection is cut), just before the
#     receiver's ACCEPT, where a plain REFUSE is the protocol's answer
#     to a wrong key: the sender already proved its key to this
#     receiver, so it counts one failed attempt, prints the text
#     escaped, tries again and completes verified.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
MiB=$((1 << 20))
src=$tmp/src.img
head -c $((32 * MiB)) /dev/urandom > "$src"
text='\x1b[2J\x1b]0;owned\x07forged: wrong key'

run() {
    local name=$1 sopts=$2 tgt=$3 rc
    shift 3
    proxied_copy "$src" "$tgt" "$sopts" "$@"
    rc=$send_rc
    echo "--- $name: sender $rc, receiver $recv_rc"
    cat "$tmp/proxy.err"
    grep -q "injected a plain REFUSE" "$tmp/proxy.err" || fail "$name: nothing injected"
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "$name: exits $rc/$recv_rc, expected 0/0 (the forged REFUSE ended the copy)"; }
    cmp "$src" "$tgt" || fail "$name: target differs"
    expect_line "$tmp/send.err" "verified the copy of .*: identical"
    ! grep -q $'\x1b' "$tmp/send.err" || fail "$name: p2vsend printed a raw escape sequence"
}

# 1. Mid-stream: CHALLENGE, ACCEPT, then hashes; the REFUSE goes in
# place of the first HASHES (the 3rd record), whose reader it meets.
head -c $((32 * MiB)) /dev/urandom > "$tmp/t1.img"
run delta --delta "$tmp/t1.img" --inject-refuse "$text" --inject-before 3
expect_line "$tmp/send.err" "a record from 127\.0\.0\.1:[0-9]+ after 0 B of its hashes failed authentication .*; reconnecting, 3 tries left$"
grep -q "refused" "$tmp/send.err" && fail "delta: the forged REFUSE was taken for the receiver's"

# 2. Reconnection: the first connection is cut mid-stream, the second
# gets the forged REFUSE before ACCEPT (the 2nd record), the third
# resumes.
run reconnect "" "$tmp/t2.img" --cut-at $((12 * MiB)) --inject-refuse "$text" --inject-conn 1 --inject-before 2
expect_line "$tmp/send.err" '^p2vsend: warning: receiver 127\.0\.0\.1:[0-9]+ refused the reconnection without authenticating it: \\x1b\[2J\\x1b\]0;owned\\x07forged: wrong key; reconnecting, [0-9] tries left$'
expect_line "$tmp/send.err" "^p2vsend: resuming at "
exit 0
