#!/usr/bin/env bash
# The report's browser tests (tests/browser) drive Debian's headless Chromium through
# playwright, launched by path: playwright's own browser download cannot be relied on.
# Only `make test` needs it; the main job does not.  Idempotent; needs root.
set -euo pipefail
if [ ! -x /usr/lib/chromium/chromium-headless-shell ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-browser: missing chromium-headless-shell; run as root or: sudo apt-get install --no-install-recommends chromium-headless-shell" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
fi
