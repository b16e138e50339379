#!/usr/bin/env bash
# p2vsend --skip-free survives a resume (issue 17): a 600 MiB disk, an
# ext4 partition with 32 MiB live and 200 MiB of a deleted backup, then
# 300 MiB of raw random data.  The sender is killed -9 once the
# receiver holds 256 MiB durably; rerun with --resume it continues there
# and re-hashes the prefix with the same free blocks as zeros, so both
# digests agree (a prefix hashed as read would not), the copy checks
# clean, its files are the source's and the deleted data is absent.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires sfdisk mkfs.ext4 debugfs e2fsck python3 cmp
MiB=$((1 << 20))

mkdir -p "$tmp/t/srv"
head -c 32M /dev/urandom > "$tmp/t/srv/live.bin"
head -c 200M /dev/urandom > "$tmp/t/backup.tar"
echo "SKIPFREE-RESUME-MARKER" >> "$tmp/t/backup.tar"
mkfs.ext4 -q -d "$tmp/t" "$tmp/p1.fs" 280M || fail "mkfs.ext4"
debugfs -w -R "rm /backup.tar" "$tmp/p1.fs" > /dev/null 2>&1
src=$tmp/disk.img
truncate -s 600M "$src"
printf 'label: dos\nstart=2048, size=573440, type=83\nstart=575488, size=614400, type=83\n' \
    | sfdisk -q "$src" || fail "sfdisk"
dd if="$tmp/p1.fs" of="$src" bs=1M seek=1 conv=notrunc status=none
head -c 300M /dev/urandom | dd of="$src" bs=512 seek=575488 conv=notrunc status=none iflag=fullblock
grep -q SKIPFREE-RESUME-MARKER "$src" || fail "the marker is not in the source"

tgt=$tmp/copy.img state=$tmp/copy.img.p2v-state
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
p2vrecv --listen "127.0.0.1:$port" --progress=plain --timeout 60 "$tgt" 2> "$tmp/recv.err" &
recv_pid=$!
cleanup_fn "kill -9 $recv_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do
    grep -q "listening on" "$tmp/recv.err" && break
    sleep 0.1
done

# Slow enough that the raw half is still on its way after 256 MiB.
p2vsend --skip-free --retry 0 --limit-rate 24M --progress=plain "$src" "127.0.0.1:$port" \
    2> "$tmp/send1.err" &
send_pid=$!
cleanup_fn "kill -9 $send_pid 2>/dev/null"
for ((i = 0; i < 1200; i++)); do
    d=$(sed -n 's/^durable //p' "$state" 2>/dev/null || :)
    [ -n "$d" ] && [ "$d" -ge $((256 * MiB)) ] && break
    kill -0 "$send_pid" 2>/dev/null || { cat "$tmp/send1.err" >&2; fail "the sender ended before a checkpoint"; }
    sleep 0.05
done
[ -n "$d" ] && [ "$d" -ge $((256 * MiB)) ] || fail "no checkpoint within 60 s"
kill -9 "$send_pid"
wait "$send_pid" 2> /dev/null || true

rc=0
timeout 300 p2vsend --skip-free --resume --progress=plain "$src" "127.0.0.1:$port" 2> "$tmp/send2.err" || rc=$?
recv_rc=0
wait "$recv_pid" || recv_rc=$?
cat "$tmp/send2.err"
[ "$rc" -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "resume: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/send2.err" "resuming at"
expect_line "$tmp/send2.err" "partition 1 \(ext4\): [0-9.]+ MiB of 280.0 MiB free, sent as zeros"
expect_line "$tmp/send2.err" "verified the copy"
! grep -q SKIPFREE-RESUME-MARKER "$tmp/copy.img" || fail "the deleted backup reached the copy"
dd if="$tmp/copy.img" of="$tmp/c1.fs" bs=1M skip=1 count=280 status=none
e2fsck -fn "$tmp/c1.fs" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck" >&2; fail "the copy does not check clean"; }
mkdir -p "$tmp/a" "$tmp/b"
debugfs -R "rdump / $tmp/a" "$tmp/p1.fs" > /dev/null 2>&1
debugfs -R "rdump / $tmp/b" "$tmp/c1.fs" > /dev/null 2>&1
diff -r "$tmp/a" "$tmp/b" > /dev/null && [ -s "$tmp/b/srv/live.bin" ] || fail "the files differ"
cmp -s -i $((575488 * 512)) "$src" "$tmp/copy.img" || fail "the raw partition differs"
exit 0
