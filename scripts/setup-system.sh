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
# The report's browser tests (tests/browser) drive Debian's headless Chromium through
# playwright; playwright's own browser download cannot reach its host here.
if [ ! -x /usr/lib/chromium/chromium-headless-shell ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-system: missing chromium-headless-shell; run as root or: sudo apt-get install --no-install-recommends chromium-headless-shell" >&2
    else
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
    fi
fi
if [ -f explorer/conform/setup-host.sh ]; then
    bash explorer/conform/setup-host.sh
fi
