# Sourced by the boot tests (tests/boot/boot-*.sh) after tests/functions.sh.
#
#   guest_image VARIANT FILE   a pristine copy of the cached guest (build-guest.sh)
#   boot_guest IMAGE DISK NIC MAC LOG SECS
#                              boots IMAGE under qemu (TCG) with its disk on
#                              DISK (virtio|ide) and one NIC of model NIC
#                              (virtio-net-pci|e1000) with MAC, the serial
#                              console going to LOG, until the guest has shown
#                              its login prompt and boot report, or has stopped
#                              in the initramfs, or SECS have passed
#   log_has LOG REGEX          grep -E on the serial log
#   show_log LOG               the log's tail on stderr, for a failure
#
# The guest's facts (OLD_MAC, NEW_MAC, GUEST_ADDR, ...) come from
# build-guest.sh --facts.  Its network is qemu's user-mode network with
# restrict=on: the guest reaches nothing outside qemu, and the one
# forward, a guestfwd to PROBE_ADDR:PROBE_PORT answering PROBE_REPLY, is
# served by qemu itself, so the guest can show that packets flow.

boot_dir="$top_srcdir/tests/boot"
eval "$("$boot_dir/build-guest.sh" --facts)"

guest_image() {
    requires_root
    requires debootstrap qemu-system-x86_64 sfdisk mkfs.ext4 partx losetup
    local start=$SECONDS
    timeout 1800 "$boot_dir/build-guest.sh" "$1" "$2" || fail "could not build the $1 guest"
    echo "guest image ($1) ready in $((SECONDS - start)) s"
}

log_has() { grep -a -q -E "$2" "$1"; }

show_log() {
    echo "---- serial console (last 60 lines of $1) ----" >&2
    tr -d '\r' < "$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tail -n 60 >&2
    echo "---- end of serial console ----" >&2
}

_qemu_pid=
_stop_qemu() {
    if [ -n "$_qemu_pid" ] && kill -0 "$_qemu_pid" 2>/dev/null; then
        kill "$_qemu_pid" 2>/dev/null
        local i
        for i in $(seq 50); do kill -0 "$_qemu_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$_qemu_pid" 2>/dev/null || :
    fi
    wait "$_qemu_pid" 2>/dev/null || :
    _qemu_pid=
}
cleanup_fn _stop_qemu

boot_guest() {
    local img=$1 disk=$2 nic=$3 mac=$4 log=$5 secs=$6 drive start
    requires qemu-system-x86_64
    case $disk in
        virtio) drive="-drive file=$img,if=virtio,format=raw" ;;
        ide)    drive="-drive file=$img,if=ide,format=raw" ;;
        *) fail "boot_guest: unknown disk bus $disk" ;;
    esac
    : > "$log"
    start=$SECONDS
    # TCG: /dev/kvm exists here but guests hang under it.  One vCPU, so
    # a guest leaves the second core to the rest of the suite.
    # shellcheck disable=SC2086
    qemu-system-x86_64 -accel tcg -machine pc -m 1024 -smp 1 \
        -display none -vga none -monitor none -no-reboot \
        -serial "file:$log" \
        $drive \
        -netdev "user,id=n0,restrict=on,net=$GUEST_NET,host=$GUEST_GW,guestfwd=tcp:$PROBE_ADDR:$PROBE_PORT-cmd:echo $PROBE_REPLY" \
        -device "$nic,netdev=n0,mac=$mac" \
        </dev/null >"$log.qemu" 2>&1 &
    _qemu_pid=$!
    local state=timeout
    while [ $((SECONDS - start)) -lt "$secs" ]; do
        sleep 2
        if ! kill -0 "$_qemu_pid" 2>/dev/null; then state=exited; break; fi
        if log_has "$log" 'P2VBOOT-END' && log_has "$log" "$GUEST_HOSTNAME login:"; then
            state=login; break
        fi
        if log_has "$log" 'ALERT!|Kernel panic|\(initramfs\)|emergency mode'; then
            sleep 3; state=stopped; break
        fi
    done
    _stop_qemu
    echo "boot ($disk, $nic $mac): $state after $((SECONDS - start)) s"
    [ -s "$log.qemu" ] && sed 's/^/qemu: /' "$log.qemu" >&2
    return 0
}
