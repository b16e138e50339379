#!/usr/bin/env bash
# The default digest is blkhash-sha256 (issue 13): the value blksum
# prints.  Both ends print blksum 0.11.0's own values for the nine
# images of the blkhash test vectors, copied here; the manifest and
# --digest-file name the algorithm; the other inner hashes agree with an
# independent implementation (perl's Digest modules, digest_of); a
# sparse source's holes are not read; a resumed copy and a delta (whose
# chunk hashes are made of the block digests) end with the same value.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires openssl cmp strace timeout perl
MiB=$((1 << 20))

# 0. blksum's vectors: the images of blkhash-vectors/make-images.sh,
# and what blksum printed for them.
v=$tmp/vectors
blkhash_vectors "$v"
while read -r want img; do
    [ "$img" = empty.img ] && continue    # a source must hold at least one byte
    start_recv --digest-file="$tmp/target.sum" "$tmp/copy-$img"
    p2vsend --progress=none --digest-file="$tmp/source.sum" "$v/$img" "127.0.0.1:$port" 2> "$tmp/send.err" \
        || { cat "$tmp/send.err" >&2; fail "$img: p2vsend failed"; }
    wait_recv
    [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "$img: p2vrecv exited $recv_rc"; }
    cmp "$v/$img" "$tmp/copy-$img" || fail "$img: the copy differs"
    expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  $v/$img$"
    expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  $tmp/copy-$img$"
    expect_line "$tmp/copy-$img.p2v.json" "\"algorithm\": \"blkhash-sha256\", \"value\": \"$want\""
    [ "$(cat "$tmp/source.sum")" = "BLKHASH-SHA256 ($v/$img) = $want" ] || fail "$img: sender's digest file: $(cat "$tmp/source.sum")"
    [ "$(cat "$tmp/target.sum")" = "BLKHASH-SHA256 ($tmp/copy-$img) = $want" ] || fail "$img: receiver's digest file"
    [ "$(digest_of blkhash-sha256 "$v/$img")" = "$want" ] || fail "$img: digest_of disagrees with blksum"
done < "$v/blksum.txt"
[ "$(digest_of blkhash-sha256 "$v/empty.img")" = af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc ] \
    || fail "digest_of disagrees with blksum on the empty image"
# The other inner hashes, with 64 KiB chunks so every chunk is one block.
while read -r alg want; do
    start_recv "$tmp/mixed-$alg.img"
    p2vsend --progress=none --digest="$alg" --chunk-size=64K "$v/mixed.img" "127.0.0.1:$port" 2> "$tmp/send.err" \
        || { cat "$tmp/send.err" >&2; fail "$alg: p2vsend failed"; }
    wait_recv
    [ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "$alg: p2vrecv exited $recv_rc"; }
    expect_line "$tmp/send.err" "^p2vsend: $alg $want  "
    expect_line "$tmp/recv.err" "^p2vrecv: $alg $want  "
    [ "$(digest_of "$alg" "$v/mixed.img")" = "$want" ] || fail "$alg: digest_of disagrees with blksum"
done <<'EOF_ALGS'
blkhash-sha1 32bf8d168b9ade41010c2d9776867af6c0966676
blkhash-md5 c40395e4c9ec460abbe3e2d787494feb
EOF_ALGS

# 1. An odd-sized source (a short last chunk), random and zero chunks.
src=$tmp/src.img
{ head -c 3M /dev/urandom; head -c 2M /dev/zero; head -c 1234567 /dev/urandom; } > "$src"
want=$(digest_of blkhash-sha512 "$src")
start_recv --digest-file="$tmp/target.sum" "$tmp/target.img"
p2vsend --progress=none --digest=blkhash-sha512 --chunk-size=64K --digest-file="$tmp/source.sum" \
    "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || { cat "$tmp/send.err" >&2; fail "p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$src" "$tmp/target.img" || fail "target differs"
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha512 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha512 $want  "
[ "$(cat "$tmp/source.sum")" = "BLKHASH-SHA512 ($src) = $want" ] \
    || { cat "$tmp/source.sum" >&2; fail "sender's digest file"; }
[ "$(cat "$tmp/target.sum")" = "BLKHASH-SHA512 ($tmp/target.img) = $want" ] \
    || { cat "$tmp/target.sum" >&2; fail "receiver's digest file"; }
sha512sum -c "$tmp/target.sum" > /dev/null 2>&1 && fail "sha512sum -c accepted a blkhash digest file"
expect_line "$tmp/target.img.p2v.json" "\"algorithm\": \"blkhash-sha512\", \"value\": \"$want\""
# Not the plain SHA-512 under another name.
[ "$want" != "$(digest_of sha512 "$src")" ] || fail "the blkhash equals the plain sha512"
# The retired name still works, as blkhash-sha256, with a warning.
start_recv "$tmp/alias.img"
p2vsend --progress=none --digest=sha256-tree "$src" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "--digest=sha256-tree failed"; }
wait_recv
expect_line "$tmp/send.err" "^p2vsend: warning: --digest=sha256-tree is obsolete"
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $(digest_of blkhash-sha256 "$src")  "

# 2. A sparse 1 GiB source with 8 MiB of data: the holes are not read.
sparse=$tmp/sparse.img
truncate -s 1G "$sparse"
head -c 4M /dev/urandom | dd of="$sparse" bs=1M seek=100 conv=notrunc status=none
head -c 4M /dev/urandom | dd of="$sparse" bs=1M seek=900 conv=notrunc status=none
want=$(digest_of blkhash-sha256 "$sparse")
start_recv "$tmp/sparse-copy.img"
# (LeakSanitizer cannot run under ptrace: off for this one run when the
# suite runs sanitized.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout 120 strace -f -qq -e trace=pread64 -o "$tmp/strace.out" \
    p2vsend --progress=none "$sparse" "127.0.0.1:$port" 2> "$tmp/send.err" \
    || { cat "$tmp/send.err" >&2; fail "p2vsend of a sparse source failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
cmp "$sparse" "$tmp/sparse-copy.img" || fail "sparse copy differs"
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  "
read_bytes=$(sed -n 's/.*pread64(.*) = \([0-9][0-9]*\)$/\1/p' "$tmp/strace.out" | awk '{ s += $1 } END { print s + 0 }')
echo "sender read $read_bytes bytes of a 1 GiB source holding 8 MiB"
[ "$read_bytes" -ge $((8 * MiB)) ] || fail "the sender read less than the data ($read_bytes bytes)"
[ "$read_bytes" -le $((32 * MiB)) ] || fail "the sender read $read_bytes bytes: it read the holes"
[ "$(stat -c %b "$tmp/sparse-copy.img")" -le $((64 * MiB / 512)) ] || fail "the copy is not sparse"

# 3. Resume: the digest over a prefix re-read from both disks.
res=$tmp/res.img
{ head -c 300M /dev/urandom; head -c 84M /dev/zero; } > "$res"
want=$(digest_of blkhash-sha256 "$res")
start_recv --timeout 60 "$tmp/res-copy.img"
p2vsend --progress=none -j 1 --compress=zlib:1 --limit-rate 32M --retry 0 \
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
timeout 120 p2vsend --progress=none "$res" "127.0.0.1:$port" \
    2> "$tmp/send2.err" || rc=$?
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send2.err" "$tmp/recv.err" >&2; fail "resume: sender $rc, receiver $recv_rc"; }
expect_line "$tmp/send2.err" "^p2vsend: resuming at [0-9.]+ MiB"
expect_line "$tmp/send2.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
cmp "$res" "$tmp/res-copy.img" || fail "resumed copy differs"

# 4. A delta into the copy with two chunks changed: SAME chunks count
# with the block digests the receiver hashed for its announcement.
head -c 64K /dev/urandom | dd of="$res" bs=64K seek=10 conv=notrunc status=none
head -c 64K /dev/urandom | dd of="$res" bs=64K seek=3000 conv=notrunc status=none
want=$(digest_of blkhash-sha256 "$res")
start_recv "$tmp/res-copy.img"
rc=0
timeout 120 p2vsend --progress=none --delta "$res" "127.0.0.1:$port" \
    2> "$tmp/send3.err" || rc=$?
wait_recv
[ $rc -eq 0 ] && [ "$recv_rc" -eq 0 ] || { cat "$tmp/send3.err" "$tmp/recv.err" >&2; fail "delta: sender $rc, receiver $recv_rc"; }
cmp "$res" "$tmp/res-copy.img" || fail "delta copy differs"
expect_line "$tmp/send3.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
exit 0
