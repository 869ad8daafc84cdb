#!/usr/bin/env bash
# Builds the Debian base image the container tests use, without any registry: debootstrap a minimal bookworm
# (mirror from this machine's own apt sources), add a JRE, perl and ca-certificates, and `docker import` it.
# Cached: does nothing when the image exists. Needs root, debootstrap and a running Docker engine.
# Usage: it-tests/docker/build-base-image.sh [image-name]
set -euo pipefail
image=${1:-whatami-it-base:bookworm-1}
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "base image $image exists"
    exit 0
fi
mirror=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true) \
    | grep -E '^(URIs:|deb )' | grep -v security | head -1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/whatami-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm from $mirror into $root (2-5 minutes)"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,perl,ca-certificates,procps,iproute2 \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import - "$image" >/dev/null
echo "built $image"
