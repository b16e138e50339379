# Shared by every shell test: source it first.
#   requires CMD...        skip the test (exit 77) when a command is missing
#   requires_root          skip unless root
#   loop_lock MODE         shared: this test attaches loop devices; exclusive: it lists them all
#   cpu_alone              wait until no other test runs (for tests that measure time)
#   requires_guestfs       skip when libguestfs cannot be used here
#   cleanup_fn CMD...      run CMD when the test exits, in reverse order
#   fail MSG               print "FAIL: MSG" and exit 1
#   tmpdir                 a private scratch directory ($tmp), removed at exit
#   wait_for_file F SECS   wait until F is non-empty, bounded
#   make_disk_image F SIZE a real MBR disk image: two ext4 partitions with files
#   start_recv ARGS...     p2vrecv on 127.0.0.1, free port: sets recv_pid, port
#                          (under the command prefix $recv_as, if set)
#   wait_recv              wait for it: sets recv_rc
#   expect_line F REGEX    F has a line matching REGEX, else fail
#   delta_json F KEY       KEY of the final JSON delta line in F
#   netns_link RATE        two network namespaces joined by a veth shaped
#                          to RATE: $nsr (10.99.0.1), $nss (10.99.0.2)
#   recv_ns TARGET ARGS... p2vrecv in $nsr on 10.99.0.1:5000: sets recv_pid
set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export PATH="$top_builddir/src:$PATH"

_cleanups=()
_run_cleanups() {
    local i
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_cleanups[i]}" || :
    done
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

cleanup_fn() { _cleanups+=("$*"); }

# Every test holds the CPU lock shared; a test that measures time calls
# cpu_alone first, which waits until it holds the lock alone: no other
# test of a parallel make check then shares the two cores with it.
exec 8> "${TMPDIR:-/tmp}/p2vtest-cpu.lock"
flock -s 8
cpu_alone() {
    flock -x -w 900 8 || { echo "SKIP: other tests kept the CPUs busy for 15 minutes" >&2; exit 77; }
}

fail() { echo "FAIL: $*" >&2; exit 1; }

requires() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not found" >&2; exit 77; }
    done
}

requires_file() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || { echo "SKIP: $f not found" >&2; exit 77; }
    done
}

# loop_lock shared|exclusive: tests that attach loop devices share a
# lock; one that lists every disk of the machine holds it alone, so no
# other test's loop device comes or goes while it looks (make -j2 check).
loop_lock() {
    exec 9> "${TMPDIR:-/tmp}/p2vtest-loop.lock"
    flock "--$1" -w 600 9 || fail "waited 10 minutes for the loop-device lock"
}

requires_root() {
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
}

requires_guestfs() {
    if [ -n "${P2V_SKIP_GUESTFS:-}" ]; then
        echo "SKIP: P2V_SKIP_GUESTFS set" >&2; exit 77
    fi
    ls /boot/vmlinuz-* >/dev/null 2>&1 || { echo "SKIP: no kernel in /boot for the libguestfs appliance" >&2; exit 77; }
    export LIBGUESTFS_BACKEND=direct
    export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
}

# Both programs take the session key from P2V_KEY; tests that are about
# keys unset or override it.
export P2V_KEY=TEST-KEY0-0000-0000-0001

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/p2vtest.XXXXXX")
cleanup_fn "rm -rf '$tmp'"

wait_for_file() {
    local f=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        [ -s "$f" ] && return 0
        sleep 0.1
    done
    return 1
}

# make_disk_image FILE SIZE: see scripts/make-disk-image.
make_disk_image() {
    requires sfdisk mkfs.ext4
    "$top_srcdir/scripts/make-disk-image" "$@" > /dev/null 2>&1 || fail "cannot make a disk image"
}

# start_recv ARGS...: p2vrecv listening on 127.0.0.1 with a port the
# kernel picks; sets recv_pid and port, stderr in $tmp/recv.err.  With
# recv_as set to a command prefix (setpriv ...), p2vrecv runs under it.
start_recv() {
    : > "$tmp/recv.err"
    ${recv_as:-} p2vrecv --listen 127.0.0.1:0 --progress=plain "$@" 2> "$tmp/recv.err" &
    recv_pid=$!
    cleanup_fn "kill $recv_pid 2>/dev/null"
    local i
    port=
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/recv.err")
        [ -n "$port" ] && return 0
        kill -0 "$recv_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/recv.err" >&2
    fail "p2vrecv did not start listening"
}

# wait_recv: wait for the p2vrecv started by start_recv (bounded by
# timeout in the caller's commands); sets recv_rc.
wait_recv() {
    recv_rc=0
    wait "$recv_pid" || recv_rc=$?
}

# delta_json FILE KEY: KEY of the final --progress=json delta line
# ("done": true) that p2vsend or p2vrecv wrote to FILE, or nothing.
delta_json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
done = [l["delta"] for l in map(json.loads, (l for l in open(sys.argv[1]) if l.startswith("{")))
        if "delta" in l and l.get("done")]
if len(done) == 1:
    print(done[0][sys.argv[2]])
PY
}
# digest_of ALG FILE: the hex digest coreutils computes, or for
# blkhash-ALG the blkhash (64 KiB blocks) computed by perl's Digest
# modules: an implementation independent of ours, checked against
# blksum's vectors in tests/stream-blkhash.sh.
digest_of() {
    case $1 in
    blkhash-*) perl -e '
        use strict; use Digest::SHA; use Digest::MD5;
        my ($alg, $path) = @ARGV;
        my $new = $alg eq "md5" ? sub { Digest::MD5->new } : sub { Digest::SHA->new($alg =~ s/sha//r) };
        my $zero = "\0" x 65536;
        my $zd = $new->()->add($zero)->digest;
        open(my $f, "<:raw", $path) or die "$path: $!";
        my ($outer, $len, $buf) = ($new->(), 0);
        while (1) {
            my $n = 0;
            while ($n < 65536) {
                my $r = read($f, $buf, 65536 - $n, $n);
                die "$path: $!" unless defined $r;
                last if $r == 0;
                $n += $r;
            }
            last if $n == 0;
            $outer->add($n == 65536 && $buf eq $zero ? $zd : $new->()->add(substr($buf, 0, $n))->digest);
            $len += $n;
            last if $n < 65536;
        }
        $outer->add(pack("Q<", $len));
        print $outer->hexdigest, "\n";' "${1#blkhash-}" "$2" ;;
    *) "${1}sum" "$2" | cut -d' ' -f1 ;;
    esac
}

# blkhash_vectors DIR: the nine images of the blkhash test vectors
# (../shared/blkhash-vectors/make-images.sh, the same bytes), and
# DIR/blksum.txt: what blksum 0.11.0 printed for them, "HEX  IMAGE".
blkhash_vectors() {
    local d=$1
    mkdir -p "$d"
    rnd() { head -c "$1" /dev/zero | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv "$2" 2>/dev/null; }
    : > "$d/empty.img"
    printf 'x' > "$d/one-byte.img"
    rnd 65535 00000000000000000000000000000001 > "$d/block-minus-1.img"
    rnd 65536 00000000000000000000000000000002 > "$d/block.img"
    rnd 65537 00000000000000000000000000000003 > "$d/block-plus-1.img"
    { rnd 4194304 00000000000000000000000000000004; head -c 8388608 /dev/zero
      rnd 1048583 00000000000000000000000000000005; } > "$d/mixed.img"
    head -c 1000000 /dev/zero > "$d/zeros-partial.img"
    truncate -s 64M "$d/sparse-64m.img"
    truncate -s 1M "$d/two-bytes.img"
    printf 'A' | dd of="$d/two-bytes.img" bs=1 seek=70000 conv=notrunc 2>/dev/null
    printf 'B' | dd of="$d/two-bytes.img" bs=1 seek=1048575 conv=notrunc 2>/dev/null
    cat > "$d/blksum.txt" <<'EOF_BLKSUM'
af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc  empty.img
a64a187a24c2d405b2e6e8df661f89e3107ba40c3817d284f97493b2c75ca522  one-byte.img
fa090b9e83c7222a7d21ce2e4861a6f79f9fe917c3c332c5944e09295821b8c2  block-minus-1.img
f48738f42b706be169969ef7ba27d687192690d16009b2d65bb3ffa124b389ab  block.img
1f7f851d619d85a64abb967dbb3663e247272ce27e9a7c9e10d8b098bbfb43a0  block-plus-1.img
1e11cb8410ea453523bb6e139ea3c55029fa1268f4bc7ffa2e1ade7eabcf49dc  mixed.img
5d79352739ce6606a1d45cd4f0e2ae01ffc24cbd017ea363776bb792d8689029  zeros-partial.img
928319d81c6180a04e527d560211c821155a574ed2fed0853adba55dae20b34c  sparse-64m.img
f969263cbd9b9d2c04c7f695353953e724fe33569449b2e5dd179611b087f5db  two-bytes.img
EOF_BLKSUM
}

# ext_same SRC COPY NAME: COPY, a copy of the ext filesystem image SRC
# made with --skip-free, checks clean (e2fsck -fn) and holds the same
# files: names, modes, sizes, times, symlink targets and contents, as
# debugfs reads them (no mount, so it runs where loop mounts cannot).
ext_same() {
    local d=$tmp/ext-same-${3//[^A-Za-z0-9]/_}
    e2fsck -fn "$2" > "$d.fsck" 2>&1 || { cat "$d.fsck" >&2; fail "$3 does not check clean in the copy"; }
    _ext_tree "$1" "$d.src" > "$d.src.ls"
    _ext_tree "$2" "$d.copy" > "$d.copy.ls"
    diff "$d.src.ls" "$d.copy.ls" || fail "$3: names, modes, sizes or times differ"
    diff -r "$d.src" "$d.copy" > /dev/null || fail "$3: file contents differ"
    [ "$(grep -c . "$d.src.ls")" -ge 3 ] || fail "$3: debugfs found no files"
}
_ext_tree() {
    mkdir -p "$2"
    debugfs -R "rdump / $2" "$1" > /dev/null 2>&1
    (cd "$2" && find . ! -type l -printf '%P %m %s %T@\n' && find . -type l -printf '%P -> %l\n') | sort
}

# expect_line FILE REGEX: FILE has a line matching REGEX.
expect_line() {
    grep -Eq -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "no line matching /$2/ in $(basename "$1")"; }
}
# proxied_copy SRC TGT SENDER-OPTS PROXY-OPTS...: p2vrecv on TGT, the
# test proxy (tests/trust-proxy.py, given PROXY-OPTS) in front of it, and
# p2vsend --retry 3 SRC through the proxy; sets send_rc and recv_rc,
# stderr in $tmp/send.err, $tmp/recv.err, $tmp/proxy.err.
proxied_copy() {
    local src=$1 tgt=$2 sopts=$3 pf ppid
    shift 3
    pf=$(mktemp -u "$tmp/pport.XXXXXX")
    send_rc=0
    start_recv --timeout 20 "$tgt"
    timeout 90 python3 "$top_srcdir/tests/trust-proxy.py" proxy --to "$port" --port-file "$pf" \
        --conns 4 "$@" 2> "$tmp/proxy.err" &
    ppid=$!
    cleanup_fn "kill $ppid 2>/dev/null"
    wait_for_file "$pf" 10 || fail "the proxy did not start"
    timeout 90 p2vsend --progress=none --retry 3 $sopts "$src" "127.0.0.1:$(cat "$pf")" \
        2> "$tmp/send.err" || send_rc=$?
    timeout 30 tail --pid="$recv_pid" -f /dev/null || kill "$recv_pid"
    wait_recv
    kill $ppid 2>/dev/null
    return 0
}


# nbdkit_source IMG FILTER-ARGS...: IMG served read-only as a FUSE file
# through nbdkit with a filter (--filter=rate rate=800M: a slow disk;
# --filter=ddrescue ...: a failing one); its path in $src.  The test
# must require nbdkit, nbdfuse and fusermount3.
nbdkit_source() {
    local img=$1 size i
    shift
    size=$(stat -c %s "$img")
    mkdir -p "$tmp/mnt"
    src=$tmp/mnt/disk
    nbdfuse -r "$src" --command nbdkit -s --exit-with-parent -r \
        file "$img" "$@" 2> "$tmp/nbdfuse.err" &
    fuse_pid=$!
    cleanup_fn "kill $fuse_pid 2>/dev/null; wait $fuse_pid 2>/dev/null"
    cleanup_fn "fusermount3 -u '$tmp/mnt' 2>/dev/null"
    for ((i = 0; i < 100; i++)); do
        [ "$(stat -c %s "$src" 2>/dev/null)" = "$size" ] && return 0
        kill -0 "$fuse_pid" 2>/dev/null || { cat "$tmp/nbdfuse.err" >&2; fail "nbdfuse exited"; }
        sleep 0.1
    done
    fail "nbdfuse did not show the disk"
}

# netns_link RATE: two network namespaces of this test joined by a veth
# pair, the sending side shaped with tbf to RATE (e.g. 200mbit):
# p2vrecv's $nsr with 10.99.0.1 on $vr, p2vsend's $nss with 10.99.0.2 on
# $vs.  The addresses exist only inside them; they are deleted at exit.
# Skips (77) where namespaces, veth or tbf are not available.
netns_link() {
    nsr=p2vt-r-$$ nss=p2vt-s-$$ vr=p2vtr$$ vs=p2vts$$
    ip netns add "$nsr" 2>/dev/null || { echo "SKIP: cannot create network namespaces" >&2; exit 77; }
    cleanup_fn "ip netns del $nsr 2>/dev/null"
    ip netns add "$nss" || { echo "SKIP: cannot create network namespaces" >&2; exit 77; }
    cleanup_fn "ip netns del $nss 2>/dev/null"
    ip link add "$vr" netns "$nsr" type veth peer name "$vs" netns "$nss" \
        || { echo "SKIP: cannot create a veth pair" >&2; exit 77; }
    ip -n "$nsr" addr add 10.99.0.1/24 dev "$vr"
    ip -n "$nss" addr add 10.99.0.2/24 dev "$vs"
    local ns
    for ns in "$nsr" "$nss"; do ip -n "$ns" link set lo up; done
    ip -n "$nsr" link set "$vr" up
    ip -n "$nss" link set "$vs" up
    ip netns exec "$nss" tc qdisc add dev "$vs" root tbf rate "$1" burst 64kb latency 50ms \
        || { echo "SKIP: no tbf qdisc" >&2; exit 77; }
    if command -v ping >/dev/null; then
        timeout 10 ip netns exec "$nss" ping -c 1 -W 2 10.99.0.1 >/dev/null 2>&1 \
            || fail "the veth link does not work"
    fi
}

# recv_ns TARGET ARGS...: p2vrecv in netns_link's receiver namespace on
# 10.99.0.1:5000, its stderr in $tmp/recv.err: sets recv_pid.
recv_ns() {
    local tgt=$1; shift
    : > "$tmp/recv.err"
    ip netns exec "$nsr" "$top_builddir/src/p2vrecv" --listen 10.99.0.1:5000 --progress=plain "$@" "$tgt" 2>> "$tmp/recv.err" &
    recv_pid=$!
    cleanup_fn "kill $recv_pid 2>/dev/null"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on 10\.99\.0\.1:5000$' "$tmp/recv.err" && return 0
        sleep 0.1
    done
    cat "$tmp/recv.err" >&2; fail "p2vrecv did not listen in its namespace"
}
