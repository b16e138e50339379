#!/usr/bin/env bash
# build-guest.sh VARIANT DEST
#
# Writes to DEST a fresh copy of a raw disk image holding a Debian 12
# "physical server" as p2vrecv would have copied it, for the qemu boot
# acceptance test of p2vfixup (issue 3).  VARIANT is one of:
#
#   sda    fstab and GRUB name /dev/sda1 (/boot) and /dev/sda2 (/), the
#          NIC is eth0, pinned to its old MAC by /etc/network/interfaces
#          (hwaddress) and udev's 70-persistent-net.rules
#   cciss  the same server on an HP Smart Array: /dev/cciss/c0d0p1, p2
#   eno1   like sda, but the NIC has a predictable name (eno1, as on an
#          on-board port) and no 70-persistent-net.rules
#   networkd  like sda, but systemd-networkd configures the NIC instead
#          of ifupdown: a .link names it lan0 and a .network gives it the
#          address, both matching the old MAC ([Match] MACAddress=)
#   nm     like sda, but NetworkManager configures the NIC: a keyfile
#          bound to the old MAC (mac-address=) with a static IPv4; the
#          NIC keeps its predictable name (no rename rule)
#   dracut like sda, but its initramfs is dracut's (hostonly=yes in its
#          configuration; the image without any virtio driver),
#          initramfs-tools gone
#   netplan  like networkd, but written as Ubuntu's netplan (networkd
#          renderer): match: macaddress and set-name: lan0, a static
#          address; netplan's generator writes the networkd files at boot
#   nvme   the sda server on an NVMe disk: /dev/nvme0n1p1, p2; its
#          initramfs holds nvme, not the ATA drivers
#   byid   the sda server naming its disk by-id only, as SUSE installs
#          do: /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part1, -part2
#          (what udev calls the first disk of qemu's IDE controller,
#          which plays the old server's hardware)
#   lvm    the sda server with / on LVM (/dev/vg00/root, the volume
#          group on /dev/sda2), /boot on /dev/sda1, lvm2 in its
#          initramfs.  This host has no device-mapper: the volume group
#          is made and filled inside a libguestfs appliance (guestfish).
#   uefi   the sda server installed on UEFI as Debian's installer leaves
#          it: GPT, an ESP (/dev/sda1, /boot/efi) holding shim and signed
#          GRUB under \EFI\debian only, /boot on sda2, / on sda3.  Its
#          boot entry lived in the old machine's NVRAM: a new VM's empty
#          NVRAM finds no boot loader on the disk.
#
# The server's initramfs holds its own disk drivers only (no virtio), so
# attached as virtio the copy stops in the initramfs with "Gave up
# waiting for root device".
#
# Everything comes from Debian packages: debootstrap against the mirror
# this machine's apt is configured with, linux-image-amd64, grub-pc.  The
# images are built once and cached, keyed by a hash of this script, in
# $P2V_BOOT_CACHE (default /var/cache/p2vstream/boot-guest); each call
# hands out a sparse copy so every test starts from the pristine image.
# A cold build takes a few minutes; a warm call a second.
#
# "build-guest.sh --facts" prints the guest's facts (old MAC, address...)
# as shell assignments for the tests; "--build" only fills the cache.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"

# ---- The facts of the guest, shared with the tests (--facts) ----------
OLD_MAC=00:1c:c4:3a:5e:10        # the server's NIC (an HP OUI)
NEW_MAC=52:54:00:12:34:56        # the VM's virtio-net NIC
GUEST_NET=192.168.77.0/24        # qemu user-mode network the tests set up
GUEST_ADDR=192.168.77.10/24      # the server's static address
GUEST_GW=192.168.77.2            # slirp's own address (host=)
PROBE_ADDR=192.168.77.4          # a guestfwd inside qemu answering PROBE_REPLY
PROBE_PORT=7777
PROBE_REPLY=P2VNETOK
GUEST_HOSTNAME=p2vguest
ROOT_PASSWORD=p2v
BYID_DISK=ata-QEMU_HARDDISK_QM00001  # the byid server's disk, by-id

guest_facts() {
    local v
    for v in OLD_MAC NEW_MAC GUEST_NET GUEST_ADDR GUEST_GW PROBE_ADDR PROBE_PORT \
             PROBE_REPLY GUEST_HOSTNAME ROOT_PASSWORD BYID_DISK; do
        printf '%s=%s\n' "$v" "${!v}"
    done
}

variants='sda|cciss|eno1|networkd|netplan|nm|dracut|lvm|nvme|byid|uefi'
usage() { echo "usage: $0 $variants DEST | --facts | --build" >&2; exit 2; }

[ $# -ge 1 ] || usage
case $1 in
    --facts) guest_facts; exit 0 ;;
    --build) variant=; dest= ;;
    -*) usage ;;
    *) [ $# -eq 2 ] && [[ "|$variants|" == *"|$1|"* ]] || usage; variant=$1; dest=$2 ;;
esac

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, loop devices, chroot)"
for c in debootstrap sfdisk mkfs.ext4 partx losetup chroot flock sha256sum mkfs.fat mcopy blkid; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found (see scripts/packages/boot.txt)"
done

key=$(sha256sum "$self" | cut -c1-16)
cache_root=${P2V_BOOT_CACHE:-/var/cache/p2vstream/boot-guest}
cache="$cache_root/$key"
mkdir -p "$cache"

# One builder at a time per machine; others wait (bounded) for its result.
exec 9>"$cache_root/lock"
flock -w 1800 9 || die "timed out waiting for another build-guest.sh"

# ---- Mounting an image: loop device, partition nodes, chroot binds ----
# No udev here and the kernel may lack the MBR parser: "losetup -P" makes
# no partition nodes, but partx -a (BLKPG) does, and devtmpfs shows them.
loopdev= mnt=
umount_image() {
    local m
    if [ -n "$mnt" ]; then
        rm -f "$mnt/usr/sbin/policy-rc.d"
        for m in dev/pts dev proc sys boot ''; do
            mountpoint -q "$mnt/$m" 2>/dev/null && { umount "$mnt/$m" || umount -l "$mnt/$m"; }
        done
        rmdir "$mnt" 2>/dev/null || :
        mnt=
    fi
    if [ -n "$loopdev" ]; then
        partx -d "$loopdev" 2>/dev/null || :
        losetup -d "$loopdev" || :
        loopdev=
    fi
}
trap 'umount_image' EXIT
trap 'exit 130' INT TERM

# BOOT_PART and ROOT_PART: the partitions of /boot and / (1 and 2, or
# 2 and 3 on the UEFI disk, whose ESP is 1).
BOOT_PART=1 ROOT_PART=2
mount_image() {         # mount_image IMAGE [chroot]
    loopdev=$(losetup -f --show "$1")
    partx -a "$loopdev"
    local i
    for i in $(seq 50); do [ -b "${loopdev}p$ROOT_PART" ] && break; sleep 0.1; done
    [ -b "${loopdev}p$ROOT_PART" ] || die "no partition nodes for $loopdev"
    mnt=$(mktemp -d "${TMPDIR:-/var/tmp}/p2vguest.XXXXXX")
    mount "${loopdev}p$ROOT_PART" "$mnt"
    mkdir -p "$mnt/boot"
    mount "${loopdev}p$BOOT_PART" "$mnt/boot"
    if [ "${2:-}" = chroot ]; then
        mount --bind /dev "$mnt/dev"
        mount -t devpts -o newinstance,ptmxmode=0666 devpts "$mnt/dev/pts" 2>/dev/null || :
        mount -t proc proc "$mnt/proc"
        mount -t sysfs sysfs "$mnt/sys"
        # Packages installed here must not start the guest's daemons on
        # the build host; umount_image takes this away again.
        if [ -d "$mnt/usr/sbin" ]; then
            printf '#!/bin/sh\nexit 101\n' > "$mnt/usr/sbin/policy-rc.d"
            chmod +x "$mnt/usr/sbin/policy-rc.d"
        fi
    fi
}

in_chroot() {           # bounded: every step ends in 15 minutes at most
    LANG=C.UTF-8 LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout 900 chroot "$mnt" "$@"
}

# apt-get install|purge in the mounted guest; apt's output goes to
# $cache/LOG-apt.log, whose tail is shown when it fails.
guest_apt() {           # guest_apt LOG install|purge PKG...
    local log="$cache/$1-apt.log" verb=$2
    shift 2
    in_chroot apt-get "$verb" -y -q --no-install-recommends "$@" >>"$log" 2>&1 \
        || { tail -n 30 "$log" >&2; die "apt-get $verb $* failed in the guest"; }
    in_chroot apt-get clean
}

# The Debian mirror this machine's apt already uses (one-line .list or
# deb822 .sources), no other host: the first deb URI serving bookworm,
# or else the first serving another Debian release (a newer host's
# mirror carries bookworm too).  P2V_DEBIAN_MIRROR overrides.
mirror_for() {          # mirror_for SUITE-REGEX
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v want="$1" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                          if ($(i+1) ~ want && $i !~ /security/) { print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v want="$1" 'BEGIN { RS = ""; FS = "\n" }
             { types = uris = suites = ""
               for (j = 1; j <= NF; j++) {
                 if ($j ~ /^Types:/)  types = $j
                 if ($j ~ /^URIs:/)   uris = $j
                 if ($j ~ /^Suites:/) suites = $j
               }
               sub(/^URIs:[ \t]*/, "", uris); split(uris, u, /[ \t]+/)
               sub(/^Suites:[ \t]*/, "", suites); n = split(suites, s, /[ \t]+/)
               if (types !~ /[ \t]deb([ \t]|$)/ || u[1] ~ /security/) next
               for (j = 1; j <= n; j++) if (s[j] ~ want) { print u[1]; exit } }' "$f"
    done
}
find_mirror() {
    local m
    [ -n "${P2V_DEBIAN_MIRROR:-}" ] && { echo "$P2V_DEBIAN_MIRROR"; return; }
    # Collected whole, not piped to head: under pipefail a writer killed
    # by SIGPIPE would fail the lookup that found a mirror.
    m=$(mirror_for '^bookworm$'; mirror_for '^(bullseye|bookworm|trixie|forky|duke|stable|testing|unstable|sid)$')
    m=${m%%$'\n'*}
    [ -n "$m" ] && echo "$m"
}

# ---- Building the base image (the sda server) --------------------------
DISK_SIZE=2G
BOOT_START=2048 BOOT_SECTORS=524288         # 256 MiB /boot at 1 MiB

build_base() {
    local out=$1 mirror
    mirror=$(find_mirror) || die "no Debian mirror in /etc/apt/sources.list{,.d}; set P2V_DEBIAN_MIRROR"
    log "building the base guest from $mirror (a few minutes)"
    rm -f "$out"
    truncate -s "$DISK_SIZE" "$out"
    printf 'label: dos\nstart=%d, size=%d, type=83, bootable\nstart=%d, type=83\n' \
        $BOOT_START $BOOT_SECTORS $((BOOT_START + BOOT_SECTORS)) | sfdisk -q "$out"

    loopdev=$(losetup -f --show "$out")
    partx -a "$loopdev"
    local i
    for i in $(seq 50); do [ -b "${loopdev}p2" ] && break; sleep 0.1; done
    mkfs.ext4 -q -L boot "${loopdev}p1"
    mkfs.ext4 -q -L root "${loopdev}p2"
    partx -d "$loopdev" || :
    losetup -d "$loopdev"
    loopdev=
    mount_image "$out"

    # minbase plus what a small server has; the kernel and GRUB come
    # later so the initramfs configuration is in place before they are.
    timeout 1200 debootstrap --variant=minbase \
        --include=systemd-sysv,udev,kmod,ifupdown,iproute2,netbase,initramfs-tools,zstd,procps \
        bookworm "$mnt" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -n 30 "$cache/debootstrap.log" >&2; die "debootstrap failed"; }

    umount_image
    mount_image "$out" chroot

    # fstab and GRUB name the disk by kernel name, as on the old server.
    cat > "$mnt/etc/fstab" <<'EOF'
# /etc/fstab: static file system information.
#
# <file system>	<mount point>	<type>	<options>		<dump>	<pass>
/dev/sda2	/		ext4	errors=remount-ro	0	1
/dev/sda1	/boot		ext4	defaults		0	2
EOF
    echo "$GUEST_HOSTNAME" > "$mnt/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$GUEST_HOSTNAME" > "$mnt/etc/hosts"
    echo "root:$ROOT_PASSWORD" | in_chroot chpasswd

    # The initramfs.  On the real server it was built MODULES=dep, which
    # takes the drivers of the disk holding / as it sees it at build time.
    # Here that would be this build host's disk (often virtio itself), so
    # the image is built MODULES=list with exactly what dep finds on the
    # server's own hardware (an ATA/SATA disk with ext4), and afterwards
    # initramfs.conf is left saying MODULES=dep, as the server's did: a
    # rebuild (p2vfixup's) sees the same configuration the real one has.
    sed -i 's/^MODULES=.*/MODULES=list/' "$mnt/etc/initramfs-tools/initramfs.conf"
    cat >> "$mnt/etc/initramfs-tools/modules" <<'EOF'
# The disk drivers of this server's own hardware.
ata_piix
ahci
sd_mod
ext4
EOF

    cat > "$mnt/etc/default/grub" <<'EOF'
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"
# This server names its disks by kernel name, not UUID.
GRUB_DISABLE_LINUX_UUID=true
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
EOF
    printf 'grub-pc grub-pc/install_devices multiselect\ngrub-pc grub-pc/install_devices_empty boolean true\n' \
        | in_chroot debconf-set-selections

    guest_apt base install linux-image-amd64 grub-pc

    # GRUB on the MBR of the whole disk, /boot/grub on partition 1.
    in_chroot grub-install --target=i386-pc --modules="part_msdos ext2" "$loopdev" \
        >>"$cache/base-apt.log" 2>&1 || { tail -n 20 "$cache/base-apt.log" >&2; die "grub-install failed"; }
    in_chroot update-grub >>"$cache/base-apt.log" 2>&1 || die "update-grub failed"
    # grub-mkconfig took root= from the build's loop device: write what
    # the server's own grub-mkconfig wrote, its kernel name.
    sed -i "s#${loopdev}p#/dev/sda#g" "$mnt/boot/grub/grub.cfg"
    grep -q "$loopdev" "$mnt/boot/grub/grub.cfg" && die "grub.cfg still names $loopdev"
    grep -q 'root=/dev/sda2' "$mnt/boot/grub/grub.cfg" || die "grub.cfg has no root=/dev/sda2"
    printf '(hd0)\t/dev/sda\n' > "$mnt/boot/grub/device.map"
    echo "grub-pc grub-pc/install_devices multiselect /dev/sda" | in_chroot debconf-set-selections

    # Network: static address on eth0, pinned to the old NIC's MAC twice.
    cat > "$mnt/etc/network/interfaces" <<EOF
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
auto eth0
iface eth0 inet static
	address $GUEST_ADDR
	gateway $GUEST_GW
	hwaddress ether $OLD_MAC
EOF
    mkdir -p "$mnt/etc/udev/rules.d"
    cat > "$mnt/etc/udev/rules.d/70-persistent-net.rules" <<EOF
# This file was automatically generated by the /lib/udev/write_net_rules
# program, run by the persistent-net-generator.rules rules file.
#
# You can modify it, as long as you keep each rule on a single
# line, and change only the value of the NAME= key.

# PCI device 0x8086:0x10d3 (e1000e)
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="$OLD_MAC", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"
EOF

    # The boot report the tests read on the serial console.
    cat > "$mnt/usr/local/sbin/p2v-bootreport" <<EOF
#!/bin/sh
# Prints what the p2vstream boot test checks to the serial console.  The
# report is gathered first and written with one open of the tty: the
# serial getty hangs ttyS0 up when it starts, which would silence a
# descriptor opened before (the unit also runs before that getty).
i=0
while [ \$i -lt 30 ] && ! ip -4 -o addr show scope global | grep -q inet; do
    sleep 1; i=\$((i + 1))
done
{
echo "P2VBOOT-BEGIN"
echo "P2VBOOT-CMDLINE \$(cat /proc/cmdline)"
echo "P2VBOOT-ROOT \$(findmnt -n -o SOURCE /)"
echo "P2VBOOT-BOOT \$(findmnt -n -o SOURCE /boot)"
ip -br link | sed 's/^/P2VBOOT-LINK /'
ip -br addr | sed 's/^/P2VBOOT-ADDR /'
echo "P2VBOOT-NET \$(timeout 10 bash -c 'exec 3<>/dev/tcp/$PROBE_ADDR/$PROBE_PORT && head -n1 <&3' 2>&1)"
echo "P2VBOOT-FAILED-UNITS \$(systemctl --no-legend --plain list-units --state=failed | awk '{print \$1}' | tr '\n' ' ')"
echo "P2VBOOT-END"
} >/run/p2v-bootreport 2>&1
cat /run/p2v-bootreport >/dev/ttyS0
EOF
    chmod +x "$mnt/usr/local/sbin/p2v-bootreport"
    cat > "$mnt/etc/systemd/system/p2v-bootreport.service" <<'EOF'
[Unit]
Description=Print boot facts for the p2vstream boot test on ttyS0
# After ifup -a, not network-online.target: when the interface is missing
# ifupdown-wait-online would hold that target for 5 minutes; the script
# waits (30 s at most) for the address itself.
After=networking.service
Before=serial-getty@ttyS0.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/p2v-bootreport
RemainAfterExit=yes
TimeoutStartSec=90

[Install]
WantedBy=multi-user.target
EOF
    in_chroot systemctl enable p2v-bootreport.service >/dev/null 2>&1

    # Now say what the server's own configuration said (see above).
    sed -i 's/^MODULES=.*/MODULES=dep/' "$mnt/etc/initramfs-tools/initramfs.conf"
    check_initrd "$mnt" ata_piix
    umount_image
}

# The initrd must hold the server's driver and no virtio at all.
check_initrd() {        # check_initrd ROOT DRIVER
    local list
    list=$(in_chroot sh -c 'lsinitramfs /boot/initrd.img-*')
    printf '%s\n' "$list" | grep -q "/$2.ko" || die "initrd lacks $2"
    ! printf '%s\n' "$list" | grep -q 'virtio' || die "initrd has virtio: $(printf '%s\n' "$list" | grep virtio | head -3)"
}

# ---- The UEFI server ---------------------------------------------------
# The base's two filesystems moved onto a GPT disk behind an ESP, GRUB
# for BIOS replaced by shim and signed GRUB.  The ESP is FAT, which this
# host cannot mount: it is made as a file (mkfs.fat) and filled with
# mtools, with what grub-install --uefi-secure-boot puts there.
ESP_SECTORS=131072                          # 64 MiB
build_uefi() {          # build_uefi OUT
    local out=$1 base="$cache/sda.raw" esp="$cache/esp.img" root_sectors boot_uuid f
    root_sectors=$(( $(stat -c %s "$base") / 512 - BOOT_START - BOOT_SECTORS ))
    local boot_at=$((2048 + ESP_SECTORS)) root_at=$((2048 + ESP_SECTORS + BOOT_SECTORS))
    rm -f "$out"
    truncate -s $(( (root_at + root_sectors + 2048) * 512 )) "$out"
    printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System Partition"\nstart=%d, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=%d, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' \
        $ESP_SECTORS $boot_at $BOOT_SECTORS $root_at "$root_sectors" | sfdisk -q "$out"
    dd if="$base" of="$out" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse \
        skip=$((BOOT_START * 512)) count=$((BOOT_SECTORS * 512)) seek=$((boot_at * 512)) status=none
    dd if="$base" of="$out" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse \
        skip=$(((BOOT_START + BOOT_SECTORS) * 512)) count=$((root_sectors * 512)) seek=$((root_at * 512)) status=none

    BOOT_PART=2 ROOT_PART=3
    mount_image "$out" chroot
    # Purging grub-pc takes /etc/default/grub (the serial console, the
    # kernel names) with it: the server's own settings go back after.
    cp "$mnt/etc/default/grub" "$cache/default-grub"
    guest_apt uefi purge grub-pc grub-pc-bin
    guest_apt uefi install grub-efi-amd64 grub-efi-amd64-signed shim-signed dosfstools
    mv "$cache/default-grub" "$mnt/etc/default/grub"
    rm -rf "$mnt/boot/grub/i386-pc" "$mnt/boot/grub/device.map"
    mkdir -p "$mnt/boot/grub/x86_64-efi" "$mnt/boot/efi"
    cp -a "$mnt"/usr/lib/grub/x86_64-efi/*.mod "$mnt"/usr/lib/grub/x86_64-efi/*.lst "$mnt/boot/grub/x86_64-efi/"
    printf '%s\n' '# /etc/fstab: static file system information.' '#' \
        '# <file system>	<mount point>	<type>	<options>		<dump>	<pass>' \
        '/dev/sda3	/		ext4	errors=remount-ro	0	1' \
        '/dev/sda2	/boot		ext4	defaults		0	2' \
        '/dev/sda1	/boot/efi	vfat	umask=0077		0	1' > "$mnt/etc/fstab"
    in_chroot update-grub >>"$cache/uefi-apt.log" 2>&1 || die "update-grub failed"
    sed -i "s#${loopdev}p#/dev/sda#g" "$mnt/boot/grub/grub.cfg"
    grep -q 'root=/dev/sda3 .*console=ttyS0' "$mnt/boot/grub/grub.cfg" \
        || die "uefi grub.cfg has no root=/dev/sda3 with the serial console"
    boot_uuid=$(blkid -s UUID -o value "${loopdev}p2")
    [ -n "$boot_uuid" ] || die "no UUID for /boot"

    # What grub-install --uefi-secure-boot --bootloader-id=debian writes.
    rm -f "$esp"
    mkfs.fat -F 32 -s 1 -n ESP -C "$esp" $((ESP_SECTORS / 2)) >/dev/null
    mmd -i "$esp" ::/EFI ::/EFI/debian
    local sh=$mnt/usr/lib/shim gs=$mnt/usr/lib/grub/x86_64-efi-signed
    for f in "$sh/shimx64.efi.signed:shimx64.efi" "$sh/fbx64.efi.signed:fbx64.efi" \
             "$sh/mmx64.efi.signed:mmx64.efi" "$sh/BOOTX64.CSV:BOOTX64.CSV" \
             "$gs/grubx64.efi.signed:grubx64.efi"; do
        [ -s "${f%%:*}" ] || die "${f%%:*} missing (shim-signed, grub-efi-amd64-signed)"
        mcopy -i "$esp" "${f%%:*}" "::/EFI/debian/${f##*:}"
    done
    printf "search.fs_uuid %s root hd0,gpt2 \nset prefix=(\$root)'/grub'\nconfigfile \$prefix/grub.cfg\n" \
        "$boot_uuid" > "$cache/esp-grub.cfg"
    mcopy -i "$esp" "$cache/esp-grub.cfg" ::/EFI/debian/grub.cfg
    umount_image
    BOOT_PART=1 ROOT_PART=2
    dd if="$esp" of="$out" bs=1M oflag=seek_bytes conv=notrunc,sparse seek=$((2048 * 512)) status=none
    rm -f "$esp" "$cache/esp-grub.cfg"
}

# ---- The LVM server -----------------------------------------------------
# lvm2 goes into the base's root while it is still a plain filesystem,
# its initramfs is built with device-mapper and the LVM tools, then the
# root is packed, partition 2 becomes a physical volume and the packed
# root is unpacked onto vg00/root, all inside the appliance.
build_lvm() {           # build_lvm IMAGE (a copy of the base)
    local img=$1 tar="$cache/lvm-root.tar" off len list
    command -v guestfish >/dev/null || die "guestfish not found (libguestfs-tools)"
    mount_image "$img" chroot
    guest_apt lvm install lvm2
    # As Debian's installer writes them for a root on LVM.
    sed -i 's#^/dev/sda2\t#/dev/mapper/vg00-root\t#' "$mnt/etc/fstab"
    sed -i 's#root=/dev/sda2#root=/dev/mapper/vg00-root#g' "$mnt/boot/grub/grub.cfg"
    grep -q '^/dev/mapper/vg00-root' "$mnt/etc/fstab" || die "lvm fstab"
    grep -q 'root=/dev/mapper/vg00-root' "$mnt/boot/grub/grub.cfg" || die "lvm grub.cfg"
    echo dm_mod >> "$mnt/etc/initramfs-tools/modules"
    sed -i 's/^MODULES=.*/MODULES=list/' "$mnt/etc/initramfs-tools/initramfs.conf"
    in_chroot update-initramfs -u -k all >/dev/null 2>&1 || die "update-initramfs failed"
    sed -i 's/^MODULES=.*/MODULES=dep/' "$mnt/etc/initramfs-tools/initramfs.conf"
    list=$(in_chroot sh -c 'lsinitramfs /boot/initrd.img-*')
    printf '%s\n' "$list" | grep -q '/dm-mod.ko' || die "lvm initrd lacks dm-mod"
    printf '%s\n' "$list" | grep -q 'sbin/lvm$' || die "lvm initrd lacks the lvm tool"
    check_initrd "$mnt" ata_piix
    rm -f "$mnt/usr/sbin/policy-rc.d"      # not into the packed root
    umount "$mnt/dev/pts" "$mnt/dev" "$mnt/proc" "$mnt/sys" 2>/dev/null || :
    tar -C "$mnt" --one-file-system --numeric-owner --xattrs --acls -cpf "$tar" . \
        || die "packing the root failed"
    umount_image
    # Partition 2 emptied (a hole) and typed as LVM.
    off=$(( (BOOT_START + BOOT_SECTORS) * 512 ))
    len=$(( $(stat -c %s "$img") - off ))
    fallocate -p -o "$off" -l "$len" "$img"
    sfdisk -q --part-type "$img" 2 8e
    LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg} timeout 900 \
        guestfish --rw -a "$img" >"$cache/lvm-guestfish.log" 2>&1 <<EOF || { tail -n 20 "$cache/lvm-guestfish.log" >&2; die "making the volume group failed"; }
run
pvcreate /dev/sda2
vgcreate vg00 /dev/sda2
lvcreate-free root vg00 100
mkfs ext4 /dev/vg00/root label:root
mount /dev/vg00/root /
tar-in $tar / xattrs:true acls:true
ls /etc/lvm
umount-all
EOF
    rm -f "$tar"
}

# other_disk IMAGE DISK DRIVER: the same server on other hardware: its
# names say /dev/DISK (partitions DISKp1, p2) and its initramfs holds
# DRIVER instead of the ATA drivers.
other_disk() {
    local img=$1 disk=$2 driver=$3
    mount_image "$img" chroot
    sed -i "s#/dev/sda\([0-9]\)#/dev/${disk}p\1#g" "$mnt/etc/fstab" "$mnt/boot/grub/grub.cfg"
    printf '(hd0)\t/dev/%s\n' "$disk" > "$mnt/boot/grub/device.map"
    echo "grub-pc grub-pc/install_devices multiselect /dev/$disk" | in_chroot debconf-set-selections
    sed -i -e "s/^ata_piix\$/$driver/" -e '/^ahci$/d' "$mnt/etc/initramfs-tools/modules"
    sed -i 's/^MODULES=.*/MODULES=list/' "$mnt/etc/initramfs-tools/initramfs.conf"
    in_chroot update-initramfs -u -k all >/dev/null 2>&1 || die "update-initramfs failed"
    sed -i 's/^MODULES=.*/MODULES=dep/' "$mnt/etc/initramfs-tools/initramfs.conf"
    grep -q "root=/dev/${disk}p2" "$mnt/boot/grub/grub.cfg" || die "$disk grub.cfg"
    check_initrd "$mnt" "$driver"
}

# ---- Variants, made from a copy of the base -----------------------------
build_variant() {       # build_variant NAME OUT
    local name=$1 out=$2
    log "making the $name variant"
    if [ "$name" = uefi ]; then
        build_uefi "$out.tmp"
        mv "$out.tmp" "$out"
        return
    fi
    cp --sparse=always "$cache/sda.raw" "$out.tmp"
    case $name in
    cciss)
        # The same server on an HP Smart Array (cciss names; the driver
        # is hpsa nowadays).
        other_disk "$out.tmp" cciss/c0d0 hpsa
        ;;
    nvme)
        other_disk "$out.tmp" nvme0n1 nvme
        ;;
    lvm)
        build_lvm "$out.tmp"
        ;;
    byid)
        # Every name by-id, as YaST writes them: fstab, the kernel
        # command line, device.map and grub-pc's install device.
        mount_image "$out.tmp" chroot
        sed -i "s#/dev/sda\([0-9]\)#/dev/disk/by-id/$BYID_DISK-part\1#g" \
            "$mnt/etc/fstab" "$mnt/boot/grub/grub.cfg"
        printf '(hd0)\t/dev/disk/by-id/%s\n' "$BYID_DISK" > "$mnt/boot/grub/device.map"
        echo "grub-pc grub-pc/install_devices multiselect /dev/disk/by-id/$BYID_DISK" | in_chroot debconf-set-selections
        grep -q "root=/dev/disk/by-id/$BYID_DISK-part2" "$mnt/boot/grub/grub.cfg" || die "byid grub.cfg"
        ! grep -q '/dev/sda' "$mnt/etc/fstab" "$mnt/boot/grub/grub.cfg" || die "byid: a kernel name is left"
        ;;
    eno1)
        # A predictable on-board name: nothing renames the new NIC to it.
        mount_image "$out.tmp"
        sed -i 's/eth0/eno1/g' "$mnt/etc/network/interfaces"
        rm -f "$mnt/etc/udev/rules.d/70-persistent-net.rules"
        ;;
    dracut)
        # dracut instead of initramfs-tools, its configuration host-only
        # as on a server.  Host-only reads the running kernel's modules,
        # this build host's (or none: this kernel may have no
        # /proc/modules), so the image is dracut's generic one with the
        # server's drivers and every virtio driver left out: like the
        # server's own, it cannot reach a virtio disk.
        mount_image "$out.tmp" chroot
        guest_apt dracut install dracut
        [ -e "$mnt/usr/sbin/update-initramfs" ] && die "initramfs-tools still installed beside dracut"
        printf 'hostonly="yes"\nhostonly_cmdline="no"\n' > "$mnt/etc/dracut.conf.d/10-server.conf"
        local kver
        kver=$(basename "$(ls -d "$mnt"/lib/modules/* | head -n 1)")
        in_chroot dracut -f --no-hostonly --add-drivers "ata_piix ahci sd_mod ext4" \
            --omit "virtiofs" --omit-drivers "virtio virtio_ring virtio_pci virtio_pci_legacy_dev
                virtio_pci_modern_dev virtio_blk virtio_scsi virtio_net virtio_console
                virtio-rng virtio_mem virtio_pmem nd_virtio virtiofs" \
            "/boot/initrd.img-$kver" "$kver" >"$cache/dracut.log" 2>&1 \
            || { tail -n 30 "$cache/dracut.log" >&2; die "dracut failed"; }
        in_chroot lsinitrd "/boot/initrd.img-$kver" > "$cache/dracut-list.txt" 2>&1 || die "lsinitrd failed"
        grep -q '/ata_piix.ko' "$cache/dracut-list.txt" || die "dracut initrd lacks ata_piix"
        ! grep -E -q '/(virtio_blk|virtio_scsi|virtio_pci)\.ko' "$cache/dracut-list.txt" \
            || die "dracut initrd has a virtio disk driver"
        rm -f "$cache/dracut-list.txt"
        ;;
    networkd|netplan|nm)
        # ifupdown keeps lo only; the NIC is the other manager's.
        mount_image "$out.tmp" chroot
        sed -i '/^# The primary network interface/,$d' "$mnt/etc/network/interfaces"
        rm -f "$mnt/etc/udev/rules.d/70-persistent-net.rules"
        if [ "$name" = networkd ]; then
            mkdir -p "$mnt/etc/systemd/network"
            printf '[Match]\nMACAddress=%s\n\n[Link]\nName=lan0\n' "$OLD_MAC" \
                > "$mnt/etc/systemd/network/10-lan0.link"
            printf '[Match]\nMACAddress=%s\n\n[Network]\nAddress=%s\nGateway=%s\n' \
                "$OLD_MAC" "$GUEST_ADDR" "$GUEST_GW" > "$mnt/etc/systemd/network/20-lan0.network"
            in_chroot systemctl enable systemd-networkd.service >/dev/null 2>&1 \
                || die "enabling systemd-networkd failed"
        elif [ "$name" = netplan ]; then
            guest_apt netplan install netplan.io
            # As Ubuntu's server installer writes it, with the NIC renamed.
            mkdir -p "$mnt/etc/netplan"
            printf 'network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    lan0:\n      match:\n        macaddress: %s\n      set-name: lan0\n      addresses:\n        - %s\n      routes:\n        - to: default\n          via: %s\n' \
                "$OLD_MAC" "$GUEST_ADDR" "$GUEST_GW" > "$mnt/etc/netplan/50-cloud-init.yaml"
            chmod 600 "$mnt/etc/netplan/50-cloud-init.yaml"
            in_chroot systemctl enable systemd-networkd.service >/dev/null 2>&1 \
                || die "enabling systemd-networkd failed"
            in_chroot netplan generate >/dev/null 2>&1 || die "netplan generate rejects the configuration"
        else
            guest_apt nm install network-manager
            # As nmcli writes it (con add type ethernet mac ... ip4 ...).
            printf '[connection]\nid=lan\nuuid=0f6d7a4e-2b1c-4c55-9a0e-5d3b8c7e1a20\ntype=ethernet\n\n[ethernet]\nmac-address=%s\n\n[ipv4]\naddress1=%s,%s\nmethod=manual\n\n[ipv6]\naddr-gen-mode=default\nmethod=ignore\n\n[proxy]\n' \
                "$(echo "$OLD_MAC" | tr a-f A-F)" "$GUEST_ADDR" "$GUEST_GW" \
                > "$mnt/etc/NetworkManager/system-connections/lan.nmconnection"
            chmod 600 "$mnt/etc/NetworkManager/system-connections/lan.nmconnection"
            # Not "Wired connection 1" by DHCP on a NIC no profile matches.
            printf '[main]\nno-auto-default=*\n' > "$mnt/etc/NetworkManager/conf.d/10-server.conf"
        fi
        ;;
    esac
    umount_image
    mv "$out.tmp" "$out"
}

if [ ! -s "$cache/sda.raw" ]; then
    # A changed script makes a new key: drop the images of older ones.
    find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
    start=$SECONDS
    build_base "$cache/sda.raw.tmp"
    mv "$cache/sda.raw.tmp" "$cache/sda.raw"
    log "base guest built in $((SECONDS - start)) s"
fi
[ -z "$variant" ] && exit 0
if [ ! -s "$cache/$variant.raw" ]; then
    build_variant "$variant" "$cache/$variant.raw"
fi
flock -u 9
cp --sparse=always "$cache/$variant.raw" "$dest"
