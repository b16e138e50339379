#!/usr/bin/env bash
# The fuzz harness, built from make fuzz's own source list, replays every
# seed stream in tests/fuzz-corpus: the harness still links and no seed
# crashes a parser (under ASan/UBSan in check-sanitize).
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"

seeds=("$top_srcdir"/tests/fuzz-corpus/*)
[ "${#seeds[@]}" -ge 5 ] || fail "expected the 5 seed streams, found ${#seeds[@]}"
"$top_builddir/lib/stream/fuzz-replay" "${seeds[@]}" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err" >&2; fail "fuzz-replay exited $?"; }
[ "$(grep -c ' bytes replayed$' "$tmp/out")" -eq "${#seeds[@]}" ] || { cat "$tmp/out" >&2; fail "not every seed was replayed"; }
