#!/usr/bin/env bash
# A link that goes down mid-transfer (issue 4).  Two network namespaces
# joined by a veth pair, 10.99.0.1 (p2vrecv) and 10.99.0.2 (p2vsend),
# shaped to 200 Mbit/s so a 160 MiB source takes several seconds.
#  1. The link goes down for 3 s and comes back: the transfer completes
#     (TCP recovers by itself, or p2vsend reconnects and resumes).
#  2. The link goes down for 8 s while p2vrecv has --timeout 4: the
#     session times out; p2vsend's retries or, failing them, rerunning
#     the same two commands resumes ("resuming at", not from 0).
# Both end byte-identical with the source.  No address outside the two
# namespaces is used; the namespaces are removed at exit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires_root
requires ip tc timeout cmp
MiB=$((1 << 20))

netns_link 200mbit

src=$tmp/src.img
{ head -c 128M /dev/urandom; head -c 16M /dev/zero; head -c 16M /dev/urandom; } > "$src"

send_ns() {
    ip netns exec "$nss" "$top_builddir/src/p2vsend" --progress=plain "$@" "$src" 10.99.0.1:5000 2>> "$tmp/send.err" &
    send_pid=$!
    cleanup_fn "kill $send_pid 2>/dev/null"
}
# outage SECS: after about a third of the transfer, the link is down SECS.
outage() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(stat -c %s "$tgt" 2>/dev/null || echo 0)" -gt 0 ] && \
            [ "$(du -k "$tgt" | cut -f1)" -gt $((40 * 1024)) ] && break
        sleep 0.1
    done
    kill -0 "$send_pid" 2>/dev/null || fail "the transfer ended before the link went down"
    ip -n "$nss" link set "$vs" down
    echo "link down at $(du -k "$tgt" | cut -f1) KiB received"
    sleep "$1"
    ip -n "$nss" link set "$vs" up
    echo "link up"
}

# 1. A 3 s outage with the defaults.
tgt=$tmp/t1.img
: > "$tmp/send.err"
recv_ns "$tgt"
send_ns
outage 3
timeout 120 tail --pid="$send_pid" -f /dev/null || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "3 s outage: p2vsend did not finish within 120 s"; }
rc=0; wait "$send_pid" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
recv_rc=0; wait "$recv_pid" || recv_rc=$?
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "3 s outage: exits $rc/$recv_rc"; }
cmp "$src" "$tgt" || fail "3 s outage: target differs"
grep -h "resuming at\|retrying in" "$tmp/send.err" || echo "3 s outage: TCP recovered by itself"

# 2. An 8 s outage, longer than p2vrecv's --timeout 4.
tgt=$tmp/t2.img
: > "$tmp/send.err"
recv_ns "$tgt" --timeout 4
send_ns
outage 8
rc=0
timeout 90 tail --pid="$send_pid" -f /dev/null || { kill "$send_pid"; }
wait "$send_pid" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || kill "$recv_pid"
recv_rc=0; wait "$recv_pid" || recv_rc=$?
echo "8 s outage: first run exits $rc/$recv_rc"
if [ $rc -ne 0 ] || [ "$recv_rc" -ne 0 ]; then
    # Rerun the same two commands.
    [ -s "$tgt.p2v-state" ] || fail "8 s outage: failed without a resume state"
    recv_ns "$tgt" --timeout 4
    send_ns
    timeout 90 tail --pid="$send_pid" -f /dev/null || fail "8 s outage: the rerun did not finish"
    rc=0; wait "$send_pid" || rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
    recv_rc=0; wait "$recv_pid" || recv_rc=$?
    [ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "8 s outage rerun: exits $rc/$recv_rc"; }
fi
cmp "$src" "$tgt" || fail "8 s outage: target differs"
expect_line "$tmp/send.err" "^p2vsend: resuming at [1-9]"
expect_line "$tmp/recv.err" "^p2vrecv: resuming at [1-9]"
grep -h "resuming at\|retrying in\|sent nothing\|did not come back" "$tmp/send.err" "$tmp/recv.err"
[ ! -e "$tgt.p2v-state" ] || fail "resume state left after success"
exit 0
