#!/usr/bin/env bash
# p2vsend --limit-rate: the copy takes at least the time its wire bytes
# take at the rate, the limit holds for all disks of a session together,
# and a rate slow enough to hold a chunk back longer than p2vrecv's
# --timeout does not lose the connection (keep-alives while it waits).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires cmp bc
MiB=$((1 << 20))

# elapsed SECONDS-BEFORE: wall seconds since, with two decimals.
elapsed() { echo "$(date +%s.%N) - $1" | bc; }

# 1. One disk: 32 MiB of random data at 8 MiB/s.  The first chunk goes
# at once, the other seven wait their turn: 3.5 s at least.
src=$tmp/src.img
head -c $((32 * MiB)) /dev/urandom > "$src"
start_recv "$tmp/out.img"
t0=$(date +%s.%N)
p2vsend -q --limit-rate 8M "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || { cat "$tmp/send.err" >&2; fail "p2vsend exited $?"; }
took=$(elapsed "$t0")
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
echo "32 MiB at --limit-rate 8M: $took s"
echo "$took >= 3.4" | bc | grep -q 1 || fail "32 MiB at 8 MiB/s took only $took s"
echo "$took < 30" | bc | grep -q 1 || fail "32 MiB at 8 MiB/s took $took s"
cmp "$src" "$tmp/out.img" || fail "the limited copy differs"

# 2. Two disks of 16 MiB share the limit: 32 MiB in all at 8 MiB/s again
# (each disk limited alone would take about half as long).
head -c $((16 * MiB)) /dev/urandom > "$tmp/d0.img"
head -c $((16 * MiB)) /dev/urandom > "$tmp/d1.img"
start_recv "$tmp/t0.img" "$tmp/t1.img"
t0=$(date +%s.%N)
p2vsend -q --limit-rate 8M "$tmp/d0.img" "$tmp/d1.img" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend (two disks) exited $?"; }
took=$(elapsed "$t0")
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv (two disks) exited $recv_rc"; }
echo "2 x 16 MiB at --limit-rate 8M: $took s"
echo "$took >= 2.9" | bc | grep -q 1 || fail "two disks took only $took s: the limit was not shared"
cmp "$tmp/d0.img" "$tmp/t0.img" && cmp "$tmp/d1.img" "$tmp/t1.img" || fail "a disk differs"

# 3. 1 MiB chunks at 300 KiB/s wait about 3.4 s each, longer than the
# receiver's --timeout of 2 s: keep-alives must carry the session.
head -c $((3 * MiB)) /dev/urandom > "$src"
start_recv --timeout 2 --retry 0 "$tmp/slow.img"
p2vsend -q --retry 0 -b 1M --limit-rate 300K "$src" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "slow rate: p2vsend exited $?"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "slow rate: p2vrecv exited $recv_rc"; }
cmp "$src" "$tmp/slow.img" || fail "the slow copy differs"
exit 0
