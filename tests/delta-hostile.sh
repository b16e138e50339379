#!/usr/bin/env bash
# Delta transfers against peers that do not play along.
#  - A sender holding the key forges SAME ("unchanged") records
#    (lib/stream/test-forge --connect): for a chunk out of order, with a hash
#    the receiver never announced, past the end of the disk, of the
#    wrong length.  Each ends in one clear error, exit 4, and the
#    target is exactly as it was: nothing written.
#  - SAME inside a full (non-delta) stream, and a delta stream down a
#    pipe (p2vrecv --stdin cannot send hashes back): refused.
#  - A receiver holding the key lies in its HASHES (test-forge
#    --listen): out of order, further ahead than the window, for another
#    disk, a length that does not match its count.  p2vsend stops with
#    one clear error, exit 4.
#  - A receiver that speaks p2vstream 1.0 (a fake answering the
#    handshake with minor version 0): p2vsend --delta stops with one
#    line before sending anything, exit 6.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires sha256sum python3
forge=$top_builddir/lib/stream/test-forge
[ -x "$forge" ] || fail "$forge not built"

tgt=$tmp/tgt.img
head -c $((1 << 20)) /dev/urandom > "$tgt"
before=$(digest_of sha256 "$tgt")

untouched() {
    [ "$(digest_of sha256 "$tgt")" = "$before" ] && [ "$(stat -c %s "$tgt")" -eq $((1 << 20)) ] \
        || fail "$1: the target was written"
}

forged() {
    local case=$1 re=$2 rc=0
    start_recv -q "$tgt"
    timeout 30 "$forge" --connect "$port" "$case" 2> "$tmp/$case.forge" || fail "$case: forging failed: $(cat "$tmp/$case.forge")"
    timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "$case: p2vrecv still running"
    wait_recv
    [ "$recv_rc" -eq 4 ] || { cat "$tmp/recv.err" >&2; fail "$case: p2vrecv exit $recv_rc, expected 4"; }
    grep -v "^p2vrecv: listening on\|^p2vrecv: on the source, run" "$tmp/recv.err" > "$tmp/$case.err"
    expect_line "$tmp/$case.err" "$re"
    [ "$(grep -c . "$tmp/$case.err")" -eq 1 ] || { cat "$tmp/$case.err" >&2; fail "$case: more than one line"; }
    untouched "$case"
}
forged same-out-of-order "^p2vrecv: error: malformed stream at offset 0: unchanged chunk out of order; nothing of it was written$"
forged same-wrong-hash "^p2vrecv: error: malformed stream at offset 0: unchanged chunk with another hash than the receiver announced; nothing of it was written$"
forged same-past-end "^p2vrecv: error: malformed stream at offset 1048576: unchanged chunk past the end of the source; nothing of it was written$"
forged same-short "^p2vrecv: error: unchanged-chunk record of impossible length 47$"

# Through a pipe: SAME in a full copy, and a delta at all.
pipe() {
    local case=$1 want=$2 re=$3 rc=0 t=$tmp/$1.img
    "$forge" "$case" > "$tmp/$case.stream" || fail "$case: forging failed"
    timeout 20 p2vrecv -q --stdin "$t" < "$tmp/$case.stream" 2> "$tmp/$case.err" || rc=$?
    [ $rc -eq "$want" ] || { cat "$tmp/$case.err" >&2; fail "$case: exit $rc, expected $want"; }
    expect_line "$tmp/$case.err" "$re"
    [ "$(grep -c . "$tmp/$case.err")" -eq 1 ] || { cat "$tmp/$case.err" >&2; fail "$case: more than one line"; }
}
pipe same-not-delta 4 "^p2vrecv: error: malformed stream at offset 65536: unchanged-chunk record in a stream that is not a delta; nothing of it was written$"
pipe delta-pipe 6 "^p2vrecv: error: the stream is a delta transfer \(p2vsend --delta\), which sends the target's hashes back: --stdin cannot take one; nothing written$"
[ ! -e "$tmp/delta-pipe.img" ] || fail "delta-pipe: the target was created"

# A receiver lying in its hashes, to a 300 MiB (sparse) source in 1 MiB
# chunks: a window of 256 chunks.
truncate -s 300M "$tmp/sparse.img"
lying() {
    local case=$1 re=$2 rc=0
    rm -f "$tmp/forge.port"
    "$forge" --listen "$tmp/forge.port" "$case" 2> "$tmp/$case.forge" &
    local fpid=$!
    cleanup_fn "kill $fpid 2>/dev/null"
    wait_for_file "$tmp/forge.port" 5 || fail "$case: the forged receiver did not start"
    timeout 30 p2vsend --delta -b 1M -q "$tmp/sparse.img" "127.0.0.1:$(cat "$tmp/forge.port")" \
        2> "$tmp/$case.err" || rc=$?
    wait "$fpid" || fail "$case: the forged receiver failed: $(cat "$tmp/$case.forge")"
    [ $rc -eq 4 ] || { cat "$tmp/$case.err" >&2; fail "$case: p2vsend exit $rc, expected 4"; }
    expect_line "$tmp/$case.err" "$re"
    [ "$(grep -c . "$tmp/$case.err")" -eq 1 ] || { cat "$tmp/$case.err" >&2; fail "$case: more than one line"; }
}
lying hashes-out-of-order "^p2vsend: error: 127\.0\.0\.1:[0-9]+ sent unusable chunk hashes at chunk 0: chunk hashes out of order$"
lying hashes-ahead "^p2vsend: error: 127\.0\.0\.1:[0-9]+ sent unusable chunk hashes at chunk 0: chunk hashes further ahead than the window allows$"
lying hashes-wrong-disk "^p2vsend: error: 127\.0\.0\.1:[0-9]+ sent unusable chunk hashes at chunk 0: hash list for a disk that is not in this session$"
lying hashes-bad-length "^p2vsend: error: 127\.0\.0\.1:[0-9]+ sent unusable chunk hashes at chunk 0: hash list length does not match its count$"

# A 1.0 receiver: preamble with minor version 0, then CHALLENGE; it
# records whether anything came after the sender's AUTH.
cat > "$tmp/old.py" <<'PY'
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
def read(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: return b
        b += x
    return b
read(16 + 8 + 36)                                   # preamble, HELLO
c.sendall(b"P2VSTRM\n\x00\x01\x00\x00\x00\x00\x00\x00" + bytes([5, 0, 0, 0, 0, 0, 0, 32]) + os.urandom(32))
read(8 + 32)                                        # AUTH
rest = b""
while True:
    x = c.recv(65536)
    if not x: break
    rest += x
open(sys.argv[1], "w").write(str(len(rest)))
PY
python3 "$tmp/old.py" "$tmp/old.after" > "$tmp/old.port" &
old_pid=$!
cleanup_fn "kill $old_pid 2>/dev/null"
wait_for_file "$tmp/old.port" 5 || fail "the fake 1.0 receiver did not start"
rc=0
timeout 20 p2vsend --delta -q "$tgt" "127.0.0.1:$(cat "$tmp/old.port")" 2> "$tmp/old.err" || rc=$?
wait "$old_pid" || fail "the fake 1.0 receiver failed"
[ $rc -eq 6 ] || { cat "$tmp/old.err" >&2; fail "1.0 receiver: p2vsend exit $rc, expected 6"; }
expect_line "$tmp/old.err" "^p2vsend: error: receiver 127\.0\.0\.1:[0-9]+ speaks p2vstream 1\.0, which has no delta transfers: upgrade its p2vrecv, or send without --delta$"
[ "$(grep -c . "$tmp/old.err")" -eq 1 ] || { cat "$tmp/old.err" >&2; fail "1.0 receiver: more than one line"; }
[ "$(cat "$tmp/old.after")" = 0 ] || fail "p2vsend sent $(cat "$tmp/old.after") bytes to a 1.0 receiver after the handshake"
exit 0
