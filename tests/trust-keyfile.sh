#!/usr/bin/env bash
# --key-file permissions (issue 12, item 6), checked as ssh checks a
# private key, on both programs:
#   - mode 0600: no warning, the copy works;
#   - readable by group or others (0644, 0640) or writable by the group
#     (0620): "warning: key file K is readable by others (mode 0644);
#     chmod 600 it" and the copy still works;
#   - writable by everyone (0666), or owned by another user: refused,
#     exit 1, before anything is opened (a stranger could choose the key);
#   - a pipe (--key-file <(...)) has no mode to check: no warning.
. "${top_srcdir:-$(dirname "$0")/..}/tests/functions.sh"
requires timeout cmp stat
key=$P2V_KEY
unset P2V_KEY

src=$tmp/src.img
head -c $((2 << 20)) /dev/urandom > "$src"
kf=$tmp/key
echo "$key" > "$kf"

# copy MODE: a copy with the key file at MODE on both ends.
copy() {
    chmod "$1" "$kf"
    rm -f "$tmp/out.img"
    start_recv --key-file "$kf" "$tmp/out.img"
    send_rc=0
    timeout 60 p2vsend -q --key-file "$kf" "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || send_rc=$?
    wait_recv
    [ "$recv_rc" = 0 ] && [ "$send_rc" = 0 ] || { cat "$tmp/recv.err" "$tmp/send.err" >&2; fail "mode $1: the copy failed ($recv_rc, $send_rc)"; }
    cmp "$src" "$tmp/out.img" || fail "mode $1: the copy differs"
}

copy 600
! grep -q "key file" "$tmp/recv.err" "$tmp/send.err" || fail "a warning about a 0600 key file"

for m in 644 640; do
    copy "$m"
    for p in recv send; do
        expect_line "$tmp/$p.err" "^p2v$p: warning: key file $kf is readable by others \(mode 0$m\); chmod 600 it$"
    done
done
copy 620
for p in recv send; do
    expect_line "$tmp/$p.err" "^p2v$p: warning: key file $kf is writable by its group \(mode 0620\); chmod 600 it$"
done

# refused WHY-REGEX: neither program starts with this key file.
refused() {
    local rc=0
    timeout 30 p2vrecv --listen 127.0.0.1:0 --key-file "$kf" "$tmp/refused.img" 2> "$tmp/recv.err" || rc=$?
    [ "$rc" = 1 ] || { cat "$tmp/recv.err" >&2; fail "p2vrecv exited $rc with that key file, not 1"; }
    expect_line "$tmp/recv.err" "^p2vrecv: error: key file $kf $1"
    ! grep -q listening "$tmp/recv.err" || fail "p2vrecv listened with that key file"
    [ ! -e "$tmp/refused.img" ] || fail "p2vrecv created its target with that key file"
    rc=0
    timeout 30 p2vsend -q --key-file "$kf" "$src" 127.0.0.1:9 2> "$tmp/send.err" || rc=$?
    [ "$rc" = 1 ] || { cat "$tmp/send.err" >&2; fail "p2vsend exited $rc with that key file, not 1"; }
    expect_line "$tmp/send.err" "^p2vsend: error: key file $kf $1"
}
chmod 666 "$kf"
refused "is writable by everyone \(mode 0666\): anyone could replace the key; chmod 600 it$"
chmod 600 "$kf"
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
    chown nobody "$kf"
    refused "belongs to another user \(uid $(id -u nobody)\), who could replace the key; use a key file of your own$"
    chown 0 "$kf"
else
    echo "not root: the other owner's key file is not tried" >&2
fi

# A pipe: no warning, it works.
rm -f "$tmp/out.img"
start_recv --key-file <(echo "$key") "$tmp/out.img"
send_rc=0
timeout 60 p2vsend -q --key-file <(echo "$key") "$src" "127.0.0.1:$port" 2> "$tmp/send.err" || send_rc=$?
wait_recv
[ "$recv_rc" = 0 ] && [ "$send_rc" = 0 ] || { cat "$tmp/recv.err" "$tmp/send.err" >&2; fail "a key from a pipe failed ($recv_rc, $send_rc)"; }
! grep -q "key file" "$tmp/recv.err" "$tmp/send.err" || fail "a warning about a key from a pipe"
exit 0
