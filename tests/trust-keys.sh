#!/usr/bin/env bash
# Who may write (issue 4): by default p2vrecv makes a random key and
# prints it inside the exact p2vsend command to run; that command works.
# A sender with a wrong key or no key is refused with a clear message on
# both ends (exit 7), the target is untouched (a nonexistent target is
# not created, an existing one keeps its checksum, no resume state is
# left), and p2vrecv keeps listening: the right sender then succeeds.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout sha256sum cmp
unset P2V_KEY

src=$tmp/src.img
{ head -c 3M /dev/urandom; head -c 2M /dev/zero; head -c 3M /dev/urandom; } > "$src"
other=TEST-0000-0000-0000-0002     # a well-formed key that is not the one

# refuse_both KEYDESC: a wrong-key and a no-key sender against the
# p2vrecv on $port; both refused with exit 7 and the expected messages.
refuse_both() {
    local rc
    rc=0; timeout 30 p2vsend -q "$src" "127.0.0.1:$port" --key "$other" 2> "$tmp/send.err" || rc=$?
    [ $rc -eq 7 ] || { cat "$tmp/send.err" >&2; fail "wrong key: sender exit $rc, expected 7"; }
    expect_line "$tmp/send.err" "^p2vsend: error: receiver 127\.0\.0\.1:$port refused: wrong key: use the --key that p2vrecv printed$"
    rc=0; timeout 30 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
    [ $rc -eq 7 ] || { cat "$tmp/send.err" >&2; fail "no key: sender exit $rc, expected 7"; }
    expect_line "$tmp/send.err" "^p2vsend: error: receiver 127\.0\.0\.1:$port refused: no key given: "
    # Both were told apart on the receiving side, which is still there.
    kill -0 "$recv_pid" 2>/dev/null || { cat "$tmp/recv.err" >&2; fail "p2vrecv stopped after refusing a sender"; }
    expect_line "$tmp/recv.err" "^p2vrecv: warning: 127\.0\.0\.1:[0-9]+ does not have the key \(wrong --key\); connection refused, still listening$"
    expect_line "$tmp/recv.err" "^p2vrecv: warning: 127\.0\.0\.1:[0-9]+ sent no key; connection refused, still listening$"
    if grep -q "receiving\|connection from" "$tmp/recv.err"; then
        cat "$tmp/recv.err" >&2; fail "p2vrecv accepted a sender without the key"
    fi
}

# 1. Default: a random key, printed in the exact command.  The target
# does not exist yet and must not be created by refused senders.
tgt=$tmp/new.img
start_recv "$tgt"
for ((i = 0; i < 50; i++)); do
    grep -q 'on the source, run:' "$tmp/recv.err" && break
    sleep 0.1
done
cmdline=$(sed -n 's/^p2vrecv: on the source, run:  //p' "$tmp/recv.err")
[[ $cmdline =~ ^p2vsend\ DISK\ 127\.0\.0\.1:$port\ --key\ ([0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4})$ ]] \
    || { cat "$tmp/recv.err" >&2; fail "no exact p2vsend command with a 20-symbol Crockford key: '$cmdline'"; }
key=${BASH_REMATCH[1]}
[ "$key" != "TEST-KEY0-0000-0000-0001" ] || fail "the default key is the test suite's key"

refuse_both
[ ! -e "$tgt" ] || fail "a refused sender created the target"
[ ! -e "$tgt.p2v-state" ] || fail "a refused sender left a resume state"

# The printed command, word for word with DISK replaced.
read -r -a argv <<< "${cmdline/DISK/$src}"
rc=0; timeout 60 "${argv[@]}" -q --digest-file="$tmp/send.sum" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "the printed command failed with $rc"; }
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
wait_recv
[ "$recv_rc" -eq 0 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exit $recv_rc"; }
cmp "$src" "$tgt" || fail "target differs from source"
[ "$(cat "$tmp/send.sum")" = "BLKHASH-SHA256 ($src) = $(digest_of blkhash-sha256 "$src")" ] || fail "sender digest wrong"
[ ! -e "$tgt.p2v-state" ] || fail "resume state left after success"

# A second p2vrecv makes another key.
start_recv "$tmp/other.img"
for ((i = 0; i < 50; i++)); do
    grep -q 'on the source, run:' "$tmp/recv.err" && break
    sleep 0.1
done
key2=$(sed -n 's/.*--key \([0-9A-Z-]*\)$/\1/p' "$tmp/recv.err")
[ -n "$key2" ] && [ "$key2" != "$key" ] || fail "two receivers printed the same key ($key2)"
kill "$recv_pid"; wait_recv

# 2. --key-file on the receiver, an existing target full of data: its
# checksum must not change while refusing.  The key as typed in lower
# case with spaces works (normalized).
tgt=$tmp/old.img
head -c 8M /dev/urandom > "$tgt"
before=$(digest_of sha256 "$tgt")
echo "TEST-KEY0-0000-0000-0003" > "$tmp/key"
start_recv --key-file "$tmp/key" "$tgt"
sleep 0.3
grep -q -- '--key' "$tmp/recv.err" && { cat "$tmp/recv.err" >&2; fail "p2vrecv printed a key it was given in a file"; }
refuse_both
# P2V_KEY on the sender is also a wrong key when it differs.
rc=0; P2V_KEY=$other timeout 30 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 7 ] || fail "wrong P2V_KEY: sender exit $rc, expected 7"
[ "$(digest_of sha256 "$tgt")" = "$before" ] || fail "a refused sender modified the target"
[ ! -e "$tgt.p2v-state" ] || fail "a refused sender left a resume state"
rc=0; P2V_KEY="test key0 0000 0000 0003" timeout 60 p2vsend -q "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" "$tmp/recv.err" >&2; fail "right key via P2V_KEY failed with $rc"; }
timeout 30 tail --pid="$recv_pid" -f /dev/null || fail "p2vrecv did not end"
wait_recv
[ "$recv_rc" -eq 0 ] || fail "p2vrecv exit $recv_rc"
cmp "$src" "$tgt" || fail "target differs from source"

# 3. --key-file on the sender.
start_recv --key-file "$tmp/key" "$tmp/third.img"
rc=0; timeout 60 p2vsend -q --key-file "$tmp/key" "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/send.err" >&2; fail "--key-file sender failed with $rc"; }
wait_recv
[ "$recv_rc" -eq 0 ] && cmp "$src" "$tmp/third.img" || fail "--key-file transfer"
exit 0
