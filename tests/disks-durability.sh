#!/usr/bin/env bash
# A target that fails writes or flushes (issue 12, item 4).  nbdkit's
# sh plugin serves a sparse backing file; its pwrite fails with EIO from
# a chosen offset on, its flush fails once (as Linux reports a writeback
# error to fdatasync once, then succeeds), and nbdfuse shows it as an
# ordinary file, so the errors reach p2vrecv's pwrite and fdatasync from
# the kernel.  The target is a symlink to that file, so that its resume
# state stays beside it and a rerun can point it at the healthy backing
# file.  For each fault:
#   - p2vrecv and p2vsend exit with the I/O error status (2), p2vrecv
#     naming the offset the copy is durable up to;
#   - the resume state keeps the last checkpoint whose fdatasync
#     succeeded with no failed write before it, nothing later;
#   - a rerun onto the healthy file resumes there and ends verified,
#     identical to the source.
# And a flush failing at the very end is no "verified" either.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/functions.sh"
requires nbdkit nbdfuse fusermount3 cmp dd fallocate timeout
[ -r /dev/fuse ] && [ -w /dev/fuse ] || { echo "SKIP: no usable /dev/fuse" >&2; exit 77; }
MiB=$((1 << 20))

# 320 MiB, 4 MiB chunks: one checkpoint at 256 MiB.  Data around the
# places that matter, zeros (cheap through the plugin) elsewhere.
src=$tmp/src.img
truncate -s $((320 * MiB)) "$src"
for at in 0 248 260 296 316; do
    head -c $((4 * MiB)) /dev/urandom | dd of="$src" bs=1M seek="$at" conv=notrunc status=none
done

back=$tmp/back.img
plugin=$tmp/plugin.sh
cat > "$plugin" <<EOF
#!/usr/bin/env bash
b='$back'
case "\$1" in
  get_size) stat -c %s "\$b" ;;
  can_write|can_flush|can_trim|can_zero) exit 0 ;;
  pread) dd if="\$b" skip="\$4" count="\$3" iflag=skip_bytes,count_bytes status=none ;;
  pwrite)
    if [ -s '$tmp/fail-write-at' ] && [ "\$4" -ge "\$(cat '$tmp/fail-write-at')" ]; then
        echo "EIO injected write error" >&2; exit 1
    fi
    dd of="\$b" seek="\$4" oflag=seek_bytes conv=notrunc status=none ;;
  trim|zero) fallocate -p -o "\$4" -l "\$3" "\$b" ;;
  flush)
    if [ -e '$tmp/fail-flush' ]; then
        rm -f '$tmp/fail-flush'; echo "EIO injected flush error" >&2; exit 1
    fi ;;
  *) exit 2 ;;
esac
EOF
chmod +x "$plugin"

tgt=$tmp/target
state=$tgt.p2v-state
durable() { sed -n 's/^durable //p' "$state"; }

# faulty SIZE: a fresh backing file of SIZE behind FUSE, the target
# pointing at it.
faulty() {
    rm -f "$back" "$state"
    truncate -s "$1" "$back"
    mkdir -p "$tmp/mnt"
    nbdfuse "$tmp/mnt/disk" --command nbdkit -s --exit-with-parent sh "$plugin" \
        2> "$tmp/nbdfuse.err" &
    fuse_pid=$!
    cleanup_fn "kill $fuse_pid 2>/dev/null; fusermount3 -u '$tmp/mnt' 2>/dev/null"
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(stat -c %s "$tmp/mnt/disk" 2>/dev/null)" = "$1" ] && break
        sleep 0.1
    done
    [ "$i" -lt 100 ] || { cat "$tmp/nbdfuse.err" >&2; fail "nbdfuse did not show the disk"; }
    ln -sfn "$tmp/mnt/disk" "$tgt"
}
healthy() {
    fusermount3 -u "$tmp/mnt"
    wait "$fuse_pid" 2>/dev/null || :
    ln -sfn "$back" "$tgt"
}

# copy NAME IMG: one p2vsend/p2vrecv pair; sets recv_rc, send_rc.
copy() {
    start_recv --timeout 30 "$tgt"
    send_rc=0
    timeout 120 p2vsend --progress=plain --retry 0 "$2" "127.0.0.1:$port" 2> "$tmp/$1.send" \
        || send_rc=$?
    wait_recv
    cp "$tmp/recv.err" "$tmp/$1.recv"
}

# 1. Writes fail from 300 MiB on: the next data, at 316 MiB, is refused.
faulty $((320 * MiB))
echo $((300 * MiB)) > "$tmp/fail-write-at"
copy write "$src"
[ "$recv_rc" = 2 ] || { cat "$tmp/write.recv" >&2; fail "p2vrecv exited $recv_rc on a failing write, not 2"; }
[ "$send_rc" = 2 ] || { cat "$tmp/write.send" >&2; fail "p2vsend exited $send_rc on a failing write, not 2"; }
expect_line "$tmp/write.recv" "cannot write .* at offset $((316 * MiB)).*durable only up to offset $((256 * MiB)) "
! grep -q verified "$tmp/write.recv" || fail "p2vrecv said verified after a failed write"
[ "$(durable)" = $((256 * MiB)) ] \
    || fail "after a write error at 316 MiB the state says $(durable) bytes are durable, not the 256 MiB checkpoint's $((256 * MiB))"
rm -f "$tmp/fail-write-at"
healthy
copy write-rerun "$src"
[ "$recv_rc" = 0 ] && [ "$send_rc" = 0 ] || { cat "$tmp/write-rerun.recv" >&2; fail "the rerun failed ($recv_rc, $send_rc)"; }
expect_line "$tmp/write-rerun.recv" "resuming at 256.0 MiB"
expect_line "$tmp/write-rerun.recv" "verified: .* is identical"
cmp "$src" "$back" || fail "the resumed copy differs from the source"
[ ! -e "$state" ] || fail "the resume state outlived the verified copy"

# 2. The checkpoint's flush at 256 MiB fails once: nothing is durable,
# although a second fdatasync would succeed.
faulty $((320 * MiB))
touch "$tmp/fail-flush"
copy flush "$src"
[ ! -e "$tmp/fail-flush" ] || fail "the target was never flushed"
[ "$recv_rc" = 2 ] || { cat "$tmp/flush.recv" >&2; fail "p2vrecv exited $recv_rc on a failing flush, not 2"; }
[ "$send_rc" = 2 ] || { cat "$tmp/flush.send" >&2; fail "p2vsend exited $send_rc on a failing flush, not 2"; }
expect_line "$tmp/flush.recv" "cannot flush .*: Input/output error; .* durable only up to offset 0 "
[ "$(durable)" = 0 ] || fail "after a failed flush the state says $(durable) bytes are durable, not 0"
healthy
copy flush-rerun "$src"
[ "$recv_rc" = 0 ] && [ "$send_rc" = 0 ] || { cat "$tmp/flush-rerun.recv" >&2; fail "the rerun failed ($recv_rc, $send_rc)"; }
! grep -q "resuming at" "$tmp/flush-rerun.recv" || fail "the rerun resumed past a failed flush"
expect_line "$tmp/flush-rerun.recv" "verified: .* is identical"
cmp "$src" "$back" || fail "the rerun's copy differs from the source"

# 3. The final flush fails (no checkpoint on 16 MiB): not verified.
small=$tmp/small.img
head -c $((16 * MiB)) /dev/urandom > "$small"
faulty $((16 * MiB))
touch "$tmp/fail-flush"
copy final "$small"
[ "$recv_rc" = 2 ] && [ "$send_rc" = 2 ] || { cat "$tmp/final.recv" "$tmp/final.send" >&2; fail "a failed final flush exited $recv_rc/$send_rc, not 2/2"; }
expect_line "$tmp/final.recv" "cannot make .* durable"
! grep -q "verified\|identical" "$tmp/final.recv" || fail "p2vrecv claimed the copy after its final flush failed"
[ "$(durable)" = 0 ] || fail "after a failed final flush the state says $(durable) bytes are durable"
healthy
exit 0
