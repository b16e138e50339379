#!/usr/bin/env bash
# p2vsum prints blksum's values for the blkhash test vectors with any
# number of threads, sha256sum's with --digest=sha256, does not read the
# holes of a sparse file, and --check verifies the digest files p2vsend,
# p2vrecv, p2vsum, sha256sum and blksum write, exiting 5 on a mismatch
# and 2 on an unreadable file.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires openssl strace timeout perl sha256sum
MiB=$((1 << 20))
cd "$tmp"

# 1. blksum 0.11.0's values (blkhash-vectors/digests.txt) for the images
# of blkhash-vectors/make-images.sh, made the same way here.
blkhash_vectors "$tmp"
images=$(awk '{ print $2 }' blksum.txt)
for j in 1 2 5; do
    # shellcheck disable=SC2086
    p2vsum -j $j $images > "sums.$j" || fail "p2vsum -j $j exited $?"
    while read -r want img; do
        grep -qx "BLKHASH-SHA256 ($img) = $want" "sums.$j" || { cat "sums.$j" >&2; fail "-j $j: $img is not blksum's $want"; }
    done < blksum.txt
done
[ "$(p2vsum --digest=blkhash-sha1 mixed.img)" = "BLKHASH-SHA1 (mixed.img) = 32bf8d168b9ade41010c2d9776867af6c0966676" ] \
    || fail "blkhash-sha1 of mixed.img"
[ "$(p2vsum --digest=blkhash-md5 mixed.img)" = "BLKHASH-MD5 (mixed.img) = c40395e4c9ec460abbe3e2d787494feb" ] \
    || fail "blkhash-md5 of mixed.img"
[ "$(p2vsum --digest=blkhash-sha512 mixed.img | sed 's/.* = //')" = "$(digest_of blkhash-sha512 mixed.img)" ] \
    || fail "blkhash-sha512 of mixed.img"

# 2. Plain digests are coreutils' own, in the --tag form sha256sum -c reads.
p2vsum --digest=sha256 mixed.img two-bytes.img > plain.sha256
[ "$(head -n1 plain.sha256)" = "SHA256 (mixed.img) = $(digest_of sha256 mixed.img)" ] || fail "sha256 of mixed.img"
sha256sum -c plain.sha256 > /dev/null || fail "sha256sum -c rejects p2vsum --digest=sha256"
[ "$(p2vsum --digest=md5 block.img)" = "MD5 (block.img) = $(digest_of md5 block.img)" ] || fail "md5 of block.img"

# 3. --check: every kind of line, a mismatch, an unreadable file.
p2vsum -c sums.1 > check.out || fail "--check of p2vsum's own output exited $?"
[ "$(grep -c ': OK$' check.out)" -eq 9 ] || { cat check.out >&2; fail "--check did not say OK nine times"; }
p2vsum --digest=blkhash-sha256 -c blksum.txt > /dev/null || fail "--check of blksum's untagged lines exited $?"
# Untagged lines without --digest: sha256sum's and blksum's look alike,
# so p2vsum asks rather than call a good copy a mismatch.
sha256sum two-bytes.img > untagged.sha256
rc=0; p2vsum -c untagged.sha256 > check.out 2> check.err || rc=$?
[ $rc -eq 2 ] || { cat check.out check.err >&2; fail "an untagged line without --digest: exit $rc, not 2"; }
expect_line check.err "^p2vsum: error: untagged.sha256:1: an untagged line: say which digest"
sha256sum mixed.img > coreutils.sha256
p2vsum --digest=sha256 -c coreutils.sha256 > /dev/null || fail "--check of sha256sum's output exited $?"
p2vsum -c plain.sha256 > /dev/null || fail "--check of tagged sha256 lines exited $?"
cp two-bytes.img changed.img
p2vsum changed.img > changed.sum
printf 'C' | dd of=changed.img bs=1 seek=500000 conv=notrunc 2>/dev/null
rc=0; p2vsum -c changed.sum sums.1 > check.out 2> check.err || rc=$?
[ $rc -eq 5 ] || { cat check.out check.err >&2; fail "a changed image: exit $rc, not 5"; }
grep -qx "changed.img: FAILED" check.out || fail "no FAILED line for the changed image"
[ "$(grep -c ': OK$' check.out)" -eq 9 ] || fail "the other lists were not checked after a mismatch"
rm block.img
rc=0; p2vsum -c sums.1 > check.out 2> check.err || rc=$?
[ $rc -eq 2 ] || { cat check.out check.err >&2; fail "a missing image: exit $rc, not 2"; }
expect_line check.err "^p2vsum: error: cannot open block.img: "
grep -qx "block.img: FAILED open or read" check.out || fail "no FAILED line for the missing image"
printf 'not a digest\n' > junk.txt
rc=0; p2vsum -c junk.txt > /dev/null 2> check.err || rc=$?
[ $rc -eq 2 ] || fail "a list without digest lines: exit $rc, not 2"
expect_line check.err "^p2vsum: error: junk.txt: no digest lines"
rc=0; p2vsum --digest=sha256-tree mixed.img > /dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "an obsolete or unknown digest: exit $rc, not 1"
rc=0; p2vsum > /dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "no DISK: exit $rc, not 1"

# 4. A sparse 1 GiB file holding 8 MiB: the holes are not read, and the
# value is the independent implementation's.
truncate -s 1G sparse.img
head -c 4M /dev/urandom | dd of=sparse.img bs=1M seek=100 conv=notrunc status=none
head -c 4M /dev/urandom | dd of=sparse.img bs=1M seek=900 conv=notrunc status=none
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout 120 strace -f -qq -e trace=pread64 -o strace.out p2vsum -j 2 sparse.img > sparse.sum \
    || fail "p2vsum of a sparse file failed"
[ "$(sed 's/.* = //' sparse.sum)" = "$(digest_of blkhash-sha256 sparse.img)" ] || fail "sparse.img: wrong digest"
read_bytes=$(sed -n 's/.*pread64(.*) = \([0-9][0-9]*\)$/\1/p' strace.out | awk '{ s += $1 } END { print s + 0 }')
echo "p2vsum read $read_bytes bytes of a 1 GiB file holding 8 MiB"
[ "$read_bytes" -ge $((8 * MiB)) ] && [ "$read_bytes" -le $((16 * MiB)) ] || fail "p2vsum read $read_bytes bytes"

# 5. The digest files of a real transfer, checked on the receiving side,
# and the JSON progress line naming the digest.
head -c 6M /dev/urandom > src.img
start_recv --digest-file="$tmp/target.sum" --progress=json "$tmp/target.img"
p2vsend --progress=json --digest-file="$tmp/source.sum" src.img "127.0.0.1:$port" 2> send.err \
    || { cat send.err >&2; fail "p2vsend failed"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }
p2vsum -c target.sum source.sum > check.out || { cat check.out >&2; fail "--check of p2vrecv's and p2vsend's files"; }
want=$(digest_of blkhash-sha256 src.img)
expect_line send.err "^\{\"label\": \"src.img\", \"digest\": \{\"algorithm\": \"blkhash-sha256\", \"value\": \"$want\"\}\}$"
expect_line "$tmp/recv.err" "^\{\"label\": \"$tmp/target.img\", \"digest\": \{\"algorithm\": \"blkhash-sha256\", \"value\": \"$want\"\}\}$"
exit 0
