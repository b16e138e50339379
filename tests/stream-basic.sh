#!/usr/bin/env bash
# A mixed source (text, random, zeros) over 127.0.0.1 arrives identical,
# both ends print the digest sha256sum prints, and p2vrecv writes the
# manifest beside the target.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

src=$tmp/src.img out=$tmp/out.img
head -c 5M /dev/urandom > "$src"
for i in $(seq 2000); do cat /etc/services; done | head -c 7M >> "$src"
truncate -s +6M "$src"
head -c 1234567 /dev/urandom >> "$src"     # not a multiple of the chunk size
want=$(digest_of blkhash-sha256 "$src")

start_recv "$out"
p2vsend --progress=plain "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || { cat "$tmp/send.err" >&2; fail "p2vsend exited $?"; }
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $recv_rc"; }

cmp "$src" "$out" || fail "target differs from source"
expect_line "$tmp/send.err" "^p2vsend: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "^p2vrecv: blkhash-sha256 $want  "
expect_line "$tmp/recv.err" "verified: .* is identical"
expect_line "$tmp/send.err" "verified the copy of .*src.*: identical"
# pv-style progress: bytes, total, percent, rates, elapsed, ETA.
expect_line "$tmp/send.err" "src.img: [0-9.]+ MiB / 19\.2 MiB +100%  .*/s  avg .*/s  [0-9]+:[0-9]{2}  ETA"
# The zeros did not cross the wire.
expect_line "$tmp/send.err" "on the wire \(([0-9]|[1-6][0-9])\.[0-9]% of what was sent\)"

m=$out.p2v.json
[ -s "$m" ] || fail "no manifest beside the target"
expect_line "$m" "\"format\": \"p2vstream-manifest\""
expect_line "$m" "\"size\": $(stat -c %s "$src")"
expect_line "$m" "\"value\": \"$want\""
expect_line "$m" "\"hostname\": \"$(hostname)\""
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$m" || fail "manifest is not valid JSON"
[ "$(stat -c %a "$out")" = 600 ] || fail "new image is not owner-only"
exit 0
