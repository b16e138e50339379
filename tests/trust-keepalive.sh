#!/usr/bin/env bash
# Resuming far into a slow disk must not look like a dead sender (issue 4).
# On a resume p2vsend first re-reads the prefix the receiver already
# holds, to hash it; on a slow disk that takes longer than p2vrecv's
# --timeout while the ring is full and no chunk can move.  The source
# here is really slow: nbdkit's delay filter (40 ms per read) served
# through nbdfuse.  A first session is cut by killing p2vsend after the
# target holds about 48 MiB; the second, with p2vrecv --timeout 3,
# must resume ("resuming at"), finish identical, and the receiver must
# not give up ("sent nothing", "too slow").
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout nbdkit nbdfuse fusermount3 cmp python3
MiB=$((1 << 20))

img=$tmp/disk.img
head -c 128M /dev/urandom > "$img"
nbdkit_source "$img" --filter=delay rdelay=40ms

# Session 1: cut after about 48 MiB reached the target.
tgt=$tmp/target.img
start_recv --timeout 30 --retry 0 "$tgt"
p2vsend -q --retry 0 "$src" "127.0.0.1:$port" 2> "$tmp/send1.err" &
spid=$!
cleanup_fn "kill -9 $spid 2>/dev/null"  # no timeout(1) wrapper: the kill must reach p2vsend
for ((i = 0; i < 1200; i++)); do
    # Allocated, not apparent size: p2vrecv sizes the target up front.
    [ $(( $(stat -c %b "$tgt" 2>/dev/null || echo 0) * 512 )) -ge $((48 * MiB)) ] && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.1
done
kill -9 $spid 2>/dev/null || fail "p2vsend finished before it could be cut; the source is not slow"
wait_recv
[ "$recv_rc" -eq 3 ] || { cat "$tmp/recv.err" >&2; fail "cut session: receiver exit $recv_rc, expected 3"; }
durable=$(sed -n 's/^durable //p' "$tgt.p2v-state")
echo "first session cut; durable $durable"
[ "${durable:-0}" -ge $((32 * MiB)) ] || fail "only ${durable:-0} bytes durable after the cut"

# Session 2: the prefix re-read takes longer than --timeout 3.
start_recv --timeout 3 --retry 0 "$tgt"
SECONDS=0
rc=0; timeout 300 p2vsend --retry 0 --progress=none "$src" "127.0.0.1:$port" 2> "$tmp/send2.err" || rc=$?
took=$SECONDS
wait_recv
cat "$tmp/send2.err"
echo "resumed session took $took s (p2vrecv --timeout 3)"
grep -E "sent nothing|too slow" "$tmp/recv.err" && fail "p2vrecv gave up on a sender that was hashing"
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "resume: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/send2.err" "^p2vsend: resuming at "
# Without keep-alives this session has nothing to say for longer than 3 s.
[ "$took" -gt 4 ] || echo "note: the prefix re-read took under 4 s; keep-alives were not needed"
cmp "$img" "$tgt" || fail "target differs after the resume"
[ ! -e "$tgt.p2v-state" ] || fail "resume state left behind"
exit 0
