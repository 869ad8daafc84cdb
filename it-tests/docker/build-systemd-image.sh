#!/usr/bin/env bash
# Builds the image the systemd container tests boot (SystemdBootIT): a minimal Debian bookworm with systemd as
# PID 1 (systemd, systemd-sysv, dbus), a JRE, perl and ca-certificates — made by debootstrap on this machine and
# `docker import`ed with `ENV container=docker`, so no registry is ever asked. The tests `dpkg -i` the packages
# on top of it. Cached: does nothing when the image exists. Needs root, debootstrap and a running Docker engine.
# Usage: it-tests/docker/build-systemd-image.sh [image-name]
set -euo pipefail
image=${1:-whatami-it-systemd:bookworm-1}
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "systemd image $image exists"
    exit 0
fi
mirror=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true) \
    | grep -E '^(URIs:|deb )' | grep -v security | head -1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/whatami-systemd-rootfs.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "debootstrap bookworm with systemd from $mirror into $root (2-5 minutes)"
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openjdk-17-jre-headless,perl,ca-certificates,procps,iproute2 \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# A container has no consoles, no udev and no hardware clock: units that wait for them would only slow the boot
# (and getty@tty1 would restart for ever). Masked the way `systemctl mask` does it.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
        systemd-modules-load.service systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount \
        dev-hugepages.mount systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
        fstrim.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# every container start is a boot of a new machine only when the test says so: no machine-id baked in
: >"$root/etc/machine-id"
# (docker import takes no STOPSIGNAL: the tests stop these containers with SIGRTMIN+3, systemd's "halt")
tar -C "$root" -c . | docker import -c 'ENV container=docker' -c 'CMD ["/sbin/init"]' - "$image" >/dev/null
echo "built $image"
