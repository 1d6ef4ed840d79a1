#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the browser test (tests/tests/browser.rs), installed
# only when missing. The test fails rather than skips without them, so `make test` brings them.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
install() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver
}
# A fresh machine's package lists may be stale or empty: refresh only when the install fails.
install || { $sudo apt-get update && install; }
