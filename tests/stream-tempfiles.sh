#!/usr/bin/env bash
# The files p2vrecv and p2vsend replace beside the target or source (the
# resume state, which holds the session key; the manifest; the digest
# file; the bad-sector map) go through a temporary file that nobody can
# plant in advance (issue 12, item 6).  Symlinks wait at the names the
# temporary files used to have (NAME.tmp), each pointing at a victim file
# of the test's: every victim is untouched, and every file is written
# in full, as a regular file; the resume state owner-only (0600).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires cmp stat

src=$tmp/src.img out=$tmp/copy.img
head -c $((16 << 20)) /dev/urandom > "$src"
want=$(digest_of blkhash-sha256 "$src")
state=$out.p2v-state manifest=$out.p2v.json dfile=$tmp/copy.sha256 map=$tmp/src.badmap
for f in "$state" "$manifest" "$dfile" "$map"; do
    echo "victim of $f" > "$f.victim"
    cp "$f.victim" "$f.want"
    ln -s "$f.victim" "$f.tmp"
done

start_recv --digest-file "$dfile" "$out"
# Slow enough (4 s) to look at the resume state while it exists.
p2vsend --progress=none --limit-rate=4M --ignore-read-errors="$map" "$src" "127.0.0.1:$port" \
    2> "$tmp/send.err" &
send_pid=$!
cleanup_fn "kill $send_pid 2>/dev/null"
wait_for_file "$state" 10 || { cat "$tmp/recv.err" >&2; fail "no resume state while copying"; }
[ -f "$state" ] && [ ! -L "$state" ] || fail "the resume state is not a regular file"
[ "$(stat -c %a "$state")" = 600 ] || fail "the resume state has mode $(stat -c %a "$state"), not 600"
expect_line "$state" "^key $P2V_KEY$"
expect_line "$state" "^durable 0$"
send_rc=0
wait "$send_pid" || send_rc=$?
wait_recv
[ "$recv_rc" = 0 ] && [ "$send_rc" = 0 ] || { cat "$tmp/recv.err" "$tmp/send.err" >&2; fail "the copy failed ($recv_rc, $send_rc)"; }
cmp "$src" "$out" || fail "copy differs from source"

for f in "$state" "$manifest" "$dfile" "$map"; do
    cmp -s "$f.victim" "$f.want" || fail "$(basename "$f").tmp's symlink target was overwritten: $(head -c 200 "$f.victim")"
    [ -L "$f.tmp" ] || fail "the planted $(basename "$f").tmp was replaced"
done
[ ! -e "$state" ] || fail "the resume state outlived the verified copy"
[ -f "$manifest" ] && [ ! -L "$manifest" ] || fail "no manifest as a regular file"
expect_line "$manifest" "\"value\": \"$want\""
expect_line "$dfile" "^BLKHASH-SHA256 \($out\) = $want$"
expect_line "$map" "^# ranges: 0, bytes: 0$"
# Nothing left behind but what the test planted.
left=$(cd "$tmp" && ls -a | grep '\.tmp' | grep -v '\.tmp$' || :)
[ -z "$left" ] || fail "temporary files left behind: $left"
exit 0
