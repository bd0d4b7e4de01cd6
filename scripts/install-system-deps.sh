#!/usr/bin/env bash
# System packages reasonlab needs beyond PyPI. Safe to re-run: installs only what is missing.
#   bubblewrap  the sandbox for model-written code (reasonlab sandbox check)
#   chromium    headless browser for the web page test (tests/test_web_page.py, marker "browser")
#   python3     a system interpreter the sandbox's unprivileged uid can read (pyenv under /root is not)
# Without root (or without apt-get) it prints the command to run instead.
set -euo pipefail

PACKAGES="bubblewrap chromium python3"

missing=""
for pkg in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $pkg"
  fi
done

if [ -z "$missing" ]; then
  echo "system packages present:$(printf ' %s' $PACKAGES)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "please install with your package manager:$missing" >&2
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run  sudo apt-get install -y$missing" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
