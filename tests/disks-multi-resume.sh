#!/usr/bin/env bash
# Resume and authentication across several disks (issue 6).  Two
# 256 MiB file targets; p2vsend with both disks is killed -9 once the
# first target holds 64 MiB.  p2vrecv (the same process, --retry) waits
# for each disk's sender to come back; rerunning the same p2vsend
# command resumes each disk where its target's state says ("resuming
# at" for at least one), both end identical with sha256sum's digest,
# and no state file is left.  A sender with the wrong key meanwhile is
# refused without disturbing the wait.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout cmp sha256sum
MiB=$((1 << 20))

d0=$tmp/d0.img d1=$tmp/d1.img
for d in "$d0" "$d1"; do
    for ((i = 0; i < 16; i++)); do head -c 12M /dev/urandom; head -c 4M /dev/zero; done > "$d"
done
t0=$tmp/t0.img t1=$tmp/t1.img

start_recv --timeout 60 "$t0" "$t1"
p2vsend -q -j 1 "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send1.err" &
spid=$!
cleanup_fn "kill -9 $spid 2>/dev/null"
for ((i = 0; i < 600; i++)); do
    [ $(( $(stat -c %b "$t0" 2>/dev/null || echo 0) * 512 )) -ge $((64 * MiB)) ] && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.05
done
kill -9 $spid 2>/dev/null || fail "p2vsend finished before it could be killed"
wait $spid 2>/dev/null
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'waiting up to 60 s for the sender of' "$tmp/recv.err")" -eq 2 ] && break
    sleep 0.1
done
[ "$(grep -c 'waiting up to 60 s for the sender of' "$tmp/recv.err")" -eq 2 ] \
    || { cat "$tmp/recv.err" >&2; fail "p2vrecv does not wait for both disks' senders"; }
kill -0 "$recv_pid" || fail "p2vrecv ended after the sender died"

# A stranger with the wrong key: refused, both disks still waiting.
rc=0
P2V_KEY=AAAA-BBBB-CCCC-DDDD-EEEE timeout 60 p2vsend -q "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/wrong.err" || rc=$?
[ $rc -eq 7 ] || { cat "$tmp/wrong.err" >&2; fail "wrong key: exit $rc, expected 7"; }
kill -0 "$recv_pid" || fail "p2vrecv ended after a wrong key"

rc=0
timeout 300 p2vsend --progress=none "$d0" "$d1" "127.0.0.1:$port" 2> "$tmp/send2.err" || rc=$?
wait_recv
cat "$tmp/send2.err"
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "resumed session: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/send2.err" "^p2vsend: resuming at "
cmp "$d0" "$t0" || fail "disk 1 differs after the resume"
cmp "$d1" "$t1" || fail "disk 2 differs after the resume"
for i in 0 1; do
    d=$tmp/d$i.img t=$tmp/t$i.img
    want=$(digest_of blkhash-sha256 "$d")
    expect_line "$tmp/send2.err" "^p2vsend: blkhash-sha256 $want  $d$"
    expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  $t$"
    [ ! -e "$t.p2v-state" ] || fail "resume state of $t left behind"
done
exit 0
