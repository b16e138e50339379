#!/usr/bin/env bash
# A flipped bit on the wire (issue 4): a proxy flips one bit in the
# middle of a sealed CHUNK record of the sender-to-receiver stream.  With
# no retries on either end (trust-bitflip.sh has them: the copy then
# finishes by itself) the receiver detects it (exit 4, "failed
# authentication"), writes nothing
# corrupt (every chunk of the target is either the source's or still
# zero), and a rerun of both commands over a clean connection resumes
# from what was made durable and ends byte-identical with the digest.
# Done twice: encrypted (default) and --no-encrypt (still authenticated).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp
proxy=$top_srcdir/tests/trust-proxy.py
MiB=$((1 << 20))

# 24 MiB random, 8 MiB zero (two zero chunks, no bytes on the wire),
# 32 MiB random: incompressible chunks travel stored, so the stream
# offset of a source offset past the zeros is about source - 8 MiB.
src=$tmp/src.img
{ head -c 24M /dev/urandom; head -c 8M /dev/zero; head -c 32M /dev/urandom; } > "$src"

# chunks_sound TARGET: every 4 MiB chunk of TARGET equals the source's
# or is all zero.
chunks_sound() {
    python3 - "$src" "$1" <<'PY'
import sys
cs = 4 << 20
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
zero = bytes(cs)
off = 0
while True:
    x, y = a.read(cs), b.read(cs)
    if not x and not y:
        break
    if y != x and y != zero[:len(y)]:
        print("chunk at %d MiB is neither the source nor zero" % (off >> 20))
        sys.exit(1)
    off += cs
PY
}

round=0
for mode in "" --no-encrypt; do
    round=$((round + 1))
    tgt=$tmp/t$round.img
    # The middle of a stored record: chunk k (0..6) of the last 32 MiB,
    # 2 MiB into it, a random bit.
    k=$((RANDOM % 7))
    flip=$(( (24 + 4 * k + 2) * MiB + RANDOM % 4096 ))

    start_recv --allow-no-encrypt --retry 0 "$tgt"
    timeout 60 python3 "$proxy" proxy --to "$port" --port-file "$tmp/pport$round" --flip-at "$flip" 2> "$tmp/proxy.err" &
    ppid=$!
    cleanup_fn "kill $ppid 2>/dev/null"
    wait_for_file "$tmp/pport$round" 10 || fail "proxy did not start"
    rc=0
    timeout 60 p2vsend -q --retry 0 $mode "$src" "127.0.0.1:$(cat "$tmp/pport$round")" 2> "$tmp/send.err" || rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end after the tampered record"
    wait_recv
    expect_line "$tmp/proxy.err" "flipped bit 0 of byte $flip"
    [ "$recv_rc" -eq 4 ] || { cat "$tmp/recv.err" >&2; fail "${mode:-encrypted}: receiver exit $recv_rc, expected 4"; }
    expect_line "$tmp/recv.err" "^p2vrecv: warning: record at [0-9.]+ MiB of 64\.0 MiB failed authentication \(corrupted or tampered in transit\); it was not written; dropping the connection$"
    [ $rc -eq 4 ] || { cat "$tmp/send.err" >&2; fail "${mode:-encrypted}: sender exit $rc through a tampered link, expected 4 (the receiver's verdict)"; }
    expect_line "$tmp/send.err" "failed authentication \(corrupted or tampered in transit\); it was not written; no tries left$"
    # The record named is the one the flip fell in (stored records, so
    # stream offset + 8 MiB of zeros, give or take the headers).
    at=$(sed -n 's/.*record at \([0-9]*\)\.0 MiB of.*/\1/p' "$tmp/recv.err")
    [ "$at" = $((32 + 4 * k)) ] || fail "${mode:-encrypted}: the flip at stream byte $flip was reported at $at MiB, expected $((32 + 4 * k)) MiB"
    chunks_sound "$tgt" || fail "${mode:-encrypted}: corrupt data written"
    # What is durable is the source, and nothing at or past the bad record was written.
    durable=$(sed -n 's/^durable //p' "$tgt.p2v-state")
    [ -n "$durable" ] && [ "$durable" -le $((at * MiB)) ] || fail "durable=$durable past the bad record at $at MiB"
    cmp -n "$durable" "$src" "$tgt" || fail "durable prefix differs"
    [ "$(head -c $(((at + 4) * MiB)) "$tgt" | tail -c $((4 * MiB)) | tr -d '\0' | wc -c)" -eq 0 ] \
        || fail "the chunk of the bad record was written"
    timeout 10 tail --pid=$ppid -f /dev/null

    # Rerun both commands, no proxy: resumes at the durable offset.
    # (--retry 0 on both ends: a failing resume fails now, not after
    # minutes of retries.)
    start_recv --allow-no-encrypt --retry 0 --timeout 10 "$tgt"
    rc=0
    timeout 40 p2vsend --retry 0 --progress=none $mode --digest-file="$tmp/send.sum" "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || kill "$recv_pid"
    wait_recv
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "${mode:-encrypted}: rerun after the tamper (durable $durable): exits $rc/$recv_rc"; }
    if [ "$durable" -gt 0 ]; then
        expect_line "$tmp/send.err" "^p2vsend: resuming at "
        expect_line "$tmp/recv.err" "^p2vrecv: resuming at "
    fi
    cmp "$src" "$tgt" || fail "${mode:-encrypted}: target differs after the rerun"
    [ "$(sed 's/.* = //' "$tmp/send.sum")" = "$(digest_of blkhash-sha256 "$src")" ] || fail "digest after resume"
    expect_line "$tmp/recv.err" "verified: .* is identical to the source"
    [ ! -e "$tgt.p2v-state" ] || fail "resume state left after success"
done
exit 0
