#!/usr/bin/env bash
# The parallelism is real: with -j 2 compression keeps both cores busy
# (CPU time well above wall time) and finishes sooner than with -j 1.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires /usr/bin/time
[ "$(nproc)" -ge 2 ] || { echo "SKIP: one CPU"; exit 77; }
# Sanitizers change where the time goes; timing means nothing there.
[ -z "${P2V_SANITIZE:-}" ] || { echo "SKIP: timing under sanitizers"; exit 77; }

src=$tmp/text.img
# Compressible but not trivially so: text with random words mixed in.
python3 - "$src" <<'PY'
import random, sys
random.seed(7)
words = open('/etc/services').read().split()
with open(sys.argv[1], 'w') as f:
    n = 0
    while n < 48 << 20:
        line = ' '.join(random.choice(words) for _ in range(12)) + '\n'
        f.write(line)
        n += len(line)
PY
run() {
    /usr/bin/time -f '%e %U %S' -o "$tmp/t.$1" p2vsend -q -j "$1" --compress=zlib:6 --stdout "$src" > /dev/null \
        || fail "p2vsend -j $1 failed"
    read -r wall user sys < "$tmp/t.$1"
    echo "-j $1: wall ${wall}s, cpu $(echo "$user + $sys" | bc)s"
}
requires bc
run 1; w1=$wall
run 2; w2=$wall; cpu2=$(echo "$user + $sys" | bc)
echo "$cpu2 > 1.4 * $w2" | bc | grep -q 1 || fail "-j 2 used ${cpu2}s CPU in ${w2}s: both cores were not busy"
echo "$w2 < 0.8 * $w1" | bc | grep -q 1 || fail "-j 2 (${w2}s) is not faster than -j 1 (${w1}s)"
exit 0
