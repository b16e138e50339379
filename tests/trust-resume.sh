#!/usr/bin/env bash
# Resume after either side dies (issue 4).  A 1 GiB source of mixed
# random and zero data.  p2vsend is killed -9 twice, each time at a
# random moment after the receiver recorded one more 256 MiB checkpoint
# (the "durable" line of TARGET.p2v-state); rerunning p2vsend resumes
# there ("resuming at", not from 0).  Then p2vrecv is killed -9 at a
# random point while the sender keeps retrying; rerunning the same
# p2vrecv command without any key reuses the key from its resume state
# (printed in the command line), and the still-running p2vsend
# reconnects and completes.  The target is identical to the source,
# both printed digests equal sha256sum's, and the state file is gone.
#
# The kills must land while a sender is still copying, so p2vsend reads
# the disk at a fixed 100 MB/s: the image served through nbdkit's rate
# filter as a FUSE file (nbdfuse).  A slow codec used to do this, until
# libdeflate made zlib:9 four times as fast and a sender finished first.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout python3 cmp sha256sum nbdkit nbdfuse fusermount3
MiB=$((1 << 20))
KEY=TEST-KEY0-0000-0000-0001

img=$tmp/src.img
for ((i = 0; i < 64; i++)); do
    head -c 12M /dev/urandom; head -c 4M /dev/zero
done > "$img"
want=$(digest_of blkhash-sha256 "$img")
nbdkit_source "$img" --filter=rate rate=800M
tgt=$tmp/target.img
state=$tgt.p2v-state

# The same p2vrecv command every time, so a fixed free port.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
recv_cmd=(p2vrecv --listen "127.0.0.1:$port" --progress=plain --timeout 60 "$tgt")
run=0
recv_start() {
    run=$((run + 1))
    rerr=$tmp/recv$run.err
    "${recv_cmd[@]}" 2> "$rerr" &
    recv_pid=$!
    cleanup_fn "kill -9 $recv_pid 2>/dev/null"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on 127\.0\.0\.1:$port$" "$rerr" && return 0
        kill -0 "$recv_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$rerr" >&2
    fail "p2vrecv did not start listening on $port"
}
send_start() {
    serr=$tmp/send$((++nsend)).err
    p2vsend --progress=plain "$@" "$src" "127.0.0.1:$port" 2> "$serr" &
    send_pid=$!
    cleanup_fn "kill -9 $send_pid 2>/dev/null"
}
nsend=0
durable() { sed -n 's/^durable //p' "$state" 2>/dev/null || :; }
# wait_durable BYTES SECS: until the state says at least BYTES are durable.
wait_durable() {
    local i d
    for ((i = 0; i < $2 * 20; i++)); do
        d=$(durable)
        [ -n "$d" ] && [ "$d" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
# A random pause of 0 to 0.6 s.
jitter() { sleep "0.$((RANDOM % 7))"; }

recv_start
[ "$(sed -n 's/.*--key \([0-9A-Z-]*\)$/\1/p' "$rerr")" = "" ] || fail "p2vrecv printed a key although P2V_KEY was given"

# 1. Kill -9 the sender twice, each after one more checkpoint.
prev=0
for round in 1 2; do
    send_start --retry 0 -j 1 --compress=zlib:1
    if [ "$round" -gt 1 ]; then
        # Not before the session resumed: the state may already hold
        # more than this round waits for, and a sender killed during
        # its handshake has nothing to say about resuming.
        for ((i = 0; i < 200; i++)); do
            grep -q "^p2vsend: resuming at " "$serr" && break
            sleep 0.05
        done
    fi
    # One more checkpoint than the previous round left (capped below the
    # end, so the sender is still copying when it is killed).
    want_d=$((prev + 256 * MiB))
    [ $want_d -ge $((round * 256 * MiB)) ] || want_d=$((round * 256 * MiB))
    [ $want_d -le $((768 * MiB)) ] || want_d=$((768 * MiB))
    wait_durable $want_d 40 || { cat "$serr" "$rerr" >&2; fail "round $round: no checkpoint at $((want_d / MiB)) MiB"; }
    jitter
    kill -9 "$send_pid"
    wait "$send_pid" 2>/dev/null
    if [ "$round" -gt 1 ]; then
        # This session resumed where the previous one was made durable.
        expect_line "$serr" "^p2vsend: resuming at [0-9.]+ [MG]iB of 1\.0 GiB"
        grep -q "^p2vsend: resuming at 0 " "$serr" && fail "round $round restarted from 0"
    fi
    # The receiver outlives its sender and records what it holds.
    kill -0 "$recv_pid" 2>/dev/null || { cat "$rerr" >&2; fail "p2vrecv died with its sender"; }
    for ((i = 0; i < 50; i++)); do
        grep -q "waiting up to 60 s for the sender to reconnect and resume ($round of 5)" "$rerr" && break
        sleep 0.1
    done
    expect_line "$rerr" "waiting up to 60 s for the sender to reconnect and resume \($round of 5\)"
    d=$(durable)
    [ "$d" -ge $((round * 256 * MiB)) ] && [ "$d" -ge "$prev" ] || fail "round $round: durable $d went backwards (was $prev)"
    [ $((d % (4 * MiB))) -eq 0 ] || fail "durable $d is not on a chunk boundary"
    cmp -n "$d" "$img" "$tgt" || fail "round $round: the durable prefix differs from the source"
    echo "round $round: p2vsend killed -9, $d bytes durable"
    prev=$d
done
nres=$(grep -c "^p2vrecv: resuming at " "$rerr")
[ "$nres" -ge 1 ] || fail "p2vrecv never said it resumed"

# 2. A sender that keeps retrying (zlib:9 on one thread); kill -9 the
# receiver at a random moment of its session.
send_start -j 1 --compress=zlib:9
for ((i = 0; i < 200; i++)); do
    grep -q "^p2vsend: resuming at " "$serr" && break
    kill -0 "$send_pid" 2>/dev/null || break
    sleep 0.05
done
expect_line "$serr" "^p2vsend: resuming at "
sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
kill -0 "$send_pid" 2>/dev/null || { cat "$serr" >&2; fail "the slowed sender ended before the receiver could be killed"; }
kill -9 "$recv_pid"
wait "$recv_pid" 2>/dev/null
kill -0 "$send_pid" 2>/dev/null || { cat "$serr" >&2; fail "p2vsend gave up when the receiver died"; }
[ -s "$state" ] || fail "no resume state after the receiver died"
d=$(durable)
cmp -n "$d" "$img" "$tgt" || fail "after killing p2vrecv: the durable prefix differs"
grep -q "^key $KEY$" "$state" || fail "the resume state does not hold the session key"
echo "p2vrecv killed -9, $d bytes durable"

# 3. The same p2vrecv command, no key given: it takes the state's key
# and prints it; the sender, still retrying, completes.
( unset P2V_KEY; recv_start; echo "$recv_pid" > "$tmp/recv.pid" ) || exit 1
run=$((run + 1)); rerr=$tmp/recv$run.err; recv_pid=$(cat "$tmp/recv.pid")
cleanup_fn "kill -9 $recv_pid 2>/dev/null"
expect_line "$rerr" "^p2vrecv: on the source, run:  p2vsend DISK 127\.0\.0\.1:$port --key $KEY$"
rc=0
timeout 120 tail --pid="$send_pid" -f /dev/null || { cat "$serr" "$rerr" >&2; fail "p2vsend did not finish after p2vrecv came back"; }
wait "$send_pid" || rc=$?
[ $rc -eq 0 ] || { cat "$serr" "$rerr" >&2; fail "p2vsend exit $rc after p2vrecv came back"; }
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
expect_line "$rerr" "^p2vrecv: resuming at "
grep -q "^p2vrecv: resuming at 0 " "$rerr" && fail "the rerun p2vrecv restarted from 0"
expect_line "$rerr" "^p2vrecv: verified: .* is identical to the source"
expect_line "$serr" "^p2vsend: retrying in "
cmp "$img" "$tgt" || fail "target differs from the source"
expect_line "$serr" "^p2vsend: blkhash-sha256 $want  "
expect_line "$rerr" "^p2vrecv: blkhash-sha256 $want  "
[ ! -e "$state" ] || fail "resume state left after success"
grep -h "resuming at\|retrying in" "$tmp"/send*.err "$tmp"/recv*.err
exit 0
