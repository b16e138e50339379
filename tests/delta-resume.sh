#!/usr/bin/env bash
# An interrupted delta pass is simply run again: the rerun compares the
# whole disk afresh, finds the chunks the first run already wrote
# unchanged, sends only the rest, and the target ends identical.
#  1. p2vsend --delta is killed -9 mid-way; the same p2vrecv waits for
#     it, the same command is run again.
#  2. p2vrecv is killed -9 mid-way (the sender gives up, --retry=0);
#     both commands are run again.
#  3. The link drops mid-way (tests/trust-proxy.py cuts the connection
#     after 40 MB): p2vsend reconnects by itself (--retry) and its next
#     attempt is a fresh delta, with no command rerun.
# The target starts as a stale copy where every chunk differs, so each
# run has real data to send; --limit-rate 32M keeps each run busy for
# about 4 s, so it is caught in the middle whatever the codec's speed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires cmp sha256sum
MiB=$((1 << 20)) N=128

src=$tmp/src.img tgt=$tmp/tgt.img
head -c $((N * MiB)) /dev/urandom > "$src"
head -c $((N * MiB)) /dev/urandom > "$tgt"
want=$(digest_of blkhash-sha256 "$src")
opts=(--delta -b 1M -c zlib:9 -j 1 --limit-rate 32M --progress=json)

# Wait until the receiver wrote the first chunk while the sender still
# runs, then kill -9 the one named.
interrupt() {
    local victim=$1 i
    for ((i = 0; i < 300; i++)); do
        cmp -s -n $MiB "$src" "$tgt" && break
        sleep 0.05
    done
    kill -0 "$send_pid" 2>/dev/null || { cat "$tmp/send.err" >&2; fail "the sender ended before it could be interrupted"; }
    sleep 0.5
    kill -9 "$victim"
}
# changed FILE: chunks the run's sender sent.
changed() { delta_json "$1" changed_chunks; }

# 1. The sender dies; the receiver waits for it.
start_recv --progress=none "$tgt"
p2vsend "${opts[@]}" "$src" "127.0.0.1:$port" 2> "$tmp/send.err" &
send_pid=$!
cleanup_fn "kill -9 $send_pid 2>/dev/null"
interrupt "$send_pid"
wait "$send_pid" 2>/dev/null
sleep 0.3
kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv died with its sender"; }
rc=0
timeout 120 p2vsend "${opts[@]}" "$src" "127.0.0.1:$port" 2> "$tmp/send2.err" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send2.err" "$tmp/recv.err" >&2; fail "rerun after killing p2vsend: sender $rc, receiver $recv_rc"; }
cmp "$src" "$tgt" || fail "after killing p2vsend: target differs"
expect_line "$tmp/send2.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: verified: .* is identical"
c=$(changed "$tmp/send2.err")
echo "rerun after killing p2vsend: $c of $N chunks sent"
[ -n "$c" ] && [ "$c" -gt 0 ] && [ "$c" -lt $N ] || fail "rerun sent $c of $N chunks: not a delta over the first run's work"

# 2. The receiver dies; both are run again.
head -c $((N * MiB)) /dev/urandom > "$tgt"
start_recv --progress=none "$tgt"
p2vsend "${opts[@]}" --retry=0 "$src" "127.0.0.1:$port" 2> "$tmp/send.err" &
send_pid=$!
cleanup_fn "kill -9 $send_pid 2>/dev/null"
interrupt "$recv_pid"
rc=0
wait "$send_pid" || rc=$?
[ $rc -ne 0 ] || fail "p2vsend claimed success after its receiver was killed"
start_recv --progress=none "$tgt"
rc=0
timeout 120 p2vsend "${opts[@]}" "$src" "127.0.0.1:$port" 2> "$tmp/send3.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send3.err" "$tmp/recv.err" >&2; fail "rerun after killing p2vrecv: sender $rc, receiver $recv_rc"; }
cmp "$src" "$tgt" || fail "after killing p2vrecv: target differs"
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
c=$(changed "$tmp/send3.err")
echo "rerun after killing p2vrecv: $c of $N chunks sent"
[ -n "$c" ] && [ "$c" -gt 0 ] && [ "$c" -lt $N ] || fail "rerun sent $c of $N chunks: not a delta over the first run's work"

# 3. A dropped link, and p2vsend's own retry.
requires python3
head -c $((N * MiB)) /dev/urandom > "$tgt"
start_recv --progress=none "$tgt"
python3 "$top_srcdir/tests/trust-proxy.py" proxy --to "$port" --port-file "$tmp/proxy.port" \
    --cut-at 40000000 --conns 2 2> "$tmp/proxy.err" &
proxy_pid=$!
cleanup_fn "kill $proxy_pid 2>/dev/null"
wait_for_file "$tmp/proxy.port" 5 || fail "the proxy did not start"
rc=0
timeout 120 p2vsend --delta -b 1M --retry=3 --progress=json "$src" "127.0.0.1:$(cat "$tmp/proxy.port")" \
    2> "$tmp/send4.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send4.err" "$tmp/recv.err" "$tmp/proxy.err" >&2; fail "dropped link: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/proxy.err" "^proxy: cut the connection at byte 40000000$"
expect_line "$tmp/send4.err" "^p2vsend: retrying in 1 s \(attempt 2 of 4\)$"
cmp "$src" "$tgt" || fail "after a dropped link: target differs"
c=$(changed "$tmp/send4.err")
echo "after a dropped link, the retry sent $c of $N chunks"
[ -n "$c" ] && [ "$c" -gt 0 ] && [ "$c" -lt $N ] || fail "the retry sent $c of $N chunks: not a delta over the first attempt's work"
exit 0
