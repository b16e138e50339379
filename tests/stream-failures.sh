#!/usr/bin/env bash
# Failures end in one clear message and a documented exit status:
# refused connection (3), unreadable source (2), receiver killed
# mid-stream (sender 3), sender killed mid-stream (receiver 3),
# truncated (3) and corrupted (4) stream files, and a stray client that
# is not p2vsend (ignored; the receiver keeps listening).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout

src=$tmp/src.img
head -c 256M /dev/urandom > "$src"

# Refused: nothing listens on a port we just had and closed.
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rc=0; p2vsend -q "$src" "127.0.0.1:$free_port" 2> "$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "refused connection: exit $rc, expected 3"
expect_line "$tmp/err" "^p2vsend: error: connection to 127\.0\.0\.1:$free_port refused"

# Unreadable sources.
rc=0; p2vsend -q /nonexistent/disk 127.0.0.1:1 2> "$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "missing source: exit $rc, expected 2"
expect_line "$tmp/err" "^p2vsend: error: cannot open /nonexistent/disk: No such file or directory$"
rc=0; p2vsend -q "$tmp" 127.0.0.1:1 2> "$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "directory source: exit $rc, expected 2"
expect_line "$tmp/err" "is not a block device or a regular file"

# Receiver killed mid-stream (no retries: resuming has its own test).
# --limit-rate 32M keeps the sender busy for 8 s, so the kill lands in
# the middle whatever the codec's speed.
start_recv "$tmp/out1.img"
p2vsend -q --retry 0 -j 1 --compress=zlib:9 --limit-rate 32M "$src" "127.0.0.1:$port" 2> "$tmp/send.err" &
send_pid=$!
wait_for_file "$tmp/out1.img" 30 || fail "receiver never created its target"
sleep 1
kill -9 "$recv_pid"
rc=0; wait "$send_pid" || rc=$?
[ $rc -eq 3 ] || { cat "$tmp/send.err" >&2; fail "receiver killed: sender exit $rc, expected 3"; }
expect_line "$tmp/send.err" "^p2vsend: error: connection to 127\.0\.0\.1:$port lost at [0-9.]+ [KMG]iB of 256\.0 MiB"

# Sender killed mid-stream; the receiver is told not to wait for it.
start_recv --retry 0 "$tmp/out2.img"
p2vsend -q -j 1 --compress=zlib:9 --limit-rate 32M "$src" "127.0.0.1:$port" 2>/dev/null &
send_pid=$!
wait_for_file "$tmp/out2.img" 30 || fail "receiver never created its target"
sleep 1
kill -9 "$send_pid"
timeout 60 tail --pid="$recv_pid" -f /dev/null
wait_recv
[ "$recv_rc" -eq 3 ] || { cat "$tmp/recv.err" >&2; fail "sender killed: receiver exit $recv_rc, expected 3"; }
expect_line "$tmp/recv.err" "^p2vrecv: error: (stream ended|connection from .* failed) at [0-9.]+ [KMG]iB of 256\.0 MiB; .*out2\.img is incomplete"
grep -q "verified" "$tmp/recv.err" && fail "receiver claimed verification of a truncated stream"

# Saved streams: truncated, and with one flipped bit in a chunk.
small=$tmp/small.img
head -c 3M /dev/urandom > "$small"
p2vsend -q -b 1M --no-encrypt --stdout "$small" > "$tmp/stream" || fail "saving a stream failed"
size=$(stat -c %s "$tmp/stream")
head -c $((size / 2)) "$tmp/stream" > "$tmp/trunc"
rc=0; p2vrecv -q --stdin "$tmp/t.img" < "$tmp/trunc" 2> "$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "truncated stream: exit $rc, expected 3"
expect_line "$tmp/err" "^p2vrecv: error: stream ended at [0-9.]+ [KMG]iB of 3\.0 MiB"

cp "$tmp/stream" "$tmp/flipped"
# Byte 2 MiB + 100 lies inside the payload of the second chunk (each
# record adds a few bytes of framing, the header a few hundred).
off=$(( (2 << 20) + 100 ))
orig=$(od -An -tu1 -j $off -N1 "$tmp/flipped" | tr -d ' ')
printf "$(printf '\\%03o' $(( orig ^ 1 )))" | dd of="$tmp/flipped" bs=1 seek=$off conv=notrunc status=none
rc=0; p2vrecv -q --stdin "$tmp/f.img" < "$tmp/flipped" 2> "$tmp/err" || rc=$?
[ $rc -eq 4 ] || { cat "$tmp/err" >&2; fail "flipped bit: exit $rc, expected 4"; }
# The record's AEAD tag catches it before the chunk's CRC would.
expect_line "$tmp/err" "^p2vrecv: error: record at 1\.0 MiB of 3\.0 MiB is not authentic \(tampered with or corrupted in transit\); it was not written"
[ "$(stat -c %s "$tmp/f.img")" -eq $((3 << 20)) ] || fail "flipped bit: target has the wrong size"
if [ "$(head -c 2M "$tmp/f.img" | tail -c 1M | od -An -v -tu1 | tr -s ' \n' '\n' | sort -u | tr -d '\n')" != 0 ]; then
    fail "flipped bit: data from the tampered record was written"
fi

# Not a stream at all.
rc=0; echo "GET / HTTP/1.0" | p2vrecv -q --stdin "$tmp/g.img" 2> "$tmp/err" || rc=$?
[ $rc -eq 4 ] || fail "garbage on stdin: exit $rc, expected 4"
[ -e "$tmp/g.img" ] && fail "garbage created a target"

# A stray client is dropped and the real sender still gets through.
start_recv "$tmp/out3.img"
printf 'hello, is this a web server?\r\n' | timeout 10 nc -q1 127.0.0.1 "$port" > /dev/null || :
timeout 60 p2vsend -q "$small" "127.0.0.1:$port" || fail "sender after a stray client failed"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "receiver exit $recv_rc after a stray client"
expect_line "$tmp/recv.err" "warning: ignoring connection from 127\.0\.0\.1:[0-9]+: not a p2vsend stream"
cmp "$small" "$tmp/out3.img" || fail "copy after a stray client differs"
exit 0
