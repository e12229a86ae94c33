#!/usr/bin/env bash
# Debian packages the project needs beyond PyPI: graphviz's `dot` (SVG pictures) and,
# for `explore conform`, what explorer/conform/setup-host.sh lists (qemu, busybox, ...).
# Idempotent: installs only what is missing; needs root (it is on the project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-system: missing ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    else
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
fi
if [ -f explorer/conform/setup-host.sh ]; then
    bash explorer/conform/setup-host.sh
fi
