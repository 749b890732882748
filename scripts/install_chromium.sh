#!/usr/bin/env bash
# Debian's chromium for the Dagit browser test (tests/browser/test_dagit_browser.py), which Playwright
# drives through `executable_path`; Playwright's own browser download is never used.
# Does nothing when chromium is already there (or RFT_CHROMIUM names one); fails, never skips,
# when it cannot install it.
set -euo pipefail

if [ -n "${RFT_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: the Dagit browser test needs Debian's chromium, and apt-get is not available here." >&2
  echo "       Install chromium another way and set RFT_CHROMIUM=/path/to/chromium." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: installing chromium needs root or sudo: apt-get install -y chromium" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing Debian's chromium for the Dagit browser test (apt-get install chromium)"
$SUDO apt-get update -qq
# Fonts for readable screenshots; the other recommends (GPU drivers, desktop daemons) are not needed headless.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "error: apt-get installed chromium but it is not on PATH" >&2; exit 1; }
