#!/usr/bin/env bash
# The Debian package the main job needs beyond PyPI: graphviz's `dot` (SVG pictures).
# What `explore conform` needs (qemu, gcc, ...) is explorer/conform/setup-host.sh's,
# run by the targets that boot a kernel (make conform, make test), not by this one.
# Idempotent: installs only what is missing; needs root (it is on the project's machines).
set -euo pipefail
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
