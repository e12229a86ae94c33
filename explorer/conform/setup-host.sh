#!/usr/bin/env bash
# What `explore conform` (and the tests marked vm) need on the host, from Debian: qemu
# (TCG is enough), gcc + static libc + kernel headers (the in-VM driver is built with
# gcc -static), e2fsprogs (mke2fs is copied into the initramfs), busybox-static (a
# shell for debugging a VM by hand).  The kernels themselves are fetched on first use
# with `apt-get download` into the XDG cache (explorer/conform/build.py).
# Idempotent: installs only what is missing.  With --check it installs nothing, prints
# the missing packages on one line and exits 1 if there are any (tests/conftest.py).
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /sbin/mke2fs ] || need+=(e2fsprogs)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -f /usr/include/linux/dm-ioctl.h ] || need+=(linux-libc-dev)
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
if [ "${1:-}" = --check ]; then
    [ ${#need[@]} -eq 0 ] && exit 0
    echo "${need[*]}"
    exit 1
fi
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "setup-host: missing ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup-host: installed ${need[*]}"
