#!/usr/bin/env bash
# The dashboard's end-to-end test drives Debian's Chromium (/usr/bin/chromium, or $PUSHQ_CHROMIUM).
# Runs before `npm test` (pretest) and in .ci/run: on a fresh Debian machine, as root, it installs
# the package; anywhere else it says what is missing and leaves the test to fail with the same
# advice (the test is required, never skipped).
set -euo pipefail
browser="${PUSHQ_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pushq: installing Debian's chromium for the dashboard test (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "pushq: no Chromium at $browser: the dashboard test will fail. Install it (Debian: apt-get install chromium) or set PUSHQ_CHROMIUM." >&2
