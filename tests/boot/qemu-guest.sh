# Sourced by the boot tests (tests/boot/boot-*.sh) after tests/functions.sh.
#
#   guest_image VARIANT FILE   a pristine copy of the cached guest (build-guest.sh)
#   boot_guest IMAGE DISK NIC MAC LOG SECS
#                              boots IMAGE under qemu (TCG) with its disk on
#                              DISK (virtio|virtio-scsi|pvscsi|ide) and one
#                              NIC of model NIC (virtio-net-pci|vmxnet3|
#                              e1000) with MAC, the serial
#                              console going to LOG, until the guest has shown
#                              its login prompt and boot report, or has stopped
#                              in the initramfs, or SECS have passed;
#                              BOOT_STATE says which: login|stopped|timeout|exited,
#                              or nofirmware: the firmware found nothing to boot.
#                              BOOT_FIRMWARE=uefi boots on OVMF with a fresh
#                              NVRAM, as a new VM has (default: bios, SeaBIOS)
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

log_has() { tr -d '\r' < "$1" | grep -a -q -E "$2"; }

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
        virtio-scsi|pvscsi)
                drive="-device ${disk/#virtio-scsi/virtio-scsi-pci},id=scsi0"
                drive="$drive -drive file=$img,if=none,id=d0,format=raw"
                drive="$drive -device scsi-hd,drive=d0,bus=scsi0.0" ;;
        *) fail "boot_guest: unknown disk bus $disk" ;;
    esac
    # UEFI: OVMF's code read-only and a copy of its empty variable store.
    # Shim's fallback resets the machine once it has written the boot
    # entry, so the machine may reboot (the time bound still holds).
    local fw="-no-reboot"
    if [ "${BOOT_FIRMWARE:-bios}" = uefi ]; then
        requires_file /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd
        cp /usr/share/OVMF/OVMF_VARS_4M.fd "$img.vars"
        fw="-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
        fw="$fw -drive if=pflash,format=raw,unit=1,file=$img.vars"
    fi
    : > "$log"
    start=$SECONDS
    # TCG: /dev/kvm exists here but guests hang under it.  One vCPU, so
    # a guest leaves the second core to the rest of the suite.
    # shellcheck disable=SC2086
    qemu-system-x86_64 -accel tcg -machine pc -m 1024 -smp 1 \
        -display none -vga none -monitor none $fw \
        -serial "file:$log" \
        $drive \
        -netdev "user,id=n0,restrict=on,net=$GUEST_NET,host=$GUEST_GW,guestfwd=tcp:$PROBE_ADDR:$PROBE_PORT-cmd:echo $PROBE_REPLY" \
        -device "$nic,netdev=n0,mac=$mac,romfile=" \
        </dev/null >"$log.qemu" 2>&1 &
    _qemu_pid=$!
    BOOT_STATE=timeout
    while [ $((SECONDS - start)) -lt "$secs" ]; do
        sleep 2
        if ! kill -0 "$_qemu_pid" 2>/dev/null; then BOOT_STATE=exited; break; fi
        if log_has "$log" 'P2VBOOT-END' && log_has "$log" "$GUEST_HOSTNAME login:"; then
            BOOT_STATE=login; break
        fi
        if log_has "$log" 'ALERT!|Kernel panic|\(initramfs\)|emergency mode'; then
            sleep 3; BOOT_STATE=stopped; break
        fi
        # The virtio disk's entry ("UEFI Misc Device" to OVMF) failing is
        # the answer; the network entries after it take minutes to fail.
        if log_has "$log" 'No bootable option|Shell> |failed to load Boot[0-9A-F]+ "UEFI Misc Device"'; then
            BOOT_STATE=nofirmware; break
        fi
    done
    _stop_qemu
    echo "boot ($disk, $nic $mac): $BOOT_STATE after $((SECONDS - start)) s"
    grep -v "terminating on signal" "$log.qemu" | sed 's/^/qemu: /' >&2 || :
    return 0
}

# ---- The tests themselves ------------------------------------------------

# expect_report LOG IFACE ROOT BOOT MAC: the guest came up to its login
# prompt with / and /boot on ROOT and BOOT, and IFACE (with MAC) up at
# the server's old static address, passing packets.
expect_report() {
    local log=$1 ifc=$2 root=$3 boot=$4 mac=$5 ok=0
    [ "$BOOT_STATE" = login ] || { show_log "$log"; fail "no login prompt and boot report ($BOOT_STATE)"; }
    log_has "$log" "P2VBOOT-ROOT $root\$" || ok=1
    log_has "$log" "P2VBOOT-BOOT $boot\$" || ok=1
    log_has "$log" "P2VBOOT-CMDLINE .* root=$root( |\$)" || ok=1
    log_has "$log" "P2VBOOT-LINK $ifc +UP +$mac " || ok=1
    log_has "$log" "P2VBOOT-ADDR $ifc +UP +${GUEST_ADDR//./\\.} " || ok=1
    log_has "$log" "P2VBOOT-NET $PROBE_REPLY" || ok=1
    tr -d '\r' < "$log" | grep -a '^P2VBOOT' | sed 's/^/guest: /'
    [ $ok -eq 0 ] || { show_log "$log"; fail "the guest's boot report differs: want / on $root, /boot on $boot, $ifc ($mac) up at $GUEST_ADDR passing packets"; }
}

# control_test VARIANT ROOT BOOT IFACE: on the server's own hardware (IDE
# disk, e1000 NIC with the old MAC) the untouched image boots, so the
# failure before p2vfixup is the hypervisor's, not the fixture's.
control_test() {
    local img="$tmp/disk.raw" log="$tmp/serial.log"
    guest_image "$1" "$img"
    boot_guest "$img" ide e1000 "$OLD_MAC" "$log" 300
    expect_report "$log" "$4" "$2" "$3" "$OLD_MAC"
    echo "PASS: the $1 server boots on its own hardware"
}

# before_test VARIANT ROOT: on KVM/virtio the untouched copy does not boot:
# its initramfs has no virtio_blk, so the root device never appears.
before_test() {
    local img="$tmp/disk.raw" log="$tmp/serial.log"
    guest_image "$1" "$img"
    boot_guest "$img" virtio virtio-net-pci "$NEW_MAC" "$log" 240
    if log_has "$log" "$GUEST_HOSTNAME login:|P2VBOOT-END"; then
        show_log "$log"; fail "the untouched $1 copy booted on virtio"
    fi
    [ "$BOOT_STATE" = stopped ] || { show_log "$log"; fail "expected the boot to stop in the initramfs ($BOOT_STATE)"; }
    log_has "$log" 'Gave up waiting for root' || { show_log "$log"; fail "no 'Gave up waiting for root' on the console"; }
    log_has "$log" "ALERT! +${2//\//\\/} does not exist" || { show_log "$log"; fail "no 'ALERT!  $2 does not exist' on the console"; }
    tr -d '\r' < "$log" | grep -a -E 'Gave up waiting|ALERT!' | sed 's/^/guest: /'
    echo "PASS: the untouched $1 copy does not boot on virtio"
}

# after_test VARIANT IFACE [ROOT BOOT]: p2vfixup --target TARGET --mac
# OLD=NEW makes the copy boot on TARGET's hardware with / on ROOT
# (/dev/vda2), /boot on BOOT (/dev/vda1) and IFACE (now the new NIC) up
# at its old address.  TARGET (environment, default kvm) and its VM:
#   kvm           virtio disk, virtio-net
#   virtio-scsi   virtio-scsi controller, virtio-net
#   vmware        pvscsi controller, vmxnet3
#   ide           IDE disk, e1000
after_test() {
    local img="$tmp/disk.raw" log="$tmp/serial.log" fixup="$top_builddir/src/p2vfixup" start rc
    local target=${TARGET:-kvm} disk nic
    case $target in
        kvm)         disk=virtio nic=virtio-net-pci ;;
        virtio-scsi) disk=virtio-scsi nic=virtio-net-pci ;;
        vmware)      disk=pvscsi nic=vmxnet3 ;;
        ide)         disk=ide nic=e1000 ;;
        *) fail "after_test: unknown target $target" ;;
    esac
    if [ ! -e "$fixup" ]; then
        echo "SKIP: $fixup is not built" >&2; exit 77
    fi
    requires_guestfs
    guest_image "$1" "$img"
    start=$SECONDS
    timeout 1500 "$fixup" --target "$target" --mac "$OLD_MAC=$NEW_MAC" "$img" >"$tmp/fixup.out" 2>&1
    rc=$?
    sed 's/^/p2vfixup: /' "$tmp/fixup.out"
    echo "p2vfixup exited $rc after $((SECONDS - start)) s"
    [ $rc -eq 0 ] || fail "p2vfixup --target $target --mac $OLD_MAC=$NEW_MAC failed ($rc)"
    boot_guest "$img" "$disk" "$nic" "$NEW_MAC" "$log" 360
    expect_report "$log" "$2" "${3:-/dev/vda2}" "${4:-/dev/vda1}" "$NEW_MAC"
    echo "PASS: after p2vfixup --target $target the $1 copy boots on $disk + $nic with $2 up at $GUEST_ADDR"
}

# before_uefi_test VARIANT: on a new VM's UEFI firmware (empty NVRAM)
# the untouched copy is not even found: its boot loader is only under
# \EFI\debian, which the old machine's NVRAM named, and the firmware
# looks for \EFI\BOOT\BOOTX64.EFI.  GRUB and the kernel never start.
before_uefi_test() {
    local img="$tmp/disk.raw" log="$tmp/serial.log"
    guest_image "$1" "$img"
    BOOT_FIRMWARE=uefi boot_guest "$img" virtio virtio-net-pci "$NEW_MAC" "$log" 300
    if log_has "$log" "Linux version|GNU GRUB|Welcome to GRUB|$GUEST_HOSTNAME login:"; then
        show_log "$log"; fail "the untouched $1 copy found its boot loader on empty NVRAM"
    fi
    [ "$BOOT_STATE" = nofirmware ] || { show_log "$log"; fail "expected the firmware to find nothing to boot ($BOOT_STATE)"; }
    tr -d '\r' < "$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -a -E 'BdsDxe|No bootable|Shell>' | head -n 5 | sed 's/^/firmware: /'
    echo "PASS: on empty NVRAM the firmware finds no boot loader on the untouched $1 copy"
}

# before_net_test VARIANT IFACE: the disk is on a controller the server's
# initramfs knows (IDE) but the NIC is the VM's virtio-net with a new MAC:
# the guest boots, yet the old MAC pinning leaves IFACE missing (the new
# NIC gets another name) and the old address down.  This is the network
# half of "before", which the virtio-disk boot never reaches.  IFACE "-":
# the configuration names no interface (it is bound to the MAC alone),
# so only the address must be missing.
before_net_test() {
    local img="$tmp/disk.raw" log="$tmp/serial.log"
    guest_image "$1" "$img"
    boot_guest "$img" ide virtio-net-pci "$NEW_MAC" "$log" 300
    [ "$BOOT_STATE" = login ] || { show_log "$log"; fail "no login prompt and boot report ($BOOT_STATE)"; }
    tr -d '\r' < "$log" | grep -a '^P2VBOOT' | sed 's/^/guest: /'
    log_has "$log" "P2VBOOT-ROOT /dev/sda2\$" || fail "root is not /dev/sda2"
    log_has "$log" "P2VBOOT-LINK .*$NEW_MAC" || fail "the new NIC ($NEW_MAC) is not in the guest at all"
    if { [ "$2" != - ] && log_has "$log" "P2VBOOT-LINK $2 "; } ||
       log_has "$log" "P2VBOOT-ADDR .*${GUEST_ADDR//./\\.}" ||
       log_has "$log" "P2VBOOT-NET $PROBE_REPLY"; then
        show_log "$log"; fail "the untouched $1 copy brought ${2/#-/its NIC} up on the new NIC"
    fi
    echo "PASS: on a new NIC the untouched $1 copy has ${2/#-/its NIC} down and not its address"
}
