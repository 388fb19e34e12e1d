#!/usr/bin/env bash
# Installs Debian's chromium for the web UI's browser tests (tests/ui/test_browser.py).
# Playwright drives it through its Python API with the executable path; Playwright's own
# browser download is never used. Does nothing when a chromium is already there.
# Without root or apt-get it only says why, and the browser tests skip with that reason
# (under CI=true they fail instead: CI must run them).
set -u
if command -v chromium >/dev/null 2>&1 || [ -x "${REPLAY_CHROMIUM:-/nonexistent}" ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: not root or no apt-get; the browser tests will be skipped" \
         "(install Debian's chromium, or set REPLAY_CHROMIUM to a Chromium binary)" >&2
    exit 0
fi
echo "install-chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
        >/tmp/replay-install-chromium.log 2>&1; then
    echo "install-chromium: apt-get failed (see /tmp/replay-install-chromium.log);" \
         "the browser tests will be skipped outside CI" >&2
fi
exit 0
