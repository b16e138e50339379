#!/usr/bin/env bash
# --digest=sha256-tree (issue 5): the whole-image check hashed chunk by
# chunk on the workers, zero chunks free.  Both ends print the value
# coreutils compute as
#   split -b CHUNK --filter=sha256sum DISK | cut -c1-64 | tr a-f A-F \
#     | basenc --base16 -d | sha256sum
# (an independent check, not our code); --digest-file writes a tagged
# line that sha256sum -c rejects rather than misreports; a sparse
# source's holes are not read (the sender's pread bytes, counted by
# strace); a resumed copy and a delta still end with the same value.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires split basenc sha256sum cmp strace timeout
MiB=$((1 << 20))

# tree_of FILE CHUNK: the tree digest, by coreutils alone.
tree_of() {
    split -b "$2" --filter=sha256sum "$1" | cut -c1-64 | tr a-f A-F | basenc --base16 -d \
        | sha256sum | cut -c1-64
}

# 1. An odd-sized source (a short last chunk), random and zero chunks.
src=$tmp/src.img
{ head -c 3M /dev/urandom; head -c 2M /dev/zero; head -c 1234567 /dev/urandom; } > "$src"
want=$(tree_of "$src" 65536)
start_recv --digest-file="$tmp/target.tree" "$tmp/target.img"
p2vsend --progress=none --digest=sha256-tree --chunk-size=64K --digest-file="$tmp/source.tree" \
    "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || { cat "$tmp/send.err" >&2; fail "p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$src" "$tmp/target.img" || fail "target differs"
expect_line "$tmp/send.err" "^p2vsend: sha256-tree $want  "
expect_line "$tmp/recv.err" "^p2vrecv: sha256-tree $want  "
[ "$(cat "$tmp/source.tree")" = "SHA256-TREE-65536 ($src) = $want" ] \
    || { cat "$tmp/source.tree" >&2; fail "sender's digest file"; }
[ "$(cat "$tmp/target.tree")" = "SHA256-TREE-65536 ($tmp/target.img) = $want" ] \
    || { cat "$tmp/target.tree" >&2; fail "receiver's digest file"; }
sha256sum -c "$tmp/target.tree" > /dev/null 2>&1 && fail "sha256sum -c accepted a tree digest file"
expect_line "$tmp/target.img.p2v.json" "\"algorithm\": \"sha256-tree\", \"value\": \"$want\""
# Not the plain SHA-256 under another name.
[ "$want" != "$(digest_of sha256 "$src")" ] || fail "the tree digest equals the plain sha256"

# 2. A sparse 1 GiB source with 8 MiB of data: the holes are not read.
sparse=$tmp/sparse.img
truncate -s 1G "$sparse"
head -c 4M /dev/urandom | dd of="$sparse" bs=1M seek=100 conv=notrunc status=none
head -c 4M /dev/urandom | dd of="$sparse" bs=1M seek=900 conv=notrunc status=none
want=$(tree_of "$sparse" 4194304)
start_recv "$tmp/sparse-copy.img"
# (LeakSanitizer cannot run under ptrace: off for this one run when the
# suite runs sanitized.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout 120 strace -f -qq -e trace=pread64 -o "$tmp/strace.out" \
    p2vsend --progress=none --digest=sha256-tree "$sparse" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend of a sparse source failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$sparse" "$tmp/sparse-copy.img" || fail "sparse copy differs"
expect_line "$tmp/send.err" "^p2vsend: sha256-tree $want  "
read_bytes=$(sed -n 's/.*pread64(.*) = \([0-9][0-9]*\)$/\1/p' "$tmp/strace.out" | awk '{ s += $1 } END { print s + 0 }')
echo "sender read $read_bytes bytes of a 1 GiB source holding 8 MiB"
[ "$read_bytes" -ge $((8 * MiB)) ] || fail "the sender read less than the data ($read_bytes bytes)"
[ "$read_bytes" -le $((32 * MiB)) ] || fail "the sender read $read_bytes bytes: it read the holes"
[ "$(stat -c %b "$tmp/sparse-copy.img")" -le $((64 * MiB / 512)) ] || fail "the copy is not sparse"

# 3. Resume: a tree digest over a prefix re-read from both disks.
res=$tmp/res.img
{ head -c 300M /dev/urandom; head -c 84M /dev/zero; } > "$res"
want=$(tree_of "$res" 4194304)
start_recv --timeout 60 "$tmp/res-copy.img"
p2vsend --progress=none --digest=sha256-tree -j 1 --compress=zlib:1 --limit-rate 32M --retry 0 \
    "$res" "127.0.0.1:$port" 2> "$tmp/send1.err" &
spid=$!
cleanup_fn "kill -9 $spid 2>/dev/null"
for ((i = 0; i < 600; i++)); do
    d=$(sed -n 's/^durable //p' "$tmp/res-copy.img.p2v-state" 2>/dev/null || :)
    [ -n "$d" ] && [ "$d" -ge $((256 * MiB)) ] && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.05
done
kill -9 $spid 2>/dev/null || fail "the sender finished before it could be killed"
wait $spid 2>/dev/null
rc=0
timeout 120 p2vsend --progress=none --digest=sha256-tree "$res" "127.0.0.1:$port" \
    2> "$tmp/send2.err" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send2.err" "$tmp/recv.err" >&2; fail "resume: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/send2.err" "^p2vsend: resuming at [0-9.]+ MiB"
expect_line "$tmp/send2.err" "^p2vsend: sha256-tree $want  "
expect_line "$tmp/recv.err" "^p2vrecv: sha256-tree $want  "
cmp "$res" "$tmp/res-copy.img" || fail "resumed copy differs"

# 4. A delta into the copy with two chunks changed: SAME chunks count
# with the hash the receiver announced.
head -c 64K /dev/urandom | dd of="$res" bs=64K seek=10 conv=notrunc status=none
head -c 64K /dev/urandom | dd of="$res" bs=64K seek=3000 conv=notrunc status=none
want=$(tree_of "$res" 4194304)
start_recv "$tmp/res-copy.img"
rc=0
timeout 120 p2vsend --progress=none --delta --digest=sha256-tree "$res" "127.0.0.1:$port" \
    2> "$tmp/send3.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send3.err" "$tmp/recv.err" >&2; fail "delta: sender $rc, receiver $recv_rc"; }
cmp "$res" "$tmp/res-copy.img" || fail "delta copy differs"
expect_line "$tmp/send3.err" "^p2vsend: sha256-tree $want  "
expect_line "$tmp/recv.err" "^p2vrecv: sha256-tree $want  "
exit 0
