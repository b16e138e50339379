#!/usr/bin/env bash
# --digest md5/sha1/sha512 print what md5sum/sha1sum/sha512sum print,
# and with --digest=sha256 --digest-file on both ends names the
# algorithm and is accepted by `sha256sum -c`.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

src=$tmp/src.img
head -c 3M /dev/urandom > "$src"
truncate -s 5M "$src"
for alg in md5 sha1 sha512; do
    start_recv "$tmp/out.$alg"
    p2vsend --digest=$alg --progress=none "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || fail "$alg: p2vsend failed"
    wait_recv
    [ "$recv_rc" -eq 0 ] || fail "$alg: p2vrecv exited $recv_rc"
    want=$(digest_of $alg "$src")
    expect_line "$tmp/send.err" "^p2vsend: $alg $want  "
    expect_line "$tmp/recv.err" "^p2vrecv: $alg $want  "
    expect_line "$tmp/out.$alg.p2v.json" "\"algorithm\": \"$alg\", \"value\": \"$want\""
done

cd "$tmp"
start_recv --digest-file=target.sha256 target.img
p2vsend -q --digest=sha256 --digest-file=source.sha256 src.img "127.0.0.1:$port" || fail "p2vsend failed"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "p2vrecv exited $recv_rc"
[ "$(cat source.sha256)" = "SHA256 (src.img) = $(digest_of sha256 src.img)" ] || fail "sender's digest file: $(cat source.sha256)"
sha256sum -c source.sha256 || fail "sha256sum -c rejects the sender's digest file"
sha256sum -c target.sha256 || fail "sha256sum -c rejects the receiver's digest file"
# And it notices a change: the digest file is not decoration.
# (the first byte inverted: writing a fixed byte would change nothing
# when the random source already had it there, one run in 256)
b=$(od -An -tu1 -N1 target.img | tr -d ' ')
printf "\\$(printf '%03o' $((255 - b)))" | dd of=target.img conv=notrunc status=none
cmp -s src.img target.img && fail "the test did not change the target"
sha256sum -c target.sha256 2>/dev/null && fail "sha256sum -c accepted a modified target"
exit 0
