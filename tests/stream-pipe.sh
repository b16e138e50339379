#!/usr/bin/env bash
# --stdout | --stdin works as a pipe (the ssh case) and as a saved
# stream file replayed later, with every codec.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

src=$tmp/src.img
head -c 3M /dev/urandom > "$src"
for i in $(seq 1000); do cat /etc/services; done | head -c 5M >> "$src"
truncate -s +2M "$src"

p2vsend -q --stdout "$src" | p2vrecv -q --stdin "$tmp/piped.img" || fail "pipe transfer failed"
cmp "$src" "$tmp/piped.img" || fail "piped copy differs"

for codec in zlib zlib:9 zstd zstd:19 lz4 none; do
    p2vsend -q -b 1M --compress="$codec" --stdout "$src" > "$tmp/stream.$codec" || fail "$codec: p2vsend failed"
    p2vrecv -q --stdin "$tmp/out.$codec" < "$tmp/stream.$codec" || fail "$codec: p2vrecv failed"
    cmp "$src" "$tmp/out.$codec" || fail "$codec: copy differs"
done
# Compression really happened (the text part is very compressible).
[ "$(stat -c %s "$tmp/stream.zstd")" -lt $((6 << 20)) ] || fail "zstd stream is not smaller"
[ "$(stat -c %s "$tmp/stream.none")" -gt $((8 << 20)) ] || fail "uncompressed stream is too small"

# A terminal is no place for a binary stream.
if command -v script >/dev/null; then
    script -qec "p2vsend --stdout $src" /dev/null > "$tmp/tty.out" 2>&1 && fail "--stdout to a TTY accepted"
    grep -q "standard output is a terminal" "$tmp/tty.out" || fail "no message for --stdout on a TTY"
fi
exit 0
