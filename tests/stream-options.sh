#!/usr/bin/env bash
# Bad input gets one clear line and exit status 1 (usage), before
# anything is opened; --help and --version work.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

src=$tmp/src.img
head -c 1M /dev/urandom > "$src"

# usage_error PROG REGEX ARGS...: exits 1, stderr is one line matching REGEX.
usage_error() {
    local prog=$1 re=$2 rc=0
    shift 2
    "$prog" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null || rc=$?
    [ "$rc" -eq 1 ] || { cat "$tmp/err" >&2; fail "$prog $*: exit $rc, expected 1"; }
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || { cat "$tmp/err" >&2; fail "$prog $*: not one line"; }
    grep -Eq "^$prog: error: $re" "$tmp/err" || { cat "$tmp/err" >&2; fail "$prog $*: message does not match /$re/"; }
}

usage_error p2vsend "--threads: '0' is not a number from 1 to 64" -j 0 "$src" 127.0.0.1:1
usage_error p2vsend "--threads: '2x'" -j 2x "$src" 127.0.0.1:1
usage_error p2vsend "--threads: '-1'" -j -1 "$src" 127.0.0.1:1
usage_error p2vsend "--limit-rate: '0' is not a rate of at least 1K" --limit-rate 0 "$src" 127.0.0.1:1
usage_error p2vsend "--limit-rate: '5Mx'" --limit-rate 5Mx "$src" 127.0.0.1:1
usage_error p2vsend "--limit-rate: '-1M'" --limit-rate=-1M "$src" 127.0.0.1:1
usage_error p2vsend "--chunk-size: '3M' is not a power of two" -b 3M "$src" 127.0.0.1:1
usage_error p2vsend "--chunk-size: '32M'" -b 32M "$src" 127.0.0.1:1
usage_error p2vsend "--chunk-size: '4M4'" -b 4M4 "$src" 127.0.0.1:1
usage_error p2vsend "--compress: unknown or unavailable codec 'gzip'" --compress=gzip "$src" 127.0.0.1:1
usage_error p2vsend "--compress: level for zlib must be 1 to 9" --compress=zlib:10 "$src" 127.0.0.1:1
usage_error p2vsend "--compress: auto takes no level: it chooses them" --compress=auto:3 "$src" 127.0.0.1:1
usage_error p2vsend "--digest: 'crc32'" --digest=crc32 "$src" 127.0.0.1:1
usage_error p2vsend "--progress: 'fancy'" --progress=fancy "$src" 127.0.0.1:1
usage_error p2vsend "'vm:99999' is not HOST\[:PORT\]" "$src" vm:99999
usage_error p2vsend "'::1' is not HOST\[:PORT\]" "$src" ::1
usage_error p2vsend "expected SOURCE\.\.\. and HOST\[:PORT\]" "$src"
usage_error p2vsend "expected one SOURCE with --stdout" --stdout "$src" vm
# Several disks: at most 6, each once, per-disk options once per disk.
usage_error p2vsend "7 disks: at most 6 per session" "$src" "$src" "$src" "$src" "$src" "$src" "$src" 127.0.0.1:1
usage_error p2vsend "$src is given twice" "$src" "$src" 127.0.0.1:1
usage_error p2vsend "--digest-file given 1 time for 2 disks" --digest-file "$tmp/d" "$src" "$tmp/other" 127.0.0.1:1
usage_error p2vsend "--ignore-read-errors=MAP names one map" --ignore-read-errors="$tmp/map" "$src" "$tmp/other" 127.0.0.1:1
usage_error p2vrecv "--listen: '70000' is not \[ADDR:\]PORT" --listen 70000 "$tmp/x"
usage_error p2vrecv "--listen: 'a:b:c'" --listen a:b:c "$tmp/x"
usage_error p2vrecv "--threads: '65'" -j 65 "$tmp/x"
usage_error p2vrecv "expected one TARGET with --stdin" --stdin "$tmp/x" "$tmp/y"
usage_error p2vrecv "--manifest given 1 time for 2 disks" --manifest "$tmp/m" "$tmp/x" "$tmp/y"
usage_error p2vrecv "$tmp/x is given twice" "$tmp/x" "$tmp/x"
# One disk under two names (a symlink; /dev/disk/by-id does the same).
ln -s "$src" "$tmp/src-link"
usage_error p2vsend "$src and $tmp/src-link are the same disk" "$src" "$tmp/src-link" 127.0.0.1:1
usage_error p2vrecv "$src and $tmp/src-link are the same disk" "$src" "$tmp/src-link"
usage_error p2vrecv "7 targets: at most 6" "$tmp/x" "$tmp/y" "$tmp/z" "$tmp/a" "$tmp/b" "$tmp/c" "$tmp/d"
for f in x y z a b c d; do
    [ -e "$tmp/$f" ] && fail "a rejected command created $tmp/$f"
done

p2vsend --help | grep -q "^Usage: p2vsend" || fail "p2vsend --help"
p2vrecv --help | grep -q "^Usage: p2vrecv" || fail "p2vrecv --help"
p2vsend --version | grep -Eq "^p2vsend [0-9]+\.[0-9]+" || fail "p2vsend --version"
p2vrecv --version | grep -Eq "^p2vrecv [0-9]+\.[0-9]+" || fail "p2vrecv --version"

# --progress=json: one JSON object per line, the last one marked done.
p2vsend --progress=json --stdout "$src" 2> "$tmp/json" > /dev/null || fail "json progress run failed"
grep '^{' "$tmp/json" | python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
assert objs, "no JSON lines"
last = objs[-1]
assert last["done"] and last["bytes"] == last["total"] == 1048576, last
' || fail "--progress=json output is not what scripts need"
# -q: nothing on stderr for a good run.
p2vsend -q --stdout "$src" 2> "$tmp/quiet" > /dev/null
[ ! -s "$tmp/quiet" ] || fail "-q still printed: $(cat "$tmp/quiet")"
exit 0
