#!/usr/bin/env bash
# The browser the web view's end-to-end tests drive (test/e2e/web.test.ts): Debian's
# chromium, run headless through playwright-core (an npm dev dependency) with its
# executable path. Skips what is already there.
set -euo pipefail

if command -v chromium > /dev/null 2>&1; then
  echo "setup-browser: $(chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium > /dev/null
echo "setup-browser: $(chromium --version 2>/dev/null) installed"
